/**
 * DNS-over-HTTPS robustness: more than 10,000 random and mutated DNS messages, each sent
 * both as GET (`dns=`, base64url) and as POST (`application/dns-message`). Random bytes,
 * headers with random tails, and valid queries broken on purpose: truncated, bits flipped,
 * counts set wrong, compression pointers aimed forward, at themselves, into the header or
 * round a loop, labels over 63 octets, names over 255, garbage inserted, random opcodes and
 * QR bit, several questions, several OPT records, EDNS versions above 0.
 *
 * Every message gets exactly what the DoH handler promises: a 413 when it is over 65,535
 * octets, a 400 (plain text) when the wire codec rejects it, and otherwise a 200 whose body
 * is a DNS message with the query's ID, opcode and question, QR set, and the RCODE the
 * message calls for (FORMERR, NOTIMP, BADVERS, or the resolver's NOERROR, NXDOMAIN or
 * REFUSED). GET and POST answer alike, never a 5xx, and the server keeps answering.
 */
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { MAX_MESSAGE_OCTETS, RCODE, TYPE, decodeMessage, type Message } from '../../worker/dns/wire'
import { testApp, type TestApp } from '../support/app'

const SEED = 0xd0f022
const NS = '/api/v1/namespaces/default'
const CLUSTER_IP = '10.96.0.10'
const DNS_MESSAGE = 'application/dns-message'

type Bytes = number[]

/** One generated message and the family it was drawn from. */
interface Sample {
  family: string
  bytes: Uint8Array
}

// ---------------------------------------------------------------------------------------------
// Raw wire building (no validation: these builders write whatever they are given)

const ascii = new TextEncoder()
const u16 = (v: number): Bytes => [(v >>> 8) & 0xff, v & 0xff]
const u32 = (v: number): Bytes => [...u16(Math.floor(v / 0x10000) & 0xffff), ...u16(v & 0xffff)]

function wireName(labels: Uint8Array[]): Bytes {
  const out: Bytes = []
  for (const l of labels) out.push(l.length & 0xff, ...l)
  out.push(0)
  return out
}

const textLabels = (name: string): Uint8Array[] => (name === '' ? [] : name.split('.').map((l) => ascii.encode(l)))

function header(id: number, flags: number, counts: [number, number, number, number]): Bytes {
  return [...u16(id), ...u16(flags), ...counts.flatMap(u16)]
}

interface Shape {
  id: number
  flags: number
  questions: Bytes[]
  answers: Bytes[]
  additionals: Bytes[]
}

function build(s: Shape): Uint8Array {
  const counts: [number, number, number, number] = [s.questions.length, s.answers.length, 0, s.additionals.length]
  return Uint8Array.from([...header(s.id, s.flags, counts), ...s.questions.flat(), ...s.answers.flat(), ...s.additionals.flat()])
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

const rev6 = '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa'
const KNOWN = [
  'web.default.svc.cluster.local',
  '_http._tcp.web.default.svc.cluster.local',
  'db.default.svc.cluster.local',
  'db-0.db.default.svc.cluster.local',
  '10-2-0-2.db.default.svc.cluster.local',
  '_pg._tcp.db.default.svc.cluster.local',
  'ext.default.svc.cluster.local',
  'alias.default.svc.cluster.local',
  'nope.default.svc.cluster.local',
  'web.nowhere.svc.cluster.local',
  'default.svc.cluster.local',
  'dns-version.cluster.local',
  'cluster.local',
  '10.0.96.10.in-addr.arpa',
  '1.0.2.10.in-addr.arpa',
  rev6,
  'in-addr.arpa',
  'example.com',
  '',
]
const ZONE_LABELS = textLabels('default.svc.cluster.local')

const byte = fc.integer({ min: 0, max: 255 })
const u16Arb = fc.integer({ min: 0, max: 0xffff })
const label = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max })

/** A known name with its letters' case flipped at random. */
const knownName = fc.tuple(fc.constantFrom(...KNOWN), fc.nat()).map(([name, mask]) =>
  textLabels(name).map((l) => l.map((c, i) => ((mask >> i % 30) & 1 && c >= 0x61 && c <= 0x7a ? c - 0x20 : c))),
)

