/**
 * The cost of DATABASE_SYNCHRONOUS=FULL: pod creates per second on two servers of the
 * same build side by side, one with NORMAL (the default) and one with FULL, each on a
 * fresh embedded file in the temp directory's file system. In WAL mode NORMAL syncs at
 * checkpoints only (the last commits can be lost on power loss, not on a process crash);
 * FULL syncs the WAL at every commit. Measured one write in flight (every create its own
 * commit, so its own fsync under FULL) and 16 in flight (group commit shares one
 * commit, and one fsync, between the writes of one event-loop turn), in rounds whose
 * order alternates between the two so that drift of a shared machine falls on both.
 * The report gives each row and the FULL/NORMAL ratio of the summed rates. Then the
 * storage alone, without HTTP or the registry: one-row commits per second, one after
 * another, through the embedded client in this process, NORMAL against FULL.
 */
import { statfsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { openLibsql, tuneEmbedded } from '../worker/db/client'
import { podBody, podIP, type PodRef } from './fixtures'
import { removeTempDir, startServer, tempDir, type BenchServer } from './harness'
import { fmt, measure, type BenchContext, type Scenario } from './scenario'

type Mode = 'NORMAL' | 'FULL'

export const DURABILITY = {
  namespace: 'durability',
  rounds: 2,
  concurrencies: [1, 16],
  create: { warmup: { requests: 200, seconds: 1 }, measure: { requests: 20_000, seconds: 4 } },
  /** Seconds of one-row commits per mode and round, in-process. */
  commitSeconds: 2,
}

/** One-row commits per second, one after another, on a fresh file with `mode`. */
async function commitsPerSecond(mode: Mode): Promise<number> {
  const dir = tempDir('switchboard-durability-')
  const client = openLibsql({ url: `file:${join(dir, 'commits.db')}` })
  try {
    await tuneEmbedded(client, { synchronous: mode })
    await client.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)')
    const payload = 'x'.repeat(200)
    let n = 0
    const end = performance.now() + DURABILITY.commitSeconds * 1000
    const start = performance.now()
    while (performance.now() < end) {
      await client.batch([{ sql: 'INSERT INTO t (v) VALUES (?)', args: [payload] }], 'write')
      n++
    }
    return n / ((performance.now() - start) / 1000)
  } finally {
    client.close()
    removeTempDir(dir)
  }
}

export const durability: Scenario = {
  name: 'durability',
  run: async (ctx) => {
    const servers = new Map<Mode, BenchServer>()
    try {
      for (const mode of ['NORMAL', 'FULL'] as const) {
        const server = await startServer({ env: { DATABASE_SYNCHRONOUS: mode } })
        servers.set(mode, server)
        await server.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: DURABILITY.namespace } })
      }
      const created = new Map<Mode, number>([
        ['NORMAL', 0],
        ['FULL', 0],
      ])
      const rates = new Map<string, number>()
      for (let round = 0; round < DURABILITY.rounds; round++) {
        const order: Mode[] = round % 2 === 0 ? ['NORMAL', 'FULL'] : ['FULL', 'NORMAL']
        for (const concurrency of DURABILITY.concurrencies) {
          for (const mode of order) {
            const server = servers.get(mode)!
            const base = `${server.url}/api/v1/namespaces/${DURABILITY.namespace}/pods`
            const { row } = await measure({ ...ctx, server, concurrency }, {
              group: 'durability: DATABASE_SYNCHRONOUS',
              scenario: `POST pods, ${mode}, ${concurrency} in flight (round ${round + 1})`,
              namespace: DURABILITY.namespace,
              ...DURABILITY.create,
              next: () => {
                const i = created.get(mode)!
                created.set(mode, i + 1)
                const ref: PodRef = { name: `dur-${String(i).padStart(6, '0')}`, ip: podIP(128, i), ready: true }
                return {
                  method: 'POST',
                  url: base,
                  headers: { 'content-type': 'application/json' },
                  body: JSON.stringify(podBody(ref, i)),
                  verify: (status: number) => (status === 201 ? undefined : `expected 201, got ${status}`),
                }
              },
            })
            const key = `${mode} ${concurrency}`
            rates.set(key, (rates.get(key) ?? 0) + row.result.rps)
          }
        }
      }
      for (const concurrency of DURABILITY.concurrencies) {
        const normal = rates.get(`NORMAL ${concurrency}`)! / DURABILITY.rounds
        const full = rates.get(`FULL ${concurrency}`)! / DURABILITY.rounds
        ctx.report.note(
          `durability, ${concurrency} in flight: FULL ${fmt(Math.round(full))} creates/s, NORMAL ${fmt(Math.round(normal))} creates/s: FULL = ${(full / normal).toFixed(2)}× NORMAL (mean of ${DURABILITY.rounds} rounds)`,
        )
      }
      const commits = new Map<Mode, number>([
        ['NORMAL', 0],
        ['FULL', 0],
      ])
      for (let round = 0; round < DURABILITY.rounds; round++) {
        for (const mode of round % 2 === 0 ? (['NORMAL', 'FULL'] as const) : (['FULL', 'NORMAL'] as const)) {
          const rate = await commitsPerSecond(mode)
          ctx.log(`one-row commits, ${mode} (round ${round + 1}): ${Math.round(rate)}/s`)
          commits.set(mode, commits.get(mode)! + rate / DURABILITY.rounds)
        }
      }
      const [normal, full] = [commits.get('NORMAL')!, commits.get('FULL')!]
      ctx.report.note(
        `durability, storage alone (one-row commits one after another, embedded client in-process): FULL ${fmt(Math.round(full))}/s, NORMAL ${fmt(Math.round(normal))}/s: FULL = ${(full / normal).toFixed(2)}× NORMAL, ${(1000 / full - 1000 / normal).toFixed(2)} ms more per commit`,
      )
      ctx.report.note(`durability: the databases were on the file system of ${tmpdir()} (statfs type 0x${statfsSync(tmpdir()).type.toString(16)}; fsync is free on tmpfs, 0x1021994)`)
    } finally {
      for (const server of servers.values()) await server.stop()
    }
  },
}
