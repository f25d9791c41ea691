/**
 * Classic DNS for the Node server (imported by node.ts only): UDP and TCP on one port,
 * answered by the same `Answerer` as DNS-over-HTTPS (answer.ts), so both transports give the
 * same records; only the size bound differs (UDP: 512 octets, or the query's EDNS(0) payload
 * size up to 1232; TCP: 65,535), with TC set on an answer that did not fit.
 *
 * UDP: one datagram, one answer. A datagram shorter than a DNS header, or one with the QR bit
 * set (a response, not a query), is dropped unanswered, so that two servers cannot bounce
 * errors at each other; any other that does not decode gets FORMERR (a bare header with the
 * query's ID).
 *
 * UDP queries are limited per source address with the token buckets of the HTTP rate limits
 * (http/rate-limit.ts): UDP source addresses can be forged, so an unlimited server would
 * reflect amplified answers at whoever a flood names. A query past its address's limit
 * "slips" as BIND's response-rate limiting does: every other one gets an empty answer with
 * TC set (no larger than the query; a real client asks again over TCP), the rest are dropped.
 * TCP cannot be forged and is not limited.
 *
 * TCP (RFC 1035 §4.2.2, RFC 7766): each message is preceded by its length in two octets; a
 * connection may carry many queries, several in flight at once (at most `MAX_PIPELINED`; the
 * connection is not read further until one is answered, nor while the client leaves answers
 * unread beyond the socket's buffer), each answered as soon as it is
 * ready, so answers may come out of order (RFC 7766 §6.2.1.1; clients match them by ID). A
 * connection with no query in flight and no traffic for `idleTimeoutMs` is closed, and so is
 * one whose message has not arrived whole within that time of its first octet (each message
 * measured on its own, however the client's writes split them); so is one
 * that sends a message shorter than a DNS header or a response. At most `MAX_TCP_CONNECTIONS`
 * are open at once; more are refused (closed at once) until one ends. A client that closes its
 * side after its queries still gets their answers.
 *
 * An answer that fails (the database unreachable, say) is SERVFAIL, and the failure is reported
 * through `onError`; nothing a client sends stops the listeners.
 */
import { createSocket } from 'node:dgram'
import { createServer, isIPv6, type Server, type Socket } from 'node:net'
import { TokenBuckets, type BucketRate } from '../http/rate-limit'
import { Counter, type Collector } from '../http/metrics'
import type { Answerer, Scope, Transport } from './answer'
import { HEADER_OCTETS, RCODE } from './wire'

/** TCP connections open at once, at most. */
export const MAX_TCP_CONNECTIONS = 256
/** Queries of one TCP connection in flight at once, at most. */
export const MAX_PIPELINED = 32

export interface ClassicDnsOptions {
  host: string
  port: number
  /** Awaited by each query: the listeners may be bound before the database is open. */
  answerer: Answerer | Promise<Answerer>
  /** Whose queries these are: classic DNS carries no token, so the scope of a caller without one. */
  scope: Scope
  /** A TCP connection idle this long is closed. */
  idleTimeoutMs: number
  /** UDP queries per source address (absent: not limited). */
  udpRate?: BucketRate
  /** Counted here as queries are answered or limited (absent: not counted). */
  metrics?: ClassicDnsMetrics
  /** An answer that failed (it was sent as SERVFAIL), or a listener's error after start. */
  onError: (e: unknown) => void
}

export interface ClassicDns {
  host: string
  port: number
  /** Stops both listeners and closes every open TCP connection. */
  close: () => Promise<void>
}

/** Classic DNS's counters for /metrics; `collector` reads them at scrape time. */
export interface ClassicDnsMetrics {
  /** Queries answered, by `transport` (udp, tcp) and `rcode` (its name, or its number when it has none here). */
  queries: Counter
  /** UDP queries past their address's rate limit, by `action`: `slip` (an empty answer with TC) or `drop`. */
  rateLimited: Counter
  collector: Collector
}

