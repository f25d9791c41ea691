/**
 * recordUpdate (worker/registry/managed-fields.ts) reads a stored managedFields entry into
 * a set only when the write touches one of its members, and otherwise writes its tree as
 * stored. These tests pin that this changes no answer: on generated histories of updates
 * by several managers, through the main resource and the status subresource, each update
 * gives what reading every entry gives. The entries are read in full when a request sends
 * managedFields that differ from the stored ones (a reset), so the same update with the
 * stored object's entries taken off and the next object carrying them is the reading of
 * every entry. And inFieldsV1 answers what the set fromFieldsV1 reads holds.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fromFieldsV1, inFieldsV1, toFieldsV1, type ListTypes } from '../../worker/registry/field-set'
import { recordUpdate, type Ownership } from '../../worker/registry/managed-fields'

type Obj = Record<string, any>

const LISTS: ListTypes = (path) => {
  if (path === 'spec.ports') return { type: 'map', keys: ['port', 'protocol'], defaults: { protocol: 'TCP' } }
  if (path === 'status.conditions') return { type: 'map', keys: ['type'] }
  if (path === 'metadata.finalizers') return { type: 'set' }
  return { type: 'atomic' }
}

const scalar = fc.constantFrom<unknown>('x', 'y', 1, 2, true)
const map = fc.dictionary(fc.constantFrom('a', 'b', 'c'), scalar, { maxKeys: 3 })
const ports = fc.array(fc.record({ port: fc.constantFrom(80, 443), protocol: fc.constantFrom('TCP', 'UDP', undefined), name: fc.constantFrom('http', 'h2') }, { requiredKeys: ['port'] }), { maxLength: 3 })
const conditions = fc.array(fc.record({ type: fc.constantFrom('Ready', 'Scheduled'), status: fc.constantFrom('True', 'False') }), { maxLength: 2 })

/** One object's fields a write may set: labels, finalizers, spec and status, each possibly absent. */
const contents = fc.record(
  {
    labels: map,
    finalizers: fc.uniqueArray(fc.constantFrom('f1', 'f2', 'f3'), { maxLength: 3 }),
    spec: fc.record({ ports, extra: map, mode: scalar }, { requiredKeys: [] }),
    status: fc.record({ conditions, phase: scalar, detail: map }, { requiredKeys: [] }),
  },
  { requiredKeys: [] },
)

/** An update: who writes, through which half, and what the object holds after it. */
const update = fc.record({ manager: fc.constantFrom('alice', 'bob', 'carol'), status: fc.boolean(), contents })

function objectOf(c: Obj, managedFields: unknown): Obj {
  const { labels, finalizers, spec, status } = c
  const metadata: Obj = { name: 'web', ...(labels ? { labels } : {}), ...(finalizers ? { finalizers } : {}) }
  if (managedFields !== undefined) metadata.managedFields = managedFields
  return { apiVersion: 'v1', kind: 'Thing', metadata, ...(spec ? { spec } : {}), ...(status ? { status } : {}) }
}

const as = (manager: string, status: boolean, at: number): Ownership => ({
  manager,
  apiVersion: 'v1',
  subresource: status ? 'status' : '',
  now: `2026-12-02T10:00:${String(at).padStart(2, '0')}Z`,
  lists: LISTS,
})

describe('recordUpdate', () => {
  it('gives what reading every stored entry gives, over histories of updates by several managers', () => {
    fc.assert(
      fc.property(contents, fc.array(update, { minLength: 1, maxLength: 8 }), (first, updates) => {
        let stored: Obj = recordUpdate(undefined, objectOf(first, undefined), as('creator', false, 0))
        updates.forEach((u, i) => {
          const kept = structuredClone(stored.metadata.managedFields)
          // A status update keeps the stored main resource, and an update of the main resource the stored status.
          const c: Obj = u.status ? { ...u.contents, labels: stored.metadata.labels, finalizers: stored.metadata.finalizers, spec: stored.spec } : { ...u.contents, status: stored.status }
          const next = objectOf(c, kept)
          const o = as(u.manager, u.status, i + 1)
          const lazy = recordUpdate(stored, structuredClone(next), o)
          const { managedFields: _taken, ...bare } = stored.metadata
          const eager = recordUpdate({ ...stored, metadata: bare }, structuredClone(next), o)
          expect(lazy).toEqual(eager)
          stored = lazy
        })
      }),
      { numRuns: 1500 },
    )
  })
})

describe('inFieldsV1', () => {
  it('holds exactly the members of the set a tree encodes, and none of their prefixes that are not members', () => {
    const segment = fc.constantFrom('f:a', 'f:b', 'f:spec', 'k:{"port":80}', 'v:"x"', '.')
    const path = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.filter((k) => k !== '.').join('\u0000')).filter((p) => p.length > 0)
    fc.assert(
      fc.property(fc.array(path, { maxLength: 8 }), fc.array(path, { maxLength: 8 }), (members, probes) => {
        const tree = toFieldsV1(new Set(members))
        const set = fromFieldsV1(tree)!
        for (const p of [...members, ...probes, ...members.map((m) => m.split('\u0000').slice(0, -1).join('\u0000')).filter(Boolean)]) {
          expect(inFieldsV1(tree, p)).toBe(set.has(p))
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('reads keys as own fields only', () => {
    expect(inFieldsV1({ 'f:a': {} }, 'constructor')).toBe(false)
    expect(inFieldsV1({ 'f:a': {} }, 'f:a\u0000toString')).toBe(false)
    expect(inFieldsV1(JSON.parse('{"__proto__":{}}'), '__proto__')).toBe(true)
  })
})
