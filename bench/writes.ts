/**
 * Write throughput with 1,000 and with 10,000 existing pods in one namespace:
 *
 * - the ceiling: GET /bench/constant on the same server, right before the writes, once with
 *   the fetch load generator and once with the lighter node:http client
 * - the storage: the raw commit rate of the server's own libSQL client (same process, file
 *   and pragmas; POST /bench/commit-rate, commit-rate.ts): one-row UPDATE batches on a table
 *   of its own, committed one at a time (the "vs storage" column divides by this row), then
 *   with 16 in flight (what the client's group commit makes of batches queued together)
 * - status updates: PUT …/pods/{name}/status flipping each pod's Ready condition, round
 *   robin over a shuffled list of every pod in the namespace (so no two requests in
 *   flight touch the same pod and every request is a real change, never a no-op)
 * - creates: POST …/pods of new pods; the namespace grows by the measured count, and the
 *   row says from how many to how many; then the floor under a create, new pods written by
 *   the registry's own store write from a bare handler (POST /bench/create-floor/…: HTTP,
 *   the create's metadata and defaults, the same statements, ports, labels, endpoints,
 *   change record and group commit, but no decode, validation, managed fields, size check or
 *   audit line), into a namespace of their own (bench-floor) so the measured one holds only
 *   pods the registry created
 * - what a status update's cost is made of, beside it: the same PUT sending the status the
 *   pod already has (read, decode, validation, managed fields and the answer, but no write:
 *   the server must commit nothing meanwhile); the floor under it, the same flips written by
 *   the registry's own store write from a bare handler (PUT /bench/status-floor/…: HTTP, read,
 *   the same statements, endpoints, change record and group commit, but no decode, validation,
 *   managed fields, size check or audit line); and the registry's cheapest write, a lease
 *   renewal (a merge patch of renewTime: one conditional statement, no read, no decode)
 *
 * The writes are sent with the node:http client, which costs the load generator less CPU
 * than fetch, so that on a shared machine the writes are not held down by their own load
 * generator: their "vs node:http ceiling" ratio compares like with like.
 *
 * Warm-up requests of the write scenarios go to a separate namespace, so the measured
 * namespace holds exactly the stated pods. Every answer is checked: status updates must
 * return the flipped condition, creates a 201 with the pod's name, and afterwards the
 * pod count and a sample of pods read back must match what the load generator expects
 * (a mismatch is reported as a problem and fails the run).
 */
import { performance } from 'node:perf_hooks'
import type { CommitRate } from './commit-rate'
import { CONSTANT_ANSWER, podBody, podIP, seedRef, statusBody, type PodRef, shuffled } from './fixtures'
import { renewal } from './leases'
import { serverMicrosPerRequest, type Row } from './report'
import { fmt, machineCores, measure, systemTicks, type BenchContext, type Measured, type Scenario } from './scenario'

export const WRITES = {
  namespace: 'bench',
  warmupNamespace: 'bench-warmup',
  /** Where the creates' floor puts its pods, so that the measured namespace holds only pods the registry created. */
  floorNamespace: 'bench-floor',
  levels: [1_000, 10_000],
  seedChunk: 2_000,
  constant: { warmup: { requests: 10_000, seconds: 3 }, measure: { requests: 100_000, seconds: 8 } },
  status: { warmup: { requests: 1_000, seconds: 2 }, measure: { requests: 20_000, seconds: 12 } },
  create: { warmup: { requests: 500, seconds: 2 }, measure: { requests: 1_000, seconds: 12 } },
  /** The raw storage rows: seconds of one-row commits, with this many batches in flight each (the first is the "vs storage" base). */
  storage: { seconds: 3, inFlight: [1, 16] },
  /** Writes per second as a fraction of the node:http ceiling: the goal and the stretch goal. */
  goal: { ceiling: 0.25, stretch: 0.5 },
  warmupPods: 200,
  readBackSample: 50,
  /** Leases the renewal rows renew, round robin (held for longer than the run). */
  leases: { count: 1_000, durationSeconds: 3_600 },
}

const CONSTANT = JSON.stringify(CONSTANT_ANSWER)

