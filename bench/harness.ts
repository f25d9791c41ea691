/**
 * Starts bench/server.ts as a child process over a fresh embedded database in a temp
 * directory, and stops it again: SIGTERM, then SIGKILL after a grace period, then the
 * directory is removed. The child's stderr is kept so the report can show what the
 * server logged while under load.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ServerStats } from './server'

export type { ServerStats }

export interface BenchServer {
  url: string
  pid: number
  dbPath: string
  /** Lines the server wrote to stderr so far. */
  stderr: string[]
  stats(namespace: string): Promise<ServerStats>
  /** Sends a JSON request and fails on any non-2xx answer. */
  call<T = unknown>(method: string, path: string, body?: unknown): Promise<T>
  stop(): Promise<void>
}

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)))
const SERVER = join(ROOT, 'bench', 'server.ts')
const START_TIMEOUT_MS = 30_000
const STOP_GRACE_MS = 3_000

const running = new Set<{ child: ChildProcess; dir: string }>()

/** Kills every server this process started and removes their directories, synchronously (for exit paths). */
export function killAllSync(): void {
  for (const entry of running) {
    if (entry.child.exitCode === null && entry.child.signalCode === null) entry.child.kill('SIGKILL')
    rmSync(entry.dir, { recursive: true, force: true })
  }
  running.clear()
}

export interface StartOptions {
  /** Extra environment for the server (PORT, HOST and DATABASE_URL are always set here). */
  env?: Record<string, string>
  /** Extra node flags for the server process, such as --cpu-prof. */
  nodeArgs?: string[]
}

export async function startServer(options: StartOptions = {}): Promise<BenchServer> {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-bench-'))
  const dbPath = join(dir, 'switchboard.db')
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', SERVER], {
    cwd: ROOT,
    env: { ...process.env, ...options.env, PORT: '0', HOST: '127.0.0.1', DATABASE_URL: `file:${dbPath}`, BENCH_REMOVE_DIR: dir },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
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

  let url: string
  try {
    url = await new Promise<string>((resolve, reject) => {
      let out = ''
      const timer = setTimeout(() => reject(new Error(`bench server did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS)
      child.stdout!.setEncoding('utf8')
      child.stdout!.on('data', (chunk: string) => {
        out += chunk
        const m = /listening (http:\/\/\S+)\n/.exec(out)
        if (m) {
          clearTimeout(timer)
          resolve(m[1]!)
        }
      })
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`bench server exited before listening (code ${code}, signal ${signal}): ${[...stderr, partial].join('\n')}`))
      })
      child.once('error', (e) => {
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
  if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(url)) throw new Error(`bench server listens on a non-loopback address: ${url}`)

  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(url + path, {
      method,
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    })
    const text = await res.text()
    if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${text.slice(0, 500)}`)
    return JSON.parse(text) as T
  }

  return {
    url,
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

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
  await exited
  clearTimeout(timer)
}
