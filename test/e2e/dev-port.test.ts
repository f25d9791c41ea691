/**
 * `npm run dev` (scripts/dev.mjs) takes its port from `--port N` and from `PORT`: each form
 * starts the Worker in workerd (wrangler dev, local D1 with the migrations applied) on a
 * free loopback port, where `/healthz` answers; then SIGTERM to npm alone must stop every
 * process it started.
 * wrangler is kept off the network: no banner (so no update check), no `Request.cf` fetch,
 * no metrics. A bad port is refused before wrangler starts, naming where it came from.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort } from '../support/server'
import { wranglerEnv } from '../support/wrangler-env'

const ROOT = new URL('../..', import.meta.url).pathname
const START_TIMEOUT_MS = 90_000
const dirs: string[] = []

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { PORT: _, ...rest } = process.env
  return wranglerEnv(extra, rest)
}

/** Whether any process of the group led by pid is still alive. */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0)
    return true
  } catch {
    return false
  }
}

/**
 * Runs `npm run dev` with args and env until `/healthz` answers on port, then stops it as a
 * process manager would, with SIGTERM to npm alone; resolves with what it saw and whether
 * that stopped every process (wrangler runs esbuild and two workerd processes).
 */
async function devServer(args: string[], extraEnv: Record<string, string>, port: number): Promise<{ status: number; body: string; output: string; stopped: boolean }> {
  const persist = mkdtempSync(join(tmpdir(), 'switchboard-dev-'))
  dirs.push(persist)
  const child = spawn('npm', ['run', 'dev', '--', ...args, '--persist-to', persist], { cwd: ROOT, env: env(extraEnv), detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout!.on('data', (d) => (output += d))
  child.stderr!.on('data', (d) => (output += d))
  let answer: { status: number; body: string } | undefined
  let stopped = false
  try {
    const deadline = Date.now() + START_TIMEOUT_MS
    while (!answer) {
      if (child.exitCode !== null) throw new Error(`npm run dev exited ${child.exitCode}:\n${output}`)
      if (Date.now() > deadline) throw new Error(`npm run dev did not answer on port ${port} within ${START_TIMEOUT_MS / 1000} s:\n${output}`)
      try {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) })
        answer = { status: res.status, body: await res.text() }
      } catch {
        await new Promise((r) => setTimeout(r, 250))
      }
    }
  } finally {
    if (child.exitCode === null) child.kill('SIGTERM')
    const deadline = Date.now() + 10_000
    while (groupAlive(child.pid!) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    stopped = !groupAlive(child.pid!)
    if (!stopped) process.kill(-child.pid!, 'SIGKILL')
  }
  return { ...answer, output, stopped }
}

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

describe('npm run dev', () => {
  it('listens on the port of --port, a second --port of its own no longer in the way', async () => {
    const port = await freePort()
    // PORT is set too: the flag wins.
    const res = await devServer(['--port', String(port)], { PORT: String(await freePort()) }, port)
    expect(res.status, res.output).toBe(200)
    expect(res.body).toBe('ok')
    expect(res.output).toContain(`Ready on http://127.0.0.1:${port}`)
    expect(res.stopped, 'SIGTERM to npm stops wrangler, esbuild and workerd').toBe(true)
  }, START_TIMEOUT_MS + 30_000)

  it('listens on the port of PORT', async () => {
    const port = await freePort()
    const res = await devServer([], { PORT: String(port) }, port)
    expect(res.status, res.output).toBe(200)
    expect(res.body).toBe('ok')
    expect(res.output).toContain(`Ready on http://127.0.0.1:${port}`)
    expect(res.stopped, 'SIGTERM to npm stops wrangler, esbuild and workerd').toBe(true)
  }, START_TIMEOUT_MS + 30_000)

  it.each([
    [['--port', 'abc'], {}, '--port must be a port number from 1 to 65535, got "abc"'],
    [['--port'], {}, '--port needs a value'],
    [[], { PORT: '70000' }, 'the PORT environment variable must be a port number from 1 to 65535, got "70000"'],
  ])('refuses %j %j before starting wrangler', (args, extra, message) => {
    const res = spawnSync(process.execPath, [join(ROOT, 'scripts/dev.mjs'), ...args], { cwd: ROOT, env: env(extra), encoding: 'utf8', timeout: 10_000 })
    expect(res.status).toBe(2)
    expect(res.stderr).toContain(message)
    expect(res.stdout).not.toContain('migrations')
  })
})
