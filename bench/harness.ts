/**
 * Starts bench/server.ts as a child process over a fresh embedded database in a temp
 * directory, and stops it again: SIGTERM, then SIGKILL after a grace period, then the
 * directory is removed. The child's stderr is kept so the report can show what the
 * server logged while under load.
 *
 * Other processes a scenario starts (a reference DNS server, an external load generator,
 * wrangler and the workerd processes it runs) are tracked here too, so that every exit
 * path stops them.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ServerStats } from './server'

export type { ServerStats }

export interface BenchServer {
  /** The HTTP/1.1 listener. */
  url: string
  /** The same app on a second listener that speaks HTTP/2 over cleartext (h2c, prior knowledge). */
  h2cUrl: string
  pid: number
  dbPath: string
  /** Lines the server wrote to stderr so far. */
  stderr: string[]
  stats(namespace: string): Promise<ServerStats>
  /** Sends a JSON request and fails on any non-2xx answer. */
  call: Call
  stop(): Promise<void>
}

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)))
const SERVER = join(ROOT, 'bench', 'server.ts')
const START_TIMEOUT_MS = 30_000
/** How often the server's output is read for the lines that say it listens. */
const START_POLL_MS = 50
const STOP_GRACE_MS = 3_000

const running = new Set<{ child: ChildProcess; dir: string }>()
const tracked = new Set<ChildProcess>()
/** Children that lead a process group of their own (spawned detached), with everything they started. */
const groups = new Set<ChildProcess>()
/** Temp dirs of scenarios, removed on every exit path. */
const dirs = new Set<string>()

/** Kills every process this process started and removes the servers' directories, synchronously (for exit paths). */
export function killAllSync(): void {
  for (const entry of running) {
    if (entry.child.exitCode === null && entry.child.signalCode === null) entry.child.kill('SIGKILL')
    rmSync(entry.dir, { recursive: true, force: true })
  }
  running.clear()
  for (const child of tracked) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
  tracked.clear()
  for (const leader of groups) signalGroup(leader, 'SIGKILL')
  groups.clear()
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  dirs.clear()
}

/** A new temp dir that killAllSync removes unless removeTempDir did first. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  dirs.add(dir)
  return dir
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
  dirs.delete(dir)
}

/** Keeps `child` on the list killAllSync stops, until it exits. */
export function track(child: ChildProcess): ChildProcess {
  tracked.add(child)
  child.once('exit', () => tracked.delete(child))
  return child
}

/** Stops a process: SIGTERM, then SIGKILL after a grace period; resolves once it exited. */
export async function stopProcess(child: ChildProcess, graceMs = STOP_GRACE_MS): Promise<void> {
  await stopChild(child, graceMs)
  tracked.delete(child)
}

/**
 * Keeps the process group `leader` leads (it was spawned with `detached: true`) on the
 * list killAllSync stops, until stopGroup stopped it: the leader may exit before the
 * processes it started.
 */
export function trackGroup(leader: ChildProcess): ChildProcess {
  groups.add(leader)
  return leader
}

/**
 * Stops a process group: SIGTERM to all of it, SIGKILL to whatever is left once the
 * leader exited or after a grace period; resolves once no process of the group is left.
 */
export async function stopGroup(leader: ChildProcess, graceMs = STOP_GRACE_MS): Promise<void> {
  const exited = leader.exitCode !== null || leader.signalCode !== null ? Promise.resolve() : new Promise<void>((resolve) => leader.once('exit', () => resolve()))
  signalGroup(leader, 'SIGTERM')
  const timer = setTimeout(() => signalGroup(leader, 'SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
  for (const deadline = Date.now() + graceMs; signalGroup(leader, 0) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 50))
  signalGroup(leader, 'SIGKILL')
  groups.delete(leader)
}

/** Sends `signal` to every process of the group `leader` leads; false if none is left. */
function signalGroup(leader: ChildProcess, signal: NodeJS.Signals | 0): boolean {
  if (leader.pid === undefined) return false
  try {
    process.kill(-leader.pid, signal)
    return true
  } catch {
    return false
  }
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port
      srv.close(() => resolve(port))
    })
  })
}

