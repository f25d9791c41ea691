/**
 * WAL checkpoints in a thread of their own (Node, embedded file databases).
 *
 * SQLite copies the WAL back into the database file (a checkpoint) in whichever commit
 * finds the WAL past 1,000 pages, inside that commit: on the registry's one connection,
 * on the event loop. Measured under readiness flips and lease renewals, that was a quarter
 * to a half of the time their commits took (25–50 µs per write, in bursts of a few
 * milliseconds every few hundred writes). So the registry's connection does not
 * checkpoint (`wal_autocheckpoint = 0`); a worker thread with its own connection to the
 * same file does, every CHECK_MS:
 *
 * - While the WAL file is under CHECKPOINT_PAGES it is left to grow, as SQLite would.
 * - Past that, a PASSIVE checkpoint copies the frames committed since the last copy into
 *   the database file. It takes no lock a writer or a reader waits for. It runs at every
 *   look that finds something committed while the last copy found at least BUSY_FRAMES
 *   new frames per look, and once a second otherwise: a copy that reaches the end of the
 *   WAL has the next write start it over (from the beginning of the file, which keeps its
 *   size), and SQLite syncs the WAL's header then, in that write, on the registry's event
 *   loop. A burst that follows a copy that found little is copied without waiting for the
 *   second once it has grown the file by BUSY_FRAMES pages. (What a paced look leaves is
 *   copied by the next look that finds a commit, or by the TRUNCATE below.)
 * - Under a steady stream of writes some always arrive during the copy, so the WAL never
 *   starts over: once it holds RESTART_PAGES frames, a RESTART checkpoint copies the
 *   frames written since the last copy, syncs, and has the next write start it over. It
 *   waits (RESTART_WAIT_MS in all) for the write lock, then holds the registry's writes
 *   back (they wait for the lock on a timer, see embedded-client.ts): 5–7 ms under
 *   readiness flips, once per RESTART_PAGES written; up to RESTART_WAIT_MS more, once a
 *   second while it is turned back, if a reader of the latest snapshot keeps using the WAL.
 *   (Emptying the WAL every 1,000 pages instead held writes as long each time: single
 *   flips that change five services' endpoints took 10 ms instead of 1 every 80 or so.)
 * - When QUIET_MS pass with nothing committed (`data_version`, read at each look), a
 *   TRUNCATE checkpoint empties a file past CHECKPOINT_PAGES, giving back what a burst of
 *   writes left (a write that arrives meanwhile waits for it: about 20 ms for 41 MB).
 *
 * TRUNCATE waits for nobody (busy_timeout 0), RESTART for RESTART_WAIT_MS at most (and
 * not at all after a copy that a reader stopped short of the end): while a reader still
 * uses the WAL (a backup, a long list read from a snapshot, another process) they give up
 * and a later look tries again (a RESTART after a second, or RESTART_RETRY_MS when the copy
 * before it was full and so only the write lock or a reader of the latest snapshot can
 * have turned it back), as it does when the disk has no room for a checkpoint (after a
 * second) or the database is busy. The thread's connection syncs as the registry's does
 * (DATABASE_SYNCHRONOUS). If a checkpoint fails otherwise or the thread ends, the
 * registry's connection checkpoints again as SQLite does by default (`onFailure`) and the
 * thread stops. Before the process ends, however it ends, the thread is stopped and waited
 * for: torn down in the middle of a call into the driver, it would abort the process.
 */
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

/** How often the thread looks at the WAL's size. */
export const CHECK_MS = 50

/** How long stopping waits for the thread to close its connection (a checkpoint under way finishes first). */
export const STOP_WAIT_MS = 10_000

/**
 * SQLite's own default for wal_autocheckpoint, in pages: what the registry's connection
 * uses again should the thread fail; and the WAL file size below which the thread leaves
 * the WAL alone.
 */
export const CHECKPOINT_PAGES = 1000

/** How long nothing must be committed before the thread empties a WAL file past CHECKPOINT_PAGES. */
export const QUIET_MS = 500

/** New frames per look (CHECK_MS) from which the thread copies at every look; below, once per SLOW_COPY_MS. */
export const BUSY_FRAMES = 200

/** How long the thread waits before copying again after a copy that found little, or retrying after a full disk or a reader. */
export const SLOW_COPY_MS = 1_000

/** The WAL size (frames since it last started over) past which the thread has it start over: about 41 MB of 4 KiB pages and their frame headers. */
export const RESTART_PAGES = 10_000

/**
 * How long a RESTART may wait in all (SQLite's busy wait, one budget for the statement): for
 * the write lock, which under a steady stream of writes is never free at the moment one
 * looks, then, holding it (writes wait meanwhile), for readers to leave the WAL. It waits
 * only after a copy that reached the end of the WAL, so no reader of an older snapshot is
 * known to be there.
 */
export const RESTART_WAIT_MS = 50

/**
 * How soon a RESTART that a full copy preceded is tried again after it gave up: a steady
 * stream of commits left it no moment with the write lock free. (A reader of the latest
 * snapshot may also have kept it waiting, with writes waiting behind it: at most once per
 * this long, and the next commit that gets through makes that snapshot an older one.)
 */
export const RESTART_RETRY_MS = 200

