/**
 * The size limits inside workerd, through the Worker's own entry on D1: a pod at the label
 * limit and a list with a label selector at the requirement limit are served (D1 takes at
 * most 100 parameters per statement and an expression depth of 100, so both must stay
 * within them), one beyond each is the same 422 / 400 Status as on Node, and a malformed
 * percent-encoded path is a 400. User-written Endpoints at every count maximum at once are
 * stored (D1 refuses a string over 2 MB), and a pod's conditions and size are bounded.
 */
import { SELF } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import {
  MAX_ENDPOINTS_ADDRESSES,
  MAX_LABELS,
  MAX_OBJECT_BYTES,
  MAX_POD_CONDITIONS,
  MAX_SELECTOR_REQUIREMENTS,
  MAX_SELECTOR_VALUES,
  MAX_SERVICE_PORTS,
  MAX_SUBSET_ADDRESSES,
} from '../../worker/registry/limits'
import { testDatabase } from './db'

const AUTH = { authorization: 'Bearer workers-test-root-credential-0123456789' }
const PODS = 'http://registry/api/v1/namespaces/default/pods'

async function send(method: string, url: string, body?: unknown) {
  const init: RequestInit = { method, headers: { ...AUTH, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) } }
  if (body !== undefined) init.body = JSON.stringify(body)
  const res = await SELF.fetch(url, init)
  return { status: res.status, body: (await res.json()) as any }
}

const labels = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`l${i}`, 'v']))
const fields = (body: any) => (body.details?.causes ?? []).map((c: any) => c.field)

