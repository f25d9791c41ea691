/**
 * kubectl, unmodified, against a real server: the binary from $KUBECTL or the PATH, a
 * kubeconfig in a temporary directory that points at the server's URL (http:// without
 * credentials, or https:// with a certificate authority and a bearer token) and a fresh
 * discovery cache, so no run sees another's state or the
 * user's ~/.kube.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { findExecutable } from './tools'

/** How to get kubectl, printed when its tests are skipped. */
export const KUBECTL_INSTALL_HINT =
  'install it (Debian: apt-get install kubernetes-client, as .ci/run does) or set KUBECTL=/path/to/kubectl'

/** The kubectl binary to test with: $KUBECTL, else the first `kubectl` on the PATH; null when there is none. */
export function findKubectl(): string | null {
  return findExecutable('kubectl', 'KUBECTL')
}

export interface KubectlResult {
  code: number | null
  stdout: string
  stderr: string
  ms: number
}

/** A kubectl command still running (a watch): its output so far, and a way to stop it. */
export interface RunningKubectl {
  stdout: () => string
  stderr: () => string
  /** Resolves once `predicate` holds for the output so far; rejects after `ms` or when the command exits first. */
  until: (predicate: (out: { stdout: string; stderr: string }) => boolean, ms: number, what: string) => Promise<void>
  /** Sends SIGTERM (a watch runs until stopped) and resolves with what it printed. */
  stop: () => Promise<KubectlResult>
  /** Resolves when the command exits by itself. */
  exited: Promise<KubectlResult>
}

export interface Kubectl {
  binary: string
  /** The directory holding the kubeconfig and the discovery cache. */
  dir: string
  start: (args: string[]) => RunningKubectl
  /** Runs a command to its end (killed after `timeoutMs`). */
  run: (args: string[], timeoutMs?: number) => Promise<KubectlResult>
}

/** How kubectl reaches an https:// server: the authority to trust (PEM file) and the bearer token to send. */
export interface KubectlCredentials {
  certificateAuthority?: string
  token?: string
}

/** kubectl set up for one server, namespace `default` (over https://, with `credentials` in the kubeconfig). */
export function kubectlFor(serverUrl: string, binary: string, credentials: KubectlCredentials = {}): Kubectl {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-kubectl-'))
  const kubeconfig = join(dir, 'kubeconfig')
  const cluster = { server: serverUrl, ...(credentials.certificateAuthority ? { 'certificate-authority': credentials.certificateAuthority } : {}) }
  const user = credentials.token ? { token: credentials.token } : {}
  writeFileSync(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'switchboard', cluster }],
      users: [{ name: 'anonymous', user }],
      contexts: [{ name: 'switchboard', context: { cluster: 'switchboard', user: 'anonymous', namespace: 'default' } }],
      'current-context': 'switchboard',
    }),
  )
  const env = { ...process.env, KUBECONFIG: kubeconfig, HOME: dir }
  const start = (args: string[]): RunningKubectl => {
    const started = performance.now()
    const child: ChildProcess = spawn(binary, [`--cache-dir=${join(dir, 'cache')}`, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout!.on('data', (d) => (stdout += d))
    child.stderr!.on('data', (d) => (stderr += d))
    const exited = new Promise<KubectlResult>((resolve) => {
      child.once('error', (e) => resolve({ code: -1, stdout, stderr: `${stderr}${e.message}`, ms: performance.now() - started }))
      child.once('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }))
    })
    let done = false
    void exited.then(() => (done = true))
    return {
      stdout: () => stdout,
      stderr: () => stderr,
      exited,
      until: async (predicate, ms, what) => {
        const deadline = Date.now() + ms
        while (!predicate({ stdout, stderr })) {
          if (done) throw new Error(`kubectl ${args.join(' ')} exited before ${what}:\nstdout:\n${stdout}\nstderr:\n${stderr}`)
          if (Date.now() > deadline) throw new Error(`kubectl ${args.join(' ')}: no ${what} within ${ms} ms:\nstdout:\n${stdout}\nstderr:\n${stderr}`)
          await new Promise((r) => setTimeout(r, 50))
        }
      },
      stop: async () => {
        if (!done) child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
        const result = await exited
        clearTimeout(timer)
        return result
      },
    }
  }
  return {
    binary,
    dir,
    start,
    run: async (args, timeoutMs = 60_000) => {
      const running = start(args)
      const timer = setTimeout(() => void running.stop(), timeoutMs)
      const result = await running.exited
      clearTimeout(timer)
      return result
    },
  }
}

/**
 * The lines of kubectl's stderr that are not request logging (`-v=6` prints one klog
 * line per request, starting with I and the date): warnings and errors, such as a
 * watch that failed or was cut off.
 */
export function complaints(stderr: string): string[] {
  return stderr.split('\n').filter((line) => line.trim() !== '' && !/^I\d{4} /.test(line))
}

/** Whether kubectl (at -v=6) has logged a successful watch request whose URL contains `path`. */
export function watchOpened(stderr: string, path: string): boolean {
  return stderr.split('\n').some((line) => line.includes(path) && /[?&]watch=(true|1)\b/.test(line) && line.includes('200 OK'))
}
