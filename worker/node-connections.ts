/**
 * The Node server's connections (imported by node.ts only): timeouts for request headers,
 * request bodies and idle keep-alive, and a cap on open connections that closes the
 * oldest idle connection to make room for a new one, so idle sockets cannot keep a new
 * client out (Node's own `maxConnections` would refuse the new client instead).
 *
 * A connection is idle while no request on it is in progress: from its opening until its
 * first request's headers arrive, and between requests on a keep-alive connection. A
 * connection that sends nothing at all is closed after the headers timeout (Node itself
 * only times out requests that have begun).
 */
import { readFileSync } from 'node:fs'
import type { Server } from 'node:http'
import type { Socket } from 'node:net'

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

/** Applies the keep-alive timeout and the cap to a server created with `serverOptions`. */
export function limitConnections(server: Server, limits: ConnectionLimits): { open: () => number } {
  server.keepAliveTimeout = limits.keepAliveTimeoutMs
  let open = 0
  /** Idle connections, oldest first (a connection goes to the end each time it becomes idle). */
  const idle = new Set<Socket>()
  const busy = new WeakMap<Socket, number>()

  server.on('connection', (socket: Socket) => {
    open++
    idle.add(socket)
    // Until its first request arrives; a request in progress is timed by Node (headersTimeout, requestTimeout).
    socket.setTimeout(limits.headersTimeoutMs)
    socket.once('close', () => {
      open--
      idle.delete(socket)
    })
    if (open <= limits.maxConnections) return
    const oldest = idle.values().next().value as Socket | undefined
    if (oldest && oldest !== socket) {
      idle.delete(oldest)
      oldest.destroy()
    } else {
      // Every other connection is in the middle of a request: this one cannot be served now.
      idle.delete(socket)
      socket.destroy()
    }
  })

  server.on('request', (req, res) => {
    const socket = req.socket as Socket
    busy.set(socket, (busy.get(socket) ?? 0) + 1)
    idle.delete(socket)
    socket.setTimeout(0)
    res.once('close', () => {
      const left = (busy.get(socket) ?? 1) - 1
      busy.set(socket, left)
      if (left === 0 && !socket.destroyed) idle.add(socket)
    })
  })
  return { open: () => open }
}