/** Label lists: known names, random labels in the zone, random labels anywhere, names of 255 and 256 octets. */
const labelsArb: fc.Arbitrary<Uint8Array[]> = fc.oneof(
  { weight: 5, arbitrary: knownName },
  { weight: 2, arbitrary: fc.array(label(1, 63), { maxLength: 3 }).map((ls) => [...ls, ...ZONE_LABELS]) },
  { weight: 2, arbitrary: fc.array(label(1, 63), { maxLength: 6 }) },
  { weight: 1, arbitrary: fc.constantFrom([63, 63, 63, 61], [63, 63, 63, 62], [63, 63, 63, 63, 1]).chain((ls) => fc.tuple(...ls.map((n) => label(n, n)))) },
)

/** A wire name: mostly well formed; sometimes with a label length of 64–255 (reserved label types and pointers). */
const nameArb: fc.Arbitrary<Bytes> = fc.oneof(
  { weight: 9, arbitrary: labelsArb.map(wireName) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(labelsArb, fc.integer({ min: 64, max: 255 }), fc.uint8Array({ maxLength: 300 }))
      .map(([ls, len, tail]) => [...wireName(ls).slice(0, -1), len, ...tail, 0]),
  },
)

const typeArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(TYPE.A, TYPE.AAAA, TYPE.SRV, TYPE.PTR, TYPE.TXT, TYPE.CNAME, TYPE.SOA, TYPE.NS, TYPE.ANY) },
  { weight: 1, arbitrary: fc.constantFrom(TYPE.AXFR, TYPE.IXFR, TYPE.OPT, TYPE.MX, TYPE.HINFO, 0, 0xffff) },
  { weight: 1, arbitrary: u16Arb },
)
const classArb = fc.oneof({ weight: 6, arbitrary: fc.constant(1) }, { weight: 1, arbitrary: fc.constantFrom(0, 3, 4, 254, 255) }, { weight: 1, arbitrary: u16Arb })

const questionArb: fc.Arbitrary<Bytes> = fc.tuple(nameArb, typeArb, classArb).map(([n, t, c]) => [...n, ...u16(t), ...u16(c)])

/** A resource record as a query might carry one: owner root, a pointer to the question, or a name; rdlength usually right. */
const recordArb: fc.Arbitrary<Bytes> = fc
  .tuple(
    fc.oneof(fc.constant([0]), fc.constant([0xc0, 12]), nameArb),
    typeArb,
    classArb,
    fc.nat(),
    fc.oneof({ weight: 3, arbitrary: fc.uint8Array({ maxLength: 24 }) }, { weight: 1, arbitrary: fc.constant(Uint8Array.from([192, 0, 2, 1])) }),
    fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: -4, max: 4 }) }),
  )
  .map(([owner, type, klass, ttl, rdata, skew]) => [...owner, ...u16(type), ...u16(klass), ...u32(ttl), ...u16(Math.max(0, rdata.length + skew)), ...rdata])

/** An OPT record: version usually 0, options usually well formed, owner usually the root. */
const optArb: fc.Arbitrary<Bytes> = fc
  .tuple(
    fc.oneof({ weight: 9, arbitrary: fc.constant([0]) }, { weight: 1, arbitrary: nameArb }),
    fc.oneof(fc.constant(4096), u16Arb),
    byte,
    fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 255 }) }),
    fc.integer({ min: 0, max: 0xffff }),
    fc.oneof(
      { weight: 3, arbitrary: fc.array(fc.tuple(u16Arb, fc.uint8Array({ maxLength: 16 })), { maxLength: 3 }).map((os) => os.flatMap(([code, data]) => [...u16(code), ...u16(data.length), ...data])) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 12 }).map((b) => [...b]) },
    ),
  )
  .map(([owner, udp, ext, version, flags, rdata]) => [...owner, ...u16(TYPE.OPT), ...u16(udp), ext, version, ...u16(flags), ...u16(rdata.length), ...rdata])

/** Header flags: QR usually clear, opcode usually QUERY, every other bit at random. */
const flagsArb = fc
  .tuple(
    fc.oneof({ weight: 9, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constant(1) }),
    fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: 0, max: 15 }) }),
    fc.integer({ min: 0, max: 0x7ff }),
  )
  .map(([qr, opcode, rest]) => (qr << 15) | (opcode << 11) | rest)

