/**
 * JSON values: the rules every layer shares (equality, setting a member, the nesting limit).
 */

/** No object the registry stores nests deeper than this; bodies nested deeper are refused before they are used. */
export const MAX_JSON_DEPTH = 64

/** Sets an own property, so that a key such as `__proto__` stays data and never a prototype. */
export function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true })
}

/**
 * A deep copy of a JSON value as `JSON.parse` makes them: plain objects (own keys, `__proto__`
 * kept as data), arrays and primitives, without cycles. For objects read from storage it is
 * several times cheaper than `structuredClone`, which serializes and deserializes; every
 * deep copy of a JSON value in the registry is made with it.
 */
export function copyJson<T>(value: T): T {
  if (Array.isArray(value)) return value.map(copyJson) as T
  if (!isObject(value)) return value
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(value)) {
    if (key === '__proto__') setOwn(out, key, copyJson(value[key]))
    else out[key] = copyJson(value[key])
  }
  return out as T
}

/**
 * Equality of JSON values, the one rule every layer uses: objects are equal when they
 * have the same members whatever their order (RFC 8259 §4; RFC 6902 §4.6), arrays when
 * their elements are equal in order, and everything else by value. A member whose value
 * is `undefined` counts as absent, as JSON.stringify drops it.
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]))
  }
  if (!isObject(a) || !isObject(b)) return false
  const keys = definedKeys(a)
  if (keys.length !== definedKeys(b).length) return false
  // Last member first: a stored object of a kind with a status has it last, where most updates
  // differ, and the members before it (metadata with its managed fields, spec) are the larger part.
  for (let i = keys.length - 1; i >= 0; i--) {
    const k = keys[i]!
    if (!Object.hasOwn(b, k) || !sameJson(a[k], b[k])) return false
  }
  return true
}

function definedKeys(o: Record<string, unknown>): string[] {
  return Object.keys(o).filter((k) => o[k] !== undefined)
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null
}