describe('limits in the Worker', () => {
  beforeEach(async () => {
    await testDatabase()
  })

  it('a pod at the label limit is stored and selectable; one label more is a 422 naming metadata.labels', async () => {
    const at = await send('POST', PODS, { metadata: { name: 'at', labels: labels(MAX_LABELS) }, status: { podIP: '10.0.0.1' } })
    expect(at.status).toBe(201)
    const beyond = await send('POST', PODS, { metadata: { name: 'beyond', labels: labels(MAX_LABELS + 1) } })
    expect(beyond.status).toBe(422)
    expect(fields(beyond.body)).toEqual(['metadata.labels'])

    const selector = Array.from({ length: MAX_SELECTOR_REQUIREMENTS }, (_, i) => `l${i}=v`).join(',')
    const listed = await send('GET', `${PODS}?labelSelector=${encodeURIComponent(selector)}`)
    expect(listed.status).toBe(200)
    expect(listed.body.items.map((p: any) => p.metadata.name)).toEqual(['at'])
    const tooMany = await send('GET', `${PODS}?labelSelector=${encodeURIComponent(`${selector},extra`)}`)
    expect(tooMany.status).toBe(400)
    expect(fields(tooMany.body)).toEqual(['labelSelector'])
  })

  it('the longest label selector at the limits (gt on the longest keys, the most values) is answered', async () => {
    const key = (i: number) => `${'a'.repeat(240)}.example.com/${'k'.repeat(60)}${String(i).padStart(3, '0')}`
    const gt = Array.from({ length: MAX_SELECTOR_REQUIREMENTS }, (_, i) => `${key(i)}>5`).join(',')
    expect((await send('GET', `${PODS}?labelSelector=${encodeURIComponent(gt)}`)).status).toBe(200)
    const values = Array.from({ length: MAX_SELECTOR_VALUES }, (_, i) => `${'v'.repeat(60)}${String(i).padStart(3, '0')}`)
    const sets = Array.from({ length: MAX_SELECTOR_REQUIREMENTS }, (_, i) => `${key(i)} notin (${values.slice(i, i + 1).join(',')})`)
    sets[0] = `${key(0)} in (${values.slice(0, MAX_SELECTOR_VALUES - MAX_SELECTOR_REQUIREMENTS + 1).join(',')})`
    const res = await send('GET', `${PODS}?labelSelector=${encodeURIComponent(sets.join(','))}`)
    expect(res.status, JSON.stringify(res.body)).toBe(200)
  })

  it('user-written Endpoints at the subset limit are stored; one address more is a 422', async () => {
    const ip = (i: number) => `10.1.${i >> 8}.${i & 255}`
    await send('POST', 'http://registry/api/v1/namespaces/default/services', { metadata: { name: 'ext' }, spec: { ports: [{ port: 80 }] } })
    const endpoints = (n: number) => ({ metadata: { name: 'ext' }, subsets: [{ addresses: Array.from({ length: n }, (_, i) => ({ ip: ip(i) })), ports: [{ port: 80 }] }] })
    const beyond = await send('POST', 'http://registry/api/v1/namespaces/default/endpoints', endpoints(MAX_SUBSET_ADDRESSES + 1))
    expect(beyond.status).toBe(422)
    expect(fields(beyond.body)).toEqual(['subsets[0].addresses'])
    const at = await send('POST', 'http://registry/api/v1/namespaces/default/endpoints', endpoints(MAX_SUBSET_ADDRESSES))
    expect(at.status).toBe(201)
  })

  it('user-written Endpoints at the combined maxima (5 subsets × 1000 addresses × 100 named ports) are stored and served', async () => {
    const ip = (i: number) => `10.2.${i >> 8}.${i & 255}`
    await send('POST', 'http://registry/api/v1/namespaces/default/services', { metadata: { name: 'e' }, spec: { ports: [{ port: 80 }] } })
    const subsets = Array.from({ length: MAX_ENDPOINTS_ADDRESSES / MAX_SUBSET_ADDRESSES }, (_, s) => ({
      addresses: Array.from({ length: MAX_SUBSET_ADDRESSES }, (_, i) => ({ ip: ip(s * MAX_SUBSET_ADDRESSES + i) })),
      ports: Array.from({ length: MAX_SERVICE_PORTS }, (_, i) => ({ name: `s${s}p${i}-`.padEnd(63, 'x'), port: i + 1 })),
    }))
    const res = await send('POST', 'http://registry/api/v1/namespaces/default/endpoints', { metadata: { name: 'e' }, subsets })
    expect(res.status, JSON.stringify(res.body).slice(0, 300)).toBe(201)
    const got = await send('GET', 'http://registry/api/v1/namespaces/default/endpoints/e')
    expect(got.body.subsets.map((s: any) => [s.addresses.length, s.ports.length])).toEqual(subsets.map(() => [MAX_SUBSET_ADDRESSES, MAX_SERVICE_PORTS]))
  })

  it('a pod with 25,000 conditions, or a status patch adding 25,000 types, is a 422; a pod stored over the size limit a 413; nothing changes', async () => {
    const conditions = (n: number, from = 0, message = '') => Array.from({ length: n }, (_, i) => ({ type: `c${from + i}`, status: 'True', ...(message ? { message } : {}) }))
    const many = await send('POST', PODS, { metadata: { name: 'p3' }, status: { podIP: '10.0.0.3', conditions: conditions(25_000) } })
    expect(many.status).toBe(422)
    expect(fields(many.body)).toEqual(['status.conditions'])
    const message = 'm'.repeat(Math.ceil(MAX_OBJECT_BYTES / MAX_POD_CONDITIONS))
    expect((await send('POST', PODS, { metadata: { name: 'p3' }, status: { podIP: '10.0.0.3', conditions: conditions(MAX_POD_CONDITIONS / 2, 0, message) } })).status).toBe(201)
    const before = await send('GET', `${PODS}/p3`)
    const patch = async (body: unknown) => {
      const res = await SELF.fetch(`${PODS}/p3/status`, { method: 'PATCH', headers: { ...AUTH, 'content-type': 'application/strategic-merge-patch+json' }, body: JSON.stringify(body) })
      return { status: res.status, body: (await res.json()) as any }
    }
    const types = await patch({ status: { conditions: conditions(25_000, 100) } })
    expect(types.status).toBe(422)
    expect(fields(types.body)).toEqual(['status.conditions'])
    const size = await patch({ status: { conditions: conditions(MAX_POD_CONDITIONS / 2, 100, message) } })
    expect(size.status).toBe(413)
    expect(size.body.reason).toBe('RequestEntityTooLarge')
    expect((await send('GET', `${PODS}/p3`)).body).toEqual(before.body)
    // Just under the limit, a change whose log row holds the object twice (as written and as it was) is stored on D1.
    const under = await patch({ status: { conditions: conditions(MAX_POD_CONDITIONS / 2 - 2, 100, message) } })
    expect(under.status, JSON.stringify(under.body).slice(0, 300)).toBe(200)
    const again = await patch({ status: { conditions: [{ type: 'c100', status: 'False', message }] } })
    expect(again.status, JSON.stringify(again.body).slice(0, 300)).toBe(200)
  })

  it('malformed percent-encoding in a path is a 400', async () => {
    const res = await SELF.fetch('http://registry/dns-query/%E0%A4%A?dns=AAA')
    expect(res.status).toBe(400)
    expect(((await res.json()) as any).reason).toBe('BadRequest')
  })
})