export function classicDnsMetrics(): ClassicDnsMetrics {
  const queries = new Counter('switchboard_dns_queries_total', 'Classic DNS queries answered, by transport (udp, tcp) and response code.')
  const rateLimited = new Counter('switchboard_dns_udp_rate_limited_total', 'Classic DNS queries over UDP past their source address rate limit: slip (an empty answer with TC) or drop.')
  return { queries, rateLimited, collector: () => [queries.family(), rateLimited.family()] }
}

const RCODE_NAMES = new Map<number, string>(Object.entries(RCODE).map(([name, code]) => [code, name]))

/** Listens on UDP and TCP `host:port`; resolves once both are bound, rejects if either cannot be. */
export async function listenClassicDns(o: ClassicDnsOptions): Promise<ClassicDns> {
  const respond = async (query: Uint8Array, transport: Transport): Promise<Uint8Array> => {
    let reply: Uint8Array
    try {
      const answered = await (await o.answerer).answer(query, o.scope, transport)
      reply = 'malformed' in answered ? bareReply(query, RCODE.FORMERR) : answered.bytes
    } catch (e) {
      o.onError(e)
      reply = bareReply(query, RCODE.SERVFAIL)
    }
    const rcode = reply[3]! & 0x0f
    o.metrics?.queries.inc({ transport, rcode: RCODE_NAMES.get(rcode) ?? String(rcode) })
    return reply
  }
  const udp = createSocket({ type: isIPv6(o.host) ? 'udp6' : 'udp4' })
  let udpOpen = true
  const buckets = o.udpRate && o.udpRate.perSecond > 0 ? new TokenBuckets(o.udpRate, Date.now) : null
  let slip = false
  udp.on('message', (datagram, from) => {
    if (!isQuery(datagram)) return
    if (buckets && buckets.take(from.address) > 0) {
      slip = !slip
      o.metrics?.rateLimited.inc({ action: slip ? 'slip' : 'drop' })
      if (slip) udp.send(truncatedReply(datagram), from.port, from.address)
      return
    }
    void respond(copy(datagram), 'udp').then((answer) => {
      if (udpOpen) udp.send(answer, from.port, from.address)
    })
  })

  const sockets = new Set<Socket>()
  const tcp: Server = createServer({ allowHalfOpen: true, noDelay: true }, (socket) => serveConnection(socket, respond, o.idleTimeoutMs, sockets))
  tcp.maxConnections = MAX_TCP_CONNECTIONS

  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject)
    udp.bind({ port: o.port, address: o.host, exclusive: true }, () => {
      udp.off('error', reject)
      resolve()
    })
  })
  try {
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject)
      tcp.listen({ port: o.port, host: o.host, ipv6Only: false }, () => {
        tcp.off('error', reject)
        resolve()
      })
    })
  } catch (e) {
    udp.close()
    throw e
  }
  udp.on('error', o.onError)
  tcp.on('error', o.onError)
  return {
    host: o.host,
    port: o.port,
    close: () =>
      new Promise<void>((resolve) => {
        udpOpen = false
        udp.close()
        for (const s of sockets) s.destroy()
        tcp.close(() => resolve())
      }),
  }
}

