import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { copyJson, sameJson, setOwn } from '../../worker/json'

/** The same value with every object's keys in reverse order. */
function reordered(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reordered)
  if (typeof v === 'object' && v !== null) {
    return Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reordered(x)]))
  }
  return v
}

describe('sameJson', () => {
  it('ignores the order of object members, not of array elements', () => {
    expect(sameJson({ x: 1, y: 2 }, { y: 2, x: 1 })).toBe(true)
    expect(sameJson({ a: [{ p: 1, q: [2] }] }, { a: [{ q: [2], p: 1 }] })).toBe(true)
    expect(sameJson([1, 2], [2, 1])).toBe(false)
  })

  it('tells apart values, missing members, types and null', () => {
    expect(sameJson({ x: 1 }, { x: 1, y: 2 })).toBe(false)
    expect(sameJson({ x: 1, y: 2 }, { x: 1 })).toBe(false)
    expect(sameJson({ x: 1 }, { x: '1' })).toBe(false)
    expect(sameJson({ x: null }, {})).toBe(false)
    expect(sameJson(null, {})).toBe(false)
    expect(sameJson([], {})).toBe(false)
    expect(sameJson({ 0: 'a' }, ['a'])).toBe(false)
    expect(sameJson('', 0)).toBe(false)
  })

  it('counts a member whose value is undefined as absent, as JSON does', () => {
    expect(sameJson({ x: 1, y: undefined }, { x: 1 })).toBe(true)
    expect(sameJson({ x: 1 }, { x: 1, y: undefined })).toBe(true)
    expect(sameJson({ y: undefined }, { y: null })).toBe(false)
  })

  it('agrees with comparing the serialized forms once keys are sorted', () => {
    const sorted = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(sorted)
        : typeof v === 'object' && v !== null
          ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])]))
          : v
    const value = fc.jsonValue({ maxDepth: 3 })
    fc.assert(
      fc.property(value, value, (a, b) => {
        expect(sameJson(a, reordered(a))).toBe(true)
        expect(sameJson(a, b)).toBe(JSON.stringify(sorted(a)) === JSON.stringify(sorted(b)))
      }),
      { numRuns: 500 },
    )
  })
})

describe('setOwn', () => {
  it('sets __proto__ as a plain member: the prototype stays Object.prototype and JSON keeps the key', () => {
    const obj: Record<string, unknown> = {}
    setOwn(obj, '__proto__', { polluted: true })
    expect(Object.getPrototypeOf(obj)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.keys(obj)).toEqual(['__proto__'])
    expect(JSON.stringify(obj)).toBe('{"__proto__":{"polluted":true}}')
  })

  it('replaces a member already there, which stays enumerable and writable', () => {
    const obj: Record<string, unknown> = { a: 1 }
    setOwn(obj, 'a', 2)
    obj.a = 3
    expect(obj).toEqual({ a: 3 })
  })
})

describe('copyJson', () => {
  it('copies any JSON value as JSON.parse would read its text: equal, in the same key order, sharing nothing', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const copy = copyJson(value)
        expect(JSON.stringify(copy)).toBe(JSON.stringify(value))
        // No object or array of the copy is one of the original's.
        const originals = new Set<unknown>()
        const collect = (v: unknown, into: Set<unknown>) => {
          if (typeof v !== 'object' || v === null) return
          into.add(v)
          for (const x of Object.values(v)) collect(x, into)
        }
        collect(value, originals)
        const copies = new Set<unknown>()
        collect(copy, copies)
        for (const c of copies) expect(originals.has(c)).toBe(false)
      }),
    )
  })

  it('keeps a __proto__ member as data, as JSON.parse does, without touching any prototype', () => {
    const parsed = JSON.parse('{"a":{"__proto__":{"polluted":true},"b":[1,{"__proto__":null}]}}') as Record<string, Record<string, unknown>>
    const copy = copyJson(parsed)
    expect(Object.getPrototypeOf(copy.a)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(Object.keys(copy.a!)).toEqual(['__proto__', 'b'])
    expect(JSON.stringify(copy)).toBe(JSON.stringify(parsed))
  })

  it('leaves the original as it was when the copy is changed', () => {
    const original = { metadata: { labels: { app: 'web' } }, status: { conditions: [{ type: 'Ready', status: 'True' }] } }
    const copy = copyJson(original)
    copy.metadata.labels.app = 'api'
    copy.status.conditions[0]!.status = 'False'
    copy.status.conditions.push({ type: 'Other', status: 'True' })
    expect(original).toEqual({ metadata: { labels: { app: 'web' } }, status: { conditions: [{ type: 'Ready', status: 'True' }] } })
  })
})
