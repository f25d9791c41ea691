/**
 * A crash in the middle of a write burst: the server process is killed (SIGKILL) while
 * hundreds of pod and service writes are in flight, then started again on the same
 * database file. Each write commits its object and its endpoints together or not at
 * all, so after the restart the served EndpointSlices and Endpoints still equal a
 * recomputation from the served services and pods, and every write the client saw
 * acknowledged is still there.
 */
import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import { startServer, type ServerProcess } from '../support/server'
import { authHeaders } from '../support/auth'
import {
  POD_NAMES,
  SERVICE_NAMES,
  commandArb,
  compare,
  send,
  snapshot,
  urlFetcher,
  unexpectedAnswers,
  type Command,
  type Outcome,
  type Snapshot,
} from '../support/recompute'

const MAX_PER_SLICE = 3
const ENV = { MAX_ENDPOINTS_PER_SLICE: String(MAX_PER_SLICE) }
const NAMESPACE = 'crash'
const CYCLES = 3
const BURST = 240
/** The kill is sent once this many answers of the burst have arrived. */
const KILL_AFTER = 30
const SEED = 0xc4a54

const servers: ServerProcess[] = []
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop('SIGKILL')))
})

async function post(url: string, path: string, body: unknown): Promise<void> {
  const res = await fetch(`${url}${path}`, { method: 'POST', headers: authHeaders({ 'content-type': 'application/json' }), body: JSON.stringify(body) })
  expect(res.status, await res.text()).toBe(201)
}

const SERVICES: Record<string, unknown> = {
  'svc-a': { selector: { app: 'web' }, ports: [{ name: 'web', port: 80, targetPort: 8080 }, { name: 'http', port: 81, targetPort: 'http' }] },
  'svc-b': { clusterIP: 'None', selector: { tier: 'front' } },
  'svc-c': { selector: { app: 'api' }, publishNotReadyAddresses: true, ports: [{ port: 53, protocol: 'UDP', targetPort: 'dns' }] },
}

function podBody(i: number, name: string): unknown {
  return {
    metadata: { name, labels: { app: i % 3 === 2 ? 'api' : 'web', tier: i % 2 ? 'front' : 'back' } },
    spec: { containers: [{ name: 'c0', ports: i % 4 ? [{ name: 'http', containerPort: 8080 }, { name: 'dns', containerPort: 5353, protocol: 'UDP' }] : [] }] },
    status: {
      podIP: `10.3.0.${i + 1}`,
      podIPs: i % 5 ? [{ ip: `10.3.0.${i + 1}` }] : [{ ip: `10.3.0.${i + 1}` }, { ip: `fd00::3:${i + 1}` }],
      conditions: [{ type: 'Ready', status: i % 3 ? 'True' : 'False' }],
    },
  }
}

/** Creates whichever of the three selector services and the dozen pods are missing. */
async function topUp(url: string, current: Snapshot): Promise<void> {
  const base = `/api/v1/namespaces/${NAMESPACE}`
  const services = new Set(current.services.map((s) => s.metadata.name))
  const pods = new Set(current.pods.map((p) => p.metadata.name))
  for (const name of SERVICE_NAMES) {
    if (!services.has(name)) await post(url, `${base}/services`, { metadata: { name }, spec: SERVICES[name] })
  }
  for (const [i, name] of POD_NAMES.entries()) if (!pods.has(name)) await post(url, `${base}/pods`, podBody(i, name))
}

/** The burst: every command in flight at once; the server is killed after KILL_AFTER answers. */
async function burstAndKill(server: ServerProcess, commands: Command[]): Promise<{ acked: Outcome[]; lost: number }> {
  let answered = 0
  let exited: Promise<number | null> | undefined
  const results = await Promise.all(
    commands.map(async (c) => {
      try {
        const outcome = await send(urlFetcher(server.url), NAMESPACE, c)
        if (++answered === KILL_AFTER) exited = server.stop('SIGKILL')
        return outcome
      } catch {
        // no (complete) answer: the server died first; the write may or may not have committed
        return null
      }
    }),
  )
  if (!exited) exited = server.stop('SIGKILL')
  await exited
  const acked = results.filter((r): r is Outcome => r !== null)
  return { acked, lost: results.length - acked.length }
}

type Key = string
const keyOf = (c: Command): Key => `${c.op.endsWith('Service') ? 'Service' : 'Pod'}/${c.name}`
const isRemoval = (c: Command) => c.op === 'deleteService' || (c.op === 'deletePod' && !c.grace)

/**
 * The workload's commands with a tenth of its removals: a bodiless DELETE is answered
 * first, and at the full rate the kill would find the namespace already emptied.
 */
const crashCommandArb = fc
  .tuple(commandArb, fc.integer({ min: 0, max: 9 }))
  .filter(([c, n]) => !isRemoval(c) || n === 0)
  .map(([c]) => c)
interface Stored {
  rv: number
  object: { metadata: { resourceVersion?: string } }
}

