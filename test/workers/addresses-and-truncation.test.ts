/**
 * The Worker entry (which always runs with access control on) refuses dangerous pod and
 * endpoint addresses, loopback included, and truncates DoH answers that do not fit in a
 * DNS message instead of failing, on D1 inside workerd.
 */
import { SELF } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { MAX_MESSAGE_OCTETS, TYPE, decodeMessage } from '../../worker/dns/wire'
import { testDatabase } from './db'
import { wireQuery } from '../support/dns-query'

const AUTH = { authorization: 'Bearer workers-test-root-credential-0123456789' }
const NS = '/api/v1/namespaces/default'

async function call(method: string, path: string, body?: unknown) {
  const res = await SELF.fetch(`http://registry${path}`, {
    method,
    headers: body === undefined ? AUTH : { ...AUTH, 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  return { status: res.status, body: (await res.json()) as any }
}

const causes = (res: { body: any }) => res.body.details?.causes?.map((c: any) => `${c.field}: ${c.message}`)

describe('the Worker', () => {
  beforeEach(async () => {
    await testDatabase()
  })

  it('refuses loopback, link-local and unspecified pod and endpoint addresses with a 422 naming the field', async () => {
    const pod = (name: string, ip: string) => ({ metadata: { name }, status: { podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] } })
    expect(causes(await call('POST', `${NS}/pods`, pod('lo', '127.0.0.1')))).toEqual([
      'status.podIP: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
    ])
    expect(causes(await call('POST', `${NS}/pods`, pod('md', '::ffff:169.254.169.254')))).toEqual([
      'status.podIP: Invalid value: "::ffff:169.254.169.254": may not be in the link-local range (169.254.0.0/16, fe80::/10)',
    ])
    expect((await call('GET', `${NS}/pods`)).body.items).toEqual([])
    expect((await call('POST', `${NS}/services`, { metadata: { name: 'ext' }, spec: { ports: [{ port: 80 }] } })).status).toBe(201)
    const eps = await call('POST', `${NS}/endpoints`, { metadata: { name: 'ext' }, subsets: [{ addresses: [{ ip: '10.0.0.1' }, { ip: '0.0.0.0' }], ports: [{ port: 80 }] }] })
    expect(eps.status).toBe(422)
    expect(causes(eps)).toEqual(['subsets[0].addresses[1].ip: Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0)'])
    expect((await call('GET', `${NS}/endpoints/ext`)).body.subsets ?? []).toEqual([])
  })

  it('truncates an SRV answer larger than a DNS message to the records that fit, with TC, over the wire and in JSON', async () => {
    const ports = Array.from({ length: 10 }, (_, i) => ({ name: `p${i}`, port: 8000 + i, targetPort: `p${i}` }))
    expect((await call('POST', `${NS}/services`, { metadata: { name: 'srv' }, spec: { clusterIP: 'None', selector: { app: 'srv' }, ports } })).status).toBe(201)
    // Every record has the same size: a pointer to the question, fixed fields, and a 63-octet hostname under the service's name, in full.
    const name = 'srv.default.svc.cluster.local'
    const hostname = (i: number) => `h${String(i).padStart(3, '0')}-${'x'.repeat(58)}`
    const srvOctets = 2 + 10 + 6 + `${hostname(0)}.${name}`.length + 2
    const fit = Math.floor((MAX_MESSAGE_OCTETS - 12 - (name.length + 2) - 4) / srvOctets)
    const pods = Math.ceil((fit + 1) / ports.length)
    for (let i = 0; i < pods; i += 20) {
      const batch = Array.from({ length: Math.min(20, pods - i) }, (_, k) => i + k).map((n) =>
        call('POST', `${NS}/pods`, {
          metadata: { name: `s${n}`, labels: { app: 'srv' } },
          spec: { hostname: hostname(n), subdomain: 'srv', containers: [{ name: 'app', ports: ports.map((p) => ({ name: p.name, containerPort: p.port })) }] },
          status: { podIP: `10.66.${n >> 8}.${n & 255}`, conditions: [{ type: 'Ready', status: 'True' }] },
        }),
      )
      expect((await Promise.all(batch)).map((r) => r.status).every((s) => s === 201)).toBe(true)
    }
    const query = wireQuery(name, TYPE.SRV, { id: 9 })
    const res = await SELF.fetch('http://registry/dns-query', { method: 'POST', headers: { ...AUTH, 'content-type': 'application/dns-message' }, body: query })
    expect(res.status).toBe(200)
    const msg = decodeMessage(new Uint8Array(await res.arrayBuffer()))
    expect(pods * ports.length).toBeGreaterThan(fit)
    expect(msg.header.tc).toBe(true)
    expect(msg.answers.length).toBe(fit)
    expect(msg.additionals).toEqual([])
    const json = await call('GET', `/resolve?name=${name}&type=SRV`)
    expect(json.body.TC).toBe(true)
    expect(json.body.Answer.length).toBe(fit)
  })
})
