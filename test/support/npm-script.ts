/**
 * Runs one of the package's npm scripts as a user types it (`npm run SCRIPT -- ARGS`),
 * with the environment given added to the test's, and collects what it printed.
 */
import { execFile } from 'node:child_process'

export interface ScriptRun {
  code: number
  stdout: string
  stderr: string
}

const ROOT = new URL('../..', import.meta.url).pathname

export function npmScript(script: string, env: Record<string, string>, ...args: string[]): Promise<ScriptRun> {
  return new Promise((resolve) => {
    execFile('npm', ['run', '--silent', script, '--', ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr })
    })
  })
}
