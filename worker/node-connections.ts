/**
 * The Node server's connections (imported by node.ts only), plain HTTP/1.1 or TLS with
 * HTTP/2 and HTTP/1.1: timeouts for request headers, request bodies and idle keep-alive,
 * and a cap on open connections that closes the oldest idle connection to make room for
 * a new one, so idle sockets cannot keep a new client out (Node's own `maxConnections`
 * would refuse the new client instead).
 *
 * A connection is idle while no request on it is in progress: from its opening until its
 * first request's headers arrive, and between requests on a keep-alive connection (HTTP/2:
 * while none of its streams is open). A
 * connection that sends nothing at all is closed after the headers timeout (Node itself
 * only times out requests that have begun).
 */
import { readFileSync } from 'node:fs'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { constants as http2Constants, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse, type Http2Session, type ServerHttp2Stream } from 'node:http2'
import type { Socket } from 'node:net'
import { Server as TLSServer, type TLSSocket } from 'node:tls'

export interface ConnectionLimits {
  /** Open connections at most; at the cap the oldest idle one is closed for a new one. */
  maxConnections: number
  /** A request's headers must arrive within this many milliseconds of its start (and a new connection's first request too). */
  headersTimeoutMs: number
  /** A whole request, body included, must arrive within this many milliseconds. */
  requestTimeoutMs: number
  /** An idle keep-alive connection is closed after this many milliseconds. */
  keepAliveTimeoutMs: number
}

/** File descriptors kept free for the database, the log and the rest of the process. */
export function fdHeadroom(fdLimit: number): number {
  return Math.max(256, Math.ceil(fdLimit / 10))
}

/** The process's soft limit on open files (Linux: /proc/self/limits), or undefined where it cannot be read. */
export function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'))
    return m && m[1] !== 'unlimited' ? Number(m[1]) : undefined
  } catch {
    return undefined
  }
}

/**
 * The connection cap to use: the configured one (0: as many as the file descriptor
 * limit allows), never more than the limit less the headroom. `note` says why when the
 * configured value was lowered.
 */
export function connectionCap(configured: number, fdLimit = openFileLimit()): { cap: number; note?: string } {
  const fallback = 10_000
  const room = fdLimit === undefined ? undefined : Math.max(16, fdLimit - fdHeadroom(fdLimit))
  if (configured === 0) return { cap: room ?? fallback }
  if (room !== undefined && configured > room) {
    return { cap: room, note: `MAX_CONNECTIONS=${configured} lowered to ${room}: the process may open ${fdLimit} files (ulimit -n) and keeps ${fdHeadroom(fdLimit!)} for the database and the rest` }
  }
  return { cap: configured }
}

/** Options for `http.createServer` that carry the timeouts Node checks itself. */
export function serverOptions(limits: ConnectionLimits) {
  return {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    // Node checks those timeouts every this many milliseconds (its default, 30 s, would add up to 30 s to each).
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
  }
}

/**
 * Applies the timeouts and the cap to a server: plain HTTP/1.1 (`http.createServer` with
 * `serverOptions`) or TLS (`http2.createSecureServer` with HTTP/1.1 allowed). Call it
 * before the server starts listening.
 *
 * Over TLS the TCP connection is counted from its first byte: the handshake must end within
 * the headers timeout (the server's `handshakeTimeout`); an HTTP/1.1 connection is then timed
 * by Node as over plain HTTP, and an HTTP/2 connection is idle while it has no open stream:
 * closed (GOAWAY) after the headers timeout before its first stream and after the keep-alive
 * timeout between streams. An HTTP/2 request whose body has not arrived within the request
 * timeout is answered 408 and its stream closed; the connection's other streams go on.
 */
