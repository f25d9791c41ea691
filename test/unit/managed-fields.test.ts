/**
 * Field sets and server-side apply (worker/registry/field-set.ts, managed-fields.ts) on
 * Service- and Pod-shaped objects: the FieldsV1 Kubernetes writes, apply's removal of
 * fields a manager stops setting, conflicts between managers, force, and updates taking
 * ownership.
 */
import { describe, expect, it } from 'vitest'
import { RegistryError } from '../../worker/registry/errors'
import { fieldsOf, fromFieldsV1, pathString, toFieldsV1, type ListTypes } from '../../worker/registry/field-set'
import { applyConfiguration, recordUpdate, type Ownership } from '../../worker/registry/managed-fields'

const LISTS: ListTypes = (path) => {
  switch (path) {
    case 'spec.ports':
      return { type: 'map', keys: ['port', 'protocol'], defaults: { protocol: 'TCP' } }
    case 'spec.containers':
      return { type: 'map', keys: ['name'] }
    case 'spec.containers.ports':
      return { type: 'map', keys: ['containerPort', 'protocol'], defaults: { protocol: 'TCP' } }
    case 'metadata.finalizers':
      return { type: 'set' }
    default:
      return { type: 'atomic' }
  }
}

const as = (manager: string): Ownership => ({ manager, apiVersion: 'v1', subresource: '', now: '2026-12-02T10:00:00Z', lists: LISTS })

const service = (ports: object[], extra: object = {}) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', labels: { app: 'web' } },
  spec: { selector: { app: 'web' }, ports, ...extra },
})

describe('field sets', () => {
  it('encode as Kubernetes writes FieldsV1: fields, keyed items with their key fields in name order, and `.` for items', () => {
    const set = fieldsOf(service([{ port: 80, targetPort: 8080 }]), LISTS)
    expect(toFieldsV1(set)).toEqual({
      'f:apiVersion': {},
      'f:kind': {},
      'f:metadata': { 'f:name': {}, 'f:labels': { 'f:app': {} } },
      'f:spec': {
        'f:selector': { 'f:app': {} },
        'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {}, 'f:targetPort': {} } },
      },
    })
    expect(fromFieldsV1(toFieldsV1(set))).toEqual(set)
  })

  it('write sets of scalars with v: and print paths as kubectl does', () => {
    const set = fieldsOf({ metadata: { finalizers: ['a/b', 'c'] }, spec: { ports: [{ port: 53, protocol: 'UDP', name: 'dns' }] } }, LISTS)
    expect(toFieldsV1(set)['f:metadata']).toEqual({ 'f:finalizers': { 'v:"a/b"': {}, 'v:"c"': {} } })
    expect([...set].map(pathString).sort()).toEqual([
      '.metadata.finalizers[="a/b"]',
      '.metadata.finalizers[="c"]',
      '.spec.ports[port=53,protocol="UDP"]',
      '.spec.ports[port=53,protocol="UDP"].name',
      '.spec.ports[port=53,protocol="UDP"].port',
      '.spec.ports[port=53,protocol="UDP"].protocol',
    ])
  })

  it('refuse a FieldsV1 tree that is not one', () => {
    expect(fromFieldsV1({ 'x:spec': {} })).toBeNull()
    expect(fromFieldsV1({ 'k:{bad': {} })).toBeNull()
    expect(fromFieldsV1([])).toBeNull()
    expect(fromFieldsV1({ f: {} })).toBeNull()
    expect(fromFieldsV1({ 'fx:spec': {} })).toBeNull()
    expect(fromFieldsV1({ 'f:spec': 1 })).toBeNull()
    expect(fromFieldsV1({ 'f:spec': { 'f:ports': { 'v:nope': {} } } })).toBeNull()
    expect(fromFieldsV1({ 'f:spec': { 'f:ports': [] } })).toBeNull()
  })

  it('read a FieldsV1 tree: empty nodes and nodes with `.` are members, `.` itself is not a key', () => {
    const set = fromFieldsV1({ '.': {}, 'f:spec': { '.': {}, 'f:a': {}, 'f:b': { 'k:{"x":1}': { '.': {}, 'f:y': {} }, 'v:"s"': {} }, 'f:c': { 'f:d': {} } } })
    expect([...set!].map(pathString)).toEqual(['.spec', '.spec.a', '.spec.b[x=1]', '.spec.b[x=1].y', '.spec.b[="s"]', '.spec.c.d'])
  })
})

