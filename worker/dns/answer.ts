/**
 * One DNS query, given as its wire octets, answered as wire octets: the one implementation
 * behind every transport the registry answers DNS on, DNS-over-HTTPS (doh.ts) and classic DNS
 * over UDP and TCP (classic-server.ts, Node only).
 *
 * A message with no question or more than one, or more than one OPT record, gets FORMERR;
 * another opcode NOTIMP; an EDNS version above 0 BADVERS; a class other than IN, and zone
 * transfers, REFUSED. EDNS(0) is understood: an answer to a query with an OPT record carries
 * one stating our UDP payload size (`EDNS_SIZE`).
 *
 * How big an answer may be depends on the transport. Over DoH and TCP it may take the whole
 * 65,535 octets of a DNS message (RFC 8484 §6: DoH ignores the UDP payload size of the query;
 * RFC 1035 §4.2.2 framing carries up to 65,535 octets). Over UDP it takes at most 512 octets
 * (RFC 1035 §4.2.1), or the payload size the query's OPT record states, bounded to
 * [512, `EDNS_SIZE`] (RFC 6891 §6.2.5; 1232 is the size DNS Flag Day 2020 settled on, which
 * fits an IPv6 minimum MTU without fragments). An answer that does not fit carries as many
 * whole records as fit, additional records given up first, with TC set (wire.ts
 * `encodeResponse`, the one truncation rule), and the client asks again over TCP.
 *
 * Encoded answers are kept by query (without its ID), transport and caller's scope, so that a
 * repeated query costs neither decoding, resolving nor encoding (`AnswerCache`).
 */
import type { Clock } from '../registry/meta'
import type { Inputs } from '../registry/discovery-cache'
import { refused, type Resolver } from './resolve'
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
  type Message,
  type ResourceRecord,
} from './wire'

/** The UDP payload size this server states in its OPT record, and the most it sends over UDP. */
export const EDNS_SIZE = 1232
/** A UDP answer's size without EDNS(0) (RFC 1035 §4.2.1), and the least an OPT record may state. */
export const CLASSIC_UDP_OCTETS = 512

/** How the query came: over UDP answers are bounded by its payload size; over DoH and TCP they may take 65,535 octets. */
export type Transport = 'doh' | 'udp' | 'tcp'

/** Whose query it is: `key` names the scope in the answer cache; `reach` hides namespaces; `refuse` answers REFUSED to every question. */
export interface Scope {
  key: string
  reach?: ((namespace: string) => boolean) | undefined
  refuse?: boolean
}

export type Answered = { bytes: Uint8Array; cacheControl: string } | { malformed: string }

/** The octets an answer to `query` may take over `transport`. */
export function answerLimit(query: Message, transport: Transport): number {
  if (transport !== 'udp') return MAX_MESSAGE_OCTETS
  const opt = query.additionals.find((r) => r.type === TYPE.OPT)
  if (!opt || opt.data.kind !== 'OPT') return CLASSIC_UDP_OCTETS
  return Math.min(Math.max(opt.data.udpSize, CLASSIC_UDP_OCTETS), EDNS_SIZE)
}

/**
 * Encoded answers by query (without its ID), transport and scope. Each answer records the
 * discovery cache entries it was built from (`Inputs`) and is served only while they are all
 * still current: an event of the change feed that drops one of them drops the answer with
 * it, and an answer that read the zone serial goes with the next event. An answer is also
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

  key(scope: string, query: Uint8Array): string {
    let s = `${scope}|`
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

/** Answers DNS queries given as wire octets, over any transport, from one resolver and one answer cache. */
export class Answerer {
  private readonly cache: AnswerCache

  constructor(
    private readonly resolver: Resolver,
    clock: Pick<Clock, 'now'>,
  ) {
    this.cache = new AnswerCache(resolver, clock)
  }

  /** The answer to `bytes`, or why they are not a DNS message (`malformed`). The answer carries the query's ID. */
  async answer(bytes: Uint8Array, scope: Scope, transport: Transport): Promise<Answered> {
    // DoH and TCP answers are alike (65,535 octets); UDP answers are cached apart.
    const key = bytes.length >= 12 ? this.cache.key(`${transport === 'udp' ? 'udp' : 'stream'}|${scope.refuse ? 'refused' : scope.key}`, bytes) : null
    const hit = key ? await this.cache.get(key, (bytes[0]! << 8) | bytes[1]!) : null
    if (hit) return hit
    let query: Message
    try {
      query = decodeMessage(bytes)
    } catch (e) {
      if (e instanceof WireError) return { malformed: e.message }
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
        scope.refuse || q.class !== CLASS_IN || q.type === TYPE.AXFR || q.type === TYPE.IXFR
          ? refused()
          : await this.resolver.resolve(q.name, q.type, scope.reach, inputs)
      reply.header.rcode = answer.rcode
      reply.header.aa = answer.authoritative
      reply.answers = answer.answers
      reply.authorities = answer.authorities
      reply.additionals = answer.additionals
    }
    if (opt) reply.additionals = [...reply.additionals, optRecord({ udpSize: EDNS_SIZE, extendedRcode })]
    const { bytes: encoded, message } = encodeResponse(reply, answerLimit(query, transport))
    const control = cacheControl(message)
    if (key) this.cache.set(key, encoded, control, inputs)
    return { bytes: encoded.slice(), cacheControl: control }
  }
}

/** max-age: the smallest answer TTL; for a negative answer, no more than the SOA minimum. */
export function cacheControl(m: { answers: ResourceRecord[]; authorities: ResourceRecord[] }): string {
  if (m.answers.length) return `max-age=${Math.min(...m.answers.map((r) => r.ttl))}`
  const soa = m.authorities.find((r) => r.data.kind === 'SOA')
  if (soa && soa.data.kind === 'SOA') return `max-age=${Math.min(soa.ttl, soa.data.minimum)}`
  return 'max-age=0'
}
