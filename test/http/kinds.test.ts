/**
 * The table of kinds drives routes, discovery, access control and field selectors: each
 * of those, as served, must say what the table says.
 */
import { describe, expect, it } from 'vitest'
import { requirement } from '../../worker/api/auth'
import { apiVersionOf, groupPath, type KindInfo } from '../../worker/registry/kind-info'
import { KINDS } from '../../worker/registry/kinds'
import { testApp, type TestApp } from '../support/app'

const METHOD: Record<string, string> = { create: 'POST', delete: 'DELETE', get: 'GET', list: 'GET', patch: 'PATCH', update: 'PUT' }

function paths(kind: KindInfo) {
  const base = groupPath(kind)
  const collection = kind.namespaced ? `${base}/namespaces/default/${kind.resource}` : `${base}/${kind.resource}`
  return { base, collection, item: `${collection}/some-name`, status: `${collection}/some-name/status` }
}

/** The methods a path answers, as its 405 to a method nobody serves says (`Allow`). */
async function allowed(t: TestApp, path: string): Promise<string[]> {
  const res = await t.req('OPTIONS', path)
  expect(res.status, path).toBe(405)
  return (res.headers.get('allow') ?? '').split(', ').filter(Boolean).sort()
}

const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort()

describe('the table of kinds', () => {
  it('routes every verb of every kind, and no other', async () => {
    const t = await testApp()
    for (const kind of KINDS) {
      const p = paths(kind)
      const has = (...v: string[]) => v.filter((x) => kind.verbs.includes(x as never)).map((x) => METHOD[x]!)
      expect(await allowed(t, p.collection), `${kind.kind} collection`).toEqual(sorted(has('list', 'create')))
      expect(await allowed(t, p.item), `${kind.kind} item`).toEqual(sorted(has('get', 'update', 'patch', 'delete')))
      if (kind.subresources.includes('status')) expect(await allowed(t, p.status)).toEqual(['GET', 'PATCH', 'PUT'])
      else expect((await t.req('GET', p.status)).status, `${kind.kind} has no status`).toBe(404)
      if (kind.namespaced) expect(await allowed(t, `${p.base}/${kind.resource}`)).toEqual(['GET'])
      if (kind.verbs.includes('list')) expect((await t.req('GET', p.collection)).status, `${kind.kind} list`).toBe(200)
    }
  })

  it('discovery lists exactly the kinds of the table, with their verbs and names', async () => {
    const t = await testApp()
    const served = new Map<string, any>()
    const groupVersions = sorted(KINDS.map(apiVersionOf))
    const apis = (await t.json('GET', '/apis')).body
    expect(sorted(apis.groups.map((g: any) => g.preferredVersion.groupVersion))).toEqual(groupVersions.filter((gv) => gv.includes('/')))
    expect((await t.json('GET', '/api')).body.versions).toEqual(groupVersions.filter((gv) => !gv.includes('/')))
    for (const gv of groupVersions) {
      const doc = (await t.json('GET', gv.includes('/') ? `/apis/${gv}` : `/api/${gv}`)).body
      expect(doc).toMatchObject({ kind: 'APIResourceList', groupVersion: gv })
      for (const r of doc.resources) served.set(`${gv} ${r.name}`, r)
    }
    const expected = KINDS.flatMap((k) => [`${apiVersionOf(k)} ${k.resource}`, ...k.subresources.map((s) => `${apiVersionOf(k)} ${k.resource}/${s}`)])
    expect(sorted(served.keys())).toEqual(sorted(expected))
    for (const kind of KINDS) {
      const r = served.get(`${apiVersionOf(kind)} ${kind.resource}`)
      expect(r).toEqual({
        name: kind.resource,
        singularName: kind.singular,
        namespaced: kind.namespaced,
        kind: kind.kind,
        verbs: sorted(kind.verbs),
        ...(kind.shortNames.length ? { shortNames: kind.shortNames } : {}),
        ...(kind.categories.length ? { categories: kind.categories } : {}),
      })
    }
  })

  it('lists accept exactly the field selectors of the table, and the store has a column for each', async () => {
    const t = await testApp()
    for (const kind of KINDS.filter((k) => k.verbs.includes('list'))) {
      const { collection } = paths(kind)
      for (const field of kind.fieldSelectors) {
        const res = await t.json('GET', `${collection}?fieldSelector=${encodeURIComponent(`${field}!=x`)}`)
        expect(res.status, `${kind.kind} ${field}`).toBe(200)
      }
      const unknown = await t.json('GET', `${collection}?fieldSelector=spec.unknownField%3Dx`)
      expect(unknown.status, kind.kind).toBe(400)
      expect(unknown.body.message).toContain('field label not supported: spec.unknownField')
      if (kind.storage) expect(sorted(Object.keys(kind.storage.fieldColumns))).toEqual(sorted(kind.fieldSelectors))
    }
  })

  it('generic kinds have a strategy for each verb they serve', () => {
    for (const kind of KINDS.filter((k) => k.strategy)) {
      expect(kind.schema && kind.storage, kind.kind).toBeTruthy()
      expect(!!kind.strategy!.update, `${kind.kind} update`).toBe(kind.verbs.includes('update') || kind.verbs.includes('patch'))
      expect(!!kind.strategy!.updateStatus, `${kind.kind} status`).toBe(kind.subresources.includes('status'))
    }
  })

  it('access control asks for the role the table gives each kind', () => {
    for (const kind of KINDS) {
      const p = paths(kind)
      const write = requirement(kind.verbs.includes('create') ? 'POST' : 'DELETE', kind.verbs.includes('create') ? p.collection : p.item)
      expect(write, kind.kind).toMatchObject({ kind: 'role', role: kind.access.write })
      const read = requirement('GET', p.item)
      expect(read, kind.kind).toMatchObject({ kind: 'role', role: kind.access.everywhere === 'all' ? kind.access.write : 'read' })
      if (kind.access.everywhere) expect(write).toMatchObject({ everywhere: true })
    }
  })
})
