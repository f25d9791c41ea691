/**
 * Label selectors: parsing into canonical order, matching with Kubernetes' semantics, and
 * the canonical string form. The SQL list filters (worker/db/filters.ts) match the same
 * requirements in the database; a property test holds them to `matchesLabels`' answers.
 */
import { parseInt64 } from './int64'
import { parseRequirements } from './label-parser'
import type { Operator, Requirement } from './types'

/** Byte-wise string order (as Go sorts), which for well-formed label text is code-unit order. */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

function sortByKey(reqs: Requirement[]): Requirement[] {
  return reqs
    .map((r, i) => ({ r, i }))
    .sort((a, b) => compareStrings(a.r.key, b.r.key) || a.i - b.i)
    .map(({ r }) => r)
}

/**
 * Parses a label selector. The empty string gives [] (matches everything). Requirements
 * come back sorted by key, and `in`/`notin` values sorted and deduplicated, as apimachinery
 * does. `==` is read as `equals`. Throws SelectorError naming the problem and its position.
 */
export function parseLabelSelector(input: string): Requirement[] {
  return sortByKey(parseRequirements(input).map((r) => ({ ...r, values: [...r.values].sort(compareStrings) })))
}

/**
 * True if the labels satisfy one requirement, with Kubernetes' semantics: `notIn` and
 * `notEquals` match objects without the key; `gt`/`lt` need the label and the bound to read
 * as int64 (see int64.ts), and a requirement with other than one bound matches nothing.
 */
export function matchesRequirement(req: Requirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, req.key)
  const value = has ? labels[req.key] : undefined
  switch (req.operator) {
    case 'exists':
      return has
    case 'doesNotExist':
      return !has
    case 'equals':
    case 'in':
      return value !== undefined && req.values.includes(value)
    case 'notEquals':
    case 'notIn':
      return value === undefined || !req.values.includes(value)
    case 'gt':
    case 'lt': {
      if (value === undefined || req.values.length !== 1) return false
      const actual = parseInt64(value)
      const bound = parseInt64(req.values[0] ?? '')
      if (actual === null || bound === null) return false
      return req.operator === 'gt' ? actual > bound : actual < bound
    }
  }
}

/** True if the labels satisfy every requirement (so [] matches everything). */
export function matchesLabels(reqs: Requirement[], labels: Record<string, string>): boolean {
  return reqs.every((r) => matchesRequirement(r, labels))
}

/** Equality requirements for a map selector (as a Service's `spec.selector`), sorted by key. */
export function selectorFromMap(map: Record<string, string>): Requirement[] {
  return Object.keys(map)
    .sort(compareStrings)
    .map((key) => ({ key, operator: 'equals' as const, values: [map[key] ?? ''] }))
}

const OPERATOR_TEXT: Record<Operator, string> = {
  exists: '',
  doesNotExist: '',
  equals: '=',
  notEquals: '!=',
  in: ' in ',
  notIn: ' notin ',
  gt: '>',
  lt: '<',
}

/** One requirement as text, e.g. `tier notin (frontend)`, `!legacy`, `app=web`. */
export function formatRequirement(r: Requirement): string {
  if (r.operator === 'exists') return r.key
  if (r.operator === 'doesNotExist') return `!${r.key}`
  const values = r.values.length === 1 ? (r.values[0] ?? '') : [...r.values].sort(compareStrings).join(',')
  const body = r.operator === 'in' || r.operator === 'notIn' ? `(${values})` : values
  return `${r.key}${OPERATOR_TEXT[r.operator]}${body}`
}

/**
 * The canonical selector string, as apimachinery's Selector.String(): requirements ordered
 * by key and comma-joined, values of `in`/`notin` sorted. `parseLabelSelector` reads it back.
 */
export function formatSelector(reqs: Requirement[]): string {
  return sortByKey(reqs).map(formatRequirement).join(',')
}
