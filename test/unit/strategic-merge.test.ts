/**
 * Strategic merge patch, applied as Kubernetes' API server applies it. The cases with a
 * `mergeItem` schema are those of apimachinery's strategicpatch tests (the patch kubectl
 * computes, applied to the live object); the others use the registry's own schemas, whose
 * patch strategies come from Kubernetes' core/v1 tags.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { RegistryError } from '../../worker/registry/errors'
import { applyPatch } from '../../worker/registry/patch'
import { Pod, Service } from '../../worker/registry/schemas'
import { strategicMerge } from '../../worker/registry/strategic-merge'
import { patchSchemaOf } from '../../worker/registry/strategic-merge-schema'

/** The shape of apimachinery's test type: lists merged by `name` or as sets, lists replaced, a map with retainKeys. */
const Item: z.ZodType = z.lazy(() =>
  z.object({
    name: z.union([z.string(), z.number()]).optional(),
    value: z.unknown().optional(),
    other: z.string().optional(),
    mergingList: z.array(Item).optional().meta({ 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-patch-merge-key': 'name' }),
    nonMergingList: z.array(Item).optional(),
    mergingIntList: z.array(z.number()).optional().meta({ 'x-kubernetes-patch-strategy': 'merge' }),
    nonMergingIntList: z.array(z.number()).optional(),
    simpleMap: z.record(z.string(), z.string()).optional(),
    replacingItem: z.unknown().optional().meta({ 'x-kubernetes-patch-strategy': 'replace' }),
    retainKeysMap: z.object({ name: z.string().optional(), value: z.string().optional(), other: z.string().optional() }).optional().meta({ 'x-kubernetes-patch-strategy': 'retainKeys' }),
  }),
)

const merge = (original: unknown, patch: unknown, schema: z.ZodType = Item) => strategicMerge(original, patch, patchSchemaOf(schema))

function failure(original: unknown, patch: unknown, schema: z.ZodType = Item): RegistryError {
  try {
    merge(original, patch, schema)
  } catch (e) {
    expect(e).toBeInstanceOf(RegistryError)
    return e as RegistryError
  }
  throw new Error('the patch applied')
}

describe('strategic merge patch: maps and scalars', () => {
  it('merges maps key by key, null deletes, scalars and non-merging lists replace', () => {
    const original = { name: 'a', value: 1, simpleMap: { x: '1', y: '2' }, nonMergingIntList: [1, 2], nonMergingList: [{ name: 1 }, { name: 2 }] }
    const patch = { value: 2, simpleMap: { y: null, z: '3' }, nonMergingIntList: [3], nonMergingList: [{ name: 3 }], name: null }
    expect(merge(original, patch)).toEqual({ value: 2, simpleMap: { x: '1', z: '3' }, nonMergingIntList: [3], nonMergingList: [{ name: 3 }] })
  })

  it('leaves both inputs unchanged', () => {
    const original = { mergingList: [{ name: 1, value: 'a' }] }
    const patch = { mergingList: [{ name: 1, value: 'b' }, { name: 2 }] }
    const [o, p] = [structuredClone(original), structuredClone(patch)]
    merge(original, patch)
    expect([original, patch]).toEqual([o, p])
  })

  it('a null for a field that is not there deletes nothing and is not kept; nulls inside a new value are dropped', () => {
    expect(merge({ value: 1 }, { other: null, simpleMap: { a: 'x', b: null } })).toEqual({ value: 1, simpleMap: { a: 'x' } })
  })

  it('$patch: replace makes a map the patch; $patch: delete removes it', () => {
    const original = { simpleMap: { a: '1' }, retainKeysMap: { name: 'n', value: 'v' } }
    expect(merge(original, { simpleMap: { $patch: 'replace', b: '2' } })).toEqual({ simpleMap: { b: '2' }, retainKeysMap: { name: 'n', value: 'v' } })
    expect(merge(original, { simpleMap: { $patch: 'delete' } })).toEqual({ simpleMap: {}, retainKeysMap: { name: 'n', value: 'v' } })
  })

  it('a field whose strategy is replace takes the patch whole', () => {
    expect(merge({ replacingItem: { a: 1, b: 2 } }, { replacingItem: { b: 3 } })).toEqual({ replacingItem: { b: 3 } })
  })

  it('$retainKeys clears the fields it does not list (a discriminated union switching member)', () => {
    const current = { retainKeysMap: { name: 'type1', value: 'foo' } }
    expect(merge(current, { retainKeysMap: { $retainKeys: ['name', 'other'], name: 'type2', other: 'bar' } })).toEqual({ retainKeysMap: { name: 'type2', other: 'bar' } })
    expect(merge({ retainKeysMap: { value: 'foo' } }, { retainKeysMap: { $retainKeys: ['other'], other: 'bar' } })).toEqual({ retainKeysMap: { other: 'bar' } })
  })

  it('$retainKeys must list every field the patch sets', () => {
    const e = failure({ retainKeysMap: { name: 'a' } }, { retainKeysMap: { $retainKeys: ['name'], other: 'x' } })
    expect(e.code).toBe(400)
    expect(e.details.causes?.[0]?.field).toBe('retainKeysMap.$retainKeys')
  })
})

describe('strategic merge patch: lists merged by key', () => {
  it('preserves the order of the patch, a stored-only item staying before the patch item stored after it (apimachinery)', () => {
    const original = { mergingList: [{ name: 1 }, { name: 2, value: 'b' }, { name: 3 }] }
    expect(merge(original, { mergingList: [{ name: 3, value: 'c' }, { name: 1, value: 'a' }] })).toEqual({
      mergingList: [{ name: 2, value: 'b' }, { name: 3, value: 'c' }, { name: 1, value: 'a' }],
    })
    expect(merge({ mergingIntList: [1, 2, 3] }, { mergingIntList: [3, 1, 2] })).toEqual({ mergingIntList: [3, 1, 2] })
  })

  it('merges items with the same key, adds new ones, keeps the others', () => {
    const original = { mergingList: [{ name: 1, value: 'a' }, { name: 2, value: 'b', other: 'x' }] }
    const patch = { mergingList: [{ name: 2, value: 'c', other: null }, { name: 3, value: 'd' }] }
    expect(merge(original, patch)).toEqual({ mergingList: [{ name: 1, value: 'a' }, { name: 2, value: 'c' }, { name: 3, value: 'd' }] })
  })

  it('$patch: delete removes every item with the key; $patch: replace makes the list the patch', () => {
    const original = { mergingList: [{ name: 1 }, { name: 2, value: 'dup1' }, { name: 3 }, { name: 2, value: 'dup2' }] }
    expect(merge(original, { mergingList: [{ name: 2, $patch: 'delete' }] })).toEqual({ mergingList: [{ name: 1 }, { name: 3 }] })
    expect(merge(original, { mergingList: [{ name: 9 }, { $patch: 'replace' }] })).toEqual({ mergingList: [{ name: 9 }] })
  })

  it('an item without the merge key, or $patch: merge or an unknown directive in a list, is a 400 naming the list', () => {
    const original = { mergingList: [{ name: 1, value: 'a' }] }
    const missing = failure(original, { mergingList: [{ value: 'b' }] })
    expect([missing.code, missing.details.causes?.[0]?.field]).toEqual([400, 'mergingList[].name'])
    expect(missing.message).toContain('merge key "name"')
    expect(failure(original, { mergingList: [{ name: 1, $patch: 'merge' }] }).code).toBe(400)
    expect(failure(original, { mergingList: [{ name: 1, $patch: 'explode' }] }).code).toBe(400)
    expect(failure({ simpleMap: { a: '1' } }, { simpleMap: { $patch: 'explode' } }).details.causes?.[0]?.field).toBe('simpleMap.$patch')
  })

  it('$setElementOrder orders the list, server-only items staying after the item stored before them', () => {
    // apimachinery: "set elements order in a list with server-only items 2"
    const current = { mergingList: [{ name: 1, other: 'a' }, { name: 2, value: 2 }, { name: 9 }, { name: 3, value: 3 }, { name: 4, value: 4 }] }
    const patch = { '$setElementOrder/mergingList': [{ name: 2 }, { name: 1 }, { name: 4 }, { name: 3 }] }
    expect(merge(current, patch)).toEqual({
      mergingList: [{ name: 2, value: 2 }, { name: 1, other: 'a' }, { name: 9 }, { name: 4, value: 4 }, { name: 3, value: 3 }],
    })
  })

  it('$setElementOrder with a patch list: added, changed and reordered items', () => {
    const current = { mergingList: [{ name: 1 }, { name: 3, value: 3 }, { name: 4, value: 4 }, { name: 2, value: 2 }, { name: 9 }] }
    const patch = { '$setElementOrder/mergingList': [{ name: 4 }, { name: 5 }, { name: 3 }, { name: 1 }], mergingList: [{ name: 5, value: 5 }, { name: 3, value: 33 }, { name: 2, $patch: 'delete' }] }
    expect(merge(current, patch)).toEqual({ mergingList: [{ name: 4, value: 4 }, { name: 5, value: 5 }, { name: 3, value: 33 }, { name: 1 }, { name: 9 }] })
  })

  it('$setElementOrder with duplicates keeps both in place of the first (apimachinery: "merging list with duplicate")', () => {
    const current = { mergingList: [{ name: 1 }, { name: 2, value: 'dup1' }, { name: 3 }, { name: 2, value: 'dup2' }, { name: 4 }] }
    const patch = { '$setElementOrder/mergingList': [{ name: 2 }, { name: 1 }, { name: 4 }, { name: 3 }, { name: 2 }] }
    expect(merge(current, patch)).toEqual({ mergingList: [{ name: 2, value: 'dup1' }, { name: 2, value: 'dup2' }, { name: 1 }, { name: 4 }, { name: 3 }] })
  })

  it('a patch list out of the $setElementOrder order is a 400', () => {
    const current = { mergingList: [{ name: 1 }, { name: 3 }, { name: 2 }] }
    const patch = { '$setElementOrder/mergingList': [{ name: 1 }, { name: 2 }, { name: 3 }], mergingList: [{ name: 3, value: 3 }, { name: 1, value: 1 }] }
    const e = failure(current, patch)
    expect([e.code, e.details.causes?.[0]?.field]).toEqual([400, 'mergingList'])
  })

  it('a list of lists is a 422; items of mixed types, a 400', () => {
    expect(failure({ mergingIntList: [1] }, { mergingIntList: [[2]] }).code).toBe(422)
    expect(failure({ mergingIntList: [1] }, { mergingIntList: ['2'] }).code).toBe(400)
  })
})

describe('strategic merge patch: lists of primitives', () => {
  it('a merging list is a set union in patch order, stored-only items kept in place', () => {
    // apimachinery: "add an item in a list of primitives and preserve order"
    expect(merge({ mergingIntList: [1, 4, 2] }, { '$setElementOrder/mergingIntList': [3, 1, 2], mergingIntList: [3] })).toEqual({ mergingIntList: [3, 1, 4, 2] })
    expect(merge({ mergingIntList: [1, 2] }, { mergingIntList: [2, 3] })).toEqual({ mergingIntList: [1, 2, 3] })
  })

  it('$deleteFromPrimitiveList removes values, from merging and non-merging lists alike, and adds nothing', () => {
    expect(merge({ mergingIntList: [1, 2, 3] }, { '$setElementOrder/mergingIntList': [2, 1], '$deleteFromPrimitiveList/mergingIntList': [3] })).toEqual({ mergingIntList: [2, 1] })
    expect(merge({ nonMergingIntList: [1, 2, 3] }, { '$deleteFromPrimitiveList/nonMergingIntList': [2] })).toEqual({ nonMergingIntList: [1, 3] })
    expect(merge({ mergingIntList: [1, 2] }, { '$deleteFromPrimitiveList/mergingIntList': [3] })).toEqual({ mergingIntList: [1, 2] })
    expect(merge({ other: 'x' }, { '$deleteFromPrimitiveList/mergingIntList': [3] })).toEqual({ other: 'x' })
  })

  it('$deleteFromPrimitiveList naming a list of objects does what apimachinery does: merges by the merge key, or is a 400 without one', () => {
    // strategicpatch's mergeSliceHandler sends a deletion list to mergeSlice, which deletes only
    // scalars; items that are maps go the merge-list way, and with no merge key that is an error.
    const original = { mergingList: [{ name: 1, value: 'a' }, { name: 2 }] }
    expect(merge(original, { '$deleteFromPrimitiveList/mergingList': [{ name: 1, value: 'b' }, { name: 3 }] })).toEqual({
      mergingList: [{ name: 1, value: 'b' }, { name: 3 }, { name: 2 }],
    })
    const e = failure({ nonMergingList: [{ name: 1 }] }, { '$deleteFromPrimitiveList/nonMergingList': [{ name: 1 }] })
    expect([e.code, e.details.causes?.[0]?.field]).toEqual([400, 'nonMergingList'])
    expect(e.message).toContain('no merge key')
  })

  it('a directive key without a list name is a 400', () => {
    expect(failure({}, { $deleteFromPrimitiveList: [1] }).code).toBe(400)
    expect(failure({}, { '$setElementOrder/mergingList': 'x' }).code).toBe(400)
  })
})

describe('strategic merge patch: large lists', () => {
  const N = 20_000
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)
  /** The fastest of three runs, in milliseconds. */
  const fastest = (run: () => unknown) =>
    Math.min(
      ...[0, 1, 2].map(() => {
        const start = performance.now()
        run()
        return performance.now() - start
      }),
    )

  it('takes time linear in the patch and the object: 20,000 items merge about as fast as the same patch with its lists as maps', () => {
    const stored = range(0, N).map((i) => ({ name: `c${i}`, value: i }))
    const changed = range(0, N).filter((i) => i % 2 === 0).reverse().map((i) => ({ name: `c${i}`, value: -i }))
    const added = range(N, N + N / 2).map((i) => ({ name: `c${i}`, value: i }))
    const deleted = range(0, N).filter((i) => i % 4 === 1).map((i) => ({ name: `c${i}`, $patch: 'delete' }))
    const items = [...changed, ...added]
    const original = { mergingList: stored, mergingIntList: range(0, N) }
    const patch = {
      '$setElementOrder/mergingList': items.map(({ name }) => ({ name })),
      mergingList: [...items, ...deleted],
      mergingIntList: range(N, 2 * N).reverse(),
      '$deleteFromPrimitiveList/mergingIntList': range(0, N).filter((i) => i % 2 === 0),
    }
    const byName = (list: { name: string }[]) => Object.fromEntries(list.map((item) => [item.name, item]))
    const asMaps = {
      original: { simpleMap: byName(stored), other: Object.fromEntries(range(0, N).map((i) => [`k${i}`, i])) },
      patch: { simpleMap: { ...byName(items), ...Object.fromEntries(deleted.map(({ name }) => [name, null])) }, other: Object.fromEntries(range(N, 2 * N).map((i) => [`k${i}`, i])) },
    }

    const merged = merge(original, patch) as { mergingList: { name: string; value: number }[]; mergingIntList: number[] }
    const named = new Map(merged.mergingList.map((item) => [item.name, item]))
    expect([named.get('c2'), named.get('c1'), named.get('c3'), named.get(`c${N}`)]).toEqual([{ name: 'c2', value: -2 }, undefined, { name: 'c3', value: 3 }, { name: `c${N}`, value: N }])
    expect(merged.mergingList).toHaveLength(N - N / 4 + N / 2)
    expect(merged.mergingIntList).toHaveLength(N + N / 2)

    const baseline = fastest(() => merge(asMaps.original, asMaps.patch))
    const lists = fastest(() => merge(original, patch))
    expect(lists, `lists ${lists.toFixed(1)} ms, maps ${baseline.toFixed(1)} ms`).toBeLessThan(25 * baseline)
  }, 120_000)
})

describe('strategic merge patch with the registry schemas (Kubernetes core/v1 patch strategies)', () => {
  const pod = {
    metadata: { name: 'p', finalizers: ['a/x'], ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 's', uid: 'u1' }] },
    spec: {
      containers: [
        { name: 'app', image: 'app:1', ports: [{ containerPort: 80, name: 'http' }, { containerPort: 443 }] },
        { name: 'sidecar', image: 'side:1' },
      ],
    },
    status: { podIPs: [{ ip: '10.0.0.1' }], conditions: [{ type: 'Ready', status: 'False' }, { type: 'Initialized', status: 'True' }] },
  }

  it('containers merge by name, their ports by containerPort; patch items come first, in the patch order', () => {
    const patched = merge(pod, { spec: { containers: [{ name: 'app', image: 'app:2', ports: [{ containerPort: 80, name: 'web' }] }, { name: 'extra', image: 'x' }] } }, Pod) as typeof pod
    expect(patched.spec.containers).toEqual([
      { name: 'app', image: 'app:2', ports: [{ containerPort: 80, name: 'web' }, { containerPort: 443 }] },
      { name: 'extra', image: 'x' },
      { name: 'sidecar', image: 'side:1' },
    ])
  })

  it('conditions merge by type, podIPs by ip, ownerReferences by uid, finalizers as a set', () => {
    const patched = merge(
      pod,
      {
        metadata: { finalizers: ['b/y'], ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 't', uid: 'u2' }] },
        status: { conditions: [{ type: 'Ready', status: 'True' }], podIPs: [{ ip: 'fd00::1' }] },
      },
      Pod,
    ) as any
    expect(patched.metadata.finalizers).toEqual(['b/y', 'a/x'])
    expect(patched.metadata.ownerReferences.map((r: { uid: string }) => r.uid)).toEqual(['u2', 'u1'])
    expect(patched.status.conditions).toEqual([{ type: 'Ready', status: 'True' }, { type: 'Initialized', status: 'True' }])
    expect(patched.status.podIPs).toEqual([{ ip: 'fd00::1' }, { ip: '10.0.0.1' }])
  })

  it('a Service port merges by port alone: a port number with two protocols is one item to the patch (Kubernetes #39188)', () => {
    const svc = { spec: { ports: [{ name: 'dns-tcp', port: 53, protocol: 'TCP' }, { name: 'dns-udp', port: 53, protocol: 'UDP' }] } }
    const patched = merge(svc, { spec: { ports: [{ port: 53, protocol: 'UDP', name: 'dns' }] } }, Service) as any
    expect(patched.spec.ports).toEqual([{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-udp', port: 53, protocol: 'UDP' }])
    expect((merge(svc, { spec: { ports: [{ port: 53, $patch: 'delete' }] } }, Service) as any).spec.ports).toEqual([])
  })

  it('lists with no strategy in Kubernetes replace (clusterIPs, externalIPs, Namespace spec.finalizers)', () => {
    const svc = { spec: { clusterIPs: ['10.0.0.1'], externalIPs: ['1.2.3.4'], selector: { app: 'a' } } }
    expect(merge(svc, { spec: { externalIPs: ['5.6.7.8'], selector: { tier: 'b' } } }, Service)).toEqual({ spec: { clusterIPs: ['10.0.0.1'], externalIPs: ['5.6.7.8'], selector: { app: 'a', tier: 'b' } } })
  })
})

describe('strategic merge patch: any patch', () => {
  const key = fc.constantFrom('port', 'name', 'containerPort', 'type', 'ip', 'uid', 'spec', 'ports', 'containers', 'metadata', 'status', 'conditions', 'finalizers', 'x')
  const directive = fc.constantFrom('$patch', '$retainKeys', '$setElementOrder/ports', '$setElementOrder/containers', '$deleteFromPrimitiveList/finalizers', '$setElementOrder', '$deleteFromPrimitiveList/')
  const value = fc.letrec<{ v: unknown }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      fc.constantFrom(null, 0, 80, 'delete', 'replace', 'merge', 'a', true),
      fc.array(tie('v'), { maxLength: 4 }),
      fc.dictionary(fc.oneof(key, directive), tie('v'), { maxKeys: 5 }),
    ),
  })).v

  it('either applies or throws a 400/422 Status, on services and pods alike (never anything else)', () => {
    const stored = {
      metadata: { name: 'p', finalizers: ['a'], ownerReferences: [{ uid: 'u', name: 'o', kind: 'K', apiVersion: 'v1' }] },
      spec: { ports: [{ port: 80, name: 'a' }], containers: [{ name: 'c', ports: [{ containerPort: 80 }] }] },
      status: { conditions: [{ type: 'Ready', status: 'True' }], podIPs: [{ ip: '10.0.0.1' }] },
    }
    fc.assert(
      fc.property(value, fc.constantFrom(Service, Pod), (patch, schema) => {
        try {
          merge(stored, patch, schema)
        } catch (e) {
          expect(e).toBeInstanceOf(RegistryError)
          expect([400, 422]).toContain((e as RegistryError).code)
        }
      }),
      { numRuns: 3000 },
    )
  })
})

describe('applyPatch', () => {
  it('a server-side apply that reaches it (a kind that does not serve apply) is a 415 Status, never a plain error', () => {
    let error: unknown
    try {
      applyPatch('apply', {}, {}, Pod)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(RegistryError)
    expect(error).toMatchObject({ reason: 'UnsupportedMediaType', message: 'server-side apply is not served for this resource' })
  })
})
