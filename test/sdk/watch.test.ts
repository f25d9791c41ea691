/**
 * `watch()` against real server processes: typed events; a resume from the last
 * resourceVersion after the registry is killed and started again on the same port and
 * database file; a re-list after a 410 Expired (a change log kept 10 s), reported as events
 * so that a cache kept from them equals a list; a Node process that only awaits a watch
 * stays alive across the registry's restart.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { Switchboard, type Pod, type Watch, type WatchEvent } from '../../sdk/src/index'
import { E2E_TOKEN } from '../support/auth'
import { startServer, type ServerProcess } from '../support/server'

/** A cache kept from a watch's events, as an informer keeps one. */
function follow(watch: Watch<Pod>) {
  const cache = new Map<string, string>()
  const events: WatchEvent<Pod>[] = []
  const done = (async () => {
    for await (const event of watch) {
      events.push(event)
      if (event.type === 'BOOKMARK') continue
      if (event.type === 'DELETED') cache.delete(event.object.metadata.name)
      else cache.set(event.object.metadata.name, event.object.metadata.resourceVersion)
    }
  })()
  return { cache, events, done }
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

async function listed(sb: Switchboard): Promise<Map<string, string>> {
  const { items } = await sb.pods.listAll()
  return new Map(items.map((p) => [p.metadata.name, p.metadata.resourceVersion]))
}

const pod = (name: string, ip: string) => ({ name, ip, labels: { app: 'w' }, ports: { http: 8080 } })

describe('watch()', () => {
  const servers: ServerProcess[] = []
  afterAll(async () => {
    for (const s of servers) await s.stop('SIGKILL')
  })

  it('lists, then streams typed events; resumes from the last resourceVersion after the registry restarts', async () => {
    const first = await startServer()
    servers.push(first)
    const sb = new Switchboard({ baseUrl: first.url, token: E2E_TOKEN, maxRetries: 0 })
    await sb.pods.register(pod('a', '10.60.0.1'))
    const disconnects: unknown[] = []
    let connects = 0
    const watch = sb.pods.watch({ labelSelector: { app: 'w' }, onDisconnect: (e) => disconnects.push(e), onConnect: () => connects++ })
    const seen = follow(watch)
    await until('the initial list', () => seen.cache.has('a'))
    await sb.pods.register(pod('b', '10.60.0.2'))
    await sb.pods.drain('a')
    await sb.pods.delete('b', { gracePeriodSeconds: 0 })
    await until('the events', async () => JSON.stringify([...seen.cache]) === JSON.stringify([...(await listed(sb))]))
    const types = seen.events.filter((e) => e.type !== 'BOOKMARK').map((e) => `${e.type} ${(e.object as Pod).metadata.name}`)
    expect(types).toEqual(['ADDED a', 'ADDED b', 'MODIFIED a', 'DELETED b'])
    const before = watch.resourceVersion

    // killed: the stream breaks; the same database on the same port comes back
    await first.stop('SIGKILL')
    await until('the disconnect', () => disconnects.length > 0)
    const second = await startServer({ port: first.port, databasePath: first.databasePath })
    servers.push(second)
    await until('the reconnect', () => connects >= 2)
    await sb.pods.register(pod('c', '10.60.0.3'))
    await until('the event after the restart', () => seen.cache.has('c'))
    expect(JSON.stringify([...seen.cache])).toBe(JSON.stringify([...(await listed(sb))]))
    // resumed, not re-listed: no event repeated, none marked relisted
    const after = seen.events.filter((e) => e.type !== 'BOOKMARK').slice(types.length)
    expect(after.map((e) => `${e.type} ${(e.object as Pod).metadata.name}`)).toEqual(['ADDED c'])
    expect(after.every((e) => !('relisted' in e))).toBe(true)
    expect(Number(watch.resourceVersion)).toBeGreaterThan(Number(before))
    watch.close()
    await seen.done
  }, 60_000)

  it('keeps a Node process that only awaits a watch alive while the registry restarts, and it gets the events after', async () => {
    const first = await startServer()
    servers.push(first)
    const sb = new Switchboard({ baseUrl: first.url, token: E2E_TOKEN, maxRetries: 0 })
    await sb.pods.register(pod('alive-a', '10.60.9.1'))
    const root = new URL('../..', import.meta.url).pathname
    const dir = mkdtempSync(join(tmpdir(), 'sb-watch-alive-'))
    const program = join(dir, 'main.mts')
    writeFileSync(
      program,
      `import { Switchboard } from ${JSON.stringify(join(root, 'sdk/src/index.ts'))}
const sb = new Switchboard({ baseUrl: process.env.SB_URL!, token: process.env.SB_TOKEN! })
for await (const e of sb.pods.watch({ labelSelector: { app: 'w' }, bookmarks: false, onDisconnect: (err) => console.log('disconnect', err.name) })) {
  if (e.type !== 'BOOKMARK') console.log(e.type, e.object.metadata.name)
}
console.log('loop ended')
`,
    )
    const child = spawn(process.execPath, ['--import', 'tsx', program], { cwd: root, env: { ...process.env, SB_URL: first.url, SB_TOKEN: E2E_TOKEN } })
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    try {
      await until('the initial list in the child', () => output.includes('ADDED alive-a') || child.exitCode !== null)
      expect(output).toContain('ADDED alive-a')
      await first.stop('SIGKILL')
      await until('the disconnect in the child', () => output.includes('disconnect'))
      // Down for longer than the first reconnect backoffs: the process must wait them out, not exit.
      await new Promise((r) => setTimeout(r, 1500))
      expect(child.exitCode, output).toBeNull()
      const second = await startServer({ port: first.port, databasePath: first.databasePath })
      servers.push(second)
      await sb.pods.register(pod('alive-b', '10.60.9.2'))
      await until('the event after the restart in the child', () => output.includes('ADDED alive-b'))
      expect(child.exitCode, output).toBeNull()
      expect(output).not.toMatch(/loop ended/)
    } finally {
      child.kill('SIGKILL')
      await exited
    }
  }, 60_000)

  it('watches every resource: namespaces, services, pods, endpoints, endpoint slices, leases and tokens', async () => {
    const server = await startServer()
    servers.push(server)
    const sb = new Switchboard({ baseUrl: server.url, token: E2E_TOKEN, maxRetries: 0 })
    const controller = new AbortController()
    // the first object ADDED in the new namespace (or, cluster-scoped, with this name)
    const first = async <T extends { metadata: { name: string; namespace?: string } }>(watch: AsyncIterable<WatchEvent<T>>, name?: string) => {
      for await (const e of watch) {
        if (e.type === 'ADDED' && (name === undefined ? e.object.metadata.namespace === 'all-kinds' : e.object.metadata.name === name)) return e.object.metadata.name
      }
      return null
    }
    const signal = controller.signal
    const seen = Promise.all([
      first(sb.namespaces.watch({ signal }), 'all-kinds'),
      first(sb.services.watch({ signal, namespace: 'all-kinds' }), 'web'),
      first(sb.pods.watch({ signal, namespace: 'all-kinds' }), 'web-1'),
      first(sb.endpoints.watch({ signal, namespace: 'all-kinds' }), 'web'),
      first(sb.endpointSlices.watch({ signal, namespace: 'all-kinds' })),
      first(sb.leases.watch({ signal, namespace: 'all-kinds' }), 'web-1'),
      first(sb.tokens.watch({ signal }), 'all-kinds-reader'),
    ])
    await new Promise((r) => setTimeout(r, 500))
    await sb.namespaces.create({ metadata: { name: 'all-kinds' } })
    const ns = new Switchboard({ baseUrl: server.url, token: E2E_TOKEN, namespace: 'all-kinds' })
    await ns.services.create({ metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } })
    await ns.pods.register({ name: 'web-1', ip: '10.62.0.1', labels: { app: 'web' }, ports: { http: 8080 } })
    await ns.leases.create({ metadata: { name: 'web-1' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 10 } })
    await sb.tokens.create({ metadata: { name: 'all-kinds-reader' }, spec: { role: 'read', namespaces: ['all-kinds'] } })
    const names = await Promise.race([seen, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no event')), 15_000))])
    // the service's first slice (the empty one a selector service has before its pods, or the pod's)
    expect(names).toEqual(['all-kinds', 'web', 'web-1', 'web', expect.stringMatching(/^web-[0-9a-f]{8}$/), 'web-1', 'all-kinds-reader'])
    controller.abort()
  }, 60_000)

  it('re-lists after a 410 Expired and reports the difference as events', async () => {
    const server = await startServer({ env: { CHANGE_LOG_RETENTION_SECONDS: '10' } })
    servers.push(server)
    const sb = new Switchboard({ baseUrl: server.url, token: E2E_TOKEN, maxRetries: 0 })
    await sb.pods.register(pod('a', '10.61.0.1'))
    await sb.pods.register(pod('b', '10.61.0.2'))
    const old = await sb.pods.listAll({ labelSelector: { app: 'w' } })
    // changes the watch will not see as events: they leave the change log
    await sb.pods.delete('a', { gracePeriodSeconds: 0 })
    await sb.pods.drain('b')
    await sb.pods.register(pod('c', '10.61.0.3'))
    await until(
      'the change log to drop the list’s resourceVersion',
      async () => {
        const res = await fetch(`${server.url}/api/v1/namespaces/default/pods?watch=true&timeoutSeconds=1&resourceVersion=${old.resourceVersion}`, {
          headers: { authorization: `Bearer ${E2E_TOKEN}` },
        })
        const text = await res.text()
        return res.status === 410 || /"code":410/.test(text)
      },
      40_000,
    )
    const watch = sb.pods.watch({ labelSelector: { app: 'w' }, resourceVersion: old.resourceVersion, known: old.items })
    const seen = follow(watch)
    for (const p of old.items) seen.cache.set(p.metadata.name, p.metadata.resourceVersion)
    await until('the re-list', () => seen.events.length >= 3)
    expect(seen.events.map((e) => `${e.type} ${(e.object as Pod).metadata.name} ${'relisted' in e}`).sort()).toEqual([
      'ADDED c true',
      'DELETED a true',
      'MODIFIED b true',
    ])
    expect(JSON.stringify([...seen.cache].sort())).toBe(JSON.stringify([...(await listed(sb))].sort()))
    // and it goes on streaming from the new list
    await sb.pods.register(pod('d', '10.61.0.4'))
    await until('the next event', () => seen.cache.has('d'))
    watch.close()
    await seen.done
  }, 60_000)
})
