/**
 * recordUpdate (worker/registry/managed-fields.ts) reads a stored managedFields entry into
 * a set only when the write touches one of its members, and otherwise writes its tree as
 * stored. These tests pin that this changes no answer: on generated histories of updates
 * by several managers (through the main resource and the status subresource, with applies
 * between them, and requests that send managedFields of their own), each update gives, to
 * the order of keys and entries, what the definition gives: every stored entry read into
 * a set, the writer's first entry gaining what the write changed, other managers' entries
 * losing it, every entry losing what the write removed. And inFieldsV1 answers what the set
 * fromFieldsV1 reads holds.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { changedFields, fromFieldsV1, inFieldsV1, subtract, toFieldsV1, union, type FieldSet, type ListTypes } from '../../worker/registry/field-set'
import { applyConfiguration, recordUpdate, type Ownership } from '../../worker/registry/managed-fields'
import { sameJson } from '../../worker/json'

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

/** Metadata the server sets, which no manager owns, and the half of the object each subresource's managers own. */
const SERVER_METADATA = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink'])
const unowned = (subresource: string) => (path: readonly string[]) => {
  const [top, second] = path
  if (path.length === 1 && (top === 'f:apiVersion' || top === 'f:kind')) return true
  if (top === 'f:metadata') return path.length === 2 && SERVER_METADATA.has(second!.slice(2))
  return subresource === 'status' ? top !== 'f:status' : top === 'f:status'
}

/** The definition: every entry read into a set (one that does not read is dropped), then updated as the write says. */
function byDefinition(old: Obj | undefined, next: Obj, o: Ownership): Obj {
  const sent = next.metadata?.managedFields
  const reset = sent !== undefined && sent !== null && !sameJson(sent, old?.metadata?.managedFields)
  const raw = (reset ? next : old)?.metadata?.managedFields
  const entries: { entry: Obj; set: FieldSet; tree?: unknown }[] = []
  for (const e of Array.isArray(raw) ? raw : []) {
    if (typeof e !== 'object' || e === null || Array.isArray(e) || typeof e.manager !== 'string' || (e.operation !== 'Apply' && e.operation !== 'Update')) continue
    const set = fromFieldsV1(e.fieldsV1 ?? {})
    if (!set) continue
    const { fieldsV1: tree, ...entry } = e
    entries.push({ entry, set, ...(reset ? {} : { tree }) })
  }
  const { changed, removed } = changedFields(old, next, o.lists, unowned(o.subresource))
  const mine = (m: { entry: Obj }) => m.entry.manager === o.manager && m.entry.operation === 'Update' && (m.entry.subresource ?? '') === o.subresource
  const writer = entries.findIndex(mine)
  const time = { manager: o.manager, operation: 'Update', apiVersion: o.apiVersion, time: o.now, fieldsType: 'FieldsV1', ...(o.subresource ? { subresource: o.subresource } : {}) }
  const updated = entries.map((m, i) => {
    const set = subtract(i === writer ? m.set : mine(m) ? m.set : subtract(m.set, changed), removed)
    const grown = i === writer ? union(set, changed) : set
    return { entry: i === writer && changed.size ? time : m.entry, set: grown, tree: grown.size === m.set.size && [...grown].every((p) => m.set.has(p)) ? m.tree : undefined }
  })
  if (writer < 0 && changed.size) updated.push({ entry: time, set: changed, tree: undefined })
  const managedFields = updated.filter((m) => m.set.size > 0).map((m) => ({ ...m.entry, fieldsV1: m.tree ?? toFieldsV1(m.set) }))
  const metadata = { ...(next.metadata ?? {}) }
  if (managedFields.length) metadata.managedFields = managedFields
  else delete metadata.managedFields
  return { ...next, metadata }
}

/** A step of a history: an update, an apply (forced, so that it never conflicts), or an update that sends managedFields of its own. */
const step = fc.record({
  kind: fc.constantFrom('update', 'update', 'update', 'apply', 'send'),
  manager: fc.constantFrom('alice', 'bob', 'carol'),
  status: fc.boolean(),
  contents,
  // For 'send': which stored entries go back (by index, repeats making duplicates), and a new manager for the first.
  sent: fc.array(fc.nat(4), { maxLength: 4 }),
  rename: fc.option(fc.constantFrom('alice', 'bob', 'dave'), { nil: undefined }),
})

describe('recordUpdate', () => {
  it('gives what reading every stored entry gives, over histories of updates, applies and sent managedFields', () => {
    fc.assert(
      fc.property(contents, fc.array(step, { minLength: 1, maxLength: 10 }), (first, steps) => {
        let stored: Obj = recordUpdate(undefined, objectOf(first, undefined), as('creator', false, 0))
        steps.forEach((u, i) => {
          const o = as(u.manager, u.status, i + 1)
          // A status write keeps the stored main resource, and a write of the main resource the stored status.
          const c: Obj = u.status ? { ...u.contents, labels: stored.metadata.labels, finalizers: stored.metadata.finalizers, spec: stored.spec } : { ...u.contents, status: stored.status }
          if (u.kind === 'apply') {
            stored = applyConfiguration(stored, objectOf(u.status ? { status: c.status } : { ...c, status: undefined }, undefined), { ...o, subresource: u.status ? 'status' : '' }, true)
            return
          }
          const entries: Obj[] = structuredClone(stored.metadata.managedFields ?? [])
          let carried: unknown = entries
          if (u.kind === 'send') {
            const picked = u.sent.map((k) => entries[k % Math.max(1, entries.length)]).filter((e): e is Obj => e !== undefined)
            if (picked[0] && u.rename) picked[0] = { ...picked[0], manager: u.rename }
            carried = structuredClone(picked)
          }
          const next = objectOf(c, carried)
          const got = recordUpdate(stored, structuredClone(next), o)
          expect(JSON.stringify(got)).toBe(JSON.stringify(byDefinition(stored, structuredClone(next), o)))
          stored = got
        })
      }),
      { numRuns: 1500 },
    )
  })

  it('writes an entry the update leaves as it was as the very tree it read', () => {
    const created: Obj = recordUpdate(undefined, objectOf({ labels: { a: 'x' }, spec: { mode: 1 } }, undefined), as('alice', false, 0))
    const next = objectOf({ labels: { a: 'x' }, spec: { mode: 1 }, status: { phase: 'x' } }, created.metadata.managedFields)
    const updated: Obj = recordUpdate(created, next, as('agent', true, 1))
    expect(updated.metadata.managedFields[0].fieldsV1).toBe(created.metadata.managedFields[0].fieldsV1)
    expect(updated.metadata.managedFields[1]).toMatchObject({ manager: 'agent', subresource: 'status', fieldsV1: { 'f:status': { 'f:phase': {} } } })
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
    const tree = JSON.parse('{"f:__proto__":{"f:a":{}}}')
    expect(fromFieldsV1(tree)).toEqual(new Set(['f:__proto__\u0000f:a']))
    expect(inFieldsV1(tree, 'f:__proto__\u0000f:a')).toBe(true)
    expect(inFieldsV1(tree, 'f:__proto__')).toBe(false)
  })
})
