/**
 * The Node server's connections, against the real server (`npm start`): with 20,000
 * idle connections open a new client still gets `/healthz` at once (the oldest idle
 * connections are closed to make room), and slow or silent clients are cut off by the
 * headers, request and keep-alive timeouts.
 */
import { spawn } from 'node:child_process'
import { connect, type Socket } from 'node:net'
import { describe, expect, it } from 'vitest'
import { connectionCap, fdHeadroom, openFileLimit } from '../../worker/node-connections'
import { E2E_TOKEN } from '../support/auth'
import { useServer } from '../support/server'

/**
 * A helper process holding `count` idle connections to `port` (a process may open only
 * `ulimit -n` files, so 20,000 connections take two or more). It prints `open <n>` once every
 * connection was made, then `closed <n>` as the server closes them.
 */
const HOLDER = `
const net = require('node:net')
const [port, count] = process.argv.slice(1).map(Number)
let made = 0, failed = 0, closed = 0
const sockets = []
function batch() {
  const n = Math.min(500, count - made - failed)
  if (n === 0) return console.log('open ' + made + ' failed ' + failed)
  let left = n
  for (let i = 0; i < n; i++) {
    const s = net.connect(port, '127.0.0.1')
    sockets.push(s)
    s.once('connect', () => { made++; if (--left === 0) setImmediate(batch) })
    s.once('error', () => {})
    s.once('close', (hadError) => { if (!s.connecting) closed++; else { failed++; if (--left === 0) setImmediate(batch) } })
  }
}
batch()
setInterval(() => console.log('closed ' + closed), 200)
`

function holdIdle(port: number, count: number): Promise<{ made: number; closed: () => number; stop: () => void }> {
  const child = spawn(process.execPath, ['-e', HOLDER, String(port), String(count)], { stdio: ['ignore', 'pipe', 'inherit'] })
  let closed = 0
  return new Promise((resolve, reject) => {
    let buffer = ''
    child.stdout!.on('data', (d) => {
      buffer += d
      for (const m of buffer.matchAll(/closed (\d+)/g)) closed = Number(m[1])
      const open = /open (\d+) failed (\d+)/.exec(buffer)
      if (open) resolve({ made: Number(open[1]), closed: () => closed, stop: () => child.kill('SIGKILL') })
    })
    child.once('exit', (code) => reject(new Error(`the connection holder exited (${code})`)))
  })
}

/** One request on a new connection; resolves with the status line and the milliseconds it took. */
function freshGet(port: number, path: string): Promise<{ status: string; ms: number }> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`))
    let data = ''
    s.on('data', (d) => {
      data += d
      if (data.includes('\r\n')) {
        resolve({ status: data.split('\r\n')[0]!, ms: performance.now() - started })
        s.destroy()
      }
    })
    s.on('error', reject)
    s.setTimeout(5000, () => {
      s.destroy()
      reject(new Error(`no answer to ${path} in 5 s`))
    })
  })
}

describe('20,000 idle connections', () => {
  // The timeouts are long here so that only the cap makes room: the connections stay idle for the whole test.
  const server = useServer({ env: { HEADERS_TIMEOUT_MS: '600000', KEEP_ALIVE_TIMEOUT_MS: '600000' } })

  it('leave /healthz answering a new client within 100 ms: the oldest idle connections are closed for it', async () => {
    const port = server.process.port
    // Each holder process may open `ulimit -n` files (20,000 here): as many holders as 20,000 connections need.
    const perHolder = Math.min(10_000, (openFileLimit() ?? 1024) - 100)
    const holders: Awaited<ReturnType<typeof holdIdle>>[] = []
    for (let left = 20_000; left > 0; left -= perHolder) holders.push(await holdIdle(port, Math.min(perHolder, left)))
    try {
      expect(holders.reduce((n, h) => n + h.made, 0)).toBe(20_000)
      const times: number[] = []
      for (let i = 0; i < 5; i++) {
        const { status, ms } = await freshGet(port, '/healthz')
        expect(status).toBe('HTTP/1.1 200 OK')
        times.push(ms)
      }
      times.sort((a, b) => a - b)
      expect(times[2], `fresh-connection /healthz times: ${times.map((t) => t.toFixed(1)).join(', ')} ms`).toBeLessThan(100)
      // The server kept its connections under its file descriptor limit by closing idle ones.
      await new Promise((r) => setTimeout(r, 500))
      expect(holders.reduce((n, h) => n + h.closed(), 0)).toBeGreaterThan(0)
    } finally {
      for (const h of holders) h.stop()
    }
  }, 120_000)
})

describe('timeouts', () => {
  const server = useServer({ env: { HEADERS_TIMEOUT_MS: '500', REQUEST_TIMEOUT_MS: '1500', KEEP_ALIVE_TIMEOUT_MS: '500' } })

  /** A connection to the server and what became of it: the bytes it got and when it was closed. */
  function open(): Promise<{ socket: Socket; closed: Promise<{ ms: number; data: string }> }> {
    const started = performance.now()
    return new Promise((resolve, reject) => {
      const socket = connect(server.process.port, '127.0.0.1')
      let data = ''
      socket.on('data', (d) => (data += d))
      const closed = new Promise<{ ms: number; data: string }>((done) => socket.once('close', () => done({ ms: performance.now() - started, data })))
      socket.once('connect', () => resolve({ socket, closed }))
      socket.once('error', reject)
    })
  }

  it('close a connection that sends nothing after the headers timeout', async () => {
    const { closed } = await open()
    const { ms } = await closed
    expect(ms).toBeGreaterThanOrEqual(400)
    expect(ms).toBeLessThan(3000)
  })

  it('answer slow headers with 408 and close the connection', async () => {
    const { socket, closed } = await open()
    socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n')
    const timer = setInterval(() => socket.writable && socket.write('X-Slow: 1\r\n'), 100)
    const { ms, data } = await closed
    clearInterval(timer)
    expect(data).toMatch(/^HTTP\/1\.1 408/)
    expect(ms).toBeLessThan(3000)
  })

  it('answer a slow body with 408 once the request timeout passes', async () => {
    const { socket, closed } = await open()
    socket.write(`POST /api/v1/namespaces HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${E2E_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{`)
    const timer = setInterval(() => socket.writable && socket.write(' '), 100)
    const { ms, data } = await closed
    clearInterval(timer)
    expect(data).toMatch(/^HTTP\/1\.1 408/)
    expect(ms).toBeGreaterThanOrEqual(1400)
    expect(ms).toBeLessThan(4500)
  })

  it('close an idle keep-alive connection after the keep-alive timeout', async () => {
    const { socket, closed } = await open()
    socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
    const { ms, data } = await closed
    expect(data).toMatch(/^HTTP\/1\.1 200/)
    expect(ms).toBeLessThan(3000)
  })
})

describe('the connection cap', () => {
  it('stays below the file descriptor limit, with room for the database and the rest', () => {
    expect(connectionCap(0, 20_000).cap).toBe(20_000 - fdHeadroom(20_000))
    expect(connectionCap(50_000, 20_000)).toMatchObject({ cap: 18_000, note: expect.stringContaining('MAX_CONNECTIONS=50000') })
    expect(connectionCap(500, 20_000)).toEqual({ cap: 500 })
    expect(connectionCap(0, 1024).cap).toBe(768)
  })
})
