/**
 * Ratcheting, as Kubernetes' validation does it on update: an error about a value that the
 * update leaves exactly as the stored object has it is dropped. An object stored before a
 * rule was added or tightened (a time that is not RFC 3339, a grace period past the limit, a
 * refused address, too many labels) can then still take the updates that do not touch that
 * value: a label, a drain, a readiness report. Changing the value, or creating an object,
 * is judged in full.
 *
 * Only errors that judge the value at their own path are ratcheted. A missing or duplicated
 * value, and rules that compare two fields, are judged on every write: callers leave those
 * out of `causes` or they stand here by their reason.
 */
import type { FieldError } from './errors'

/** Errors that judge the one value at their path. */
const VALUE_REASONS = new Set(['FieldValueInvalid', 'FieldValueNotSupported', 'FieldValueTooLong', 'FieldValueTooMany', 'FieldValueTypeInvalid'])

/** `causes` without the errors about values that `obj` keeps from `old` (all of them when there is no `old`). */
export function ratchet(causes: FieldError[], obj: object, old: object | undefined): FieldError[] {
  if (!old || causes.length === 0) return causes
  return causes.filter((c) => !c.field || !VALUE_REASONS.has(c.reason) || !sameAt(c.field, obj, old))
}

function sameAt(field: string, obj: object, old: object): boolean {
  const path = parsePath(field)
  if (!path) return false
  const now = valueAt(obj, path)
  const before = valueAt(old, path)
  return now !== undefined && JSON.stringify(now) === JSON.stringify(before)
}

/**
 * A field path as errors name it (`spec.containers[0].ports`, `metadata.annotations[example.com/key]`,
 * `spec.containers[*].ports`) as segments; null when it does not parse.
 */
function parsePath(field: string): string[] | null {
  const segments: string[] = []
  const re = /([^.[\]]+)|\[([^\]]*)\]|(\.)/gy
  let m: RegExpExecArray | null
  while (re.lastIndex < field.length && (m = re.exec(field))) {
    if (m[1] !== undefined) segments.push(m[1])
    else if (m[2] !== undefined) segments.push(m[2])
  }
  return re.lastIndex === field.length ? segments : null
}

/** The value at `path`; `*` maps over a list. */
function valueAt(value: unknown, path: string[]): unknown {
  if (path.length === 0) return value
  const [head, ...rest] = path
  if (head === '*') return Array.isArray(value) ? value.map((v) => valueAt(v, rest)) : undefined
  if (value === null || typeof value !== 'object') return undefined
  return valueAt((value as Record<string, unknown>)[head!], rest)
}
