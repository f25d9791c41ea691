/**
 * Write throughput with 1,000 and with 10,000 existing pods in one namespace:
 *
 * - the ceiling: GET /bench/constant on the same server, right before the writes, once with
 *   the fetch load generator of every other row and once with the lighter node:http client
 * - status updates: PUT …/pods/{name}/status flipping each pod's Ready condition, round
 *   robin over a shuffled list of every pod in the namespace (so no two requests in
 *   flight touch the same pod and every request is a real change, never a no-op)
 * - creates: POST …/pods of new pods; the namespace grows by the measured count, and the
 *   row says from how many to how many
 *
 * Warm-up requests of the write scenarios go to a separate namespace, so the measured
 * namespace holds exactly the stated pods. Every answer is checked: status updates must
 * return the flipped condition, creates a 201 with the pod's name, and afterwards the
 * pod count and a sample of pods read back must match what the load generator expects
 * (a mismatch is reported as a problem and fails the run).
 */
import { CONSTANT_ANSWER, podBody, podIP, seedRef, statusBody, type PodRef, shuffled } from './fixtures'
import { fmt, measure, type BenchContext, type Scenario } from './scenario'

export const WRITES = {
  namespace: 'bench',
  warmupNamespace: 'bench-warmup',
  levels: [1_000, 10_000],
  seedChunk: 2_000,
  constant: { warmup: { requests: 10_000, seconds: 3 }, measure: { requests: 100_000, seconds: 8 } },
  status: { warmup: { requests: 1_000, seconds: 2 }, measure: { requests: 20_000, seconds: 12 } },
  create: { warmup: { requests: 500, seconds: 2 }, measure: { requests: 1_000, seconds: 12 } },
  warmupPods: 200,
  readBackSample: 50,
}

const CONSTANT = JSON.stringify(CONSTANT_ANSWER)

