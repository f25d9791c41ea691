/**
 * The Workers `Env` type (worker/bindings.ts) against what `wrangler types` generates for
 * wrangler.toml: every binding, var and secret wrangler lists must be a key of Env, of a
 * type Env accepts. The secrets are the ones the README tells operators to
 * `wrangler secret put`; they reach wrangler through an env file of the test's own, so a
 * developer's .dev.vars plays no part. The generated file lives in a temporary directory.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { wranglerEnv } from '../support/wrangler-env'

const ROOT = new URL('../..', import.meta.url).pathname

/** The secrets the README has operators set with `wrangler secret put`. */
function documentedSecrets(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  return [...new Set([...readme.matchAll(/wrangler secret put ([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]!))]
}

/** Runs `wrangler types` for wrangler.toml into dir; the path of the generated declarations. */
function wranglerTypes(dir: string, secrets: string[]): string {
  const envFile = join(dir, 'secrets.env')
  writeFileSync(envFile, secrets.map((name) => `${name}=x\n`).join(''))
  const out = join(dir, 'worker-configuration.d.ts')
  const { CLOUDFLARE_INCLUDE_PROCESS_ENV: _, ...env } = process.env
  const res = spawnSync(
    join(ROOT, 'node_modules/.bin/wrangler'),
    ['types', out, '--config', join(ROOT, 'wrangler.toml'), '--env-file', envFile, '--include-runtime=false'],
    { cwd: ROOT, env: wranglerEnv({}, env), encoding: 'utf8', timeout: 60_000 },
  )
  expect(res.status, res.stderr + res.stdout).toBe(0)
  // The entry module's type plays no part in Env; leaving it out keeps the whole Worker out of the check.
  writeFileSync(out, readFileSync(out, 'utf8').replace(/^\s*mainModule: typeof import\(.*\);?$/m, ''))
  return out
}

/** The keys of the generated `Cloudflare.Env`. */
function generatedKeys(declarations: string): string[] {
  const body = /interface Env \{([^}]*)\}/.exec(declarations)?.[1] ?? ''
  return [...body.matchAll(/^\s*([A-Za-z_$][\w$]*)\??:/gm)].map((m) => m[1]!)
}

/**
 * A module that compiles only when every key of the generated Cloudflare.Env is a key of
 * `WorkerEnv` (declared by `declaration`) and its generated type is assignable to that key's type.
 */
function agreementCheck(declaration: string): string {
  return `${declaration}
type Generated = Cloudflare.Env
type Shared = keyof Generated & keyof WorkerEnv
export const everyKeyInEnv: [Exclude<keyof Generated, keyof WorkerEnv>] extends [never]
  ? 'ok'
  : { notKeysOfEnv: Exclude<keyof Generated, keyof WorkerEnv> } = 'ok'
export const everyTypeAccepted: [{ [K in Shared]: Generated[K] extends Exclude<WorkerEnv[K], undefined> ? never : K }[Shared]] extends [never]
  ? 'ok'
  : { ofATypeEnvRefuses: { [K in Shared]: Generated[K] extends Exclude<WorkerEnv[K], undefined> ? never : K }[Shared] } = 'ok'
`
}

/** Type-checks the generated declarations with each check module; the errors per module. */
function typeErrors(generated: string, checks: Record<string, string>): Record<string, string[]> {
  const dir = join(generated, '..')
  const files = Object.fromEntries(Object.entries(checks).map(([name, source]) => [name, join(dir, `${name}.ts`)]))
  for (const [name, source] of Object.entries(checks)) writeFileSync(files[name]!, source)
  const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'test/workers/tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'))
    },
  })!
  // The Workers runtime types the Worker compiles against (test/workers/tsconfig.json), without the test pool's.
  const options = { ...config.options, types: ['@cloudflare/workers-types/2023-07-01'], noEmit: true }
  const program = ts.createProgram([generated, ...Object.values(files)], options)
  const describe = (d: ts.Diagnostic) => ts.flattenDiagnosticMessageText(d.messageText, '\n')
  const generatedFile = program.getSourceFile(generated)!
  const result: Record<string, string[]> = {
    generated: [...program.getSyntacticDiagnostics(generatedFile), ...program.getSemanticDiagnostics(generatedFile)].map(describe),
  }
  for (const [name, path] of Object.entries(files)) {
    const file = program.getSourceFile(path)!
    result[name] = [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)].map(describe)
  }
  return result
}

describe('the Workers Env type', () => {
  const secrets = documentedSecrets()
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-env-'))
  let generated: string
  let errors: Record<string, string[]>

  beforeAll(() => {
    generated = wranglerTypes(dir, secrets)
    errors = typeErrors(generated, {
      env: agreementCheck(`import type { Env as WorkerEnv } from ${JSON.stringify(join(ROOT, 'worker/bindings'))}`),
      // A control: an Env with a binding of the wrong type and no secrets must be refused.
      control: agreementCheck('type WorkerEnv = { DB?: string; SERVICE_CLUSTER_IP_RANGE?: string }'),
    })
  }, 90_000)
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('is checked against wrangler.toml and the documented secrets', () => {
    expect(secrets).toContain('SWITCHBOARD_ADMIN_TOKEN')
    const keys = generatedKeys(readFileSync(generated, 'utf8'))
    expect(keys).toEqual(expect.arrayContaining(secrets))
    // wrangler.toml contributes its bindings and vars besides the secrets
    expect(keys.length).toBeGreaterThan(secrets.length)
    expect(errors.generated).toEqual([])
  })

  it('has every binding, var and secret wrangler generates, of a compatible type', () => {
    expect(errors.env).toEqual([])
  })

  it('refuses an Env that lacks a key or takes a binding of another type', () => {
    const text = errors.control!.join('\n')
    expect(text).toMatch(/notKeysOfEnv: .*"SWITCHBOARD_ADMIN_TOKEN"/)
    expect(text).toMatch(/ofATypeEnvRefuses: "DB"/)
  })
})
