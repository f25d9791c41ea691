/**
 * How a label value reads as a number for the `gt` and `lt` operators: as Go's
 * strconv.ParseInt(s, 10, 64) reads it, which is what Kubernetes uses. An optional `+` or
 * `-`, then one or more ASCII decimal digits (leading zeros allowed), within int64; anything
 * else is not a number and matches neither `gt` nor `lt`.
 *
 * The SQL list filters (worker/db/filters.ts) state the same rule in SQL from these
 * constants; a property test holds the two to the same answers.
 */

export const INT64_MIN = -(2n ** 63n)
export const INT64_MAX = 2n ** 63n - 1n

/** The shape of a value ParseInt reads in base 10, before its range is checked. */
const DECIMAL_INTEGER = /^[+-]?[0-9]+$/

/** strconv.ParseInt(s, 10, 64): the value, or null if `s` is not a decimal int64. */
export function parseInt64(s: string): bigint | null {
  if (!DECIMAL_INTEGER.test(s)) return null
  const v = BigInt(s)
  return v < INT64_MIN || v > INT64_MAX ? null : v
}