function serveConnection(socket: Socket, respond: (q: Uint8Array, t: Transport) => Promise<Uint8Array>, idleTimeoutMs: number, sockets: Set<Socket>): void {
  sockets.add(socket)
  socket.on('close', () => sockets.delete(socket))
  socket.on('error', () => socket.destroy())
  let pending: Buffer = Buffer.alloc(0)
  let inFlight = 0
  let ended = false
  socket.setTimeout(idleTimeoutMs, () => {
    if (inFlight === 0) socket.destroy()
  })
  // Each message must arrive whole within the idle timeout of its first octet (or of reading
  // resuming, when the connection was paused), however slowly its octets trickle in. Offsets count octets from the connection's first: `received` so far,
  // `consumed` (served, the start of `pending`), and `boundary`, where the message still
  // arriving begins, which `partial` times from `timedFrom`.
  let received = 0
  let consumed = 0
  let boundary = 0
  let timedFrom = -1
  let partial: NodeJS.Timeout | undefined
  socket.on('close', () => clearTimeout(partial))
  const stopTimer = () => {
    clearTimeout(partial)
    partial = undefined
    timedFrom = -1
  }
  const timeMessages = () => {
    while (received - boundary >= 2) {
      const length = pending.readUInt16BE(boundary - consumed)
      if (received - boundary < 2 + length) break
      boundary += 2 + length
    }
    if (boundary === received) stopTimer()
    else if (timedFrom !== boundary) {
      clearTimeout(partial)
      partial = setTimeout(() => socket.destroy(), idleTimeoutMs)
      timedFrom = boundary
    }
  }
  /**
   * Starts the queries that have arrived whole, while fewer than MAX_PIPELINED are in flight
   * and the client reads its answers (the write buffer has drained); reads on only then.
   */
  const serve = () => {
    while (inFlight < MAX_PIPELINED && !socket.writableNeedDrain && pending.length >= 2) {
      const length = pending.readUInt16BE(0)
      if (pending.length < 2 + length) break
      const message = copy(pending.subarray(2, 2 + length))
      pending = pending.subarray(2 + length)
      consumed += 2 + length
      if (!isQuery(message)) {
        socket.destroy()
        return
      }
      inFlight++
      void respond(message, 'tcp').then((answer) => {
        inFlight--
        if (socket.destroyed) return
        const framed = Buffer.allocUnsafe(2 + answer.length)
        framed.writeUInt16BE(answer.length, 0)
        framed.set(answer, 2)
        socket.write(framed)
        serve()
      })
    }
    const blocked = inFlight >= MAX_PIPELINED || socket.writableNeedDrain
    if (blocked && !socket.isPaused()) {
      // Not read while paused: the message arriving is timed afresh once reading resumes.
      socket.pause()
      stopTimer()
    } else if (!blocked && socket.isPaused()) {
      socket.resume()
      timeMessages()
    }
    if (ended && inFlight === 0 && !socket.destroyed) socket.end()
  }
  socket.on('drain', serve)
  socket.on('end', () => {
    ended = true
    serve()
  })
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk
    received += chunk.length
    timeMessages()
    serve()
  })
}

/** Long enough for a header, and not a response. */
function isQuery(message: Uint8Array): boolean {
  return message.length >= HEADER_OCTETS && (message[2]! & 0x80) === 0
}

/** The octets as a plain Uint8Array of their own (a Buffer's `slice` would share memory with it). */
function copy(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes)
}

/**
 * An empty answer with TC set, for a UDP query past its rate limit: the query's header and
 * first question, no records (so never larger than the query); a bare header with TC when the
 * question cannot be found.
 */
function truncatedReply(query: Uint8Array): Uint8Array {
  let end = HEADER_OCTETS
  const questions = (query[4]! << 8) | query[5]!
  if (questions >= 1) {
    while (end < query.length && query[end]! !== 0 && (query[end]! & 0xc0) === 0) end += 1 + query[end]!
    end += end < query.length && (query[end]! & 0xc0) === 0xc0 ? 2 : 1
    end += 4
  }
  const withQuestion = questions >= 1 && end <= query.length
  const reply = bareReply(query, RCODE.NOERROR)
  reply[2] = reply[2]! | 0x02
  if (!withQuestion) return reply
  const out = new Uint8Array(end)
  out.set(query.subarray(0, end))
  out.set(reply.subarray(0, 4))
  out.fill(0, 4, HEADER_OCTETS)
  out[5] = 1
  return out
}

/** A header-only reply: the query's ID, opcode and RD, with `rcode`. */
function bareReply(query: Uint8Array, rcode: number): Uint8Array {
  const reply = new Uint8Array(HEADER_OCTETS)
  reply[0] = query[0]!
  reply[1] = query[1]!
  reply[2] = 0x80 | (query[2]! & 0x79)
  reply[3] = rcode
  return reply
}
