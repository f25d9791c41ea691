/**
 * JSON patch (worker/registry/patch.ts) and the nesting limit: request text is refused past
 * MAX_JSON_DEPTH before it is parsed, but a copy or a move places a subtree of the document
 * somewhere else in it, and a copy of a subtree to its own end doubles its depth while the
 * patch text stays shallow. Such an operation is refused once the document would nest past
 * the limit, counted as the request text is (the outermost object is level 1).
 */
import { describe, expect, it } from 'vitest'
import { MAX_JSON_DEPTH } from '../../worker/json'
import { applyPatch } from '../../worker/registry/patch'
import { SERVICES } from '../../worker/registry/kinds'

/** `{}` nested in `n` objects: n + 1 levels. */
const chain = (n: number): object => (n === 0 ? {} : { a: chain(n - 1) })

/** How many levels a JSON value nests (a scalar 0, `{}` 1). */
const depth = (v: unknown): number => (typeof v !== 'object' || v === null ? 0 : 1 + Math.max(0, ...Object.values(v).map(depth)))

/** A Service whose spec.deep is `chain(n)` (it nests n + 3 levels) and whose spec.target is an empty object. */
const service = (n: number) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { deep: chain(n), target: {} } })

const patch = (target: unknown, ops: object[]) => applyPatch('json', target, ops, SERVICES.schema!)

describe('JSON patch and the nesting limit', () => {
  // spec.target.x is at path length 3: the value placed there nests 3 levels more than its own depth.
  const fits = MAX_JSON_DEPTH - 4 // chain(fits) has fits + 1 levels: 3 + fits + 1 = MAX_JSON_DEPTH

  it.each(['copy', 'move'])(`a %s that makes the document exactly ${MAX_JSON_DEPTH} levels deep is applied`, (op) => {
    const out = patch(service(fits), [{ op, from: '/spec/deep', path: '/spec/target/x' }])
    expect(depth(out)).toBe(MAX_JSON_DEPTH)
  })

  it.each(['copy', 'move'])('a %s one level deeper is a 400 naming the operation, and leaves the target as it was', (op) => {
    const target = service(fits + 1)
    expect(depth(target)).toBe(MAX_JSON_DEPTH) // the document itself is within the limit
    const before = JSON.stringify(target)
    expect(() => patch(target, [{ op: 'test', path: '/spec/target', value: {} }, { op, from: '/spec/deep', path: '/spec/target/x' }])).toThrow(
      `JSON patch operation 1 would nest the object deeper than ${MAX_JSON_DEPTH} levels`,
    )
    expect(JSON.stringify(target)).toBe(before)
  })

  it('copies of a subtree to its own end are refused at the first that passes the limit, before they can double it further', () => {
    const ops: object[] = [{ op: 'add', path: '/spec/deep', value: {} }]
    for (let n = 0; n < 10_000; n = 2 * n + 1) ops.push({ op: 'copy', from: '/spec/deep', path: `/spec/deep${'/a'.repeat(n)}/a` })
    // The copy that makes spec.deep a chain of 63 objects (the 6th) would nest the document 2 + 64 levels deep.
    expect(() => patch(service(0), ops)).toThrow(`JSON patch operation 6 would nest the object deeper than ${MAX_JSON_DEPTH} levels`)
  })
})