export const writes: Scenario = {
  name: 'writes',
  run: async (ctx) => {
    const s = ctx.server
    const pods: PodRef[] = []
    let seeded = 0
    let created = 0
    let floored = 0
    let warmed = 0
    const summary: string[] = []

    for (const ns of [WRITES.namespace, WRITES.warmupNamespace, WRITES.floorNamespace]) {
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
    const warmupCreate = (url = warmBase) => {
      const i = warmed++
      const ref: PodRef = { name: `warm-${String(i).padStart(6, '0')}`, ip: podIP(192, i), ready: true }
      return createShot(url, ref, i)
    }

    // Pods the status warm-up flips, in the warm-up namespace.
    await s.call('POST', '/bench/seed', { namespace: WRITES.warmupNamespace, start: 0, count: WRITES.warmupPods })
    const warmPods = Array.from({ length: WRITES.warmupPods }, (_, i) => seedRef(i))
    // Leases the renewal rows renew.
    await s.call('POST', '/bench/seed-leases', { namespace: WRITES.namespace, start: 0, count: WRITES.leases.count, durationSeconds: WRITES.leases.durationSeconds })
    const leaseBase = `${s.url}/apis/coordination.k8s.io/v1/namespaces/${WRITES.namespace}/leases`

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

      // The storage: the same server's libSQL client committing one-row batches, no HTTP.
      for (const inFlight of WRITES.storage.inFlight) await storageRow(ctx, group, fmt(level), inFlight)

      // Status updates: flip Ready on every pod in turn.
      const order = shuffled(pods, level)
      // A PUT of the pod's status with Ready set to `ready` (by default the opposite of what was last written: a flip).
      const statusShot = (ref: PodRef, url: string, ready = !ref.ready) => {
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
      // A row of status updates over every pod in turn (warm-up in the warm-up namespace), each PUT as `shot` makes it, to `url`.
      const statusUrl = (namespace: string, ref: PodRef) => `${s.url}/api/v1/namespaces/${namespace}/pods/${ref.name}/status`
      const statusRow = (scenario: string, shot: typeof statusShot, url = statusUrl) =>
        measure(ctx, {
          group,
          scenario,
          namespace: WRITES.namespace,
          transport: 'http',
          ...WRITES.status,
          warmupNext: (n) => {
            const ref = warmPods[n % warmPods.length]!
            return shot(ref, url(WRITES.warmupNamespace, ref))
          },
          next: (n) => {
            const ref = order[n % order.length]!
            return shot(ref, url(WRITES.namespace, ref))
          },
        })
      const status = await statusRow('PUT pods/{name}/status', statusShot)
      if (status.after.pods !== level) ctx.report.problem(`status updates at ${group}: the pod count changed to ${status.after.pods}`)
      await readBack(ctx, pods, `status updates at ${group}`)

      // The same request when it changes nothing: each pod's status as last written.
      const unchanged = await statusRow('PUT pods/{name}/status, no change', (ref, url) => statusShot(ref, url, ref.ready))
      const committed = unchanged.after.writeBatches - unchanged.before.writeBatches
      if (committed !== 0) ctx.report.problem(`status updates with no change at ${group}: the server committed ${committed} write batches meanwhile`)

      // The floor under a status update: the same flips written by the registry's own store write
      // (statements, endpoints, change record, group commit) from a bare handler, which skips decode,
      // validation, managed fields, the size check and the audit line.
      const floor = await statusRow('PUT /bench/status-floor/{name}: the same store write from a bare handler', statusShot, (namespace, ref) => `${s.url}/bench/status-floor/${namespace}/${ref.name}`)
      if (floor.after.pods !== level) ctx.report.problem(`the floor's status updates at ${group}: the pod count changed to ${floor.after.pods}`)
      await readBack(ctx, pods, `status updates at ${group} (the floor's flips)`)

      // The cheapest write: lease renewals, round robin.
      const renewals = await measure(ctx, {
        group,
        scenario: `PATCH leases/{name} renewal, ${fmt(WRITES.leases.count)} leases`,
        namespace: WRITES.namespace,
        transport: 'http',
        ...WRITES.status,
        next: (n) => renewal(leaseBase, n % WRITES.leases.count),
      })

      // Creates: new pods in the same namespace.
      const createStart = pods.length
      const result = await measure(ctx, {
        group,
        scenario: 'POST pods',
        namespace: WRITES.namespace,
        transport: 'http',
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

      // The floor under a create: new pods given the create's metadata and defaults and written
      // by the registry's own store write (statements, ports, labels, endpoints, change record,
      // group commit) from a bare handler, which skips decode, validation, managed fields, the
      // size check and the audit line.
      const floorPods: PodRef[] = []
      const createFloor = await measure(ctx, {
        group,
        scenario: 'POST /bench/create-floor: the same store write from a bare handler',
        namespace: WRITES.floorNamespace,
        transport: 'http',
        ...WRITES.create,
        warmupNext: () => warmupCreate(`${s.url}/bench/create-floor/${WRITES.warmupNamespace}`),
        next: () => {
          const i = floored++
          const ref: PodRef = { name: `floor-${String(i).padStart(6, '0')}`, ip: podIP(160, i), ready: true }
          return createShot(`${s.url}/bench/create-floor/${WRITES.floorNamespace}`, ref, i, () => floorPods.push(ref))
        },
      })
      const floorAdded = createFloor.after.pods - createFloor.before.pods
      if (floorAdded !== createFloor.row.result.ok || floorPods.length !== createFloor.row.result.ok) {
        ctx.report.problem(`the floor's creates at ${group}: namespace ${WRITES.floorNamespace} gained ${floorAdded} pods, the load generator expected ${createFloor.row.result.ok}`)
      }
      await readBack(ctx, pods.slice(createStart), `creates at ${group}`)
      await readBack(ctx, floorPods, `creates at ${group} (the floor's)`, WRITES.floorNamespace)
      summary.push(
        ...against(ctx, group, [status.row, result.row, renewals.row]),
        breakdown(ctx, group, status, unchanged, floor, renewals),
        createBreakdown(ctx, group, result, createFloor),
      )
    }
    ctx.report.section('Writes: against the HTTP ceiling and the storage of the same run', [
      `goal: writes at ≥ ${WRITES.goal.ceiling}× the node:http ceiling (stretch ${WRITES.goal.stretch}×). "by CPU" divides server CPU per request`,
      'instead of req/s (what the ratio would be with the server alone on a core: less sensitive to the rest of the machine).',
      ...summary,
    ])
    const end = await s.stats(WRITES.warmupNamespace)
    const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`
    ctx.report.note(`warm-up requests went to namespace ${WRITES.warmupNamespace}, which held ${fmt(end.pods)} pods at the end`)
    ctx.report.note(`namespace ${WRITES.namespace} holds no services: no selector matches the written pods, so no endpoints change`)
    ctx.report.note(
      `the creates' floor writes its pods into namespace ${WRITES.floorNamespace} (its row's pod counts are that namespace's); every namespace's pods share one table and its indexes`,
    )
    ctx.report.note(
      `at the end: database file ${mib(end.dbBytes)}, WAL ${mib(end.walBytes)}; server RSS ${mib(end.rssBytes)}, JS heap used ${mib(end.heapUsedBytes)}`,
    )
  },
}

/** One line per write row of `group`: its rate over the node:http ceiling and over the storage, by req/s and by server CPU per request. */
function against(ctx: BenchContext, group: string, rows: Row[]): string[] {
  const ceiling = ctx.report.ceilingOf(group, 'http')
  const storage = ctx.report.ceilingOf(group, 'in-process')
  const grouped = ctx.report.rows.find((r) => r.group === group && r.transport === 'in-process' && r !== storage)
  const x = (a: number, b: number | undefined) => (b && Number.isFinite(a / b) ? `${(a / b).toFixed(3)}×` : '-')
  const rate = (r: Row | undefined) => (r ? `${fmt(Math.round(r.result.rps))}/s` : '-')
  const ceilingCpu = serverMicrosPerRequest(ceiling)
  const storageCpu = serverMicrosPerRequest(storage)
  return rows.map((r) => {
    const cpu = serverMicrosPerRequest(r)
    const share = ceiling ? r.result.rps / ceiling.result.rps : NaN
    const verdict = !Number.isFinite(share) ? 'no ceiling' : share >= WRITES.goal.stretch ? 'stretch met' : share >= WRITES.goal.ceiling ? 'met' : 'NOT met'
    return (
      `${group}, ${r.scenario}: ${rate(r)} = ${x(r.result.rps, ceiling?.result.rps)} the node:http ceiling (${rate(ceiling)}; goal ${verdict}), ` +
      `${x(r.result.rps, storage?.result.rps)} the storage one commit at a time (${rate(storage)}), ${x(r.result.rps, grouped?.result.rps)} the storage ${WRITES.storage.inFlight.at(-1)} in flight (${rate(grouped)}); ` +
      `by CPU: ${fmt(Math.round(cpu))} µs per write, ${ceilingCpu.toFixed(1)} µs per ceiling request (${x(ceilingCpu, cpu)}), ` +
      `${storageCpu.toFixed(1)} µs per commit (${x(storageCpu, cpu)})`
    )
  })
}

/** The embedded client's time on the event loop per successful request of a row: its reads, and its committed write transactions. */
function clientTime(m: Measured): { reads: number; writes: number } {
  const per = (ms: number) => (ms * 1000) / m.row.result.ok
  return { reads: per(m.after.readMs - m.before.readMs), writes: per(m.after.writeMs - m.before.writeMs) }
}

function micros(v: number): string {
  return Number.isFinite(v) ? `${fmt(Math.round(v))} µs` : '-'
}

/** The node:http ceiling of `group`: its server CPU per request, and a floor row's rate against it. */
function ceilingFor(ctx: BenchContext, group: string, floor: Measured): { cpu: number; floorShare: string } {
  const row = ctx.report.ceilingOf(group, 'http')
  return { cpu: serverMicrosPerRequest(row), floorShare: row ? `${(floor.row.result.rps / row.result.rps).toFixed(3)}×` : '-' }
}

/**
 * What a create's server CPU is made of, from the floor measured beside it: the same store
 * write from a bare handler (the pod built as a create builds it, but without managedFields,
 * so its stored body is a little smaller), and the embedded client's time.
 */
function createBreakdown(ctx: BenchContext, group: string, create: Measured, floor: Measured): string {
  const made = serverMicrosPerRequest(create.row)
  const bare = serverMicrosPerRequest(floor.row)
  const { cpu: ceiling, floorShare } = ceilingFor(ctx, group, floor)
  const [c, b] = [clientTime(create), clientTime(floor)]
  return (
    `${group}, what a create costs the server: ${micros(made)} of CPU; the same store write from a bare handler (the floor: HTTP, ` +
    `the create's metadata and defaults, the store's statements for the pod, its ports, labels and endpoints and the change record, a share of a commit, answer) ` +
    `${micros(bare)}, at ${fmt(Math.round(floor.row.result.rps))}/s = ${floorShare} the node:http ceiling, so the registry's logic above the floor ` +
    `(decode, field checks, validation, managed fields, size check, audit, and storing the managedFields the floor's body lacks) ${micros(made - bare)}. The embedded client's time on the event loop ` +
    `per request: a create ${micros(c.reads)} reading and ${micros(c.writes)} in its write transaction, the floor ${micros(b.reads)} and ${micros(b.writes)}; ` +
    `by CPU, ${WRITES.goal.ceiling}× the ceiling leaves a create ${micros(ceiling / WRITES.goal.ceiling)} in all`
  )
}

/**
 * What a status update's server CPU is made of, from the rows measured beside it: the same
 * request changing nothing, the same write from a bare handler (the floor; not an API write,
 * so it gets no goal verdict, only its rate against the ceiling), the cheapest write, and the
 * time the embedded client held the event loop (its reads and committed write transactions,
 * per request: SQLite, its binding and the rows it hands back, the file checks, and the
 * change feed's reads of the log).
 */
function breakdown(ctx: BenchContext, group: string, status: Measured, unchanged: Measured, floor: Measured, renewal: Measured): string {
  const us = micros
  const flip = serverMicrosPerRequest(status.row)
  const same = serverMicrosPerRequest(unchanged.row)
  const bare = serverMicrosPerRequest(floor.row)
  const { cpu: ceiling, floorShare } = ceilingFor(ctx, group, floor)
  const [f, n, b, r] = [clientTime(status), clientTime(unchanged), clientTime(floor), clientTime(renewal)]
  return (
    `${group}, what a status update costs the server: ${us(flip)} of CPU; the same request changing nothing (HTTP, read, decode, ` +
    `validation, managed fields, answer; no write) ${us(same)}; so the write and what follows it (statements, change log, a share of a commit, the caches following the log) ` +
    `${us(flip - same)}; the same write from a bare handler (the floor: HTTP, read, the store's statements and commit, answer) ${us(bare)}, ` +
    `at ${fmt(Math.round(floor.row.result.rps))}/s = ${floorShare} the node:http ceiling, ` +
    `so the registry's logic above the floor (decode, validation, managed fields, comparisons, size check, audit) ${us(flip - bare)}; ` +
    `the ceiling's request ${us(ceiling)}; the cheapest write, a lease renewal ` +
    `(one conditional statement, no read or decode), ${us(serverMicrosPerRequest(renewal.row))}. ` +
    `The embedded client's time on the event loop per request (SQLite, its binding and rows; the change feed's reads of the log included): ` +
    `a status update ${us(f.reads)} reading and ${us(f.writes)} in its write transaction (file checks, statements, a share of a commit), ` +
    `the floor ${us(b.reads)} and ${us(b.writes)}, ` +
    `the unchanged one ${us(n.reads)} reading, a renewal ${us(r.reads + r.writes)}; ` +
    `by CPU, ${WRITES.goal.ceiling}× the ceiling leaves a status update ${us(ceiling / WRITES.goal.ceiling)} in all`
  )
}

/**
 * One raw storage row: POST /bench/commit-rate on the server, its answer as a row of the
 * table (a committed batch counting as a request); the first row of a group with one in
 * flight is the group's storage base. A counter sum that does not match the acknowledged
 * batches is reported as a problem.
 */
async function storageRow(ctx: BenchContext, group: string, existing: string, inFlight: number): Promise<void> {
  const cpu0 = process.cpuUsage()
  const sys0 = systemTicks()
  const t0 = performance.now()
  const rate = await ctx.server.call<CommitRate>('POST', '/bench/commit-rate', { seconds: WRITES.storage.seconds, inFlight })
  const wall = (performance.now() - t0) / 1000
  const sys1 = systemTicks()
  const cpu = process.cpuUsage(cpu0)
  const clientCores = (cpu.user + cpu.system) / 1e6 / wall
  const serverCores = rate.cpuMicros / 1e6 / rate.seconds
  const machine = machineCores(sys0, sys1)
  const rps = rate.seconds > 0 ? rate.commits / rate.seconds : 0
  const row: Row = {
    group,
    scenario: `raw libSQL: one-row UPDATE per batch, ${inFlight === 1 ? 'committed one at a time' : `${inFlight} batches in flight`}`,
    existing,
    result: {
      requests: rate.commits,
      ok: rate.commits,
      errors: 0,
      errorsBy: {},
      errorSamples: [],
      seconds: rate.seconds,
      rps,
      latency: rate.latency,
      stoppedBy: 'time',
      clientCores,
      warmupRequests: 0,
      warmupErrors: 0,
    },
    transport: 'in-process',
    ...(inFlight === 1 && !ctx.report.ceilingOf(group, 'in-process') ? { ceiling: true } : {}),
    serverCores,
    serverElu: rate.elu,
    ...(machine ? { otherCores: Math.max(0, machine.busy - serverCores - clientCores), softirqCores: machine.softirq, stealCores: machine.steal } : {}),
  }
  ctx.report.add(row)
  if (rate.problem) ctx.report.problem(`raw storage at ${group}, ${inFlight} in flight: ${rate.problem}`)
  const perTransaction = rate.transactions ? ` in ${fmt(rate.transactions)} transactions (${(rate.commits / rate.transactions).toFixed(1)} batches each)` : ''
  ctx.log(
    `${row.scenario} @ ${existing}: ${fmt(rate.commits)} batches${perTransaction} in ${rate.seconds.toFixed(1)} s, ${Math.round(rps)}/s, ` +
      `p50 ${rate.latency.p50.toFixed(3)} ms, p99 ${rate.latency.p99.toFixed(3)} ms, ${(rate.cpuMicros / Math.max(1, rate.commits)).toFixed(1)} µs CPU per batch`,
  )
  if (rate.transactions !== undefined) {
    ctx.report.note(
      `raw storage at ${group}, ${inFlight} in flight: ${fmt(rate.commits)} batches committed in ${fmt(rate.transactions)} transactions ` +
        `(${(rate.commits / Math.max(1, rate.transactions)).toFixed(1)} batches per commit), ${(rate.cpuMicros / Math.max(1, rate.commits)).toFixed(1)} µs server CPU per batch`,
    )
  }
}

/**
 * Reads a sample of pods back and checks their Ready condition against what the load
 * generator last set; a mismatch is reported as a problem.
 */
async function readBack(ctx: BenchContext, pods: PodRef[], what: string, namespace = WRITES.namespace): Promise<void> {
  const sample = shuffled(pods, 7).slice(0, WRITES.readBackSample)
  let wrong = 0
  const examples: string[] = []
  for (const ref of sample) {
    const pod = await ctx.server.call<{ status?: { conditions?: { type: string; status: string }[] } }>(
      'GET',
      `/api/v1/namespaces/${namespace}/pods/${ref.name}`,
    )
    const got = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status
    if (got !== (ref.ready ? 'True' : 'False')) {
      wrong++
      if (examples.length < 3) examples.push(`${ref.name}: Ready=${got}, expected ${ref.ready}`)
    }
  }
  const line = `read-back after ${what}: ${sample.length - wrong}/${sample.length} sampled pods have the Ready condition last written`
  if (wrong) ctx.report.problem(`${line} (${examples.join('; ')})`)
  else ctx.report.note(line)
}
