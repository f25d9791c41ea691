/**
 * WAL checkpoints in a thread of their own (Node, embedded file databases).
 *
 * SQLite copies the WAL back into the database file (a checkpoint) in whichever commit
 * finds the WAL past 1,000 pages, inside that commit: on the registry's one connection,
 * on the event loop. Measured under readiness flips and lease renewals, that was a quarter
 * to a half of the time their commits took (25–50 µs per write, in bursts of a few
 * milliseconds every few hundred writes). So the registry's connection does not
 * checkpoint (`wal_autocheckpoint = 0`); a worker thread with its own connection to the
 * same file runs a PASSIVE checkpoint whenever the WAL has grown past that size, looked at
 * every CHECK_MS, in two steps. A PASSIVE checkpoint copies the bulk while writes go on
 * (it takes no lock a writer or a reader waits for); but SQLite starts the WAL over only at
 * a write that begins after a checkpoint copied everything, and under a steady stream of
 * writes some always arrive during the copy, so the WAL would grow without end. A RESTART
 * checkpoint then copies the few frames written meanwhile, holding new writes back for that
 * long (the registry's writes wait for the lock on a timer, see embedded-client.ts), so that
 * the next write starts the WAL over. The thread's connection syncs as the registry's does
 * (DATABASE_SYNCHRONOUS). If the thread fails, the registry's connection checkpoints again
 * as SQLite does by default (`onFailure`).
 */
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

/** How often the thread looks at the WAL's size. */
export const CHECK_MS = 50

/** How long the RESTART step waits for the writer and readers of the moment (ms). */
export const RESTART_WAIT_MS = 20

/** How long stopping waits for the thread to close its connection (a checkpoint under way finishes first). */
export const STOP_WAIT_MS = 2_000

/** The WAL size past which a checkpoint runs, in pages (SQLite's own default for wal_autocheckpoint). */
export const CHECKPOINT_PAGES = 1000

export interface Checkpointer {
  /** Checkpoints that ran so far (answered by `stats`). */
  stats(): Promise<{ checkpoints: number; failures: number }>
  /** Stops the thread and waits (STOP_WAIT_MS at most) until its connection is closed. */
  stop(): void
}

const THREAD = `
const { parentPort, workerData } = require('node:worker_threads')
const { statSync } = require('node:fs')
const Database = require(workerData.driver)
const db = new Database(workerData.path)
db.exec('PRAGMA synchronous = ' + workerData.synchronous)
db.exec('PRAGMA busy_timeout = ' + workerData.restartWaitMs)
const copy = db.prepare('PRAGMA wal_checkpoint(PASSIVE)')
const restart = db.prepare('PRAGMA wal_checkpoint(RESTART)')
const limit = workerData.pages * db.prepare('PRAGMA page_size').pluck().get()
let checkpoints = 0
let failures = 0
const walSize = () => { try { return statSync(workerData.path + '-wal').size } catch { return 0 } }
const timer = setInterval(() => {
  if (walSize() < limit) return
  try {
    copy.all()
    restart.all()
    checkpoints++
  } catch {
    failures++ // an I/O fault: the registry's writes report it; the next check tries again
  }
}, workerData.checkMs)
parentPort.on('message', (m) => {
  if (m === 'stats') return parentPort.postMessage({ checkpoints, failures })
  if (m === 'stop') {
    clearInterval(timer)
    db.close()
    const stopped = new Int32Array(workerData.stopped)
    Atomics.store(stopped, 0, 1)
    Atomics.notify(stopped, 0)
    parentPort.close()
  }
})
`

/** Starts checkpointing `path` in a worker thread. `onFailure` is told once if the thread fails or ends unasked. */
export function startCheckpointer(path: string, options: { synchronous: 'NORMAL' | 'FULL'; onFailure: (reason: string) => void }): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('libsql')
  const stoppedFlag = new SharedArrayBuffer(4)
  const worker = new Worker(THREAD, {
    eval: true,
    workerData: { path, driver, synchronous: options.synchronous, pages: CHECKPOINT_PAGES, checkMs: CHECK_MS, restartWaitMs: RESTART_WAIT_MS, stopped: stoppedFlag },
  })
  worker.unref()
  let stopped = false
  let failed = false
  const fail = (reason: string) => {
    if (stopped || failed) return
    failed = true
    options.onFailure(reason)
  }
  // The thread is stopped, and waited for, before the process ends however it ends: a
  // thread torn down in the middle of a call into the driver aborts the whole process.
  const stop = () => {
    if (stopped) return
    stopped = true
    process.off('exit', stop)
    if (failed) return
    worker.postMessage('stop')
    Atomics.wait(new Int32Array(stoppedFlag), 0, 0, STOP_WAIT_MS)
  }
  process.on('exit', stop)
  const waiting: ((s: { checkpoints: number; failures: number }) => void)[] = []
  worker.on('message', (m: { checkpoints: number; failures: number }) => waiting.shift()?.(m))
  worker.on('error', (error) => fail(error.message))
  worker.on('exit', (code) => fail(`the checkpoint thread ended (code ${code})`))
  return {
    stats: () =>
      new Promise((resolve) => {
        waiting.push(resolve)
        worker.postMessage('stats')
      }),
    stop,
  }
}
