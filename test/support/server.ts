/**
 * A real server process, started the way the README says (`npm start`), on a free
 * port and a temporary database file, with access control on (the root credential is
 * E2E_TOKEN unless `env` says otherwise).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import { E2E_TOKEN } from './auth'

export interface ServerProcess {
  url: string
  port: number
  databasePath: string
  child: ChildProcess
  output: () => string
  /** Sends a signal and resolves with the exit code. */
  stop: (signal?: NodeJS.Signals) => Promise<number | null>
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address()
      const port = typeof address === 'object' && address ? address.port : 0
      srv.close(() => resolve(port))
    })
  })
}

export async function startServer(
  options: { env?: Record<string, string>; databasePath?: string; port?: number } = {},
): Promise<ServerProcess> {
  const port = options.port ?? (await freePort())
  const databasePath = options.databasePath ?? join(mkdtempSync(join(tmpdir(), 'switchboard-e2e-')), 'registry.db')
  const child = spawn('npm', ['start', '--silent'], {
    cwd: new URL('../..', import.meta.url).pathname,
    env: { ...process.env, PORT: String(port), DATABASE_URL: `file:${databasePath}`, SWITCHBOARD_ADMIN_TOKEN: E2E_TOKEN, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  let output = ''
  child.stdout!.on('data', (d) => (output += d))
  child.stderr!.on('data', (d) => (output += d))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  // The start-up line names the scheme: https:// when the environment gives a certificate.
  const scheme = options.env?.TLS_CERT_FILE ? 'https' : 'http'
  const url = `${scheme}://127.0.0.1:${port}`
  // The start-up line names the address HOST gives (127.0.0.1 unless the environment says otherwise).
  const listening = new RegExp(`listening on ${scheme}://\\S+:${port}\\b`)
  const deadline = Date.now() + 30_000
  while (!listening.test(output)) {
    if (child.exitCode !== null) throw new Error(`server exited early:\n${output}`)
    if (Date.now() > deadline) {
      process.kill(-child.pid!, 'SIGKILL')
      throw new Error(`server did not start in time:\n${output}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  return {
    url,
    port,
    databasePath,
    child,
    output: () => output,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
      // The signal goes to npm alone, as a process manager would send it; npm passes it on.
      if (child.exitCode === null) process.kill(signal === 'SIGKILL' ? -child.pid! : child.pid!, signal)
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, 'SIGKILL')
        } catch {
          // already gone
        }
      }, 10_000)
      const code = await exited
      clearTimeout(timer)
      return code
    },
  }
}

/** The server of a test file or describe block: `url` and `process` once it has started. */
export interface UsedServer {
  readonly url: string
  readonly process: ServerProcess
}

/**
 * Starts a server before the tests of the current file (or describe block) and kills it
 * after them; hooks registered later in the same scope run once it is listening.
 */
export function useServer(options: Parameters<typeof startServer>[0] = {}): UsedServer {
  let running: ServerProcess | undefined
  beforeAll(async () => {
    running = await startServer(options)
  }, 60_000)
  afterAll(async () => {
    await running?.stop('SIGKILL')
  })
  const started = () => {
    if (!running) throw new Error('the server is not running: use it inside a hook or a test')
    return running
  }
  return {
    get url() {
      return started().url
    },
    get process() {
      return started()
    },
  }
}