const shapeArb: fc.Arbitrary<Shape> = fc.record({
  id: u16Arb,
  flags: flagsArb,
  questions: fc.oneof(
    { weight: 8, arbitrary: questionArb.map((q) => [q]) },
    { weight: 1, arbitrary: fc.constant<Bytes[]>([]) },
    { weight: 1, arbitrary: fc.array(questionArb, { minLength: 2, maxLength: 3 }) },
  ),
  answers: fc.oneof({ weight: 8, arbitrary: fc.constant<Bytes[]>([]) }, { weight: 1, arbitrary: fc.array(recordArb, { minLength: 1, maxLength: 2 }) }),
  additionals: fc.oneof(
    { weight: 4, arbitrary: fc.constant<Bytes[]>([]) },
    { weight: 4, arbitrary: optArb.map((o) => [o]) },
    { weight: 1, arbitrary: fc.array(optArb, { minLength: 2, maxLength: 3 }) },
    { weight: 1, arbitrary: fc.array(fc.oneof(recordArb, optArb), { minLength: 1, maxLength: 3 }) },
  ),
})

type Mutation =
  | { op: 'truncate'; at: number }
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'count'; field: number; value: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; n: number }
  | { op: 'append'; bytes: Uint8Array }
  | { op: 'pointer'; kind: 'self' | 'forward' | 'header' | 'loop' | 'chain'; label: number; to: number }
  | { op: 'length'; label: number; value: number }
  | { op: 'opcode'; value: number }
  | { op: 'qr' }

const pointerArb: fc.Arbitrary<Mutation> = fc.record({
  op: fc.constant('pointer' as const),
  kind: fc.constantFrom('self' as const, 'forward' as const, 'header' as const, 'loop' as const, 'chain' as const),
  label: fc.nat(),
  to: fc.nat(),
})

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: byte }),
  fc.record({ op: fc.constant('count' as const), field: fc.integer({ min: 0, max: 3 }), value: fc.oneof(fc.integer({ min: 0, max: 4 }), u16Arb) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ op: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 32 }) }),
  pointerArb,
  fc.record({ op: fc.constant('length' as const), label: fc.nat(), value: fc.integer({ min: 64, max: 255 }) }),
  fc.record({ op: fc.constant('opcode' as const), value: fc.integer({ min: 0, max: 15 }) }),
  fc.record({ op: fc.constant('qr' as const) }),
)

/** Offsets of the label length octets of the first question's name (its terminating 0 included). */
function labelOffsets(b: number[]): number[] {
  const out: number[] = []
  let p = 12
  while (p < b.length && out.length < 130) {
    out.push(p)
    const len = b[p]!
    if (len === 0 || len >= 0x40) break
    p += 1 + len
  }
  return out.length ? out : [Math.min(12, b.length)]
}

function writePointer(b: number[], at: number, target: number): void {
  const hi = 0xc0 | ((target >> 8) & 0x3f)
  const lo = target & 0xff
  while (b.length < at + 2) b.push(0)
  b[at] = hi
  b[at + 1] = lo
}

function mutate(input: Uint8Array, mutations: Mutation[]): Uint8Array {
  const b = [...input]
  const pos = (at: number, extra = 0) => at % (b.length + extra || 1)
  for (const m of mutations) {
    switch (m.op) {
      case 'truncate':
        b.length = pos(m.at, 1)
        break
      case 'flip':
        if (b.length) b[pos(m.at)]! ^= 1 << m.bit
        break
      case 'set':
        if (b.length) b[pos(m.at)] = m.value
        break
      case 'count':
        while (b.length < 12) b.push(0)
        b[4 + 2 * m.field] = m.value >> 8
        b[5 + 2 * m.field] = m.value & 0xff
        break
      case 'insert':
        b.splice(pos(m.at, 1), 0, ...m.bytes)
        break
      case 'delete':
        if (b.length) b.splice(pos(m.at), m.n)
        break
      case 'append':
        b.push(...m.bytes)
        break
      case 'pointer': {
        const offsets = labelOffsets(b)
        const at = offsets[m.label % offsets.length]!
        if (m.kind === 'self') writePointer(b, at, at)
        else if (m.kind === 'forward') writePointer(b, at, Math.min(0x3fff, at + 2 + (m.to % Math.max(1, b.length - at))))
        else if (m.kind === 'header') writePointer(b, at, m.to % 12)
        else if (m.kind === 'loop') {
          // at → end of the message → at
          const end = Math.max(b.length, at + 2)
          writePointer(b, at, end)
          writePointer(b, end, at)
        } else {
          // a second question whose name points back at a label of the first, then (sometimes) onward
          const target = offsets[m.to % offsets.length]!
          const q: Bytes = [0xc0 | (target >> 8), target & 0xff, ...u16(TYPE.A), ...u16(1)]
          b.push(...q)
          while (b.length < 12) b.push(0)
          const qd = ((b[4]! << 8) | b[5]!) + 1
          b[4] = (qd >> 8) & 0xff
          b[5] = qd & 0xff
        }
        break
      }
      case 'length': {
        const offsets = labelOffsets(b)
        const at = offsets[m.label % offsets.length]!
        if (at < b.length) b[at] = m.value
        break
      }
      case 'opcode':
        if (b.length > 2) b[2] = (b[2]! & 0x87) | (m.value << 3)
        break
      case 'qr':
        if (b.length > 2) b[2]! ^= 0x80
        break
    }
  }
  if (b.length > 70_000) b.length = 70_000
  return Uint8Array.from(b)
}

