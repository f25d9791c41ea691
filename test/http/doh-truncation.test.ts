/**
 * DoH answers larger than a DNS message are truncated, as a DNS server truncates them: as
 * many whole records as fit in 65,535 octets, in order, with TC set, whatever UDP size the
 * query's EDNS record asks for; SRV answers give up their additional records first, without
 * TC. The JSON form carries the same records and says `"TC": true`. The boundary is tested
 * exactly for A, AAAA and SRV over headless services with thousands of ready pods, the
 * expected counts computed from the record sizes.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { MAX_MESSAGE_OCTETS, TYPE, decodeMessage, optRecord, type Message } from '../../worker/dns/wire'
import { formatIPv4 } from '../../worker/registry/ip-address'
import { testApp, type TestApp } from '../support/app'
import { base64url as b64url, wireQuery } from '../support/dns-query'

const NS = '/api/v1/namespaces/default'
const ZONE = 'cluster.local'
const HEADER = 12
/** A name written in full: a length octet per label, the labels, the root octet. */
const nameOctets = (name: string) => name.length + 2
/** A record whose owner is the question's name (a 2-octet pointer): type, class, TTL, rdlength, then its rdata. */
const recordOctets = (rdata: number) => 2 + 10 + rdata
/** The EDNS OPT record this server adds when the query has one: root name, type, class, TTL, rdlength. */
const OPT_OCTETS = 11

/** The most records of `size` octets that fit beside the header and the question for `name`. */
function fitting(name: string, size: number, opt = 0): number {
  return Math.floor((MAX_MESSAGE_OCTETS - HEADER - nameOctets(name) - 4 - opt) / size)
}

const A_NAME = `four.default.svc.${ZONE}`
const AAAA_NAME = `six.default.svc.${ZONE}`
const SRV_NAME = `_http._tcp.srv.default.svc.${ZONE}`
/** SRV targets are never compressed (RFC 2782), so each record carries its 63-octet hostname and the service's name in full. */
const hostname = (i: number) => `h${String(i).padStart(5, '0')}-${'x'.repeat(56)}`
const SRV_TARGET_OCTETS = nameOctets(`${hostname(0)}.srv.default.svc.${ZONE}`)
const SRV_OCTETS = recordOctets(2 + 2 + 2 + SRV_TARGET_OCTETS)

const A_FIT = fitting(A_NAME, recordOctets(4))
const AAAA_FIT = fitting(AAAA_NAME, recordOctets(16))
const SRV_FIT = fitting(SRV_NAME, SRV_OCTETS)

const ipv4 = (i: number) => formatIPv4(0x0a400000 + i) // 10.64.0.0/16
const ipv6 = (i: number) => `fd00::64:${i.toString(16)}`

const query = (name: string, type: number, edns = false) => wireQuery(name, type, { additionals: edns ? [optRecord({ udpSize: 512 })] : [] })


async function wire(t: TestApp, name: string, type: number, opts: { edns?: boolean; post?: boolean } = {}): Promise<{ msg: Message; octets: number }> {
  const bytes = query(name, type, opts.edns)
  const res = opts.post
    ? await t.app.request('/dns-query', { method: 'POST', body: bytes as Uint8Array<ArrayBuffer>, headers: { 'content-type': 'application/dns-message' } })
    : await t.req('GET', `/dns-query?dns=${b64url(bytes)}`)
  expect(res.status).toBe(200)
  const body = new Uint8Array(await res.arrayBuffer())
  expect(body.length).toBeLessThanOrEqual(MAX_MESSAGE_OCTETS)
  return { msg: decodeMessage(body), octets: body.length }
}

async function json(t: TestApp, name: string, type: string) {
  const res = await t.req('GET', `/resolve?name=${name}&type=${type}`)
  expect(res.status).toBe(200)
  return (await res.json()) as { Status: number; TC: boolean; Answer?: { data: string }[]; Additional?: { name: string; data: string }[] }
}

/** Creates pods in parallel batches, as many workloads registering at once would. */
async function createPods(t: TestApp, bodies: object[]): Promise<void> {
  for (let i = 0; i < bodies.length; i += 250) {
    const statuses = await Promise.all(bodies.slice(i, i + 250).map((b) => t.req('POST', `${NS}/pods`, b).then((r) => r.status)))
    expect(statuses.every((s) => s === 201)).toBe(true)
  }
}

const ready = [{ type: 'Ready', status: 'True' }]
const drain = (t: TestApp, name: string, weight: string) => t.json('PATCH', `${NS}/pods/${name}`, { metadata: { annotations: { 'switchboard.dev/weight': weight } } })

let t: TestApp

