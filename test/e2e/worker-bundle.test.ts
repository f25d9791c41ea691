import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { wranglerEnv } from '../support/wrangler-env'

const ROOT = new URL('../..', import.meta.url).pathname

describe('the Worker bundle', () => {
  it('builds with wrangler deploy --dry-run, with no Node-only module of the registry in it', () => {
    const out = mkdtempSync(join(tmpdir(), 'switchboard-bundle-'))
    const res = spawnSync(join(ROOT, 'node_modules/.bin/wrangler'), ['deploy', '--dry-run', '--outdir', out], {
      cwd: ROOT,
      env: wranglerEnv(),
      encoding: 'utf8',
      timeout: 120_000,
    })
    expect(res.status, res.stderr + res.stdout).toBe(0)
    const bundle = readdirSync(out).find((f) => f.endsWith('.js'))
    expect(bundle).toBeTruthy()
    const code = readFileSync(join(out, bundle!), 'utf8')
    // the embedded-file tuning (worker/db/client.ts) and the migration runner are Node-only and must stay out
    expect(code).not.toContain('journal_mode = WAL')
    expect(code).not.toContain('migrationsFolder')
    expect(gzipSync(code).length).toBeGreaterThan(0)
    // zod's error messages in English only: `import { z } from 'zod'` would keep all 64 locales (German's "Ungültige Eingabe" among them)
    expect(code).toMatch(/Invalid input/)
    expect(code).not.toMatch(/Ung(ü|\\xFC|\\u00FC)ltige Eingabe/)
  }, 150_000)
})
