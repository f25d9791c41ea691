/**
 * DNS-over-HTTPS (RFC 8484) at `/dns-query`, and the JSON form (Google/Cloudflare shape)
 * at `/dns-query` and `/resolve`.
 *
 * Wire: GET with `dns=` (base64url, no padding) or POST with `application/dns-message`;
 * every valid DNS answer is HTTP 200 whatever its RCODE, with the query's ID and
 * `Cache-Control: max-age=` the smallest answer TTL (for a negative answer, the SOA's).
 * A missing or undecodable `dns`, or a garbled message, is a 400; another content type
 * on POST a 415; a body over 65,535 bytes a 413. A message with no question or more
 * than one gets FORMERR; EDNS(0) is understood. An answer may take the whole 65,535 octets
 * of a DNS message whatever UDP payload size the query's OPT record states (RFC 8484 §6: DoH
 * servers MUST ignore it; CoreDNS likewise answers DoH as TCP); one that does not fit carries
 * as many whole records as fit, additional records given up first, with TC set (see
 * `encodeResponse`). The JSON form carries the same records and says `"TC": true`.
 */
import type { Context, Hono } from 'hono'
import type { AppEnv } from '../http/env'
import { decodeBase64url } from '../registry/base64url'
import type { Clock } from '../registry/meta'
import type { Inputs } from '../registry/discovery-cache'
import { ALL_NAMESPACES, reaches } from '../registry/tokens'
import { readBody } from '../http/read-body'
import { fqdn, stripTrailingDot, validateQueryName } from './names'
import { refused, type Resolver } from './resolve'
import { encodedSizeBound } from './size-bound'
import {
  CLASS_IN,
  MAX_MESSAGE_OCTETS,
  OPCODE,
  RCODE,
  TYPE,
  WireError,
  decodeMessage,
  encodeResponse,
  optRecord,
  presentation,
  typeFromName,
  type Message,
  type ResourceRecord,
} from './wire'

const DNS_MESSAGE = 'application/dns-message'
const DNS_JSON = 'application/dns-json'
/** The UDP payload size this server states in its OPT record. */
const EDNS_SIZE = 1232

/**
 * Encoded answers by query (without its ID) and caller's reach, so that a repeated query
 * costs neither decoding, resolving nor encoding. Each answer records the discovery
 * cache entries it was built from (`Inputs`) and is served only while they are all still
 * current: an event of the change feed that drops one of them drops the answer with it,
 * and an answer that read the zone serial goes with the next event. An answer is also
 * kept for at most a second of the app's injected clock.
 */
class AnswerCache {
  private readonly entries = new Map<string, { bytes: Uint8Array; cacheControl: string; expires: number; inputs: Inputs }>()
  static readonly MAX_AGE_MS = 1000
  static readonly MAX_ENTRIES = 10_000

  constructor(
    private readonly resolver: Resolver,
    private readonly clock: Pick<Clock, 'now'>,
  ) {}

  key(reach: string, query: Uint8Array): string {
    let s = `${reach}|`
    for (let i = 2; i < query.length; i++) s += String.fromCharCode(query[i]!)
    return s
  }

  async get(key: string, id: number): Promise<{ bytes: Uint8Array; cacheControl: string } | null> {
    const hit = this.entries.get(key)
    if (!hit) return null
    await this.resolver.sync()
    if (hit.expires <= this.clock.now().getTime() || !this.resolver.current(hit.inputs)) {
      if (this.entries.get(key) === hit) this.entries.delete(key)
      return null
    }
    const bytes = hit.bytes.slice()
    bytes[0] = id >> 8
    bytes[1] = id & 0xff
    return { bytes, cacheControl: hit.cacheControl }
  }

  set(key: string, bytes: Uint8Array, cacheControl: string, inputs: Inputs): void {
    const maxAge = Number(/max-age=(\d+)/.exec(cacheControl)?.[1] ?? 0)
    if (maxAge <= 0) return
    if (this.entries.size >= AnswerCache.MAX_ENTRIES) this.entries.clear()
    const expires = this.clock.now().getTime() + Math.min(maxAge * 1000, AnswerCache.MAX_AGE_MS)
    this.entries.set(key, { bytes, cacheControl, expires, inputs })
  }
}