beforeAll(async () => {
  t = await testApp()
  for (const name of ['four', 'six']) {
    const svc = await t.json('POST', `${NS}/services`, { metadata: { name }, spec: { clusterIP: 'None', selector: { [name]: 'y' } } })
    expect(svc.status).toBe(201)
  }
  const srv = { metadata: { name: 'srv' }, spec: { clusterIP: 'None', selector: { srv: 'y' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } }
  expect((await t.json('POST', `${NS}/services`, srv)).status).toBe(201)
  // One more ready endpoint than fits, for each of A (IPv4 of `four`), AAAA (IPv6 of `six`) and SRV.
  const dual = Array.from({ length: A_FIT + 1 }, (_, i) => ({
    metadata: { name: `p${i}`, labels: { four: 'y', ...(i <= AAAA_FIT ? { six: 'y' } : {}) } },
    status: { podIPs: i <= AAAA_FIT ? [{ ip: ipv4(i) }, { ip: ipv6(i) }] : [{ ip: ipv4(i) }], conditions: ready },
  }))
  const named = Array.from({ length: SRV_FIT + 1 }, (_, i) => ({
    metadata: { name: `s${i}`, labels: { srv: 'y' } },
    spec: { hostname: hostname(i), subdomain: 'srv', containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }] }] },
    status: { podIP: formatIPv4(0x0a410000 + i), conditions: ready },
  }))
  await createPods(t, [...dual, ...named])
}, 600_000)

describe('DoH answers larger than 65,535 octets', () => {
  it('A: one record too many is truncated to exactly those that fit, with TC; the JSON form says the same', async () => {
    const { msg, octets } = await wire(t, A_NAME, TYPE.A)
    expect(msg.header.tc).toBe(true)
    expect(msg.header.rcode).toBe(0)
    expect(msg.answers.length).toBe(A_FIT)
    expect(octets).toBe(HEADER + nameOctets(A_NAME) + 4 + A_FIT * recordOctets(4))
    const all = new Set(Array.from({ length: A_FIT + 1 }, (_, i) => ipv4(i)))
    const answered = msg.answers.map((r) => (r.data.kind === 'A' ? r.data.address : ''))
    expect(new Set(answered).size).toBe(A_FIT)
    expect(answered.every((ip) => all.has(ip))).toBe(true)

    const j = await json(t, A_NAME, 'A')
    expect(j.TC).toBe(true)
    expect(j.Answer!.map((a) => a.data)).toEqual(answered)

    // The UDP payload size of an EDNS query does not apply over HTTPS: only the OPT record's octets are given up.
    const edns = await wire(t, A_NAME, TYPE.A, { edns: true, post: true })
    expect(edns.msg.header.tc).toBe(true)
    expect(edns.msg.answers.length).toBe(fitting(A_NAME, recordOctets(4), OPT_OCTETS))
    expect(edns.msg.additionals.map((r) => r.type)).toEqual([TYPE.OPT])
  })

  it('AAAA: likewise at its own record size', async () => {
    const { msg } = await wire(t, AAAA_NAME, TYPE.AAAA)
    expect(msg.header.tc).toBe(true)
    expect(msg.answers.length).toBe(AAAA_FIT)
    expect(msg.answers.every((r) => r.data.kind === 'AAAA')).toBe(true)
    const j = await json(t, AAAA_NAME, 'AAAA')
    expect(j.TC).toBe(true)
    expect(j.Answer!.length).toBe(AAAA_FIT)
  })

  it('SRV: answers fill the message before any additional record; one too many sets TC', async () => {
    const { msg } = await wire(t, SRV_NAME, TYPE.SRV)
    expect(msg.header.tc).toBe(true)
    expect(msg.answers.length).toBe(SRV_FIT)
    expect(msg.additionals).toEqual([])
    const j = await json(t, SRV_NAME, 'SRV')
    expect(j.TC).toBe(true)
    expect(j.Answer!.length).toBe(SRV_FIT)
    expect(j.Additional).toBeUndefined()
  })

  it('at the largest set that fits, answers are complete and TC is clear (additional records given up do not set it)', async () => {
    // Draining one pod of each set leaves exactly as many ready endpoints as fit.
    expect((await drain(t, 'p0', '0')).status).toBe(200)
    expect((await drain(t, 's0', '0')).status).toBe(200)
    try {
      const a = await wire(t, A_NAME, TYPE.A)
      expect(a.msg.header.tc).toBe(false)
      expect(a.msg.answers.length).toBe(A_FIT)
      expect(a.msg.answers.map((r) => (r.data.kind === 'A' ? r.data.address : '')).sort()).toEqual(Array.from({ length: A_FIT }, (_, i) => ipv4(i + 1)).sort())
      expect((await json(t, A_NAME, 'A')).TC).toBe(false)

      const aaaa = await wire(t, AAAA_NAME, TYPE.AAAA)
      expect(aaaa.msg.header.tc).toBe(false)
      expect(aaaa.msg.answers.length).toBe(AAAA_FIT)

      const srv = await wire(t, SRV_NAME, TYPE.SRV)
      expect(srv.msg.header.tc).toBe(false)
      expect(srv.msg.answers.length).toBe(SRV_FIT)
      // The room left after the answers holds some of the targets' addresses, in the order of the answers.
      const targets = srv.msg.answers.map((r) => (r.data.kind === 'SRV' ? r.data.target : ''))
      expect(srv.msg.additionals.length).toBeLessThan(SRV_FIT)
      expect(srv.msg.additionals.map((r) => r.name)).toEqual(targets.slice(0, srv.msg.additionals.length))
      const j = await json(t, SRV_NAME, 'SRV')
      expect(j.TC).toBe(false)
      expect(j.Answer!.length).toBe(SRV_FIT)
      expect((j.Additional ?? []).length).toBe(srv.msg.additionals.length)
    } finally {
      await drain(t, 'p0', '1')
      await drain(t, 's0', '1')
    }
  })
})