const sample = (family: string) => (bytes: Uint8Array): Sample => ({ family, bytes })

/** The families and how many messages each contributes. */
const FAMILIES: { family: string; runs: number; arb: fc.Arbitrary<Sample> }[] = [
  {
    family: 'random bytes',
    runs: 2500,
    arb: fc.oneof(fc.uint8Array({ maxLength: 16 }), fc.uint8Array({ maxLength: 600 })).map(sample('random bytes')),
  },
  {
    family: 'header with a random tail',
    runs: 1500,
    arb: fc
      .tuple(u16Arb, flagsArb, fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })), fc.uint8Array({ maxLength: 200 }))
      .map(([id, flags, counts, tail]) => Uint8Array.from([...header(id, flags, counts), ...tail]))
      .map(sample('header with a random tail')),
  },
  {
    family: 'structured queries, some mutated',
    runs: 4500,
    arb: fc
      .tuple(shapeArb, fc.oneof({ weight: 3, arbitrary: fc.constant<Mutation[]>([]) }, { weight: 7, arbitrary: fc.array(mutationArb, { minLength: 1, maxLength: 4 }) }))
      .map(([shape, ms]) => mutate(build(shape), ms))
      .map(sample('structured queries, some mutated')),
  },
  {
    family: 'compression pointers',
    runs: 1000,
    arb: fc
      .tuple(shapeArb, questionArb, fc.array(pointerArb, { minLength: 1, maxLength: 3 }))
      .map(([shape, q, ms]) => mutate(build({ ...shape, questions: [q] }), ms))
      .map(sample('compression pointers')),
  },
  {
    family: 'long labels and names',
    runs: 500,
    arb: fc
      .tuple(u16Arb, fc.array(fc.integer({ min: 1, max: 255 }), { minLength: 1, maxLength: 8 }), fc.nat(), typeArb)
      .map(([id, lens, fill, type]) => {
        const name = lens.flatMap((n) => [n, ...Array.from({ length: n }, (_, i) => 0x61 + ((fill + i) % 26))])
        return Uint8Array.from([...header(id, 0x0100, [1, 0, 0, 0]), ...name, 0, ...u16(type), ...u16(1)])
      })
      .map(sample('long labels and names')),
  },
  {
    family: 'over 65,535 octets',
    runs: 20,
    arb: fc
      .tuple(fc.integer({ min: MAX_MESSAGE_OCTETS + 1, max: MAX_MESSAGE_OCTETS + 600 }), byte)
      .map(([n, fill]) => new Uint8Array(n).fill(fill))
      .map(sample('over 65,535 octets')),
  },
]

// ---------------------------------------------------------------------------------------------
// The exchange and its checks

let t: TestApp

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url')

interface Reply {
  status: number
  type: string | null
  cache: string | null
  body: Uint8Array
}

async function send(bytes: Uint8Array, method: 'GET' | 'POST'): Promise<Reply> {
  const res =
    method === 'GET'
      ? await t.app.request(`/dns-query?dns=${b64url(bytes)}`)
      : await t.app.request('/dns-query', { method: 'POST', body: bytes as BodyInit, headers: { 'content-type': DNS_MESSAGE } })
  return { status: res.status, type: res.headers.get('content-type'), cache: res.headers.get('cache-control'), body: new Uint8Array(await res.arrayBuffer()) }
}

