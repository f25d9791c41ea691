/**
 * External tools of the benchmark and how it drives them:
 *
 * - `ensureTools` installs Debian packages (h2load from `nghttp2-client`, `unbound`) with
 *   apt-get when they are missing and this process is root, and otherwise says how to
 *   install them
 * - `h2load` runs one timed h2load measurement (one h2load thread, a warm-up, then a fixed duration),
 *   parses its summary (req/s, request counts, status codes, bytes) and computes the
 *   latency percentiles from its per-request log (h2load counts and logs the requests of
 *   the measured duration only, not those of the warm-up)
 * - `cpuOf` and `childrenCpu` read CPU time from /proc, for the processes the report
 *   accounts for (the server under test, Unbound, and h2load once it has exited)
 */
import { execFile, execFileSync, spawn } from 'node:child_process'
import { accessSync, constants, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { removeTempDir, tempDir, track } from './harness'
import { summarize, type Latency } from './load'

export interface Tool {
  /** The command, as found on PATH or at an absolute path. */
  bin: string
  pkg: string
}

export const H2LOAD: Tool = { bin: 'h2load', pkg: 'nghttp2-client' }
export const UNBOUND: Tool = { bin: 'unbound', pkg: 'unbound' }

/** Where `bin` is, or undefined. */
export function which(bin: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/bin', '/sbin', '/bin'])) {
    if (!dir) continue
    try {
      accessSync(join(dir, bin), constants.X_OK)
      return join(dir, bin)
    } catch {
      // not here
    }
  }
  return undefined
}

/**
 * Makes sure every tool is installed: as root, missing packages are installed with
 * apt-get (the package lists are refreshed first only if apt does not know a package);
 * otherwise the error says what to run.
 */
export async function ensureTools(tools: Tool[], log: (message: string) => void): Promise<Record<string, string>> {
  const missing = tools.filter((t) => !which(t.bin))
  if (missing.length) {
    const pkgs = [...new Set(missing.map((t) => t.pkg))]
    const command = `apt-get install -y --no-install-recommends ${pkgs.join(' ')}`
    if (process.getuid?.() !== 0) {
      throw new Error(`${missing.map((t) => t.bin).join(' and ')} not found; install with: sudo apt-get update && sudo ${command}`)
    }
    log(`installing ${pkgs.join(', ')} with apt-get`)
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    const apt = (args: string[]) => run('apt-get', ['-o', 'DPkg::Lock::Timeout=300', ...args], env)
    const known = pkgs.every((p) => /Candidate: (?!\(none\))/.test(tryRun('apt-cache', ['policy', p]) ?? ''))
    if (!known) await apt(['update'])
    await apt(['install', '-y', '--no-install-recommends', ...pkgs])
    const still = tools.filter((t) => !which(t.bin))
    if (still.length) throw new Error(`${still.map((t) => t.bin).join(' and ')} still not found after: ${command}`)
  }
  return Object.fromEntries(tools.map((t) => [t.bin, which(t.bin)!]))
}

