/**
 * Headless Chromium, unmodified, running a page from a loopback server: the binary from
 * $CHROMIUM or the first of `chromium`, `chromium-browser`, `google-chrome` on the PATH,
 * with a fresh profile in a temporary directory. Every request outside loopback goes to a
 * proxy at a closed loopback port, so the browser reaches nothing else (Chromium sends
 * loopback requests directly, past the proxy).
 *
 * The page reports by POSTing JSON to `/__report`; `runPage` resolves with that report and
 * ends the browser.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import type { Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CHROMIUM_INSTALL_HINT, findChromium } from '../support/tools'

export { CHROMIUM_INSTALL_HINT, findChromium }

/** Opens `url` in headless Chromium and resolves with what the page POSTs to `/__report` on `server`. */
export async function runPage(chromium: string, server: Server, url: string, timeoutMs: number): Promise<unknown> {
  const profile = mkdtempSync(join(tmpdir(), 'switchboard-chromium-'))
  let output = ''
  const report = new Promise<unknown>((resolve) => {
    server.on('request', (req, res) => {
      if (req.method !== 'POST' || req.url !== '/__report') return
      let body = ''
      req.on('data', (d) => (body += d))
      req.on('end', () => {
        res.end()
        resolve(JSON.parse(body))
      })
    })
  })
  const child = spawn(
    chromium,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--no-default-browser-check',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-extensions',
      '--disable-default-apps',
      '--proxy-server=http://127.0.0.1:9',
      `--user-data-dir=${profile}`,
      url,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  )
  child.stdout.on('data', (d) => (output += d))
  child.stderr.on('data', (d) => (output += d))
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`chromium exited (${code}) before the page reported:\n${output}`))))
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the page did not report within ${timeoutMs} ms:\n${output}`)), timeoutMs)
  })
  try {
    return await Promise.race([report, exited, timeout])
  } finally {
    clearTimeout(timer)
    if (child.exitCode === null) {
      const gone = new Promise((resolve) => child.once('exit', resolve))
      process.kill(-child.pid!, 'SIGKILL')
      await gone
    }
    rmSync(profile, { recursive: true, force: true })
  }
}