describe('server-side apply', () => {
  it('creates the object with the manager owning exactly what it applied', () => {
    const created = applyConfiguration(undefined, service([{ port: 80, targetPort: 8080 }]), as('alice'), false)
    const [entry, ...rest] = (created.metadata as any).managedFields
    expect(rest).toEqual([])
    expect(entry).toMatchObject({ manager: 'alice', operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV1', time: '2026-12-02T10:00:00Z' })
    // apiVersion, kind and metadata.name are nobody's.
    expect(Object.keys(entry.fieldsV1)).toEqual(['f:metadata', 'f:spec'])
    expect(entry.fieldsV1['f:metadata']).toEqual({ 'f:labels': { 'f:app': {} } })
  })

  it('removes what the manager stops applying, merges keyed lists and keeps what others set', () => {
    let obj = applyConfiguration(undefined, service([{ port: 80, targetPort: 8080 }, { port: 443 }]), as('alice'), false)
    // Bob (an update) adds a label and a container-ish field alice never applied.
    const edited = structuredClone(obj) as any
    edited.metadata.labels.team = 'blue'
    edited.spec.type = 'ClusterIP'
    obj = recordUpdate(obj, edited, as('bob'))
    // Alice drops port 443 and her label, changes 80's target, adds 8443.
    obj = applyConfiguration(obj, { ...service([{ port: 80, targetPort: 9090 }, { port: 8443 }]), metadata: { name: 'web' } }, as('alice'), false)
    const spec = obj.spec as any
    expect(spec.ports).toEqual([{ port: 80, targetPort: 9090 }, { port: 8443 }])
    expect(spec.type).toBe('ClusterIP')
    expect((obj.metadata as any).labels).toEqual({ team: 'blue' })
    const managers = (obj.metadata as any).managedFields.map((m: any) => `${m.manager}/${m.operation}`)
    expect(managers.sort()).toEqual(['alice/Apply', 'bob/Update'])
  })

  it('refuses to change a field another manager owns with another value, naming each, unless forced', () => {
    const obj = applyConfiguration(undefined, service([{ port: 80, targetPort: 8080 }], { sessionAffinity: 'None' }), as('alice'), false)
    // Same values: shared ownership, no conflict.
    const shared = applyConfiguration(obj, service([{ port: 80, targetPort: 8080 }]), as('bob'), false)
    expect((shared.metadata as any).managedFields).toHaveLength(2)
    let error: unknown
    try {
      applyConfiguration(obj, service([{ port: 80, targetPort: 9090 }], { sessionAffinity: 'ClientIP' }), as('bob'), false)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(RegistryError)
    const e = error as RegistryError
    expect(e.code).toBe(409)
    expect(e.message).toMatch(/^Apply failed with 2 conflicts: conflict with "alice" using v1: /)
    expect(e.details.causes!.map((c) => c.field).sort()).toEqual(['.spec.ports[port=80,protocol="TCP"].targetPort', '.spec.sessionAffinity'])
    expect(e.details.causes!.every((c) => c.reason === 'FieldManagerConflict')).toBe(true)

    const forced = applyConfiguration(obj, service([{ port: 80, targetPort: 9090 }]), as('bob'), true)
    expect((forced.spec as any).ports[0].targetPort).toBe(9090)
    const alice = (forced.metadata as any).managedFields.find((m: any) => m.manager === 'alice')
    expect(alice.fieldsV1['f:spec']['f:ports']['k:{"port":80,"protocol":"TCP"}']).not.toHaveProperty('f:targetPort')
    expect(alice.fieldsV1['f:spec']).toHaveProperty('f:sessionAffinity')
  })

  it('keeps a removed field another manager still owns', () => {
    let obj = applyConfiguration(undefined, service([{ port: 80 }], { sessionAffinity: 'None' }), as('alice'), false)
    obj = applyConfiguration(obj, service([{ port: 80 }], { sessionAffinity: 'None' }), as('bob'), false)
    obj = applyConfiguration(obj, service([{ port: 80 }]), as('alice'), false)
    expect((obj.spec as any).sessionAffinity).toBe('None')
    obj = applyConfiguration(obj, service([{ port: 80 }]), as('bob'), false)
    expect(obj.spec).not.toHaveProperty('sessionAffinity')
  })
})

describe('updates', () => {
  it('give the updater what it changed and take it from others; removed fields are nobody\u2019s', () => {
    let obj = applyConfiguration(undefined, service([{ port: 80, targetPort: 8080 }]), as('alice'), false)
    const next = structuredClone(obj) as any
    next.spec.ports[0].targetPort = 7070
    delete next.metadata.labels
    obj = recordUpdate(obj, next, as('kubectl-edit'))
    const [alice, edit] = (obj.metadata as any).managedFields
    expect(edit).toMatchObject({ manager: 'kubectl-edit', operation: 'Update' })
    expect(edit.fieldsV1).toEqual({ 'f:spec': { 'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { 'f:targetPort': {} } } } })
    expect(alice.fieldsV1['f:spec']['f:ports']['k:{"port":80,"protocol":"TCP"}']).not.toHaveProperty('f:targetPort')
    expect(alice.fieldsV1).not.toHaveProperty('f:metadata')
  })

  it('record nothing for a manager that changed nothing', () => {
    const obj = applyConfiguration(undefined, service([{ port: 80 }]), as('alice'), false)
    const same = recordUpdate(obj, structuredClone(obj), as('bob'))
    expect((same.metadata as any).managedFields.map((m: any) => m.manager)).toEqual(['alice'])
  })

  it('keep the stored entries of an update that carries them along unchanged, without encoding them again', () => {
    // A patch or a status update starts from the stored object, managedFields included: that is not a request to reset them.
    const obj = applyConfiguration(undefined, service([{ port: 80 }]), as('alice'), false)
    const next = structuredClone(obj) as any
    next.spec.ports[0].targetPort = 8080
    const updated = recordUpdate(obj, next, as('bob'))
    const [alice, bob] = (updated.metadata as any).managedFields
    // alice's set lost nothing, so her stored tree is written as it was (the same object, not a new encoding of her set).
    expect(alice.fieldsV1).toBe((obj.metadata as any).managedFields[0].fieldsV1)
    expect(bob.fieldsV1).toEqual({ 'f:spec': { 'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { 'f:targetPort': {} } } } })
    // Entries a request sends that differ from the stored ones replace them, and are written anew.
    const sent = structuredClone(obj) as any
    sent.metadata.managedFields[0].manager = 'carol'
    const reset = recordUpdate(obj, sent, as('bob'))
    expect((reset.metadata as any).managedFields.map((m: any) => m.manager)).toEqual(['carol'])
    expect((reset.metadata as any).managedFields[0].fieldsV1).not.toBe(sent.metadata.managedFields[0].fieldsV1)
  })

  it('leave status to the status subresource', () => {
    const pod = { metadata: { name: 'p' }, spec: { containers: [{ name: 'c' }] }, status: { phase: 'Running' } }
    const created = recordUpdate(undefined, pod, as('agent'))
    expect((created.metadata as any).managedFields[0].fieldsV1).not.toHaveProperty('f:status')
    const status = recordUpdate(created, { ...created, status: { phase: 'Succeeded' } }, { ...as('agent'), subresource: 'status' })
    const entries = (status.metadata as any).managedFields
    expect(entries.find((m: any) => m.subresource === 'status').fieldsV1).toEqual({ 'f:status': { 'f:phase': {} } })
  })
})