function tryRun(cmd: string, args: string[]): string | undefined {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  } catch {
    return undefined
  }
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env, maxBuffer: 16 * 2 ** 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${cmd} ${args.join(' ')} failed: ${error.message}\n${stderr.slice(-2000)}`))
      else resolve(stdout)
    })
  })
}

/** The installed version of a Debian package, or undefined. */
export function packageVersion(pkg: string): string | undefined {
  return tryRun('dpkg-query', ['-W', '-f', '${Version}', pkg])?.trim() || undefined
}

export type Protocol = 'h2c' | 'HTTP/1.1'

export interface H2loadOptions {
  /** The URIs each connection goes round, in order (one or more). */
  uris: string[]
  protocol: Protocol
  clients: number
  /** Requests in flight per connection: HTTP/2 streams, or HTTP/1.1 pipelining depth. */
  streams: number
  seconds: number
  warmupSeconds: number
  /** Header lines sent with every request ("name: value"). */
  headers?: string[]
  bin?: string
}

export interface H2loadResult {
  /** What h2load reports: requests per second of the measured duration, whatever their status. */
  rps: number
  /** Successful requests (h2load's "succeeded": a 2xx or 3xx answer, stream complete) per second of the measured duration. */
  okRps: number
  /** Requests of the measured duration (completed, successfully or not). */
  requests: number
  succeeded: number
  failed: number
  errored: number
  timeout: number
  status: { '2xx': number; '3xx': number; '4xx': number; '5xx': number }
  /** Response bytes per request: headers and body, as h2load counts them. */
  bytesPerRequest: number
  /** Percentiles over the logged requests of the measured duration, in milliseconds. */
  latency: Latency
  /** The latencies the percentiles are taken over, in milliseconds. */
  samples: Float64Array
  /** CPU time h2load used over its whole run (warm-up included), in cores of its wall time. */
  cores: number
  wallSeconds: number
  command: string
}

/** Runs h2load once and parses what it measured; fails if it cannot run or prints no summary. */
export async function h2load(o: H2loadOptions): Promise<H2loadResult> {
  const dir = tempDir('switchboard-h2load-')
  try {
    const input = join(dir, 'uris.txt')
    const logFile = join(dir, 'requests.log')
    writeFileSync(input, o.uris.join('\n') + '\n')
    const args = [
      '-c', String(o.clients),
      '-m', String(o.streams),
      '-t', '1',
      '-D', String(o.seconds),
      '--warm-up-time', String(o.warmupSeconds),
      '--log-file', logFile,
      ...(o.protocol === 'HTTP/1.1' ? ['--h1'] : []),
      ...(o.headers ?? []).flatMap((h) => ['-H', h]),
      '-i', input,
    ]
    const command = `h2load ${args.map((a) => (/^authorization:/i.test(a) ? `'authorization: <token>'` : a)).join(' ')}`.replace(input, '<uris>').replace(logFile, '<log>')
    const cpu0 = childrenCpu()
    const t0 = performance.now()
    const out = await new Promise<string>((resolve, reject) => {
      const child = track(spawn(o.bin ?? 'h2load', args, { stdio: ['ignore', 'pipe', 'pipe'] }))
      let stdout = ''
      let stderr = ''
      child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c))
      child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c))
      const limit = setTimeout(() => child.kill('SIGKILL'), (o.seconds + o.warmupSeconds + 30) * 1000)
      child.once('error', (e) => {
        clearTimeout(limit)
        reject(e)
      })
      child.once('exit', (code, signal) => {
        clearTimeout(limit)
        if (code === 0) resolve(stdout)
        else reject(new Error(`${command} exited with ${code ?? signal}: ${(stderr || stdout).slice(-1500)}`))
      })
    })
    const wallSeconds = (performance.now() - t0) / 1000
    const cpu1 = childrenCpu()
    const parsed = parseSummary(out, command)
    const samples = readLog(logFile)
    return { ...parsed, latency: summarize(samples), samples, cores: (cpu1 - cpu0) / wallSeconds, wallSeconds, command }
  } finally {
    removeTempDir(dir)
  }
}

type Summary = Omit<H2loadResult, 'latency' | 'samples' | 'cores' | 'wallSeconds' | 'command'>

/** Parses h2load's summary lines: "finished in", "requests:", "status codes:", "traffic:". */
export function parseSummary(out: string, command: string): Summary {
  const grab = (re: RegExp) => {
    const m = re.exec(out)
    if (!m) throw new Error(`cannot read ${re} in the output of ${command}:\n${out.slice(-2000)}`)
    return m
  }
  // "finished in" counts the warm-up too; req/s is over the measured duration alone.
  const fin = grab(/finished in [\d.]+(?:ms|s|us), ([\d.]+) req\/s/)
  const req = grab(/requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/)
  // Status codes are counted as headers arrive, so at the edges of the measured duration
  // they can differ by a few from the requests done there; "succeeded" and "failed" are
  // the requests done.
  const st = grab(/status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/)
  const traffic = grab(/traffic: [^(]*\((\d+)\) total/)
  const done = Number(req[3])
  const rps = Number(fin[1])
  return {
    rps,
    okRps: done > 0 ? (rps * Number(req[4])) / done : 0,
    requests: done,
    succeeded: Number(req[4]),
    failed: Number(req[5]),
    errored: Number(req[6]),
    timeout: Number(req[7]),
    status: { '2xx': Number(st[1]), '3xx': Number(st[2]), '4xx': Number(st[3]), '5xx': Number(st[4]) },
    bytesPerRequest: done > 0 ? Number(traffic[1]) / done : 0,
  }
}

/** Latencies in milliseconds of the logged requests that completed at the stream level. */
function readLog(file: string): Float64Array {
  let text = ''
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return new Float64Array(0)
  }
  const lines = text.split('\n')
  const out = new Float64Array(lines.length)
  let n = 0
  for (const line of lines) {
    const [, status, micros] = line.split('\t')
    if (micros === undefined || Number(status) < 0) continue
    out[n++] = Number(micros) / 1000
  }
  return out.slice(0, n)
}

const TICKS_PER_SECOND = (() => {
  const n = Number(tryRun('getconf', ['CLK_TCK'])?.trim())
  return Number.isFinite(n) && n > 0 ? n : 100
})()

/** user+system CPU seconds of process `pid` so far, from /proc (Linux only); NaN if unreadable. */
export function cpuOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND
  } catch {
    return NaN
  }
}

/** user+system CPU seconds of this process' children that have exited and been waited for. */
export function childrenCpu(): number {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[13]) + Number(fields[14])) / TICKS_PER_SECOND
  } catch {
    return NaN
  }
}
