import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'

describe('npm start and the root credential', () => {
  it('refuses to start with a SWITCHBOARD_ADMIN_TOKEN shorter than 32 characters, naming the variable and not the value', () => {
    const short = 'short-root-credential-012345678'
    const res = spawnSync('npm', ['start', '--silent'], {
      cwd: new URL('../..', import.meta.url).pathname,
      env: { ...process.env, SWITCHBOARD_ADMIN_TOKEN: short, PORT: '0', DATABASE_URL: ':memory:' },
      encoding: 'utf8',
      timeout: 30_000,
    })
    expect(res.status).toBe(1)
    expect(res.stderr).toContain('SWITCHBOARD_ADMIN_TOKEN: must be at least 32 characters')
    expect(res.stderr + res.stdout).not.toContain(short)
  }, 40_000)
})
