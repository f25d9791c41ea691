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
 * TCP (RFC 1035 §4.2.2, RFC 7766): each message is preceded by its length in two octets; a
 * connection may carry many queries, several in flight at once (at most `MAX_PIPELINED`; the
 * connection is not read further until one is answered, nor while the client leaves answers
 * unread beyond the socket's buffer), each answered as soon as it is
 * ready, so answers may come out of order (RFC 7766 §6.2.1.1; clients match them by ID). A
 * connection with no query in flight and no traffic for `idleTimeoutMs` is closed, and so is
 * one whose message, once begun, has not arrived whole within that time; so is one
 * that sends a message shorter than a DNS header or a response. At most `MAX_TCP_CONNECTIONS`
 * are open at once; more are refused (closed at once) until one ends. A client that closes its
 * side after its queries still gets their answers.
 *
 * An answer that fails (the database unreachable, say) is SERVFAIL, and the failure is reported
 * through `onError`; nothing a client sends stops the listeners.
 */
import { createSocket } from 'node:dgram'
import { createServer, isIPv6, type Server, type Socket } from 'node:net'
import type { Answerer, Scope, Transport } from './answer'
import { HEADER_OCTETS, RCODE } from './wire'

/** TCP connections open at once, at most. */
export const MAX_TCP_CONNECTIONS = 256
/** Queries of one TCP connection in flight at once, at most. */
export const MAX_PIPELINED = 32

export interface ClassicDnsOptions {
  host: string
  port: number
  answerer: Answerer
  /** Whose queries these are: classic DNS carries no token, so the scope of a caller without one. */
  scope: Scope
  /** A TCP connection idle this long is closed. */
  idleTimeoutMs: number
  /** An answer that failed (it was sent as SERVFAIL), or a listener's error after start. */
  onError: (e: unknown) => void
}

export interface ClassicDns {
  host: string
  port: number
  /** Stops both listeners and closes every open TCP connection. */
  close: () => Promise<void>
}

/** Listens on UDP and TCP `host:port`; resolves once both are bound, rejects if either cannot be. */
export async function listenClassicDns(o: ClassicDnsOptions): Promise<ClassicDns> {
  const respond = async (query: Uint8Array, transport: Transport): Promise<Uint8Array> => {
    try {
      const answered = await o.answerer.answer(query, o.scope, transport)
      return 'malformed' in answered ? bareReply(query, RCODE.FORMERR) : answered.bytes
    } catch (e) {
      o.onError(e)
      return bareReply(query, RCODE.SERVFAIL)
    }
  }
  const udp = createSocket({ type: isIPv6(o.host) ? 'udp6' : 'udp4' })
  let udpOpen = true
  udp.on('message', (datagram, from) => {
    if (!isQuery(datagram)) return
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
  // A message begun must arrive whole within the idle timeout too, however slowly its octets trickle in.
  let partial: NodeJS.Timeout | undefined
  socket.on('close', () => clearTimeout(partial))
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
    const incomplete = pending.length > 0 && (pending.length < 2 || pending.length < 2 + pending.readUInt16BE(0))
    if (incomplete && !partial) partial = setTimeout(() => socket.destroy(), idleTimeoutMs)
    else if (!incomplete && partial) {
      clearTimeout(partial)
      partial = undefined
    }
    const blocked = inFlight >= MAX_PIPELINED || socket.writableNeedDrain
    if (blocked && !socket.isPaused()) socket.pause()
    else if (!blocked && socket.isPaused()) socket.resume()
    if (ended && inFlight === 0 && !socket.destroyed) socket.end()
  }
  socket.on('drain', serve)
  socket.on('end', () => {
    ended = true
    serve()
  })
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk
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

/** A header-only reply: the query's ID, opcode and RD, with `rcode`. */
function bareReply(query: Uint8Array, rcode: number): Uint8Array {
  const reply = new Uint8Array(HEADER_OCTETS)
  reply[0] = query[0]!
  reply[1] = query[1]!
  reply[2] = 0x80 | (query[2]! & 0x79)
  reply[3] = rcode
  return reply
}