function tryDecode(bytes: Uint8Array): Message | Error {
  try {
    return decodeMessage(bytes)
  } catch (e) {
    return e as Error
  }
}

const hex = (b: Uint8Array) => Buffer.from(b.subarray(0, 96)).toString('hex') + (b.length > 96 ? `… (${b.length} octets)` : '')

/** Messages per family and outcome, and per RCODE of the 200s, for the coverage checks. */
const stats = new Map<string, number>()
const bump = (k: string) => stats.set(k, (stats.get(k) ?? 0) + 1)
let messages = 0
let requests = 0

/** The RCODE a decodable query calls for; null when it reaches the resolver (NOERROR, NXDOMAIN or REFUSED). */
function expectedRcode(q: Message): number | null {
  const opts = q.additionals.filter((r) => r.type === TYPE.OPT)
  if (q.header.qr || q.questions.length !== 1 || opts.length > 1) return RCODE.FORMERR
  if (q.header.opcode !== 0) return RCODE.NOTIMP
  const opt = opts[0]
  if (opt && opt.data.kind === 'OPT' && opt.data.version > 0) return RCODE.BADVERS
  return null
}

/** Checks one response; returns the outcome counted in the statistics (`413`, `400` or `200 rcode N`). */
function checkReply(s: Sample, r: Reply, method: string): string {
  const what = `${method} ${s.family}: ${hex(s.bytes)}`
  expect(r.status, what).toBeLessThan(500)
  if (s.bytes.length > MAX_MESSAGE_OCTETS) {
    expect(r.status, what).toBe(413)
    return '413'
  }
  const query = tryDecode(s.bytes)
  if (query instanceof Error) {
    expect(r.status, `${what} (${query.message})`).toBe(400)
    expect(r.type, what).toMatch(/^text\/plain/)
    return '400'
  }
  expect(r.status, what).toBe(200)
  expect(r.type, what).toBe(DNS_MESSAGE)
  expect(r.cache, what).toMatch(/^max-age=\d+$/)
  const reply = tryDecode(r.body)
  if (reply instanceof Error) throw new Error(`${what}: the reply does not decode: ${reply.message}`)
  expect(reply.header, what).toMatchObject({ id: query.header.id, qr: true, opcode: query.header.opcode, rd: query.header.rd, cd: query.header.cd })
  expect(reply.questions, what).toEqual(query.questions)
  const replyOpts = reply.additionals.filter((x) => x.type === TYPE.OPT)
  const hasOpt = query.additionals.some((x) => x.type === TYPE.OPT)
  expect(replyOpts.length, what).toBe(hasOpt ? 1 : 0)
  const ext = replyOpts[0]?.data.kind === 'OPT' ? replyOpts[0].data.extendedRcode : 0
  const rcode = (ext << 4) | reply.header.rcode
  const expected = expectedRcode(query)
  if (expected === null) {
    expect([RCODE.NOERROR, RCODE.NXDOMAIN, RCODE.REFUSED], what).toContain(rcode)
    const q = query.questions[0]!
    if (q.class !== 1 || q.type === TYPE.AXFR || q.type === TYPE.IXFR) expect(rcode, what).toBe(RCODE.REFUSED)
  } else {
    expect(rcode, what).toBe(expected)
    expect(reply.answers, what).toEqual([])
  }
  return `200 rcode ${rcode}`
}

async function exchange(s: Sample): Promise<void> {
  const get = await send(s.bytes, 'GET')
  const post = await send(s.bytes, 'POST')
  messages++
  requests += 2
  const outcome = checkReply(s, get, 'GET')
  checkReply(s, post, 'POST')
  bump(`${s.family}|${outcome.slice(0, 3)}`)
  if (outcome.startsWith('200')) bump(outcome.slice(4))
  expect({ ...post, body: hex(post.body) }, `GET and POST differ for ${hex(s.bytes)}`).toEqual({ ...get, body: hex(get.body) })
  if (get.status === 200) expect(Buffer.from(post.body).equals(Buffer.from(get.body))).toBe(true)
}

