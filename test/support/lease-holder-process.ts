/**
 * Starts test/support/lease-holder.ts as a child process (for tests that kill a lease
 * holder with SIGKILL), and waits for the lines it prints.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { E2E_TOKEN } from './auth'

const ROOT = new URL('../..', import.meta.url).pathname

export interface LeaseHolderProcess {
  child: ChildProcess
  output: () => string
  /** Resolves when the output has `text` (rejects after `timeoutMs`, or when the process exits first). */
  waitFor: (text: string, timeoutMs?: number) => Promise<void>
  /** SIGKILL, and resolves when it is gone. */
  kill: () => Promise<void>
}

export function startLeaseHolder(mode: 'register' | 'lead', url: string, env: Record<string, string>): LeaseHolderProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/lease-holder.ts', mode], {
    cwd: ROOT,
    env: { ...process.env, SWITCHBOARD_URL: url, SWITCHBOARD_TOKEN: E2E_TOKEN, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (d) => (output += d))
  child.stderr!.on('data', (d) => (output += d))
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  return {
    child,
    output: () => output,
    waitFor: async (text, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs
      while (!output.includes(text)) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the ${mode} process exited:\n${output}`)
        if (Date.now() > deadline) throw new Error(`no "${text}" within ${timeoutMs} ms:\n${output}`)
        await new Promise((r) => setTimeout(r, 10))
      }
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    },
  }
}
