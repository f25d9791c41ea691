/**
 * An `@kubernetes/client-node` 1.x informer, unmodified (makeInformer over
 * listNamespacedPod, restarted on error as its README shows), keeps its cache equal to
 * the real server's pod list through about a minute of creates, relabels, readiness
 * flips, graceful and immediate deletes, and writes in another namespace, with the
 * server stopped and started again (same database file, same port) in the middle.
 * The writes follow a seeded random sequence; the seed is printed.
 */
import { CoreV1Api, KubeConfig, makeInformer, type Informer, type ObjectCache, type V1Pod } from '@kubernetes/client-node'
import { afterAll, describe, expect, it } from 'vitest'
import { startServer, type ServerProcess } from '../support/server'
import { OPEN_ACCESS, serverApi, type ServerApi } from '../support/server-api'

const NAMESPACE = 'default'
const OTHER = 'informer-other'
/** How long each half of the run writes, before and after the restart. */
const PHASE_MS = 27_000
/** Every this many writes, the cache must catch up with the server. */
const CHECK_EVERY = 25
const CONVERGE_MS = 10_000
const MERGE = 'application/merge-patch+json'
/** Errors that only a connection to a server that is going or gone may cause. */
const CONNECTION_ERROR = /ECONNREFUSED|ECONNRESET|socket hang up|aborted|terminated|other side closed|premature close/i

function random(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

type PodLike = Pick<V1Pod, 'metadata' | 'status'>

/** What the comparison looks at, one line per pod: name, version, labels, readiness, terminating. */
function snapshot(pods: readonly PodLike[]): string[] {
  return pods
    .map((p) => {
      const labels = Object.entries(p.metadata?.labels ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))
      const ready = p.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? '-'
      return `${p.metadata?.name} rv=${p.metadata?.resourceVersion} labels=${JSON.stringify(labels)} ready=${ready} terminating=${!!p.metadata?.deletionTimestamp}`
    })
    .sort()
}

interface Seen {
  type: 'add' | 'update' | 'delete'
  name: string
  rv: number
}

const servers: ServerProcess[] = []
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop('SIGKILL')))
})

