/**
 * The SDK's local pick (`sb.discover()`) beside the server's pick, in the same run, over
 * the pick scenario's service (10 ready pods of weights 1–10, one not ready):
 *
 * - picks/s: `discovery.tryPick()` in a tight loop on this process, against
 *   `sb.services.pick()` with 16 in flight (closed loop, global fetch, keep-alive);
 * - the time a pick adds to a caller's request: one pick at a time, each timed —
 *   `tryPick()` (no I/O), `pick()` (the same, behind a promise) and `sb.services.pick()`
 *   (a round trip to the registry on loopback);
 * - a check: over whole periods the local picks follow the weights exactly, and never
 *   answer the pod that is not ready.
 */
import { availableParallelism, loadavg } from 'node:os'
import { performance } from 'node:perf_hooks'
import { Switchboard } from '../sdk/src/index'
import { PICK, seed } from './pick'
import { int, renderTable } from './report'
import type { Scenario } from './scenario'

export const DISCOVER = {
  local: { picks: 2_000_000, timed: 200_000 },
  server: { seconds: 4, inFlight: 16, timed: 3_000 },
}

interface Timing {
  what: string
  picks: number
  perSecond: number
  p50: number
  p99: number
  max: number
}

export const discover: Scenario = {
  name: 'discover',
  run: async (ctx) => {
    const pods = await seed(ctx)
    const ready = pods.filter((p) => p.weight > 0)
    const sb = new Switchboard({ baseUrl: ctx.server.url, namespace: PICK.namespace, maxRetries: 0 })
    const discovery = sb.discover(PICK.namespace, PICK.service)
    await discovery.whenReady()
    try {
      // Weights, over whole periods.
      const period = ready.reduce((a, p) => a + p.weight, 0)
      const counts = new Map<string, number>()
      for (let i = 0; i < 100 * period; i++) {
        const pod = discovery.tryPick({ port: 'http' })?.pod ?? 'none'
        counts.set(pod, (counts.get(pod) ?? 0) + 1)
      }
      for (const p of ready) {
        if (counts.get(p.name) !== 100 * p.weight) ctx.report.problem(`discover: ${p.name} (weight ${p.weight}) picked ${counts.get(p.name) ?? 0} times in 100 periods, not ${100 * p.weight}`)
      }
      for (const pod of counts.keys()) if (!ready.some((p) => p.name === pod)) ctx.report.problem(`discover: picked ${pod}, which is not a ready pod`)

      ctx.log(`discover: ${int(DISCOVER.local.picks)} local picks`)
      let started = performance.now()
      let sink = 0
      for (let i = 0; i < DISCOVER.local.picks; i++) sink += discovery.tryPick({ port: 'http' })!.port!
      const localRate = DISCOVER.local.picks / ((performance.now() - started) / 1000)
      if (sink === 0) ctx.report.problem('discover: no port answered')

      const timings: Timing[] = []
      timings.push({ ...timed(DISCOVER.local.timed, () => discovery.tryPick({ port: 'http' })), what: 'discovery.tryPick() (local, sync)', perSecond: localRate })
      const asyncLocal = await timedAsync(DISCOVER.local.timed, () => discovery.pick({ port: 'http' }))
      timings.push({ ...asyncLocal, what: 'discovery.pick() (local, awaited)', perSecond: asyncLocal.picks / asyncLocal.seconds })

      ctx.log(`discover: server picks, ${DISCOVER.server.inFlight} in flight for ${DISCOVER.server.seconds} s`)
      let done = 0
      let errors = 0
      const until = performance.now() + DISCOVER.server.seconds * 1000
      started = performance.now()
      await Promise.all(
        Array.from({ length: DISCOVER.server.inFlight }, async () => {
          while (performance.now() < until) {
            await sb.services.pick(PICK.service, { port: 'http' }).then(() => done++, () => errors++)
          }
        }),
      )
      const serverRate = done / ((performance.now() - started) / 1000)
      if (errors) ctx.report.problem(`discover: ${errors} server picks failed`)
      const remote = await timedAsync(DISCOVER.server.timed, () => sb.services.pick(PICK.service, { port: 'http' }))
      timings.push({ ...remote, what: `sb.services.pick() (server round trip; picks/s with ${DISCOVER.server.inFlight} in flight)`, perSecond: serverRate })

      const us = (v: number) => (v * 1000).toFixed(v < 0.01 ? 3 : 1)
      ctx.report.section('SDK local pick (discover) beside the server pick, same run', [
        renderTable(
          ['pick', 'picks/s', 'timed picks', 'p50 µs', 'p99 µs', 'max µs'],
          timings.map((t) => [t.what, int(t.perSecond), int(t.picks), us(t.p50), us(t.p99), us(t.max)]),
        ),
        `local picks/s ÷ server picks/s: ${(localRate / serverRate).toFixed(0)}×; p99 a pick adds to a caller's request: ` +
          `${us(timings[0]!.p99)} µs local (sync), ${us(timings[1]!.p99)} µs local (awaited), ${us(remote.p99)} µs from the server`,
        `machine load average (1 min) at the end: ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} cores; the server's figures include the contention, the local ones hardly`,
        `the local picks followed the weights exactly over 100 periods (${int(100 * period)} picks) and never answered the not-ready pod` +
          (ctx.report.problems.some((p) => p.startsWith('discover:')) ? ' — NO, see the problems' : ''),
      ])
    } finally {
      discovery.close()
    }
  },
}

function timed(n: number, fn: () => unknown): Omit<Timing, 'what' | 'perSecond'> {
  const samples = new Float64Array(n)
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    fn()
    samples[i] = performance.now() - t
  }
  return summary(samples)
}

async function timedAsync(n: number, fn: () => Promise<unknown>): Promise<Omit<Timing, 'what' | 'perSecond'> & { seconds: number }> {
  const samples = new Float64Array(n)
  const started = performance.now()
  for (let i = 0; i < n; i++) {
    const t = performance.now()
    await fn()
    samples[i] = performance.now() - t
  }
  return { ...summary(samples), seconds: (performance.now() - started) / 1000 }
}

function summary(samples: Float64Array): Omit<Timing, 'what' | 'perSecond'> {
  const sorted = samples.slice().sort()
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
  return { picks: samples.length, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1]! }
}
