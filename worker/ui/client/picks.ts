/**
 * The pick simulator's drawing: for each candidate the pick's `explain` listed, its
 * share by weight beside the share of the N picks it got, as inline SVG bars with the
 * figures written out; the endpoints left out are listed with their reason.
 */
import { el, svg } from './dom.js'

export interface PickOutcome {
  service: string
  count: number
  /** Picks per pod (or address, for an endpoint without a pod). */
  counts: Map<string, number>
  explain?: {
    candidates: { address: string; pod?: string; weight: number }[]
    excluded: { address: string; pod?: string; weight: number; reason: string }[]
  }
}

const ROW = 44
const LABEL = 160
const WIDTH = 360

export function drawPicks(o: PickOutcome): HTMLElement {
  const candidates = o.explain?.candidates ?? []
  const excluded = o.explain?.excluded ?? []
  const keyOf = (e: { address: string; pod?: string }) => e.pod ?? e.address
  const keys = [...new Set([...candidates.map(keyOf), ...excluded.map(keyOf), ...o.counts.keys()])]
  const total = candidates.reduce((s, c) => s + c.weight, 0)
  const chart = svg('svg', { width: LABEL + WIDTH + 160, height: keys.length * ROW + 10, role: 'img', 'aria-label': `Distribution of ${o.count} picks of ${o.service}` })
  const rows: HTMLElement[] = []
  keys.forEach((key, i) => {
    const candidate = candidates.find((c) => keyOf(c) === key)
    const left = excluded.find((c) => keyOf(c) === key)
    const weight = candidate?.weight ?? left?.weight ?? 0
    const expected = total && candidate ? candidate.weight / total : 0
    const got = o.counts.get(key) ?? 0
    const observed = got / o.count
    const y = i * ROW + 4
    chart.append(
      svg('text', { x: 0, y: y + 14 }, key),
      svg('rect', { class: 'expected', x: LABEL, y, width: Math.max(1, expected * WIDTH), height: 16 }),
      svg('text', { x: LABEL + expected * WIDTH + 6, y: y + 13 }, `weight ${weight} (${(expected * 100).toFixed(1)}%)${left ? `, left out: ${left.reason}` : ''}`),
      svg('rect', { class: 'observed', x: LABEL, y: y + 18, width: Math.max(1, observed * WIDTH), height: 16 }),
      svg('text', { x: LABEL + observed * WIDTH + 6, y: y + 31 }, `${got} picks (${(observed * 100).toFixed(1)}%)`),
    )
    rows.push(
      el(
        'tr',
        { 'data-pick': key },
        el('th', { scope: 'row' }, key),
        el('td', {}, String(weight)),
        el('td', {}, `${(expected * 100).toFixed(1)}%`),
        el('td', { class: 'picks' }, String(got)),
        el('td', {}, `${(observed * 100).toFixed(1)}%`),
        el('td', {}, left ? `left out: ${left.reason}` : 'candidate'),
      ),
    )
  })
  return el(
    'div',
    {},
    chart,
    el(
      'table',
      { id: 'pick-table' },
      el('caption', {}, `${o.count} picks of ${o.service}: light bars are the share by weight, dark bars the share picked`),
      el('thead', {}, el('tr', {}, ...['Endpoint', 'Weight', 'By weight', 'Picks', 'Picked', 'Pick explain'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, ...rows),
    ),
  )
}
