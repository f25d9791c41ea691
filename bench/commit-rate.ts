/**
 * The raw commit rate of a libSQL client, measured on the client the server itself uses
 * (same file, same pragmas, same process): one-row UPDATE batches, each its own
 * `client.batch([…], 'write')`, for a fixed time, with `inFlight` of them issued at once
 * (1: every batch commits alone, one after another; more: the embedded client's group
 * commit may join the batches queued in one event-loop turn into one transaction).
 *
 * It writes only to a table of its own (COMMIT_RATE_TABLE), created on first use, never
 * to the registry's tables. Afterwards it reads the table back: the sum of its counters
 * must have grown by exactly the number of acknowledged batches.
 */
import { performance } from 'node:perf_hooks'
import type { Client } from '@libsql/client'
import { EmbeddedClient } from '../worker/db/embedded-client'
import { summarize, type Latency } from './load'

export const COMMIT_RATE_TABLE = 'bench_commit_rate'
/** Rows of the table; in-flight batches update rows of their own. */
const ROWS = 1_024

export interface CommitRate {
  inFlight: number
  seconds: number
  /** Batches acknowledged (each one UPDATE of one row). */
  commits: number
  /** Transactions the client committed for them (the embedded client only; otherwise undefined). */
  transactions?: number
  /** Server process user+system CPU over the run, in microseconds. */
  cpuMicros: number
  /** Event-loop utilisation over the run (0–1). */
  elu: number
  /** Per batch, from the call to its acknowledgement, in milliseconds. */
  latency: Latency
  /** Empty when the table's counters grew by `commits`; otherwise what was found. */
  problem: string
}

export async function commitRate(client: Client, options: { seconds: number; inFlight: number }): Promise<CommitRate> {
  const { seconds, inFlight } = options
  await client.execute(`CREATE TABLE IF NOT EXISTS ${COMMIT_RATE_TABLE} (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)`)
  await client.batch(
    [
      `WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i < ${ROWS - 1})
        INSERT OR IGNORE INTO ${COMMIT_RATE_TABLE} (id, n) SELECT i, 0 FROM k`,
    ],
    'write',
  )
  const sum = async () => Number((await client.execute(`SELECT sum(n) AS s FROM ${COMMIT_RATE_TABLE}`)).rows[0]?.s ?? 0)
  const before = await sum()
  const counters = client instanceof EmbeddedClient ? client.commits : undefined
  const transactions0 = counters?.transactions ?? 0
  const latencies: number[] = []

  const cpu0 = process.cpuUsage()
  const elu0 = performance.eventLoopUtilization()
  const started = performance.now()
  const end = started + seconds * 1000
  const lane = async (first: number) => {
    for (let id = first; performance.now() < end; id = (id + inFlight) % ROWS) {
      const t0 = performance.now()
      await client.batch([{ sql: `UPDATE ${COMMIT_RATE_TABLE} SET n = n + 1 WHERE id = ?`, args: [id] }], 'write')
      latencies.push(performance.now() - t0)
    }
  }
  await Promise.all(Array.from({ length: inFlight }, (_, i) => lane(i)))
  const wall = (performance.now() - started) / 1000
  const cpu = process.cpuUsage(cpu0)
  const elu = performance.eventLoopUtilization(elu0)

  const grown = (await sum()) - before
  const commits = latencies.length
  return {
    inFlight,
    seconds: wall,
    commits,
    ...(counters ? { transactions: counters.transactions - transactions0 } : {}),
    cpuMicros: cpu.user + cpu.system,
    elu: elu.utilization,
    latency: summarize(Float64Array.from(latencies)),
    problem: grown === commits ? '' : `the table's counters grew by ${grown}, but ${commits} batches were acknowledged`,
  }
}
