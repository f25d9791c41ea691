/**
 * Field selectors (`?fieldSelector=`), as apimachinery's `fields.ParseSelector` reads them:
 * comma-separated `field=value`, `field==value` or `field!=value` terms, where `\` escapes
 * `,`, `=` and `\` in values. Only fields the resource supports may be named; at most
 * MAX_FIELD_SELECTOR_TERMS terms (registry/limits.ts).
 */
import { MAX_FIELD_SELECTOR_TERMS } from '../registry/limits'
import { SelectorError, type FieldRequirement } from './types'

/** Splits on commas that are not escaped; escapes stay in the terms. */
function splitTerms(input: string): { term: string; pos: number }[] {
  const terms: { term: string; pos: number }[] = []
  let start = 0
  let escaped = false
  for (let i = 0; i < input.length; i++) {
    const c = input[i]
    if (escaped) escaped = false
    else if (c === '\\') escaped = true
    else if (c === ',') {
      terms.push({ term: input.slice(start, i), pos: start })
      start = i + 1
    }
  }
  terms.push({ term: input.slice(start), pos: start })
  return terms
}

const OPERATORS = ['!=', '==', '='] as const

interface Term {
  field: string
  op: (typeof OPERATORS)[number]
  rhs: string
  /** Where the operator starts in the term. */
  at: number
}

/** Splits a term at the first operator; the field part has no escapes. */
function splitTerm(term: string): Term | null {
  for (let i = 0; i < term.length; i++) {
    for (const op of OPERATORS) {
      if (term.startsWith(op, i)) return { field: term.slice(0, i), op, rhs: term.slice(i + op.length), at: i }
    }
  }
  return null
}

/** Undoes `\,`, `\=` and `\\`; any other escape, or a bare `,` or `=`, is an error. */
function unescapeValue(rhs: string, term: string, pos: number): string {
  let out = ''
  for (let i = 0; i < rhs.length; i++) {
    const c = rhs[i] ?? ''
    if (c === '\\') {
      const next = rhs[i + 1]
      if (next === '\\' || next === ',' || next === '=') {
        out += next
        i++
        continue
      }
      const seq = next === undefined ? '\\' : `\\${next}`
      throw new SelectorError(
        `invalid field selector: invalid escape sequence ${JSON.stringify(seq)} in ${JSON.stringify(term)} (at position ${pos + i})`,
        pos + i,
      )
    }
    if (c === '=' || c === ',') {
      throw new SelectorError(
        `invalid field selector: unescaped '${c}' in the value of ${JSON.stringify(term)} (at position ${pos + i})`,
        pos + i,
      )
    }
    out += c
  }
  return out
}

/**
 * Parses a field selector. Empty input (and empty terms, as in `a=b,`) give no requirement.
 * Terms come back sorted by their text, as apimachinery sorts them. A term without an
 * operator or with a bad escape throws SelectorError; so does a field not in `allowed`,
 * with the message `field label not supported: <field>`. Syntax is checked before fields.
 */
export function parseFieldSelector(input: string, allowed: readonly string[]): FieldRequirement[] {
  if (input === '') return []
  const split = splitTerms(input).filter((t) => t.term !== '')
  if (split.length > MAX_FIELD_SELECTOR_TERMS) {
    throw new SelectorError(`invalid field selector: too many terms: ${split.length}: a selector may have at most ${MAX_FIELD_SELECTOR_TERMS}`)
  }
  const terms = split
    .sort((a, b) => (a.term < b.term ? -1 : a.term > b.term ? 1 : 0))
  const reqs: FieldRequirement[] = []
  for (const { term, pos } of terms) {
    const split = splitTerm(term)
    if (split === null) {
      throw new SelectorError(
        `invalid field selector: ${JSON.stringify(term)} (at position ${pos}) is not <field>=<value>, <field>==<value> or <field>!=<value>`,
        pos,
      )
    }
    if (split.field === '') {
      const detail = `${JSON.stringify(term)} (at position ${pos}) names no field`
      throw new SelectorError(`invalid field selector: ${detail}`, pos)
    }
    const value = unescapeValue(split.rhs, term, pos + split.at + split.op.length)
    reqs.push({ field: split.field, operator: split.op === '!=' ? 'notEquals' : 'equals', value })
  }
  for (const req of reqs) {
    if (!allowed.includes(req.field)) throw new SelectorError(`field label not supported: ${req.field}`)
  }
  return reqs
}

/** Escapes `\`, `,` and `=` so any string can be a field-selector value. */
export function escapeFieldValue(value: string): string {
  return value.replace(/[\\,=]/g, (c) => `\\${c}`)
}

/** The selector as text, terms in the given order: `field=value` / `field!=value`, values escaped. */
export function formatFieldSelector(reqs: readonly FieldRequirement[]): string {
  return reqs
    .map((r) => `${r.field}${r.operator === 'equals' ? '=' : '!='}${escapeFieldValue(r.value)}`)
    .join(',')
}

/** True if the object's field values satisfy every requirement; a missing field reads as ''. */
export function matchesFields(
  reqs: readonly FieldRequirement[],
  fields: Record<string, string | undefined>,
): boolean {
  return reqs.every((r) => {
    const v = (Object.hasOwn(fields, r.field) ? fields[r.field] : undefined) ?? ''
    return r.operator === 'equals' ? v === r.value : v !== r.value
  })
}
