/**
 * changedFields and toFieldsV1 (worker/registry/field-set.ts) on generated objects.
 *
 * changedFields against its definition: the members of the
 * object after a write that the object before lacks or holds with another value, and the
 * members the write removed, found by comparing the two objects' whole fieldValues. The
 * objects are drawn from few field names and values, with keyed lists, sets, atomic lists,
 * empty maps and fields of undefined, so that most pairs share much and differ a little,
 * as an update's before and after do.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { changedFields, fieldValues, fieldsOf, fromFieldsV1, isValuePath, toFieldsV1, type FieldsV1, type ListTypes } from '../../worker/registry/field-set'
import { sameJson } from '../../worker/json'

const LISTS: ListTypes = (path) => {
  if (path.endsWith('items')) return { type: 'map', keys: ['name', 'port'], defaults: { port: 80 } }
  if (path.endsWith('tags')) return { type: 'set' }
  return { type: 'atomic' }
}
const SKIP = (path: readonly string[]) => path[0] === 'f:skipped' || (path.length === 2 && path[1] === 'f:hidden')

/** The definition: both objects' members compared whole. */
function byDefinition(before: unknown, after: unknown, skip = SKIP) {
  const was = fieldValues(before, LISTS, skip)
  const is = fieldValues(after, LISTS, skip)
  const changed = [...is].filter(([p, v]) => !was.has(p) || (isValuePath(p) && !sameJson(was.get(p), v))).map(([p]) => p)
  const removed = [...was.keys()].filter((p) => !is.has(p))
  return { changed: changed.sort(), removed: removed.sort() }
}

function found(before: unknown, after: unknown, skip = SKIP) {
  const { changed, removed } = changedFields(before, after, LISTS, skip)
  return { changed: [...changed].sort(), removed: [...removed].sort() }
}

// Names an object has by inheritance too, so that a lookup that is not of own fields shows.
const key = fc.constantFrom('a', 'b', 'items', 'tags', 'skipped', 'hidden', 'name', 'port', 'constructor', 'toString', '__proto__')
const scalar = fc.oneof(fc.constantFrom(0, 1, 'x', 'y', true, null), fc.constant(undefined))
const value = fc.letrec<{ v: unknown; item: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.dictionary(key, tie('v'), { maxKeys: 4 }),
    fc.array(tie('item'), { maxLength: 4 }),
    fc.record({}),
  ),
  item: fc.oneof(scalar, fc.record({ name: fc.constantFrom('p', 'q', undefined), port: fc.constantFrom(80, 81, undefined), a: tie('v') }, { requiredKeys: [] })),
}))
const object = fc.dictionary(key, value.v, { maxKeys: 5 })

/** `after` as `before` with a few fields replaced: pairs that are mostly alike. */
const pair = fc.tuple(object, fc.array(fc.tuple(fc.array(key, { minLength: 1, maxLength: 3 }), value.v), { maxLength: 3 })).map(([before, edits]) => {
  const after = structuredClone(before) as Record<string, unknown>
  for (const [path, v] of edits) {
    // Own fields only, set as data (a `__proto__` key stays a field).
    const put = (o: Record<string, unknown>, k: string, value: unknown) => Object.defineProperty(o, k, { value, enumerable: true, writable: true, configurable: true })
    let at: Record<string, unknown> = after
    for (const k of path.slice(0, -1)) {
      const next = Object.hasOwn(at, k) ? at[k] : undefined
      if (typeof next !== 'object' || next === null || Array.isArray(next)) put(at, k, {})
      at = at[k] as Record<string, unknown>
    }
    put(at, path.at(-1)!, v)
  }
  return [before, after] as const
})