/** A plain query still gets its right answer. */
async function stillAnswers(): Promise<void> {
  const q = Uint8Array.from([...header(0xbeef, 0x0100, [1, 0, 0, 0]), ...wireName(textLabels('web.default.svc.cluster.local')), ...u16(TYPE.A), ...u16(1)])
  for (const method of ['GET', 'POST'] as const) {
    const r = await send(q, method)
    expect(r.status).toBe(200)
    const m = decodeMessage(r.body)
    expect(m.header).toMatchObject({ id: 0xbeef, qr: true, aa: true, rcode: RCODE.NOERROR })
    expect(m.answers.map((a) => a.data)).toEqual([{ kind: 'A', address: CLUSTER_IP }])
  }
}

beforeAll(async () => {
  t = await testApp()
  const post = async (path: string, body: unknown) => expect((await t.json('POST', `${NS}/${path}`, body)).status).toBe(201)
  await post('services', {
    metadata: { name: 'web' },
    spec: { clusterIP: CLUSTER_IP, selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
  })
  await post('services', {
    metadata: { name: 'db' },
    spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ name: 'pg', port: 5432, targetPort: 'pg' }] },
  })
  await post('services', { metadata: { name: 'ext' }, spec: { type: 'ExternalName', externalName: 'www.example.com' } })
  await post('services', { metadata: { name: 'alias' }, spec: { type: 'ExternalName', externalName: 'web.default.svc.cluster.local' } })
  const pod = (name: string, ips: string[], app: string, hostname?: string) => ({
    metadata: { name, labels: { app } },
    spec: {
      ...(hostname ? { hostname, subdomain: app } : {}),
      containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }, { name: 'pg', containerPort: 5433 }] }],
    },
    status: { podIPs: ips.map((ip) => ({ ip })), conditions: [{ type: 'Ready', status: 'True' }] },
  })
  await post('pods', pod('web-1', ['10.1.0.1'], 'web'))
  await post('pods', pod('db-0', ['10.2.0.1', 'fd00::1'], 'db', 'db-0'))
  await post('pods', pod('db-1', ['10.2.0.2'], 'db'))
  await stillAnswers()
})

describe('DoH under random and mutated DNS messages', () => {
  for (const [i, f] of FAMILIES.entries()) {
    it(`${f.family}: ${f.runs} messages, each over GET and POST`, async () => {
      await fc.assert(fc.asyncProperty(f.arb, exchange), { seed: SEED + i, numRuns: f.runs, endOnFailure: false })
      await stillAnswers()
    }, 60_000)
  }

  it('GET with a dns parameter that is not base64url without padding is a 400', async () => {
    const bad = fc.sample(
      fc.oneof(
        fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 40 }).filter((s) => !/^[A-Za-z0-9_-]*$/.test(s)),
        fc.uint8Array({ minLength: 12, maxLength: 40 }).map((b) => Buffer.from(b).toString('base64')).filter((s) => /[+/=]/.test(s)),
        fc.string({ unit: fc.constantFrom(...'ABCDEFabcdef0123456789-_'), minLength: 1, maxLength: 41 }).filter((s) => s.length % 4 === 1),
      ),
      { seed: SEED, numRuns: 300 },
    )
    for (const s of bad) {
      const r = await t.app.request(`/dns-query?dns=${encodeURIComponent(s)}`)
      expect(r.status, s).toBe(400)
    }
    await stillAnswers()
  })

  it('covered every outcome and kept answering', async () => {
    await stillAnswers()
    const total = FAMILIES.reduce((n, f) => n + f.runs, 0)
    console.log(`dns fuzz: ${messages} messages, ${requests} requests; ${JSON.stringify(Object.fromEntries([...stats].sort()))}`)
    expect(messages).toBe(total)
    expect(messages).toBeGreaterThanOrEqual(10_000)
    for (const f of FAMILIES.filter((f) => f.family !== 'over 65,535 octets')) expect(stats.get(`${f.family}|400`), f.family).toBeGreaterThan(0)
    expect(stats.get('over 65,535 octets|413')).toBe(20)
    expect(stats.get('structured queries, some mutated|200')).toBeGreaterThan(500)
    expect(stats.get('compression pointers|200')).toBeGreaterThan(0)
    for (const rcode of [RCODE.NOERROR, RCODE.FORMERR, RCODE.NXDOMAIN, RCODE.NOTIMP, RCODE.REFUSED, RCODE.BADVERS]) {
      expect(stats.get(`rcode ${rcode}`), `RCODE ${rcode}`).toBeGreaterThan(0)
    }
  })
})
