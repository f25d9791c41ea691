/**
 * wrangler as the benchmark drives it, from node_modules/.bin (never through npx):
 *
 * - `buildWorker` bundles the Worker as `wrangler deploy --dry-run --outdir` does, the
 *   upload a deploy would send, without sending it
 * - `runWrangler` runs one command to its end (such as migrations on a local D1)
 * - `startDev` runs `wrangler dev` on a free loopback port until stopped, and tells its
 *   processes apart: the workerd that runs the Worker, the workerd of wrangler's proxy in
 *   front of it, and wrangler's own node (and esbuild) processes
 * - `profileWorker` records a V8 CPU profile of the Worker while a load runs, through the
 *   inspector wrangler dev exposes
 *
 * Every wrangler process leads a process group of its own, since wrangler starts esbuild
 * and workerd processes; every exit path kills the whole group (harness.ts), so no workerd
 * outlives the run. It runs with the tests' offline environment (no banner, so no update check; no metrics; no colours), and
 * wrangler's debug logs go to a directory the caller removes.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'
import { freePort, stopGroup, trackGroup } from './harness'
import { wranglerEnv as sharedWranglerEnv } from '../test/support/wrangler-env'

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)))
export const WRANGLER = join(ROOT, 'node_modules', '.bin', 'wrangler')
export const WRANGLER_CONFIG = join(ROOT, 'wrangler.toml')
const RUN_TIMEOUT_MS = 120_000
const DEV_START_TIMEOUT_MS = 60_000

/** The installed versions of wrangler and workerd, for the report. */
export function versions(): { wrangler: string; workerd: string } {
  const version = (pkg: string) => {
    try {
      return (JSON.parse(readFileSync(join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version
    } catch {
      return 'unknown'
    }
  }
  return { wrangler: version('wrangler'), workerd: version('workerd') }
}

function wranglerEnv(logDir: string): NodeJS.ProcessEnv {
  return sharedWranglerEnv({ WRANGLER_LOG_PATH: logDir })
}

function spawnWrangler(args: string[], logDir: string): { child: ChildProcess; output: () => string } {
  const child = trackGroup(spawn(WRANGLER, args, { cwd: ROOT, env: wranglerEnv(logDir), detached: true, stdio: ['ignore', 'pipe', 'pipe'] }))
  let text = ''
  const add = (c: string) => {
    text += c
    if (text.length > 200_000) text = text.slice(-100_000)
  }
  child.stdout!.setEncoding('utf8').on('data', add)
  child.stderr!.setEncoding('utf8').on('data', add)
  return { child, output: () => text }
}

/** Runs `wrangler <args>` to its end; resolves to what it printed, fails on a non-zero exit or after a time limit. */
export async function runWrangler(args: string[], logDir: string, timeoutMs = RUN_TIMEOUT_MS): Promise<string> {
  const { child, output } = spawnWrangler(args, logDir)
  const code = await new Promise<number | string>((resolve) => {
    const timer = setTimeout(() => resolve(`no exit within ${timeoutMs / 1000} s`), timeoutMs)
    child.once('error', (e) => {
      clearTimeout(timer)
      resolve(e.message)
    })
    child.once('exit', (c, signal) => {
      clearTimeout(timer)
      resolve(c ?? signal ?? 'unknown')
    })
  })
  await stopGroup(child)
  if (code !== 0) throw new Error(`wrangler ${args.join(' ')} failed (${code}): ${output().slice(-2000)}`)
  return output()
}

export interface BuiltWorker {
  /** The modules a deploy would upload (the output directory without source maps and its README), with their contents. */
  modules: { name: string; bytes: Buffer }[]
  /** The main module's path. */
  main: string
  /** wrangler's own "Total Upload: … KiB / gzip: … KiB" line, if it printed one. */
  totalUpload: string | undefined
  seconds: number
}

/** `wrangler deploy --dry-run --outdir <outdir>` with the project's wrangler.toml. */
export async function buildWorker(outdir: string, logDir: string): Promise<BuiltWorker> {
  const t0 = performance.now()
  const output = await runWrangler(['deploy', '--dry-run', '--outdir', outdir], logDir)
  const seconds = (performance.now() - t0) / 1000
  const names = readdirSync(outdir, { recursive: true, encoding: 'utf8' })
    .filter((n) => statSync(join(outdir, n)).isFile() && !n.endsWith('.map') && basename(n) !== 'README.md')
    .sort()
  const modules = names.map((name) => ({ name, bytes: readFileSync(join(outdir, name)) }))
  const main = names.find((n) => n === 'index.js') ?? names[0]
  if (!main) throw new Error(`wrangler deploy --dry-run left no module in ${outdir}: ${output.slice(-2000)}`)
  const totalUpload = /Total Upload: ([^\n]+)/.exec(output)?.[1]?.trim()
  return { modules, main: join(outdir, main), totalUpload, seconds }
}

/** The processes of a running `wrangler dev`, by role. */
export interface DevProcesses {
  /** workerd running the Worker. */
  worker: number[]
  /** workerd running wrangler's proxy, which listens on the dev port and forwards to the Worker. */
  proxy: number[]
  /** wrangler itself: its node processes and esbuild. */
  wrangler: number[]
}

export interface WranglerDev {
  url: string
  pid: number
  /** wrangler dev's V8 inspector (Chrome DevTools Protocol) for the Worker, on 127.0.0.1. */
  inspectorPort: number
  processes: DevProcesses
  /** The processes of the group now, to tell whether wrangler restarted any. */
  current: () => DevProcesses
  /** What wrangler printed so far. */
  output: () => string
  stop: () => Promise<void>
}

export interface DevOptions {
  /** The entry module; bundled by wrangler dev as `main` would be, with the project's wrangler.toml. */
  script: string
  persistTo: string
  vars: Record<string, string>
  logDir: string
}

/**
 * Starts `wrangler dev` on 127.0.0.1 with the project's wrangler.toml, the given entry
 * and vars, and local state in `persistTo`; resolves once GET /healthz answers 200.
 * The log level is `warn`, so wrangler prints no line per request.
 */
export async function startDev(o: DevOptions): Promise<WranglerDev> {
  const port = await freePort()
  const inspectorPort = await freePort()
  const args = [
    'dev', '-c', WRANGLER_CONFIG, o.script,
    '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(inspectorPort),
    '--persist-to', o.persistTo, '--log-level', 'warn', '--show-interactive-dev-session=false',
    ...Object.entries(o.vars).flatMap(([k, v]) => ['--var', `${k}:${v}`]),
  ]
  const { child, output } = spawnWrangler(args, o.logDir)
  const url = `http://127.0.0.1:${port}`
  const deadline = performance.now() + DEV_START_TIMEOUT_MS
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stopGroup(child)
      throw new Error(`wrangler dev exited before answering (${child.exitCode ?? child.signalCode}): ${output().slice(-2000)}`)
    }
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) })
      await res.arrayBuffer()
      if (res.status === 200) break
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) {
      await stopGroup(child)
      throw new Error(`wrangler dev did not answer on ${url} within ${DEV_START_TIMEOUT_MS / 1000} s: ${output().slice(-2000)}`)
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  const current = () => groupProcesses(child.pid!, port)
  return { url, pid: child.pid!, inspectorPort, processes: current(), current, output, stop: () => stopGroup(child) }
}