describe('changedFields', () => {
  it('finds what comparing both objects whole finds, on pairs that mostly agree', () => {
    fc.assert(
      fc.property(pair, ([before, after]) => {
        expect(found(before, after)).toEqual(byDefinition(before, after))
      }),
      { numRuns: 3000 },
    )
  })

  it('finds what comparing both objects whole finds, on unrelated pairs and either side missing', () => {
    fc.assert(
      fc.property(fc.oneof(object, fc.constant(undefined)), fc.oneof(object, fc.constant(undefined)), (before, after) => {
        expect(found(before, after)).toEqual(byDefinition(before, after))
      }),
      { numRuns: 2000 },
    )
  })

  it('tells a field of undefined from an empty map, as fieldValues does', () => {
    // {x: undefined} is a map with nothing in it; {} is an empty map, itself a member.
    expect(found({ a: { x: undefined } }, { a: {} })).toEqual({ changed: ['f:a'], removed: [] })
    expect(found({ a: {} }, { a: { x: undefined } })).toEqual({ changed: [], removed: ['f:a'] })
    expect(found({ a: { x: undefined } }, { a: { y: undefined } })).toEqual({ changed: [], removed: [] })
    // A field of null is a member; a field of undefined is not there at all.
    expect(found({ a: { x: null, y: 1 } }, { a: { x: undefined, y: 1 } })).toEqual({ changed: [], removed: ['f:a\u0000f:x'] })
    expect(found({ items: [{ name: 'p', a: null }] }, { items: [{ name: 'p', a: undefined }] })).toEqual(byDefinition({ items: [{ name: 'p', a: null }] }, { items: [{ name: 'p', a: undefined }] }))
  })

  it('compares a keyed list item by item, duplicates and missing keys included', () => {
    const before = { items: [{ name: 'p', a: 1 }, { name: 'p', a: 2 }, { a: 3 }] }
    const after = { items: [{ name: 'p', a: 2 }, { name: 'q', port: 80 }] }
    expect(found(before, after)).toEqual(byDefinition(before, after))
    expect(found(before, after).changed).toContain('f:items\u0000k:{"name":"q","port":80}')
  })

  it('reads own fields only', () => {
    expect(found({ constructor: 1 }, { x: 1 })).toEqual({ changed: ['f:x'], removed: ['f:constructor'] })
    expect(found({ x: 1 }, { toString: 1 })).toEqual({ changed: ['f:toString'], removed: ['f:x'] })
  })

  it('leaves out what skip leaves out, on either side', () => {
    expect(found({ skipped: 1, a: { hidden: 1 } }, { skipped: 2, a: { hidden: 2 } })).toEqual({ changed: [], removed: [] })
    expect(found({ a: { hidden: 1 } }, {})).toEqual({ changed: [], removed: [] })
    // A map under a skipped path on both sides: the walk stops at the path, not at its leaves.
    expect(found({ a: { hidden: { b: 1 } } }, { a: { hidden: { b: 2 } } })).toEqual({ changed: [], removed: [] })
  })
})

/** Whether every node's keys are in code-unit order, `.` first where a member has members below it. */
function ordered(tree: FieldsV1): boolean {
  const keys = Object.keys(tree)
  const rest = keys[0] === '.' ? keys.slice(1) : keys
  if (keys[0] === '.' && rest.length === 0) return false
  return rest.every((k, i) => k !== '.' && (i === 0 || rest[i - 1]! < k)) && rest.every((k) => ordered(tree[k]!))
}

describe('toFieldsV1', () => {
  it('encodes a set that fromFieldsV1 reads back whole, every node in order', () => {
    fc.assert(
      // As JSON holds them: a set's values are JSON (no undefined), as FieldsV1's `v:` keys are.
      fc.property(object.map((o) => JSON.parse(JSON.stringify(o)) as unknown), (obj) => {
        const set = fieldsOf(obj, LISTS, SKIP)
        const tree = toFieldsV1(set)
        expect(fromFieldsV1(tree)).toEqual(set)
        expect(ordered(tree)).toBe(true)
      }),
      { numRuns: 2000 },
    )
  })

  it('puts `.` first in a member with members below, and orders keys by code unit', () => {
    const set = new Set(['f:b', 'f:a\u0000k:{"x":1}', 'f:a\u0000k:{"x":1}\u0000f:y', 'f:Z', 'f:a\u0000v:"s"'])
    expect(JSON.stringify(toFieldsV1(set))).toBe('{"f:Z":{},"f:a":{"k:{\\"x\\":1}":{".":{},"f:y":{}},"v:\\"s\\"":{}},"f:b":{}}')
  })
})
