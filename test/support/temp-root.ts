/**
 * Vitest global setup for the Node project: the run's temporary files go under one
 * directory of its own, removed when the run ends. Tests, the servers and tools they start
 * (which inherit TMPDIR) and the libraries they use all make their temporary directories
 * under `os.tmpdir()`, so nothing a test creates there outlives the run, however the test
 * ends (a database of a few hundred megabytes per checkpoint test, a server's state per
 * end-to-end test) — before this, repeated runs filled the disk.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'switchboard-test-'))
  const before = process.env.TMPDIR
  process.env.TMPDIR = root
  return () => {
    if (before === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = before
    rmSync(root, { recursive: true, force: true })
  }
}