/** The processes of process group `pgid`, by role: the workerd listening on `port` is the proxy (Linux /proc only). */
function groupProcesses(pgid: number, port: number): DevProcesses {
  const out: DevProcesses = { worker: [], proxy: [], wrangler: [] }
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) !== pgid) continue
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0')
      const pid = Number(name)
      if (basename(argv[0] ?? '') !== 'workerd') out.wrangler.push(pid)
      else if (argv.includes(`--socket-addr=entry=127.0.0.1:${port}`)) out.proxy.push(pid)
      else out.worker.push(pid)
    } catch {
      // gone meanwhile
    }
  }
  return out
}

/**
 * A V8 CPU profile (.cpuprofile JSON) of the Worker while `during` runs, taken through
 * wrangler dev's inspector with the Chrome DevTools Protocol (Profiler.enable, start,
 * stop), sampling every 100 µs. It covers the Worker's isolate only: not wrangler's proxy,
 * and not miniflare's own workers (its entry worker, the local D1) in the same workerd.
 */
export async function profileWorker<T>(dev: WranglerDev, during: () => Promise<T>): Promise<{ result: T; profile: unknown }> {
  const list = (await (await fetch(`http://127.0.0.1:${dev.inspectorPort}/json`)).json()) as { webSocketDebuggerUrl?: string }[]
  const url = list.find((t) => t.webSocketDebuggerUrl)?.webSocketDebuggerUrl
  if (!url) throw new Error(`wrangler dev's inspector on port ${dev.inspectorPort} lists no target: ${JSON.stringify(list).slice(0, 500)}`)
  const ws = new WebSocket(url)
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve())
    ws.once('error', reject)
  })
  const pending = new Map<number, { resolve: (result: unknown) => void; reject: (e: Error) => void }>()
  ws.on('message', (data) => {
    const message = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string } }
    const waiter = message.id === undefined ? undefined : pending.get(message.id)
    if (!waiter) return
    pending.delete(message.id!)
    if (message.error) waiter.reject(new Error(`inspector: ${message.error.message}`))
    else waiter.resolve(message.result)
  })
  let id = 0
  const send = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve, reject) => {
      pending.set(++id, { resolve, reject })
      ws.send(JSON.stringify({ id, method, params }))
    })
  try {
    await send('Profiler.enable')
    await send('Profiler.setSamplingInterval', { interval: 100 })
    await send('Profiler.start')
    const result = await during()
    const { profile } = (await send('Profiler.stop')) as { profile: unknown }
    await send('Profiler.disable')
    return { result, profile }
  } finally {
    ws.close()
  }
}