export function mountDoh(app: Hono<AppEnv>, resolver: Resolver, clock: Pick<Clock, 'now'>): void {
  const cache = new AnswerCache(resolver, clock)
  const json = (c: Context<AppEnv>) => answerJson(c, resolver)
  const wire = async (c: Context<AppEnv>) => {
    const wantsJson =
      c.req.query('dns') === undefined &&
      (c.req.query('name') !== undefined || c.req.query('ct') === DNS_JSON || (c.req.header('accept') ?? '').includes(DNS_JSON))
    if (wantsJson) return json(c)
    const param = c.req.query('dns')
    if (param === undefined) return dohError(c, 400, 'missing the "dns" query parameter')
    const bytes = decodeBase64url(param)
    if (!bytes) return dohError(c, 400, 'the "dns" parameter is not base64url without padding')
    if (bytes.length > MAX_MESSAGE_OCTETS) return dohError(c, 413, 'the DNS message is larger than 65,535 bytes')
    return answerWire(c, resolver, bytes, cache)
  }
  const post = async (c: Context<AppEnv>) => {
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
    if (type !== DNS_MESSAGE) return dohError(c, 415, `POST bodies must be ${DNS_MESSAGE}`)
    const bytes = await readBody(c, MAX_MESSAGE_OCTETS)
    if (!bytes) return dohError(c, 413, 'the DNS message is larger than 65,535 bytes')
    return answerWire(c, resolver, bytes, cache)
  }
  // `/dns-query/<token>` is the same endpoint, for DoH clients that cannot send headers.
  for (const path of ['/dns-query', '/dns-query/:token']) {
    app.get(path, wire)
    app.post(path, post)
  }
  app.get('/resolve', json)
  for (const path of ['/dns-query', '/dns-query/:token', '/resolve']) {
    app.all(path, (c) => {
      c.header('Allow', path === '/resolve' ? 'GET' : 'GET, POST')
      return dohError(c, 405, `${c.req.method} is not allowed here`)
    })
  }
}

/** Names in namespaces the caller does not reach answer as if they did not exist. */
function reach(c: Context<AppEnv>): ((namespace: string) => boolean) | undefined {
  const p = c.get('principal')
  return p.namespaces === ALL_NAMESPACES ? undefined : (ns: string) => reaches(p, ns)
}

async function answerWire(c: Context<AppEnv>, resolver: Resolver, bytes: Uint8Array, cache: AnswerCache): Promise<Response> {
  const p = c.get('principal')
  const key = bytes.length >= 12 ? cache.key(p.namespaces === ALL_NAMESPACES ? '*' : p.namespaces.join(','), bytes) : null
  const hit = key ? await cache.get(key, (bytes[0]! << 8) | bytes[1]!) : null
  if (hit) {
    c.header('Cache-Control', hit.cacheControl)
    return c.body(hit.bytes as Uint8Array<ArrayBuffer>, 200, { 'Content-Type': DNS_MESSAGE })
  }
  let query: Message
  try {
    query = decodeMessage(bytes)
  } catch (e) {
    if (e instanceof WireError) return dohError(c, 400, `malformed DNS message: ${e.message}`)
    throw e
  }
  const opt = query.additionals.find((r) => r.type === TYPE.OPT)
  const reply: Message = {
    header: { ...query.header, qr: true, aa: false, tc: false, ra: false, ad: false, rcode: RCODE.NOERROR },
    questions: query.questions,
    answers: [],
    authorities: [],
    additionals: [],
  }
  const inputs: Inputs = new Map()
  let extendedRcode = 0
  const optCount = query.additionals.filter((r) => r.type === TYPE.OPT).length
  if (query.header.qr || query.questions.length !== 1 || optCount > 1) {
    reply.header.rcode = RCODE.FORMERR
  } else if (query.header.opcode !== OPCODE.QUERY) {
    reply.header.rcode = RCODE.NOTIMP
  } else if (opt && opt.data.kind === 'OPT' && opt.data.version > 0) {
    extendedRcode = 1 // BADVERS (16): the upper bits go in the OPT record
  } else {
    const q = query.questions[0]!
    const answer =
      q.class !== CLASS_IN ? refused() : q.type === TYPE.AXFR || q.type === TYPE.IXFR ? refused() : await resolver.resolve(q.name, q.type, reach(c), inputs)
    reply.header.rcode = answer.rcode
    reply.header.aa = answer.authoritative
    reply.answers = answer.answers
    reply.authorities = answer.authorities
    reply.additionals = answer.additionals
  }
  if (opt) reply.additionals = [...reply.additionals, optRecord({ udpSize: EDNS_SIZE, extendedRcode })]
  const { bytes: encoded, message } = encodeResponse(reply)
  const control = cacheControl(message)
  if (key) cache.set(key, encoded, control, inputs)
  c.header('Cache-Control', control)
  return c.body(encoded.slice() as Uint8Array<ArrayBuffer>, 200, { 'Content-Type': DNS_MESSAGE })
}