/** Sends a JSON request with `headers` and fails on any non-2xx answer. */
export type Call = <T = unknown>(method: string, path: string, body?: unknown) => Promise<T>

/** A JSON client of the API at `url`, sending `headers` (such as an authorization) with every call. */
export function apiClient(url: string, headers: Record<string, string> = {}): Call {
  return async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(url + path, {
      method,
      headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    })
    const text = await res.text()
    if (!res.ok) throw new Error(`${method} ${url}${path} answered ${res.status}: ${text.slice(0, 500)}`)
    return JSON.parse(text) as T
  }
}

export interface StartOptions {
  /** Extra environment for the server (PORT, HOST and DATABASE_URL are always set here). */
  env?: Record<string, string>
  /** Extra node flags for the server process, such as --cpu-prof. */
  nodeArgs?: string[]
  /** Serve this existing database file (another server's, as a second process would) instead of a fresh one. */
  dbPath?: string
}

export async function startServer(options: StartOptions = {}): Promise<BenchServer> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-bench-'))
  const dbPath = options.dbPath ?? join(dir, 'switchboard.db')
  const outPath = join(dir, 'server.out')
  const outFd = openSync(outPath, 'w')
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', SERVER], {
    cwd: ROOT,
    // No root credential on loopback: access control is off, as for `npm start` on a developer's machine.
    env: { ...process.env, ...options.env, SWITCHBOARD_ADMIN_TOKEN: '', PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `file:${dbPath}`, BENCH_REMOVE_DIR: dir },
    // What the server prints (an audit line per write) goes to a file: through a pipe to this
    // process, which is also the load generator, a full pipe held the server's writes up
    // whenever the load generator was slow to read it.
    stdio: ['pipe', outFd, 'pipe'],
  })
  closeSync(outFd)
  const entry = { child, dir }
  running.add(entry)

  const stderr: string[] = []
  let partial = ''
  child.stderr!.setEncoding('utf8')
  child.stderr!.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n')
    partial = lines.pop() ?? ''
    stderr.push(...lines)
  })

  let urls: [string, string]
  try {
    urls = await new Promise<[string, string]>((resolve, reject) => {
      const timer = setTimeout(() => {
        clearInterval(poll)
        reject(new Error(`bench server did not start within ${START_TIMEOUT_MS} ms`))
      }, START_TIMEOUT_MS)
      const poll = setInterval(() => {
        const out = readFileSync(outPath, 'utf8')
        const m = /^listening (http:\/\/\S+)\n/m.exec(out)
        const h2 = /^h2c (http:\/\/\S+)\n/m.exec(out)
        if (m && h2) {
          clearInterval(poll)
          clearTimeout(timer)
          resolve([m[1]!, h2[1]!])
        }
      }, START_POLL_MS)
      child.once('exit', (code, signal) => {
        clearInterval(poll)
        clearTimeout(timer)
        reject(new Error(`bench server exited before listening (code ${code}, signal ${signal}): ${[...stderr, partial].join('\n')}`))
      })
      child.once('error', (e) => {
        clearInterval(poll)
        clearTimeout(timer)
        reject(e)
      })
    })
  } catch (e) {
    await stopChild(child)
    rmSync(dir, { recursive: true, force: true })
    running.delete(entry)
    throw e
  }
  const [url, h2cUrl] = urls
  for (const u of urls) {
    if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(u)) throw new Error(`bench server listens on a non-loopback address: ${u}`)
  }

  const call = apiClient(url)

  return {
    url,
    h2cUrl,
    pid: child.pid!,
    dbPath,
    stderr,
    stats: (namespace) => call<ServerStats>('GET', `/bench/stats?namespace=${encodeURIComponent(namespace)}`),
    call,
    stop: async () => {
      await stopChild(child)
      if (partial) stderr.push(partial)
      partial = ''
      rmSync(dir, { recursive: true, force: true })
      running.delete(entry)
    },
  }
}

async function stopChild(child: ChildProcess, graceMs = STOP_GRACE_MS): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}
