import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NotFoundError, Switchboard } from '../../sdk/src/index'
import { E2E_TOKEN } from '../support/auth'
import { startServer, type ServerProcess } from '../support/server'

const ROOT = new URL('../..', import.meta.url).pathname
const SDK = join(ROOT, 'sdk')
const SRC = join(SDK, 'src')

describe('the SDK package', () => {
  let work: string
  let tarball: string
  let packed: string[]
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'switchboard-sdk-'))
    // `npm pack` builds first (prepack), as publishing would.
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: SDK, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    const [pack] = JSON.parse(out.slice(out.indexOf('['))) as { filename: string; files: { path: string }[] }[]
    tarball = join(work, pack!.filename)
    packed = pack!.files.map((f) => f.path).sort()
  }, 120_000)
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true })
  })

  it('packs only the SDK: dist/index.js and its declarations, whose imports are all relative, of files in the package', () => {
    expect(packed).toEqual(expect.arrayContaining(['README.md', 'package.json', 'dist/index.js', 'dist/index.d.ts', 'dist/client.js', 'dist/types.d.ts']))
    for (const f of packed) expect(f, f).toMatch(/^(README\.md|package\.json|dist\/[a-z-]+\.(js|d\.ts))$/)
    // One compiled file per source file: nothing of the server, nothing stale.
    const sources = readdirSync(SRC).map((f) => f.replace(/\.ts$/, ''))
    expect(packed.filter((f) => f.endsWith('.js')).sort()).toEqual(sources.map((f) => `dist/${f}.js`).sort())
    for (const f of packed.filter((x) => x.startsWith('dist/'))) {
      const text = readFileSync(join(SDK, f), 'utf8')
      const imports = [...text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1]!)
      for (const i of imports) {
        expect(i, `${f} imports ${i}`).toMatch(/^\.\/[a-z-]+\.js$/)
        expect(packed, `${f} imports ${i}`).toContain(`dist/${i.slice(2)}`)
      }
    }
    const pkg = JSON.parse(readFileSync(join(SDK, 'package.json'), 'utf8'))
    expect(pkg.exports['.']).toMatchObject({ types: './dist/index.d.ts', import: './dist/index.js' })
    expect(pkg.files).toEqual(['dist', 'README.md'])
    expect(pkg.dependencies ?? {}).toEqual({})
  })

  it('no SDK source imports the server', () => {
    for (const f of readdirSync(SRC)) {
      const imports = [...readFileSync(join(SRC, f), 'utf8').matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((m) => m[1]!)
      for (const i of imports) expect(i, `${f} imports ${i}`).toMatch(/^\.\/[a-z-]+\.js$/)
    }
  })

  it('uses no Node-only API', () => {
    for (const f of readdirSync(SRC)) {
      const text = readFileSync(join(SRC, f), 'utf8')
      expect(text, f).not.toMatch(/from 'node:|require\(|\bBuffer\b|\bprocess\./)
    }
  })

  describe('installed from its tarball into a fresh TypeScript project', () => {
    let project: string
    let server: ServerProcess
    beforeAll(async () => {
      server = await startServer()
      project = join(work, 'consumer')
      mkdirSync(project)
      writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
      // Offline: the SDK has no dependencies, so nothing comes from a registry.
      execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], { cwd: project, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      writeFileSync(join(project, 'server.ts'), `export const baseUrl: string = ${JSON.stringify(server.url)}\nexport const token: string | undefined = ${JSON.stringify(E2E_TOKEN)}\n`)
      writeFileSync(join(project, 'main.ts'), CONSUMER_PROGRAM)
      // For the projects without @types/node, whose SDK declarations stand on TypeScript's default libraries alone.
      writeFileSync(join(project, 'process.d.ts'), 'declare const process: { argv: string[] }\n')
    }, 120_000)
    afterAll(async () => {
      await server?.stop('SIGKILL')
    })

    it('installs the package and nothing else', () => {
      expect(readdirSync(join(project, 'node_modules')).filter((f) => !f.startsWith('.'))).toEqual(['@switchboard'])
      expect(readdirSync(join(project, 'node_modules/@switchboard/sdk')).sort()).toEqual(['README.md', 'dist', 'package.json'])
    })

    // The default libraries (DOM among them) give fetch's types; so does @types/node, alone (from the repository's node_modules).
    const nodeTypes = { lib: ['ES2022'], types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')] }
    it.each([
      ['NodeNext', { module: 'NodeNext', moduleResolution: 'NodeNext' }],
      ['Bundler (module ESNext)', { module: 'ESNext', moduleResolution: 'Bundler' }],
      ['Bundler (module Preserve)', { module: 'Preserve', moduleResolution: 'Bundler' }],
      ['NodeNext with @types/node and no DOM', { module: 'NodeNext', moduleResolution: 'NodeNext', ...nodeTypes }],
    ])('type-checks strictly under %s, with its types not any, and runs against a real server', (label, resolution) => {
      const outDir = `out-${label.replace(/\W+/g, '-')}`
      const config = `tsconfig.${outDir}.json`
      const compilerOptions = { ...resolution, target: 'ES2022', strict: true, skipLibCheck: false, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, outDir }
      const files = ['main.ts', 'server.ts', ...('types' in resolution ? [] : ['process.d.ts'])]
      writeFileSync(join(project, config), JSON.stringify({ compilerOptions, files }))
      const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', config], { cwd: project, encoding: 'utf8' })
      expect(tsc.stdout + tsc.stderr, 'tsc').toBe('')
      expect(tsc.status).toBe(0)
      const run = spawnSync(process.execPath, [join(project, outDir, 'main.js'), label], { cwd: project, encoding: 'utf8', timeout: 30_000 })
      expect(run.status, run.stderr).toBe(0)
      const slug = label.replace(/\W+/g, '-').toLowerCase().replace(/-$/, '')
      expect(JSON.parse(run.stdout)).toEqual({
        service: `shop-${slug}`,
        clusterIP: expect.stringMatching(/^\d+\.\d+\.\d+\.\d+$/),
        pod: `shop-${slug}-1`,
        phase: 'Running',
        picked: { address: '10.40.0.1', port: 8080, pod: `shop-${slug}-1` },
        listed: [`shop-${slug}-1`],
        missing: 'NotFoundError NotFound 404',
      })
    }, 120_000)
  })
})

/**
 * A program as a user of the package writes it: the SDK's types must be real types (each
 * `@ts-expect-error` fails the compile when the line type-checks, as it would were the
 * type `any`), and its calls must work against the server.
 */
const CONSUMER_PROGRAM = `import { NotFoundError, Switchboard, type ClientOptions, type PickResult, type Pod, type Service } from '@switchboard/sdk'
import { baseUrl, token } from './server.js'


type IsAny<T> = 0 extends 1 & T ? true : false
const notAny: [IsAny<Pod>, IsAny<Service>, IsAny<PickResult>, IsAny<Switchboard>] = [false, false, false, false]
void notAny

// exactOptionalPropertyTypes: an optional option is left out, not set to undefined.
const options: ClientOptions = { baseUrl, ...(token !== undefined ? { token } : {}) }
const sb = new Switchboard(options)
const slug = (process.argv[2] ?? '').replace(/\\W+/g, '-').toLowerCase().replace(/-$/, '')

const service: Service = await sb.services.create({
  metadata: { name: \`shop-\${slug}\` },
  spec: { selector: { app: \`shop-\${slug}\` }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
})
// @ts-expect-error: a Service's type is one of four names
service.spec.type = 'Nope'
const pod: Pod = await sb.pods.register({ name: \`shop-\${slug}-1\`, ip: '10.40.0.1', labels: { app: \`shop-\${slug}\` }, ports: { http: 8080 } })
// @ts-expect-error: a Pod has no such field
void pod.spec.nope
const picked: PickResult = await sb.services.pick(service.metadata.name, { port: 'http' })
// @ts-expect-error: an address is a string
const wrong: number = picked.address
void wrong
const listed: string[] = []
for await (const p of sb.pods.list({ labelSelector: { app: \`shop-\${slug}\` }, limit: 1 })) listed.push(p.metadata.name)
let missing = ''
try {
  await sb.pods.get('nobody')
} catch (e) {
  if (e instanceof NotFoundError) missing = \`\${e.name} \${e.reason} \${e.status}\`
}
console.log(JSON.stringify({
  service: service.metadata.name,
  clusterIP: service.spec.clusterIP,
  pod: pod.metadata.name,
  phase: pod.status.phase,
  picked: { address: picked.address, port: picked.port, pod: picked.pod },
  listed,
  missing,
}))
`

describe('the examples run against a real server', () => {
  let server: ServerProcess
  beforeAll(async () => {
    // The register example serves on loopback and registers that address, which access control refuses unless allowed.
    server = await startServer({ env: { ALLOW_LOOPBACK_ADDRESSES: 'true' } })
    const sb = new Switchboard({ baseUrl: server.url, token: E2E_TOKEN })
    await sb.services.create({ metadata: { name: 'checkout' }, spec: { selector: { app: 'checkout' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } })
    await sb.pods.register({ name: 'checkout-a', ip: '10.30.0.1', labels: { app: 'checkout' }, ports: { http: 8080 }, weight: 2 })
    await sb.pods.register({ name: 'checkout-b', ip: '10.30.0.2', labels: { app: 'checkout' }, ports: { http: 8080 }, weight: 1 })
  }, 60_000)
  afterAll(async () => {
    await server?.stop('SIGKILL')
  })

  const run = (example: string, args: string[] = [], env: Record<string, string> = {}) => {
    const res = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'sdk/examples', example), ...args], {
      cwd: ROOT,
      env: { ...process.env, SWITCHBOARD_URL: server.url, SWITCHBOARD_TOKEN: E2E_TOKEN, ...env },
      encoding: 'utf8',
      timeout: 30_000,
    })
    expect(res.status, res.stderr).toBe(0)
    return res.stdout.trim().split('\n')
  }

  it('register: registers with a lease, turns ready, and on SIGTERM drains, deregisters and exits 0', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'sdk/examples', 'register.ts')], {
      cwd: ROOT,
      env: { ...process.env, SWITCHBOARD_URL: server.url, SWITCHBOARD_TOKEN: E2E_TOKEN, POD_NAME: 'checkout-x', POD_IP: '127.0.0.1', LEASE_SECONDS: '2', DRAIN_SECONDS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    const waitFor = async (text: string) => {
      const deadline = Date.now() + 30_000
      while (!stdout.includes(text)) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`no "${text}":\n${stdout}\n${stderr}`)
        await new Promise((r) => setTimeout(r, 20))
      }
    }
    const sb = new Switchboard({ baseUrl: server.url, token: E2E_TOKEN })
    try {
      await waitFor('ready\n')
      const port = Number(/on port (\d+)/.exec(stdout)![1])
      const pod = await sb.pods.get('checkout-x')
      expect(pod.metadata.annotations).toMatchObject({ 'switchboard.dev/lease': 'checkout-x', 'switchboard.dev/weight': '2' })
      expect(pod.spec.containers?.[0]?.ports).toEqual([expect.objectContaining({ name: 'http', containerPort: port })])
      expect((await sb.leases.get('checkout-x')).spec.leaseDurationSeconds).toBe(2)
      // The workload answers where it registered.
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('hello from checkout-x\n')
      // Past a lease duration, renewals keep it registered.
      await new Promise((r) => setTimeout(r, 2500))
      expect((await sb.lookup('checkout')).map((e) => e.pod)).toContain('checkout-x')

      child.kill('SIGTERM')
      await waitFor('draining')
      await new Promise((r) => setTimeout(r, 300))
      expect((await sb.pods.get('checkout-x')).metadata.annotations?.['switchboard.dev/weight']).toBe('0')
      expect(await exited, stderr).toBe(0)
      expect(stdout.trim().split('\n')).toEqual([`registered checkout-x on port ${port}, lease checkout-x`, 'ready', 'SIGTERM: draining for 1 s', 'deregistered'])
      await expect(sb.pods.get('checkout-x')).rejects.toBeInstanceOf(NotFoundError)
      await expect(sb.leases.get('checkout-x')).rejects.toBeInstanceOf(NotFoundError)
    } finally {
      child.kill('SIGKILL')
    }
  }, 60_000)

  it('pick: spreads calls by weight', () => {
    expect(run('pick.ts', [], { CALLS: '6' })).toEqual(['checkout-a 4', 'checkout-b 2'])
  })

  it('resolve: answers the service name', () => {
    const lines = run('resolve.ts', ['_http._tcp.checkout.default.svc.cluster.local', 'SRV'])
    expect(lines).toEqual(['SRV 0 100 80 checkout.default.svc.cluster.local.'])
  })
})