async function answerJson(c: Context<AppEnv>, resolver: Resolver): Promise<Response> {
  const name = c.req.query('name')
  if (name === undefined || name === '') return jsonError(c, 'missing the "name" parameter')
  const problem = validateQueryName(name)
  if (problem) return jsonError(c, `invalid name: ${problem}`)
  const typeParam = c.req.query('type') ?? 'A'
  const type = /^\d+$/.test(typeParam) ? Number(typeParam) : typeFromName(typeParam)
  if (type === null || !Number.isInteger(type) || type < 1 || type > 65535) return jsonError(c, `invalid type "${typeParam}"`)
  for (const flag of ['cd', 'do'] as const) {
    const v = c.req.query(flag)
    if (v !== undefined && !['', '0', '1', 'false', 'true'].includes(v)) {
      return jsonError(c, `invalid ${flag} flag "${v}": expected empty or one of 0, false, 1, true`)
    }
  }
  const answer = type === TYPE.AXFR || type === TYPE.IXFR ? refused() : await resolver.resolve(name, type, reach(c))
  const cd = ['1', 'true'].includes(c.req.query('cd') ?? '')
  // The records the wire form of the same question (without EDNS) carries: truncated alike, with TC.
  // An answer whose size bound fits is carried whole without encoding it.
  const reply: Message = {
    header: { id: 0, qr: true, opcode: OPCODE.QUERY, aa: answer.authoritative, tc: false, rd: true, ra: false, ad: false, cd, rcode: answer.rcode },
    questions: [{ name: stripTrailingDot(name), type, class: CLASS_IN }],
    answers: answer.answers,
    authorities: answer.authorities,
    additionals: answer.additionals,
  }
  const message = encodedSizeBound(reply) <= MAX_MESSAGE_OCTETS ? reply : encodeResponse(reply).message
  const body = {
    Status: answer.rcode,
    TC: message.header.tc,
    RD: true,
    RA: false,
    AD: false,
    CD: cd,
    Question: [{ name: fqdn(name), type }],
    ...(message.answers.length ? { Answer: message.answers.map(jsonRecord) } : {}),
    ...(message.authorities.length ? { Authority: message.authorities.map(jsonRecord) } : {}),
    ...(message.additionals.length ? { Additional: message.additionals.map(jsonRecord) } : {}),
  }
  c.header('Cache-Control', cacheControl(message))
  return c.body(JSON.stringify(body), 200, { 'Content-Type': `${DNS_JSON}; charset=utf-8` })
}

function jsonRecord(rr: ResourceRecord) {
  return { name: fqdn(rr.name), type: rr.type, TTL: rr.ttl, data: presentation(rr) }
}

/** max-age: the smallest answer TTL; for a negative answer, no more than the SOA minimum. */
function cacheControl(m: { answers: ResourceRecord[]; authorities: ResourceRecord[] }): string {
  if (m.answers.length) return `max-age=${Math.min(...m.answers.map((r) => r.ttl))}`
  const soa = m.authorities.find((r) => r.data.kind === 'SOA')
  if (soa && soa.data.kind === 'SOA') return `max-age=${Math.min(soa.ttl, soa.data.minimum)}`
  return 'max-age=0'
}

function dohError(c: Context, status: 400 | 405 | 413 | 415, message: string): Response {
  return c.text(`${message}\n`, status)
}

function jsonError(c: Context, message: string): Response {
  return c.body(JSON.stringify({ error: message }), 400, { 'Content-Type': 'application/json' })
}
