/**
 * Query names are compared by their octets, case-insensitively (RFC 4343), however they are
 * written: `\DDD` escapes stand for the octet they name, and a dot escaped inside a label is
 * part of that label, never the root.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { testApp, type TestApp } from '../support/app'

let t: TestApp
let clusterIP: string

beforeAll(async () => {
  t = await testApp()
  const svc = await t.json('POST', '/api/v1/namespaces/default/services', { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } })
  clusterIP = svc.body.spec.clusterIP
})

async function resolve(name: string, type = 'A') {
  const res = await t.req('GET', `/resolve?name=${encodeURIComponent(name)}&type=${type}`)
  expect(res.status).toBe(200)
  return (await res.json()) as { Status: number; Question: { name: string }[]; Answer?: { name: string; data: string }[] }
}

describe('query names', () => {
  it('read \\DDD escapes as the octets they stand for, letters of any case', async () => {
    for (const name of ['w\\101b.default.svc.cluster.local', 'W\\069B.default.svc.cluster.\\076ocal']) {
      const body = await resolve(name)
      expect(body.Status, name).toBe(0)
      expect(body.Answer?.map((a) => a.data), name).toEqual([clusterIP])
      expect(body.Answer?.[0]?.name, name).toBe(`${name}.`)
    }
  })

  it('keep an escaped final dot inside its label', async () => {
    const body = await resolve('web.default.svc.cluster.local\\.')
    expect(body.Status).toBe(5) // REFUSED: the last label is `local.`, not the zone's `local`
    expect(body.Question[0]?.name).toBe('web.default.svc.cluster.local\\..')
    const plain = await resolve('web.default.svc.cluster.local.')
    expect(plain.Question[0]?.name).toBe('web.default.svc.cluster.local.')
    expect(plain.Answer?.map((a) => a.data)).toEqual([clusterIP])
  })
})
