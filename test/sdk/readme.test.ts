/**
 * Every TypeScript snippet of the README's SDK section and of sdk/README.md, as written:
 * compiled against the SDK (built into a fresh project as `@switchboard/sdk`) with the
 * `tsconfig.json` sdk/README.md states for a consuming project (its `json` block), then
 * run, in the order they appear, against a real server (`npm start`), each to exit 0.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { E2E_TOKEN } from '../support/auth'
import { useServer } from '../support/server'

const ROOT = new URL('../..', import.meta.url).pathname
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc')

/** The code blocks of a markdown text in one language. */
function snippets(markdown: string, language = 'ts'): string[] {
  return [...markdown.matchAll(new RegExp(`^\`\`\`${language}\\n([\\s\\S]*?)^\`\`\`$`, 'gm'))].map((m) => m[1]!)
}

const sdkReadme = readFileSync(join(ROOT, 'sdk/README.md'), 'utf8')
/** The compiler options sdk/README.md states for a consuming project. */
const stated = (JSON.parse(snippets(sdkReadme, 'json')[0] ?? '{}') as { compilerOptions?: Record<string, unknown> }).compilerOptions

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
const sdkSection = readme.slice(readme.indexOf('\n## TypeScript SDK'), readme.indexOf('\n## ', readme.indexOf('\n## TypeScript SDK') + 1))
const blocks = [
  ...snippets(sdkReadme).map((code, i) => ({ name: `sdk-readme-${i + 1}`, code })),
  ...snippets(sdkSection).map((code, i) => ({ name: `readme-${i + 1}`, code })),
]

const server = useServer()

describe('the README snippets', () => {
  let project: string
  beforeAll(() => {
    project = mkdtempSync(join(tmpdir(), 'switchboard-readme-'))
    const pkg = join(project, 'node_modules/@switchboard/sdk')
    mkdirSync(pkg, { recursive: true })
    copyFileSync(join(ROOT, 'sdk/package.json'), join(pkg, 'package.json'))
    execFileSync(process.execPath, [TSC, '-p', join(ROOT, 'sdk/tsconfig.json'), '--outDir', join(pkg, 'dist')], { encoding: 'utf8' })
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'readme', private: true, type: 'module' }))
    for (const b of blocks) writeFileSync(join(project, `${b.name}.ts`), b.code)
    // As stated; only where @types/node is found (the repository's) and the output go are this test's.
    const compilerOptions = { ...stated, typeRoots: [join(ROOT, 'node_modules/@types')], outDir: 'out' }
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: blocks.map((b) => `${b.name}.ts`) }))
  }, 120_000)
  afterAll(() => {
    if (project) rmSync(project, { recursive: true, force: true })
  })

  it('finds the snippets and the stated compiler options', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(6)
    expect(stated).toMatchObject({ target: 'ES2022', types: ['node'], strict: true, skipLibCheck: false, exactOptionalPropertyTypes: true })
  })

  it('type-check strictly', () => {
    const tsc = spawnSync(process.execPath, [TSC, '-p', 'tsconfig.json'], { cwd: project, encoding: 'utf8' })
    expect(tsc.stdout + tsc.stderr).toBe('')
  }, 60_000)

  for (const b of blocks) {
    it(`${b.name} runs as written`, () => {
      const run = spawnSync(process.execPath, [join(project, 'out', `${b.name}.js`)], {
        cwd: project,
        env: { ...process.env, SWITCHBOARD_URL: server.url, SWITCHBOARD_TOKEN: E2E_TOKEN },
        encoding: 'utf8',
        timeout: 30_000,
      })
      expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0)
      expect(run.stdout.length).toBeGreaterThan(0)
    }, 40_000)
  }
})
