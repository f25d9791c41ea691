/**
 * RFC 3339 times, as Kubernetes reads them (metav1.Time and MicroTime): a four-digit year,
 * a real calendar date and time of day (no February 30, no hour 24, no leap second), an
 * optional fraction, and `Z` or a `±hh:mm` offset. Every time the registry stores is
 * written back in UTC in one fixed-width form, so that two stored times compare as text
 * exactly as they compare as instants.
 */

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/

/** The latest instant a stored time may be: the end of year 9999, the last with a four-digit year. */
export const MAX_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59)
/** The earliest: the start of year 0000 (Date.UTC reads years below 100 as 19xx, hence the arithmetic). */
const MIN_TIME_MS = Date.UTC(2000, 0, 1) - 730_485 * 86_400_000

export interface Rfc3339 {
  /** The instant, in ms since the epoch (whole seconds; the fraction is in `fraction`). */
  ms: number
  /** The fraction's digits as written (may be empty). */
  fraction: string
}

/**
 * Times read lately, with what they name: a write reads the same few times again and
 * again (its managed fields' and its conditions' times, mostly within one second), and a
 * reading is a pattern match and two Dates. Dropped whole when full.
 */
const read = new Map<string, Readonly<Rfc3339> | null>()
const READ_KEPT = 256
/** The longest RFC 3339 time (nine fraction digits and an offset); longer text is no time and is not kept. */
const LONGEST = '2006-01-02T15:04:05.999999999+07:00'.length

/** The instant `value` names, or null when it is not an RFC 3339 time or falls outside years 0000–9999 in UTC. */
export function parseRfc3339(value: string): Readonly<Rfc3339> | null {
  if (value.length > LONGEST) return null
  let time = read.get(value)
  if (time === undefined) {
    time = readRfc3339(value)
    if (read.size >= READ_KEPT) read.clear()
    read.set(value, time)
  }
  return time
}

function readRfc3339(value: string): Readonly<Rfc3339> | null {
  const m = RFC3339.exec(value)
  if (!m) return null
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number]
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return null
  const local = new Date(Date.UTC(2000, month - 1, day, hour, minute, second))
  local.setUTCFullYear(year)
  // A day the month does not have (February 30) rolls over: refuse it rather than move the time.
  if (local.getUTCDate() !== day || local.getUTCMonth() !== month - 1) return null
  let offsetMinutes = 0
  if (!m[8]) {
    const [oh, om] = [Number(m[10]), Number(m[11])]
    if (oh > 23 || om > 59) return null
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om)
  }
  const ms = local.getTime() - offsetMinutes * 60_000
  if (ms < MIN_TIME_MS || ms > MAX_TIME_MS) return null
  return Object.freeze({ ms, fraction: m[7] ?? '' })
}

/** RFC 3339 in UTC with whole seconds (`2006-01-02T15:04:05Z`), as Kubernetes writes metav1.Time. */
export function timestamp(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`
}

/** `value` as a metav1.Time (UTC, whole seconds), or null when it is not an RFC 3339 time. */
export function normalTime(value: string): string | null {
  const t = parseRfc3339(value)
  return t ? timestamp(new Date(t.ms)) : null
}

/** `value` as a MicroTime (UTC, six fraction digits), or null when it is not an RFC 3339 time. */
export function microTime(value: string): string | null {
  const t = parseRfc3339(value)
  return t ? `${timestamp(new Date(t.ms)).slice(0, 19)}.${t.fraction.padEnd(6, '0').slice(0, 6)}Z` : null
}

/** The message for a time that is not RFC 3339, with an example of the form. */
export function timeMessage(example = '2006-01-02T15:04:05Z'): string {
  return `must be an RFC 3339 time between years 0000 and 9999, e.g. ${example}`
}
