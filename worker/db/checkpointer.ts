/**
 * WAL checkpoints in a thread of their own (Node, embedded file databases).
 *
 * SQLite copies the WAL back into the database file (a checkpoint) in whichever commit
 * finds the WAL past 1,000 pages, inside that commit: on the registry's one connection,
 * on the event loop. Measured under readiness flips and lease renewals, that was a quarter
 * to a half of the time their commits took (25–50 µs per write, in bursts of a few
 * milliseconds every few hundred writes). So the registry's connection does not
 * checkpoint (`wal_autocheckpoint = 0`); a worker thread with its own connection to the
 * same file checkpoints whenever the WAL file has grown past that size, looked at every
 * CHECK_MS, in two steps. A PASSIVE checkpoint copies the bulk while writes go on (it takes
 * no lock a writer or a reader waits for). But SQLite starts the WAL over only at a write
 * that begins after a checkpoint copied everything, and under a steady stream of writes
 * some always arrive during the copy, so the WAL would grow without end: a TRUNCATE
 * checkpoint then copies the few frames written meanwhile and empties the file, without
 * waiting for anyone (busy_timeout 0): while the registry writes or a reader still uses the
 * WAL (a backup, a long list read from a snapshot, another process) it gives up at once and
 * the next look tries again, so it holds writes back only for the copy of those few frames
 * (the registry's writes wait for the lock on a timer, see embedded-client.ts). The file is
 * empty after each TRUNCATE, so its size says what was written since. The thread's
 * connection syncs as the registry's does (DATABASE_SYNCHRONOUS). If a checkpoint fails or
 * the thread ends, the registry's connection checkpoints again as SQLite does by default
 * (`onFailure`) and the thread stops. Before the process ends, however it ends, the
 * thread is stopped and waited for: torn down in the middle of a call into the driver,
 * it would abort the process.
 */
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

/** How often the thread looks at the WAL's size. */
export const CHECK_MS = 50

/** How long stopping waits for the thread to close its connection (a checkpoint under way finishes first). */
export const STOP_WAIT_MS = 10_000

/** The WAL size past which a checkpoint runs, in pages (SQLite's own default for wal_autocheckpoint). */
export const CHECKPOINT_PAGES = 1000

/** What the thread did so far. */
export interface CheckpointStats {
  /** Checkpoints that emptied the WAL. */
  checkpoints: number
  /** Looks past the size where the WAL could not be emptied yet (a writer or reader was using it). */
  deferred: number
}

export interface Checkpointer {
  /** What the thread did so far (the last known figures once it stopped). */
  stats(): Promise<CheckpointStats>
  /** Stops the thread and waits (STOP_WAIT_MS at most) until its connection is closed. */
  stop(): void
}

const THREAD = `
const { parentPort, workerData } = require('node:worker_threads')
const { statSync } = require('node:fs')
const stopped = new Int32Array(workerData.stopped)
// However the thread ends (asked to, or failing while it starts), whoever waits for it is woken.
process.on('exit', () => {
  Atomics.store(stopped, 0, 1)
  Atomics.notify(stopped, 0)
})
const Database = require(workerData.driver)
const db = new Database(workerData.path)
db.exec('PRAGMA synchronous = ' + workerData.synchronous)
db.exec('PRAGMA busy_timeout = 0')
const copy = db.prepare('PRAGMA wal_checkpoint(PASSIVE)')
const empty = db.prepare('PRAGMA wal_checkpoint(TRUNCATE)').raw(true)
const limit = workerData.pages * Number(db.prepare('PRAGMA page_size').raw(true).get()[0])
if (!(limit > 0)) throw new Error('cannot read the page size')
const stats = { checkpoints: 0, deferred: 0 }
const walSize = () => { try { return statSync(workerData.path + '-wal').size } catch { return 0 } }
const timer = setInterval(() => {
  if (walSize() < limit) return
  try {
    copy.all()
    const [busy] = empty.get()
    if (busy) stats.deferred++
    else stats.checkpoints++
  } catch (error) {
    clearInterval(timer)
    parentPort.postMessage({ failed: String((error && error.message) || error) })
  }
}, workerData.checkMs)
parentPort.on('message', (m) => {
  if (m === 'stats') return parentPort.postMessage({ stats })
  if (m === 'stop') {
    clearInterval(timer)
    try {
      db.close() // may fail on a file removed behind the registry's back: the thread is done with it anyway
    } catch {}
    Atomics.store(stopped, 0, 1)
    Atomics.notify(stopped, 0)
    parentPort.close()
  }
})
`

/** The running threads, stopped before the process exits (one listener for them all). */
const running = new Set<() => void>()
process.on('exit', () => {
  for (const stop of [...running]) stop()
})

/** Starts checkpointing `path` in a worker thread. `onFailure` is told once if a checkpoint fails or the thread ends unasked. */
export function startCheckpointer(path: string, options: { synchronous: 'NORMAL' | 'FULL'; onFailure: (reason: string) => void }): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('libsql')
  const stoppedFlag = new SharedArrayBuffer(4)
  const worker = new Worker(THREAD, {
    eval: true,
    workerData: { path, driver, synchronous: options.synchronous, pages: CHECKPOINT_PAGES, checkMs: CHECK_MS, stopped: stoppedFlag },
  })
  worker.unref()
  let stopped = false
  let failed = false
  let last: CheckpointStats = { checkpoints: 0, deferred: 0 }
  const waiting: ((s: CheckpointStats) => void)[] = []
  const settle = () => {
    for (const resolve of waiting.splice(0)) resolve(last)
  }
  const stop = () => {
    if (stopped) return
    stopped = true
    running.delete(stop)
    settle()
    if (failed) return
    worker.postMessage('stop')
    Atomics.wait(new Int32Array(stoppedFlag), 0, 0, STOP_WAIT_MS)
  }
  const fail = (reason: string) => {
    if (stopped || failed) return
    failed = true
    running.delete(stop)
    settle()
    worker.postMessage('stop') // a thread still running closes its connection; a dead one ignores it
    options.onFailure(reason)
  }
  running.add(stop)
  worker.on('message', (m: { stats?: CheckpointStats; failed?: string }) => {
    if (m.failed !== undefined) return fail(`a checkpoint failed: ${m.failed}`)
    if (m.stats) last = m.stats
    waiting.shift()?.(last)
  })
  worker.on('error', (error) => fail(error.message))
  worker.on('exit', (code) => fail(`the checkpoint thread ended (code ${code})`))
  return {
    stats: () =>
      new Promise((resolve) => {
        if (stopped || failed) return resolve(last)
        waiting.push(resolve)
        worker.postMessage('stats')
      }),
    stop,
  }
}