/** What the thread did so far. */
export interface CheckpointStats {
  /** Checkpoints that had the WAL start over (RESTART) or emptied its file (TRUNCATE). */
  checkpoints: number
  /** Checkpoints that gave up because another connection was checkpointing, writing or reading the WAL, or the database was busy. */
  deferred: number
  /** Checkpoints the disk had no room for (SQLITE_FULL): tried again a second later. */
  full: number
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
const copy = db.prepare('PRAGMA wal_checkpoint(PASSIVE)').raw(true)
const restart = db.prepare('PRAGMA wal_checkpoint(RESTART)').raw(true)
const empty = db.prepare('PRAGMA wal_checkpoint(TRUNCATE)').raw(true)
const stats = { checkpoints: 0, deferred: 0, full: 0 }
const emptyPast = workerData.emptyPages * Number(db.prepare('PRAGMA page_size').raw(true).get()[0])
if (!(emptyPast > 0)) throw new Error('cannot read the page size')
const busyBytes = workerData.busyFrames * (emptyPast / workerData.emptyPages) // a WAL frame is a little more than a page
const version = db.prepare('PRAGMA data_version').raw(true)
const walBytes = () => { try { return statSync(workerData.path + '-wal').size } catch { return 0 } }
const code = (error) => (error && typeof error.code === 'string' ? error.code : '')
let lastVersion = null // data_version at the last look: the same again means no other connection committed since
let quiet = 0 // looks in a row that found nothing committed since the one before
let copiedBytes = 0 // the WAL file's size at the last copy
let frames = 0 // frames in the WAL at the last copy
let copiedAt = Date.now() // when the last copy ran (or frames began to be counted)
let copyAt = 0 // no copy before this time: copies that find little are spaced out
let restartedAt = -1 // frames when a RESTART last succeeded: the next write starts the WAL over
let restartAt = 0 // no RESTART before this time: one that a reader turned back is not retried at every look
const timer = setInterval(() => {
  const now = Date.now()
  try {
    const bytes = walBytes()
    // A small WAL is left to grow, as SQLite would.
    if (bytes < emptyPast) {
      lastVersion = null
      quiet = 0
      frames = 0
      copiedAt = now // the frames found at the first copy past the size are counted from here
      copiedBytes = bytes
      return
    }
    const [v] = version.get()
    quiet = v === lastVersion ? quiet + 1 : 0
    lastVersion = v
    if (quiet >= workerData.quietLooks) {
      const [busy] = empty.get()
      if (busy) return void stats.deferred++
      stats.checkpoints++
      quiet = 0
      return
    }
    // Nothing committed since the last look: nothing to copy (and no sign that little is written).
    if (quiet > 0) return
    // After a copy that found little, the next waits, unless a burst has taken the file well past its end since.
    if (now < copyAt && bytes - copiedBytes < busyBytes) return
    const [locked, log, copied] = copy.get()
    if (locked || log < 0) return void stats.deferred++ // another connection is checkpointing
    // Every copy that reaches the end of the WAL has the next write start it over, which
    // syncs its header on the registry's event loop: while little is written, once a second.
    // A copy that found nothing new (the writes since the last look were already copied)
    // says nothing about how much is written.
    const fresh = log >= frames ? log - frames : log
    if (fresh > 0) {
      const looks = Math.max(1, (now - copiedAt) / workerData.checkMs)
      copyAt = fresh / looks >= workerData.busyFrames ? 0 : now + workerData.slowCopyMs
      frames = log
      copiedAt = now
      copiedBytes = bytes
    }
    if (log < workerData.restartPages || log === restartedAt || now < restartAt) return
    // It waits for the write lock only when the copy just made reached the end of the WAL:
    // short of it, a reader of an older snapshot holds the frames, and waiting for it would
    // hold the registry's writes.
    const full = copied === log
    db.exec('PRAGMA busy_timeout = ' + (full ? workerData.restartWaitMs : 0))
    let busy, restarted
    try {
      ;[busy, restarted] = restart.get()
    } finally {
      db.exec('PRAGMA busy_timeout = 0')
    }
    if (busy) {
      // After a full copy, the write lock was taken all along (a steady stream of commits) or a
      // reader of the latest snapshot stayed (writes waited meanwhile, but the next commit makes
      // that snapshot an older one): tried again soon. Short of a full copy, a reader of an
      // older snapshot turned it back: that one is given a second.
      restartAt = now + (full ? workerData.restartRetryMs : workerData.slowCopyMs)
      return void stats.deferred++
    }
    stats.checkpoints++
    restartedAt = frames = restarted
  } catch (error) {
    // A full disk ends when space is freed (the registry refuses writes meanwhile), and a busy
    // database when its user is done: try again later.
    if (code(error).startsWith('SQLITE_FULL')) {
      copyAt = restartAt = now + workerData.slowCopyMs
      return void stats.full++
    }
    if (code(error).startsWith('SQLITE_BUSY')) return void stats.deferred++
    clearInterval(timer)
    parentPort.postMessage({ failed: String((error && error.message) || code(error) || error) })
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
export function startCheckpointer(
  path: string,
  options: { synchronous: 'NORMAL' | 'FULL'; onFailure: (reason: string) => void; restartPages?: number },
): Checkpointer {
  const driver = createRequire(import.meta.url).resolve('libsql')
  const stoppedFlag = new SharedArrayBuffer(4)
  const worker = new Worker(THREAD, {
    eval: true,
    workerData: { path, driver, synchronous: options.synchronous, restartPages: options.restartPages ?? RESTART_PAGES, emptyPages: CHECKPOINT_PAGES, quietLooks: Math.ceil(QUIET_MS / CHECK_MS), busyFrames: BUSY_FRAMES, slowCopyMs: SLOW_COPY_MS, restartWaitMs: RESTART_WAIT_MS, restartRetryMs: RESTART_RETRY_MS, checkMs: CHECK_MS, stopped: stoppedFlag },
  })
  worker.unref()
  let stopped = false
  let failed = false
  let last: CheckpointStats = { checkpoints: 0, deferred: 0, full: 0 }
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