export function limitConnections(server: Server | Http2SecureServer, limits: ConnectionLimits): { open: () => number } {
  // Node's own checks for HTTP/1.1; the TLS server takes them as properties only, read when it starts listening.
  Object.assign(server, serverOptions(limits), { keepAliveTimeout: limits.keepAliveTimeoutMs })
  const overTls = server instanceof TLSServer
  /** Open connections by their addresses, which the TCP socket, the TLS socket and the HTTP/2 session all report. */
  const connections = new Map<string, Connection>()
  /** Idle connections, oldest first (a connection goes to the end each time it becomes idle). */
  const idle = new Set<Connection>()
  const find = (socket: Socket | TLSSocket) => connections.get(addressesOf(socket))
  const begin = (connection: Connection) => {
    connection.requests++
    idle.delete(connection)
  }
  /** Ends one request; true when the connection has become idle. */
  const end = (connection: Connection) => {
    connection.requests--
    if (connection.requests > 0 || connection.socket.destroyed) return false
    idle.add(connection)
    return true
  }

  server.on('connection', (socket: Socket) => {
    const connection: Connection = { socket, key: addressesOf(socket), requests: 0 }
    connections.set(connection.key, connection)
    idle.add(connection)
    // Until its first request arrives; a request in progress is timed by Node (headersTimeout, requestTimeout).
    // Over TLS the handshake timeout covers this until the TLS socket exists ('secureConnection' below).
    if (!overTls) socket.setTimeout(limits.headersTimeoutMs)
    socket.once('close', () => {
      if (connections.get(connection.key) === connection) connections.delete(connection.key)
      idle.delete(connection)
    })
    if (connections.size <= limits.maxConnections) return
    const oldest = idle.values().next().value as Connection | undefined
    if (oldest && oldest !== connection) {
      idle.delete(oldest)
      oldest.socket.destroy()
    } else {
      // Every other connection is in the middle of a request: this one cannot be served now.
      idle.delete(connection)
      socket.destroy()
    }
  })

  // HTTP/1.1 over TLS: Node times the TLS socket (its first request: the headers timeout, as on a plain connection).
  server.on('secureConnection', (socket: TLSSocket) => {
    if (socket.alpnProtocol !== 'h2') socket.setTimeout(limits.headersTimeoutMs)
  })

  // HTTP/2: a connection is busy while any of its streams is open.
  server.on('session', (session: Http2Session) => {
    const connection = session.socket ? find(session.socket) : undefined
    if (!connection) return
    session.on('timeout', () => session.close())
    session.setTimeout(limits.headersTimeoutMs)
    session.on('stream', (stream: ServerHttp2Stream) => {
      begin(connection)
      session.setTimeout(0)
      stream.once('close', () => {
        if (end(connection) && !session.closed) session.setTimeout(limits.keepAliveTimeoutMs)
      })
    })
  })

  server.on('request', (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => {
    if ('stream' in req) return timeRequestBody(req, limits.requestTimeoutMs)
    const socket = req.socket as Socket
    const connection = find(socket)
    if (!connection) return
    begin(connection)
    socket.setTimeout(0)
    res.once('close', () => end(connection))
  })
  return { open: () => connections.size }
}

interface Connection {
  /** The TCP socket (under the TLS socket, if any). */
  socket: Socket
  key: string
  /** Requests (HTTP/2: streams) in progress. */
  requests: number
}

/** A connection's local and remote addresses and ports: the same for its TCP socket, its TLS socket and its HTTP/2 session's socket. */
function addressesOf(socket: Socket): string {
  return `${socket.localAddress}|${socket.localPort}|${socket.remoteAddress}|${socket.remotePort}`
}

/** An HTTP/2 request whose body is still arriving after `ms` is answered 408 and its stream closed. */
function timeRequestBody(req: Http2ServerRequest, ms: number): void {
  const stream = req.stream
  if (stream.endAfterHeaders) return
  const timer = setTimeout(() => {
    if (stream.destroyed || stream.closed || req.complete) return
    if (!stream.headersSent) stream.respond({ ':status': 408 }, { endStream: true })
    stream.close(http2Constants.NGHTTP2_NO_ERROR)
  }, ms)
  const clear = () => clearTimeout(timer)
  req.once('end', clear)
  stream.once('close', clear)
}