export const writes: Scenario = {
  name: 'writes',
  run: async (ctx) => {
    const s = ctx.server
    const pods: PodRef[] = []
    let seeded = 0
    let created = 0
    let warmed = 0

    for (const ns of [WRITES.namespace, WRITES.warmupNamespace]) {
      await s.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })
    }
    const base = `${s.url}/api/v1/namespaces/${WRITES.namespace}/pods`
    const warmBase = `${s.url}/api/v1/namespaces/${WRITES.warmupNamespace}/pods`
    const json = { 'content-type': 'application/json' }

    // A create of a brand-new pod, checked by its answer.
    const createShot = (url: string, ref: PodRef, i: number, onCreated?: () => void) => ({
      method: 'POST',
      url,
      headers: json,
      body: JSON.stringify(podBody(ref, i)),
      verify: (status: number, text: string) => {
        if (status !== 201) return `expected 201, got ${status}`
        const name = (JSON.parse(text) as { metadata?: { name?: string } }).metadata?.name
        return name === ref.name ? undefined : `answer names ${name}, expected ${ref.name}`
      },
      ...(onCreated ? { succeeded: onCreated } : {}),
    })
    const warmupCreate = () => {
      const i = warmed++
      const ref: PodRef = { name: `warm-${String(i).padStart(6, '0')}`, ip: podIP(192, i), ready: true }
      return createShot(warmBase, ref, i)
    }

    // Pods the status warm-up flips, in the warm-up namespace.
    await s.call('POST', '/bench/seed', { namespace: WRITES.warmupNamespace, start: 0, count: WRITES.warmupPods })
    const warmPods = Array.from({ length: WRITES.warmupPods }, (_, i) => seedRef(i))

    for (const level of WRITES.levels) {
      const group = `${fmt(level)} pods`

      // Seed the namespace up to `level` pods through the registry, in-process.
      const have = (await s.stats(WRITES.namespace)).pods
      if (have > level) throw new Error(`namespace already holds ${have} pods, more than ${level}`)
      let missing = level - have
      const t0 = performance.now()
      while (missing > 0) {
        const count = Math.min(WRITES.seedChunk, missing)
        await s.call('POST', '/bench/seed', { namespace: WRITES.namespace, start: seeded, count })
        for (let i = seeded; i < seeded + count; i++) pods.push(seedRef(i))
        seeded += count
        missing -= count
      }
      const now = (await s.stats(WRITES.namespace)).pods
      if (now !== level || pods.length !== level) throw new Error(`seeding left ${now} pods (tracked ${pods.length}), expected ${level}`)
      ctx.log(`seeded ${fmt(level - have)} pods in ${((performance.now() - t0) / 1000).toFixed(1)} s; namespace ${WRITES.namespace} holds ${fmt(now)}`)

      // The ceiling: the same server, a handler that does nothing; once with the load
      // generator of every other row (fetch), once with the cheaper node:http client.
      const constantUrl = `${s.url}/bench/constant`
      for (const transport of ['fetch', 'http'] as const) {
        await measure(ctx, {
          group,
          scenario: 'GET /bench/constant',
          namespace: WRITES.namespace,
          ceiling: true,
          transport,
          ...WRITES.constant,
          next: () => ({ url: constantUrl, verify: (_status, text) => (text === CONSTANT ? undefined : `unexpected answer ${text}`) }),
        })
      }

      // Status updates: flip Ready on every pod in turn.
      const order = shuffled(pods, level)
      const statusShot = (ref: PodRef, url: string) => {
        const ready = !ref.ready
        return {
          method: 'PUT',
          url,
          headers: json,
          body: JSON.stringify(statusBody({ ...ref, ready })),
          verify: (_status: number, text: string) => {
            const pod = JSON.parse(text) as { status?: { podIP?: string; conditions?: { type: string; status: string }[] } }
            const got = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status
            if (got !== (ready ? 'True' : 'False')) return `Ready is ${got}, expected ${ready ? 'True' : 'False'}`
            if (pod.status?.podIP !== ref.ip) return `podIP is ${pod.status?.podIP}, expected ${ref.ip}`
            return undefined
          },
          succeeded: () => {
            ref.ready = ready
          },
        }
      }
      const status = await measure(ctx, {
        group,
        scenario: 'PUT pods/{name}/status',
        namespace: WRITES.namespace,
        ...WRITES.status,
        warmupNext: (n) => {
          const ref = warmPods[n % warmPods.length]!
          return statusShot(ref, `${warmBase}/${ref.name}/status`)
        },
        next: (n) => {
          const ref = order[n % order.length]!
          return statusShot(ref, `${base}/${ref.name}/status`)
        },
      })
      if (status.after.pods !== level) ctx.report.problem(`status updates at ${group}: the pod count changed to ${status.after.pods}`)
      await readBack(ctx, pods, group)

      // Creates: new pods in the same namespace.
      const createStart = pods.length
      const result = await measure(ctx, {
        group,
        scenario: 'POST pods',
        namespace: WRITES.namespace,
        ...WRITES.create,
        warmupNext: () => warmupCreate(),
        next: () => {
          const i = created++
          const ref: PodRef = { name: `new-${String(i).padStart(6, '0')}`, ip: podIP(128, i), ready: true }
          return createShot(base, ref, i, () => pods.push(ref))
        },
      })
      const expected = createStart + result.row.result.ok
      if (result.after.pods !== expected || pods.length !== expected) {
        ctx.report.problem(`creates at ${group}: the namespace holds ${result.after.pods} pods, the load generator expected ${expected}`)
      }
    }
    const end = await s.stats(WRITES.warmupNamespace)
    const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`
    ctx.report.note(`warm-up requests went to namespace ${WRITES.warmupNamespace}, which held ${fmt(end.pods)} pods at the end`)
    ctx.report.note(`namespace ${WRITES.namespace} holds no services: no selector matches the written pods, so no endpoints change`)
    ctx.report.note(
      `at the end: database file ${mib(end.dbBytes)}, WAL ${mib(end.walBytes)}; server RSS ${mib(end.rssBytes)}, JS heap used ${mib(end.heapUsedBytes)}`,
    )
  },
}

/**
 * Reads a sample of pods back and checks their Ready condition against what the load
 * generator last set; a mismatch is reported as a problem.
 */
async function readBack(ctx: BenchContext, pods: PodRef[], group: string): Promise<void> {
  const sample = shuffled(pods, 7).slice(0, WRITES.readBackSample)
  let wrong = 0
  const examples: string[] = []
  for (const ref of sample) {
    const pod = await ctx.server.call<{ status?: { conditions?: { type: string; status: string }[] } }>(
      'GET',
      `/api/v1/namespaces/${WRITES.namespace}/pods/${ref.name}`,
    )
    const got = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status
    if (got !== (ref.ready ? 'True' : 'False')) {
      wrong++
      if (examples.length < 3) examples.push(`${ref.name}: Ready=${got}, expected ${ref.ready}`)
    }
  }
  const line = `read-back after status updates at ${group}: ${sample.length - wrong}/${sample.length} sampled pods have the Ready condition last written`
  if (wrong) ctx.report.problem(`${line} (${examples.join('; ')})`)
  else ctx.report.note(line)
}