function objects(s: Snapshot): Map<Key, Stored> {
  const out = new Map<Key, Stored>()
  for (const svc of s.services) out.set(`Service/${svc.metadata.name}`, { rv: Number(svc.metadata.resourceVersion), object: svc })
  for (const pod of s.pods) out.set(`Pod/${pod.metadata.name}`, { rv: Number(pod.metadata.resourceVersion), object: pod })
  return out
}

/**
 * What survives a crash, from what the client saw: objects nobody removed are still
 * there, objects nobody created did not appear, an acknowledged write is present at its
 * resourceVersion or later (or a removal was sent), an acknowledged removal stays
 * removed unless a create was sent, an object at exactly an acknowledged resourceVersion
 * is the acknowledged object, and the registry's resourceVersion did not go back.
 */
function durabilityProblems(before: Snapshot, after: Snapshot, commands: Command[], acked: Outcome[]): string[] {
  const problems: string[] = []
  const removalSent = new Set(commands.filter(isRemoval).map(keyOf))
  const createSent = new Set(commands.filter((c) => c.op === 'createPod' || c.op === 'createService').map(keyOf))
  const was = objects(before)
  const now = objects(after)
  for (const key of was.keys()) if (!now.has(key) && !removalSent.has(key)) problems.push(`${key} vanished, though no removal was sent`)
  for (const key of now.keys()) if (!was.has(key) && !createSent.has(key)) problems.push(`${key} appeared, though no create was sent`)
  let maxAcked = 0
  for (const o of acked) {
    if (o.status >= 300) continue
    const key = keyOf(o.command)
    const rv = Number(o.body?.metadata?.resourceVersion)
    maxAcked = Math.max(maxAcked, rv)
    const stored = now.get(key)
    if (isRemoval(o.command)) {
      if (stored && (stored.rv <= rv || !createSent.has(key))) {
        problems.push(`${key} removed at ${rv} (acknowledged) but present at ${stored.rv}`)
      }
      continue
    }
    if (!stored) {
      if (!removalSent.has(key)) problems.push(`${key} written at ${rv} (acknowledged, ${o.command.op}) but missing`)
      continue
    }
    if (stored.rv < rv) problems.push(`${key} written at ${rv} (acknowledged, ${o.command.op}) but stored at ${stored.rv}`)
    if (stored.rv === rv && !isDeepStrictEqual(stored.object, o.body)) {
      problems.push(`${key} at ${rv} differs from the acknowledged object: ${JSON.stringify(stored.object)} vs ${JSON.stringify(o.body)}`)
    }
  }
  if (Number(after.resourceVersion) < maxAcked) {
    problems.push(`resourceVersion ${after.resourceVersion} is below the acknowledged ${maxAcked}`)
  }
  return problems
}

describe('endpoints after a crash mid-burst (real server, SIGKILL)', () => {
  it(
    'nothing half-written survives: served endpoints equal a recomputation after each kill and restart',
    async () => {
      let server = await startServer({ env: ENV })
      servers.push(server)
      await post(server.url, '/api/v1/namespaces', { metadata: { name: NAMESPACE } })
      let previous = await snapshot(urlFetcher(server.url), NAMESPACE)

      for (let cycle = 0; cycle < CYCLES; cycle++) {
        await topUp(server.url, previous)
        const before = await snapshot(urlFetcher(server.url), NAMESPACE)
        expect(compare(before, MAX_PER_SLICE)).toEqual({ problems: [], endpoints: [], addresses: [] })
        expect(before.services).toHaveLength(SERVICE_NAMES.length)
        const [commands] = fc.sample(fc.array(crashCommandArb, { minLength: BURST, maxLength: BURST }), { seed: SEED + cycle, numRuns: 1 })
        const { acked, lost } = await burstAndKill(server, commands!)
        // The kill did land mid-burst: some writes were answered, others never were.
        expect(acked.length).toBeGreaterThanOrEqual(KILL_AFTER)
        expect(lost).toBeGreaterThan(0)
        expect(unexpectedAnswers(acked)).toEqual([])

        server = await startServer({ env: ENV, databasePath: server.databasePath })
        servers.push(server)
        const after = await snapshot(urlFetcher(server.url), NAMESPACE)
        expect(compare(after, MAX_PER_SLICE), `cycle ${cycle}`).toEqual({ problems: [], endpoints: [], addresses: [] })
        expect(durabilityProblems(before, after, commands!, acked), `cycle ${cycle}`).toEqual([])
        // Every write bumps the resourceVersion by one: how many of the burst committed.
        const committed = Number(after.resourceVersion) - Number(before.resourceVersion)
        console.log(
          `cycle ${cycle}: ${acked.length} answered (${acked.filter((o) => o.status < 300).length} applied), ${lost} unanswered, ` +
            `${committed} committed; after restart ${after.pods.length} pods, ${after.services.length} services, ${after.slices.length} slices`,
        )
        previous = after
      }
      await server.stop('SIGTERM')
    },
    120_000,
  )
})
