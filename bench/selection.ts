/**
 * The label layout of the endpoints benchmark, shared by the server (which imports the
 * pods) and the load generator (which creates the services and knows which pods each
 * one selects).
 *
 * The first `core` pods of a namespace are the ones services select; every other pod
 * is selected by no service. The core is cut into blocks of `perService` pods in
 * `partitions` different ways (partition j puts pod p in block ⌊(p·m_j mod core) / perService⌋),
 * and service k selects block k mod `blocks` of partition ⌊k / blocks⌋ by one label,
 * `part-j: blk-b`. So:
 *
 * - every service selects exactly `perService` pods, and no two services the same ones
 * - the first `blocks` services (partition 0) select disjoint pods, one service each
 * - all `partitions × blocks` services select every core pod `partitions` times
 *
 * and the selected pods and the services are the same at every namespace size: a larger
 * namespace only adds pods no service selects.
 *
 * Two more groups of `movers.size` pods right after the core carry `move: a` and
 * `move: b`, for a service whose selector change moves them all.
 */
import { podBody, podIP, seedRef } from './fixtures'

export const SELECTION = {
  core: 1_000,
  perService: 5,
  partitions: 5,
  blocks: 200,
  /** Coprime to `core`, so each makes a permutation of the core pods. */
  multipliers: [1, 3, 7, 9, 11],
  movers: { start: 1_000, size: 100 },
} as const

/** The largest number of services the layout defines (`partitions × blocks`). */
export const MAX_SERVICES = SELECTION.partitions * SELECTION.blocks

function blockOf(pod: number, partition: number): number {
  return Math.floor(((pod * SELECTION.multipliers[partition]!) % SELECTION.core) / SELECTION.perService)
}

/** The labels pod `i` carries beyond the ones every benchmark pod has. */
export function selectionLabels(i: number): Record<string, string> {
  const labels: Record<string, string> = {}
  if (i < SELECTION.core) {
    for (let j = 0; j < SELECTION.partitions; j++) labels[`part-${j}`] = `blk-${blockOf(i, j)}`
  }
  const { start, size } = SELECTION.movers
  if (i >= start && i < start + 2 * size) labels.move = i < start + size ? 'a' : 'b'
  return labels
}

export function serviceName(k: number): string {
  return `svc-${String(k).padStart(4, '0')}`
}

export function serviceSelector(k: number): Record<string, string> {
  return { [`part-${Math.floor(k / SELECTION.blocks)}`]: `blk-${k % SELECTION.blocks}` }
}

/** The indexes of the pods service `k` selects. */
export function selectedPods(k: number): number[] {
  const partition = Math.floor(k / SELECTION.blocks)
  const block = k % SELECTION.blocks
  const out: number[] = []
  for (let p = 0; p < SELECTION.core; p++) if (blockOf(p, partition) === block) out.push(p)
  return out
}

/** The services, among the first `services`, that select pod `p`. */
export function servicesOf(p: number, services: number): number[] {
  if (p >= SELECTION.core) return []
  const out: number[] = []
  for (let j = 0; j < SELECTION.partitions; j++) {
    const k = j * SELECTION.blocks + blockOf(p, j)
    if (k < services) out.push(k)
  }
  return out
}

/** The pods of the `move: a` group, or of the `move: b` group. */
export function moverPods(group: 'a' | 'b'): number[] {
  const { start, size } = SELECTION.movers
  const first = group === 'a' ? start : start + size
  return Array.from({ length: size }, (_, i) => first + i)
}

/** Pod `i` of the endpoints benchmark: a seeded pod with the layout's labels and an IP from `ipBlock`. */
export function selectionPodBody(i: number, ipBlock: number): Record<string, unknown> {
  const body = podBody({ name: seedRef(i).name, ip: podIP(ipBlock, i), ready: true }, i)
  const metadata = body.metadata as { labels: Record<string, string> }
  metadata.labels = { ...metadata.labels, ...selectionLabels(i) }
  return body
}
