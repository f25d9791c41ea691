/**
 * RFC 3339 date-times (section 5.6), read as Kubernetes' metav1.Time reads them (Go's
 * time.RFC3339): a four-digit year, a real calendar date (no 30 February, no 29 February
 * outside leap years), `T`, a time with an optional fraction, and `Z` or a numeric offset.
 * Anything else — `"99999"`, `"1"`, a date without a time, a rolled-over date — is not a
 * time. An instant is compared as a number, never as text.
 */

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

function daysIn(year: number, month: number): number {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  return month === 2 && leap ? 29 : DAYS[month - 1]!
}

/** The instant `value` names, in milliseconds since the epoch (fractions below a millisecond dropped), or null when it is not RFC 3339. */
export function parseRfc3339(value: string): number | null {
  const m = DATE_TIME.exec(value)
  if (!m) return null
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number]
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return null
  if (hour > 23 || minute > 59 || second > 59) return null
  let offsetMinutes = 0
  if (!m[8]) {
    const offsetHours = Number(m[10])
    const offsetMins = Number(m[11])
    if (offsetHours > 23 || offsetMins > 59) return null
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins)
  }
  const millis = Number((m[7] ?? '').padEnd(3, '0').slice(0, 3))
  const date = new Date(0)
  date.setUTCFullYear(year, month - 1, day)
  date.setUTCHours(hour, minute, second, millis)
  return date.getTime() - offsetMinutes * 60_000
}
