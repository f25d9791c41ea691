/**
 * The soak's server: `npm start`'s own entry (worker/node.ts) as a child process, on a
 * free loopback port and a fresh embedded database in a temp dir, access control off, so
 * that everything a long-running registry does runs during the soak (the reaper, the
 * lease sweep, the change log's compaction, and the HTTP server's own settings), which
 * bench/server.ts leaves out. Its memory is read from /proc/<pid>/status.
 */
import { spawn } from 'node:child_process'
import { readFileSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { apiClient, freePort, removeTempDir, stopProcess, tempDir, track, type Call } from './harness'

export interface SoakServer {
  url: string
  pid: number
  call: Call
  /** The database file (its WAL beside it, `-wal`). */
  dbPath: string
  /** Lines the server wrote to stderr so far. */
  stderr: string[]
  stop(): Promise<void>
}

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)))
const ENTRY = join(ROOT, 'worker', 'node.ts')
const START_TIMEOUT_MS = 30_000

/** `env` adds to the server's environment (DNS_PORT, say). */
export async function startSoakServer(env: Record<string, string> = {}): Promise<SoakServer> {
  const dir = tempDir('switchboard-soak-')
  const port = await freePort()
  const dbPath = join(dir, 'switchboard.db')
  const url = `http://127.0.0.1:${port}`
  const child = track(
    spawn(process.execPath, ['--import', 'tsx', ENTRY], {
      cwd: ROOT,
      env: { ...process.env, ...env, SWITCHBOARD_ADMIN_TOKEN: '', PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: `file:${dbPath}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  )
  const stderr: string[] = []
  // What the server prints is kept until it listens, then read and dropped (an audit line per write would grow it without end).
  let out = ''
  let listening = false
  child.stdout!.setEncoding('utf8').on('data', (c: string) => {
    if (!listening) out += c
  })
  child.stderr!.setEncoding('utf8').on('data', (c: string) => stderr.push(...c.split('\n').filter((l) => l.trim() !== '')))
  const stop = async () => {
    await stopProcess(child)
    removeTempDir(dir)
  }
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the soak server did not listen within ${START_TIMEOUT_MS} ms: ${stderr.join('\n')}`)), START_TIMEOUT_MS)
      const check = () => {
        if (listening || !out.includes(`listening on ${url}`)) return
        listening = true
        out = ''
        child.stdout!.off('data', check)
        clearTimeout(timer)
        resolve()
      }
      child.stdout!.on('data', check)
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`the soak server exited before listening (code ${code}, signal ${signal}): ${stderr.join('\n')}`))
      })
    })
  } catch (e) {
    await stop()
    throw e
  }
  return { url, pid: child.pid!, call: apiClient(url), dbPath, stderr, stop }
}

export interface Memory {
  /** Resident set size now, in bytes. */
  rss: number
  /** The most the resident set has been since the process started (VmHWM), in bytes. */
  peak: number
}

/** The resident memory of process `pid`, from /proc/<pid>/status (Linux only); undefined if unreadable. */
export function memoryOf(pid: number): Memory | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024
    const memory = { rss: kib('VmRSS'), peak: kib('VmHWM') }
    return Number.isFinite(memory.rss) && Number.isFinite(memory.peak) ? memory : undefined
  } catch {
    return undefined
  }
}

/** The bytes of the database file and of its WAL. */
export function databaseBytes(dbPath: string): { dbBytes: number; walBytes: number } {
  const size = (file: string) => {
    try {
      return statSync(file).size
    } catch {
      return 0
    }
  }
  return { dbBytes: size(dbPath), walBytes: size(`${dbPath}-wal`) }
}