describe('@kubernetes/client-node informer against the real server', () => {
  it('keeps its cache equal to the server through creates, updates, deletes and a server restart', async () => {
    const seed = Number(process.env.INFORMER_SEED ?? Date.now() % 1_000_000)
    console.log(`informer: seed ${seed} (INFORMER_SEED=${seed} repeats this run)`)
    const rand = random(seed)
    const pick = <T>(xs: T[]): T => xs[Math.floor(rand() * xs.length)]!

    let server = await startServer({ env: OPEN_ACCESS })
    servers.push(server)
    let api: ServerApi = serverApi(server.url)
    await api('POST', '/api/v1/namespaces', { metadata: { name: OTHER } })
    for (let i = 0; i < 5; i++) await api('POST', `/api/v1/namespaces/${NAMESPACE}/pods`, podBody(`seed-${i}`, i % 2 === 0))

    const kc = new KubeConfig()
    kc.loadFromOptions({
      // The client refuses an http:// server unless told to skip TLS verification (there is no TLS here).
      clusters: [{ name: 'switchboard', server: server.url, skipTLSVerify: true }],
      users: [{ name: 'anonymous' }],
      contexts: [{ name: 'switchboard', cluster: 'switchboard', user: 'anonymous', namespace: NAMESPACE }],
      currentContext: 'switchboard',
    })
    const core = kc.makeApiClient(CoreV1Api)
    const informer: Informer<V1Pod> & ObjectCache<V1Pod> = makeInformer(kc, `/api/v1/namespaces/${NAMESPACE}/pods`, () => core.listNamespacedPod({ namespace: NAMESPACE }))
    const seen: Seen[] = []
    const errors: string[] = []
    let stopped = false
    /** The distinct errors, with how often each came. */
    const errorSummary = () => [...new Set(errors)].map((e) => `${e.trim()} (×${errors.filter((x) => x === e).length})`).join('; ')
    const record = (type: Seen['type']) => (pod: V1Pod) => seen.push({ type, name: pod.metadata!.name!, rv: Number(pod.metadata!.resourceVersion) })
    informer.on('add', record('add'))
    informer.on('update', record('update'))
    informer.on('delete', record('delete'))
    informer.on('error', (err: any) => {
      errors.push(`${err?.statusCode ?? ''} ${err?.code ?? ''} ${err?.message ?? err}`)
      // As the client's README does: start again after a pause (it resumes from the last resourceVersion).
      if (!stopped) setTimeout(() => void informer.start(), 500)
    })
    await informer.start()

    const live = new Set<string>()
    for (let i = 0; i < 5; i++) live.add(`seed-${i}`)
    let created = 0
    let writes = 0

    async function converge(when: string): Promise<number> {
      const started = Date.now()
      let server_: string[] = []
      let cache: string[] = []
      while (Date.now() - started < CONVERGE_MS) {
        server_ = snapshot((await api('GET', `/api/v1/namespaces/${NAMESPACE}/pods`)).items)
        cache = snapshot(informer.list(NAMESPACE))
        if (JSON.stringify(server_) === JSON.stringify(cache)) return Date.now() - started
        await new Promise((r) => setTimeout(r, 100))
      }
      expect(cache, `informer cache vs server ${when} (seed ${seed}); errors: ${errorSummary() || 'none'}`).toEqual(server_)
      return Date.now() - started
    }

    async function write(): Promise<void> {
      const names = [...live]
      const r = rand()
      const ns = `/api/v1/namespaces/${NAMESPACE}/pods`
      if (names.length < 4 || r < 0.25) {
        const name = `p-${created++}`
        await api('POST', ns, podBody(name, rand() < 0.5))
        live.add(name)
      } else if (r < 0.45) {
        await api('PATCH', `${ns}/${pick(names)}`, { metadata: { labels: { tier: pick(['web', 'db', 'cache']), flip: null } } }, MERGE)
      } else if (r < 0.65) {
        const ready = rand() < 0.5 ? 'True' : 'False'
        await api('PATCH', `${ns}/${pick(names)}/status`, { status: { conditions: [{ type: 'Ready', status: ready }] } }, MERGE)
      } else if (r < 0.75) {
        const name = pick(names)
        await api('DELETE', `${ns}/${name}?gracePeriodSeconds=0`)
        live.delete(name)
      } else if (r < 0.8) {
        // Graceful: terminating first (MODIFIED), removed by the server about a second later (DELETED).
        const name = pick(names)
        await api('DELETE', `${ns}/${name}?gracePeriodSeconds=1`)
        live.delete(name)
      } else {
        const name = `o-${Math.floor(rand() * 6)}`
        const other = `/api/v1/namespaces/${OTHER}/pods`
        const exists = await fetch(`${server.url}${other}/${name}`)
        if (exists.status === 404) await api('POST', other, podBody(name, true))
        else await api('DELETE', `${other}/${name}?gracePeriodSeconds=0`)
      }
      writes++
    }

    async function phase(label: string): Promise<number[]> {
      const lags: number[] = []
      const end = Date.now() + PHASE_MS
      while (Date.now() < end) {
        await write()
        if (writes % CHECK_EVERY === 0) lags.push(await converge(`after ${writes} writes (${label})`))
        await new Promise((r) => setTimeout(r, 50 + rand() * 150))
      }
      lags.push(await converge(`at the end of ${label}`))
      return lags
    }

    try {
      const lagsBefore = await phase('before the restart')
      const seenBefore = seen.length

      expect(await server.stop('SIGTERM')).toBe(0)
      server = await startServer({ env: OPEN_ACCESS, databasePath: server.databasePath, port: server.port })
      servers.push(server)
      api = serverApi(server.url)
      // Writes start at once, before the informer is back: it must catch up from where it was.
      const lagsAfter = await phase('after the restart')

      console.log(
        `informer: ${writes} writes, ${seen.length} informer events (${seen.length - seenBefore} after the restart), ` +
          `errors: ${errorSummary() || 'none'}, ` +
          `catch-up ≤ ${Math.max(...lagsBefore, ...lagsAfter)} ms over ${lagsBefore.length + lagsAfter.length} checks`,
      )
      expect(seen.length - seenBefore).toBeGreaterThan(0)
      // Only a server going away explains an error; an error with an HTTP status does not.
      expect(errors.filter((e) => !CONNECTION_ERROR.test(e))).toEqual([])
      expect(seen.filter((s) => s.name.startsWith('o-'))).toEqual([])
      // Per pod name, versions only move forward (no replayed or reordered event).
      const last = new Map<string, number>()
      for (const s of seen) {
        const before = last.get(s.name) ?? 0
        if (s.type === 'delete') expect(s.rv, `${s.type} ${s.name}`).toBeGreaterThanOrEqual(before)
        else expect(s.rv, `${s.type} ${s.name}`).toBeGreaterThan(before)
        last.set(s.name, s.rv)
      }
    } finally {
      stopped = true
      await informer.stop()
    }
  }, 150_000)
})

function podBody(name: string, ready: boolean) {
  return {
    metadata: { name, labels: { app: 'informer', flip: 'x' } },
    spec: { containers: [{ name: 'main', ports: [{ containerPort: 8080 }] }] },
    status: { podIPs: [{ ip: '10.9.0.1' }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  }
}
