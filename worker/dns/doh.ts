/**
 * DNS-over-HTTPS (RFC 8484) at `/dns-query`, and the JSON form (Google/Cloudflare shape)
 * at `/dns-query` and `/resolve`.
 *
 * Wire: GET with `dns=` (base64url, no padding) or POST with `application/dns-message`;
 * every valid DNS answer is HTTP 200 whatever its RCODE, with the query's ID and
 * `Cache-Control: max-age=` the smallest answer TTL (for a negative answer, the SOA's).
 * A missing or undecodable `dns`, or a garbled message, is a 400; another content type
 * on POST a 415; a body over 65,535 bytes a 413. The answer itself is made as classic DNS
 * makes it (answer.ts): FORMERR for a message with no question or more than one, EDNS(0)
 * understood, and the whole 65,535 octets of a DNS message whatever UDP payload size the
 * query's OPT record states (RFC 8484 §6: DoH servers MUST ignore it; CoreDNS likewise
 * answers DoH as TCP); one that does not fit carries as many whole records as fit, with TC
 * set. The JSON form carries the same records and says `"TC": true`.
 */
import type { Context, Hono } from 'hono'
import type { AppEnv } from '../http/env'
import { decodeBase64url } from '../registry/base64url'
import type { Clock } from '../registry/meta'
import { ALL_NAMESPACES, reaches } from '../registry/tokens'
import { readBody } from '../http/read-body'
import { fqdn, stripTrailingDot, validateQueryName } from './names'
import { Answerer, cacheControl } from './answer'
import { refused, type Resolver } from './resolve'
import { encodedSizeBound } from './size-bound'
import { CLASS_IN, MAX_MESSAGE_OCTETS, OPCODE, TYPE, encodeResponse, presentation, typeFromName, type Message, type ResourceRecord } from './wire'

const DNS_MESSAGE = 'application/dns-message'
const DNS_JSON = 'application/dns-json'

export function mountDoh(app: Hono<AppEnv>, resolver: Resolver, clock: Pick<Clock, 'now'>): void {
  const answerer = new Answerer(resolver, clock)
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
    return answerWire(c, answerer, bytes)
  }
  const post = async (c: Context<AppEnv>) => {
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
    if (type !== DNS_MESSAGE) return dohError(c, 415, `POST bodies must be ${DNS_MESSAGE}`)
    const bytes = await readBody(c, MAX_MESSAGE_OCTETS)
    if (!bytes) return dohError(c, 413, 'the DNS message is larger than 65,535 bytes')
    return answerWire(c, answerer, bytes)
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

async function answerWire(c: Context<AppEnv>, answerer: Answerer, bytes: Uint8Array): Promise<Response> {
  const p = c.get('principal')
  const scope = p.namespaces === ALL_NAMESPACES ? '*' : p.namespaces.join(',')
  const answered = await answerer.answer(bytes, { key: scope, reach: reach(c) }, 'doh')
  if ('malformed' in answered) return dohError(c, 400, `malformed DNS message: ${answered.malformed}`)
  c.header('Cache-Control', answered.cacheControl)
  return c.body(answered.bytes as Uint8Array<ArrayBuffer>, 200, { 'Content-Type': DNS_MESSAGE })
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

function dohError(c: Context, status: 400 | 405 | 413 | 415, message: string): Response {
  return c.text(`${message}\n`, status)
}

function jsonError(c: Context, message: string): Response {
  return c.body(JSON.stringify({ error: message }), 400, { 'Content-Type': 'application/json' })
}
