/**
 * The embedded libSQL client (Node): a `@libsql/client` `Client` over one `libsql`
 * connection to a local file or `:memory:`, that keeps its prepared statements.
 *
 * `@libsql/client`'s own file client prepares every statement anew on every call and
 * learns whether a statement returns rows by catching an exception. Switchboard's writes
 * run the same few dozen statement shapes over and over (guards, the resourceVersion
 * bump, object rows, endpoint rows, the change record), so preparing each shape once and
 * remembering its columns takes that work off every write and read. Results, errors
 * (`LibsqlError`, `LibsqlBatchError` with the failing statement's index) and integer
 * handling (`intMode: 'number'`, refusing integers past 2^53) are those of
 * `@libsql/client`, so drizzle and the store see no difference.
 *
 * The connection is synchronous, as the embedded driver always is: a call runs to its end
 * before another starts, so one connection serves every caller. Interactive transactions
 * are offered for reads alone (`transaction('read')`): a second connection holding one
 * snapshot of a file database while a long list is read from it page by page, writers
 * going on meanwhile (WAL); every write is one batch.
 *
 * Group commit: write batches that arrive in the same turn of the event loop commit in one
 * transaction. A batch that fails (a guard, a unique constraint) fails alone, exactly as
 * it would in a transaction of its own, and the others commit: the group then runs again
 * with each batch in a savepoint of its own (groups where nothing fails, nearly all, need
 * no savepoints). They run in arrival order, each seeing the
 * ones before, as if they had run one after another: what changes is that N writes cost
 * one commit (one set of WAL frames for the pages they share) instead of N. Each batch's
 * promise settles after the commit, so a write acknowledged is committed (and on disk as
 * DATABASE_SYNCHRONOUS says: see tuneEmbedded in client.ts). A read runs at once and sees
 * what is committed, not the writes still queued: those are not acknowledged yet, so no
 * caller can have been told of them, and a caller that awaited its write sees it in every
 * read after. So the writes of concurrent requests share a commit even when each request
 * reads before it writes (a read that committed the queue first left most groups at one
 * or two batches).
 *
 * Another process's writes: a file may be shared with other processes (a second registry,
 * a backup, a migration). SQLite lets one connection write at a time, and its own wait
 * for the write lock (busy_timeout) sleeps in the calling thread: a write that met another
 * process's long transaction would freeze this process's event loop for as long. So the
 * connection's busy wait is off, and write groups take the lock without waiting; when it is
 * held, the group stays queued and is tried again on a timer (1 ms, doubling to
 * LOCK_RETRY_MAX_MS), while requests, timers and reads go on (WAL readers do not wait for
 * writers). Reads meanwhile see what is committed: the waiting writes are not acknowledged
 * yet, and a caller that awaits its write sees it in every read after; later writes queue
 * behind the waiting ones, in order. A group that cannot get the lock within
 * `busyTimeoutMs` (default 5 s) fails as SQLITE_BUSY with nothing applied. Set-up
 * statements (migrations, pragmas) and closing keep SQLite's own busy wait.
 *
 * Storage faults: before each write transaction the client checks that the file at its
 * path is still the file it opened (device and inode), and its WAL the WAL first seen.
 * The driver keeps its descriptors, so after the file is deleted or replaced writes would
 * still succeed, into a file nobody will open again, and vanish at the next start: such
 * writes are refused instead, with SQLite's own SQLITE_READONLY_DBMOVED. With
 * `minFreeBytes`, write batches are also refused as SQLITE_FULL while the file system
 * holding the database has less free space than that (read at most every
 * FREE_SPACE_CHECK_MS): the disk counts as full before SQLite meets ENOSPC half-way
 * through a commit or a checkpoint, and stays full until there is room again, rather than
 * taking small writes and refusing big ones. A dry run (a batch that ends in batch.ts'
 * ROLL_BACK_SQL, so that it always rolls back) stores nothing and is answered on a full
 * disk as on any other. A write that fails on a storage fault (those,
 * a read-only database, an I/O error) is logged once when the fault begins, and once when
 * writes commit again, not once per write.
 */
import { Buffer } from 'node:buffer'
import { statfsSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'libsql'
import { LibsqlBatchError, LibsqlError, type Client, type InArgs, type InStatement, type InValue, type ResultSet, type Row, type Transaction, type TransactionMode } from '@libsql/core/api'
import { ResultSetImpl, transactionModeToBegin } from '@libsql/core/util'
import { CHECKPOINT_PAGES, startCheckpointer, type Checkpointer, type CheckpointStats } from './checkpointer'
import { DBMOVED, storageFaultOf, type StorageFault } from './errors'
import { ROLL_BACK_SQL } from './batch'

/** Statement shapes kept prepared; past this the least recently used is finalized and dropped. */
export const STATEMENT_CACHE_SIZE = 512

/** How long a reading of the free disk space is trusted. */
export const FREE_SPACE_CHECK_MS = 100

/** How long a write waits for another connection's write lock before it fails as SQLITE_BUSY, unless told otherwise. */
export const BUSY_TIMEOUT_MS = 5_000

/** The longest pause between two tries of the write lock. */
export const LOCK_RETRY_MAX_MS = 20

type Outcome = { ok: ResultSet[] } | { error: unknown }

interface Pending {
  stmts: InStatement[]
  /** A dry run: rolls back whatever happens, so the free-space reserve does not hold it. */
  dryRun: boolean
  resolve: (results: ResultSet[]) => void
  reject: (error: unknown) => void
  /** When it was queued (performance.now()): it waits for another process's lock `busyTimeoutMs` from then at most. */
  queuedAt: number
}

export interface EmbeddedOptions {
  /** Commit write batches of one event-loop turn together (default true). */
  groupCommit?: boolean
  /** Where the beginning and end of a storage fault are logged (default console.error). */
  log?: (line: string) => void
  /** Refuse writes (SQLITE_FULL) while the file system has less free space than this (default 0: never). */
  minFreeBytes?: number
  /** How long a write waits for another connection's write lock before failing as SQLITE_BUSY (default BUSY_TIMEOUT_MS). */
  busyTimeoutMs?: number
  /** The WAL size in pages past which the checkpoint thread has the WAL start over (default RESTART_PAGES; see checkpointer.ts). */
  restartPages?: number
}

/** What identifies the file a path names: its device and inode. */
interface FileIdentity {
  dev: bigint
  ino: bigint
}

/** The log line at the start of each storage fault. */
const FAULT_LINES: Record<StorageFault, (path: string) => string> = {
  full: (path) => `the disk holding ${path} is full: writes are refused (507 InsufficientStorage) until space is freed`,
  moved: (path) =>
    `${path} was removed or replaced while the registry had it open: writes are refused (503) so that none is lost, and /readyz fails; restart the registry to open the file now at that path`,
  readonly: (path) => `${path} cannot be written (read-only): writes are refused (503)`,
  io: (path) => `the disk holding ${path} failed (I/O error): writes are refused (503)`,
  busy: (path) => `another process held the write lock of ${path} past the wait limit: writes that waited for it were refused (503)`,
}

interface Prepared {
  stmt: Database.Statement
  /** Whether the statement returns rows (SELECT, or a write with RETURNING). */
  reader: boolean
  columns: string[]
  columnTypes: string[]
  /** Whether two result columns share a name (rows then keep the first under that name). */
  duplicateNames: boolean
  /** When it was last used (the client's count of uses): the least recently used goes first. */
  used: number
}

export class EmbeddedClient implements Client {
  closed = false
  readonly protocol = 'file'
  private readonly db: Database.Database
  private readonly statements = new Map<string, Prepared>()
  private uses = 0
  private readonly groupCommit: boolean
  private queue: Pending[] = []
  /**
   * Transactions committed, the write batches they carried, and the milliseconds they held
   * this thread (the file checks, then BEGIN to COMMIT; for the benchmarks).
   */
  readonly commits = { transactions: 0, batches: 0, ms: 0 }
  /** Reads run on this connection (a statement, or a batch of reads alone), and the milliseconds they held this thread (for the benchmarks). */
  readonly reads = { count: 0, ms: 0 }
  /** The file as opened (null in memory): writes stop when the path names another file, or none. */
  private readonly file: (FileIdentity & { path: string }) | null
  /** The WAL as first seen: SQLite keeps it while the database is open, so it too must stay. */
  private wal: FileIdentity | null = null
  private readonly log: (line: string) => void
  /** The storage fault the last write failed on, already logged; null once a write commits. */
  private fault: StorageFault | null = null
  private readonly minFreeBytes: number
  /** The last reading of the free space (bytes), and when it was taken. */
  private free = { bytes: Infinity, at: -Infinity }
  private readonly busyTimeoutMs: number
  private readonly restartPages: number | undefined
  /** While another connection holds the write lock: the pause before the next try, and a promise that settles at that try. */
  private lockWait: { pauseMs: number; retried: Promise<void>; settle: () => void; timer: ReturnType<typeof setTimeout> | null } | null = null
  /** The thread that checkpoints the WAL, once asked for (see checkpointInBackground). */
  private checkpointer: Checkpointer | null = null

  /** `path` is a file path or `:memory:`. */
  constructor(
    private readonly path: string,
    options: EmbeddedOptions = {},
  ) {
    this.db = new Database(path)
    this.groupCommit = options.groupCommit ?? true
    this.log = options.log ?? ((line) => console.error(line))
    this.minFreeBytes = options.minFreeBytes ?? 0
    this.busyTimeoutMs = options.busyTimeoutMs ?? BUSY_TIMEOUT_MS
    this.restartPages = options.restartPages
    // SQLite's own busy wait sleeps in this thread: off for the registry's connection, whose
    // writes wait on a timer instead; kept for a connection without group commit (a read
    // snapshot, tools), and for set-up statements (see `blocking`).
    this.run(`PRAGMA busy_timeout = ${this.groupCommit ? 0 : this.busyTimeoutMs}`)
    const opened = path === ':memory:' || path === '' ? null : identity(path)
    this.file = opened && { ...opened, path }
  }

  /** How many statement shapes are prepared now. */
  get preparedStatements(): number {
    return this.statements.size
  }

  async execute(stmtOrSql: InStatement | string, args?: InArgs): Promise<ResultSet> {
    this.checkOpen()
    const stmt = typeof stmtOrSql === 'string' ? { sql: stmtOrSql, args: args ?? [] } : stmtOrSql
    // A read runs at once and sees what is committed: queued writes are not acknowledged yet.
    if (!this.writes([stmt]) && !changesData([stmt])) return this.reading(() => this.run(stmt))
    if (!this.flush()) await this.drain()
    // A lone statement is set-up (pragmas, the migrator's bookkeeping), not a registry write
    // (those are batches): it is held to the file check, not to the free-space reserve, and
    // waits for another process's lock as SQLite does.
    return this.writing(() => this.blocking(() => this.run(stmt)), false)
  }

  async batch(stmts: (InStatement | [string, InArgs?])[], mode: TransactionMode = 'deferred'): Promise<ResultSet[]> {
    this.checkOpen()
    const normalized = stmts.map((s): InStatement => (Array.isArray(s) ? { sql: s[0], args: s[1] ?? [] } : s))
    // Only writes wait for a group: a batch of reads alone (consistent multi-query reads) runs at once.
    const writes = mode !== 'read' && (this.writes(normalized) || changesData(normalized))
    if (!this.groupCommit || !writes) {
      // A read runs at once and sees what is committed (queued writes are not acknowledged
      // yet); a write without group commit goes after the queued ones.
      if (writes) this.flush()
      const run = () => this.inTransaction(transactionModeToBegin(mode), normalized)
      if (!writes) return this.reading(run)
      const began = performance.now()
      const results = this.writing(run, !isDryRun(normalized))
      this.commits.transactions++
      this.commits.batches++
      this.commits.ms += performance.now() - began
      return results
    }
    return new Promise((resolve, reject) => {
      if (this.queue.push({ stmts: normalized, dryRun: isDryRun(normalized), resolve, reject, queuedAt: performance.now() }) === 1) setImmediate(() => this.flush())
    })
  }

  async migrate(stmts: InStatement[]): Promise<ResultSet[]> {
    this.checkOpen()
    if (!this.flush()) await this.drain()
    this.run('PRAGMA foreign_keys=off')
    try {
      return this.blocking(() => this.inTransaction('BEGIN DEFERRED', stmts))
    } finally {
      this.run('PRAGMA foreign_keys=on')
    }
  }

  async executeMultiple(sql: string): Promise<void> {
    this.checkOpen()
    if (!this.flush()) await this.drain()
    try {
      this.blocking(() => this.db.exec(sql))
    } catch (error) {
      throw libsqlError(error)
    }
  }

  /**
   * A read transaction on a connection of its own (a file database only): it sees the
   * database as it was when it began, whatever is written meanwhile, until it is closed.
   * Writes issued before it are committed first (unless they wait for another process's write
   * lock: not acknowledged yet, they are not in it).
   */
  async transaction(mode?: TransactionMode): Promise<Transaction> {
    this.checkOpen()
    if (mode !== 'read' || this.path === ':memory:' || this.path === '') {
      throw new LibsqlError('the embedded client offers read transactions on a file database only: write one batch', 'TRANSACTION_UNSUPPORTED')
    }
    this.flush()
    const reader = new EmbeddedClient(this.path, { groupCommit: false, busyTimeoutMs: this.busyTimeoutMs })
    try {
      reader.run('BEGIN')
      // A deferred transaction takes its snapshot at its first read.
      reader.run("SELECT 1 FROM sqlite_master LIMIT 1")
    } catch (error) {
      reader.close()
      throw error
    }
    return new ReadTransaction(reader)
  }

  async sync(): Promise<never> {
    throw new LibsqlError('the embedded client has no replica to sync', 'SYNC_NOT_SUPPORTED')
  }

  reconnect(): void {
    throw new LibsqlError('the embedded client cannot reconnect: open a new one', 'RECONNECT_UNSUPPORTED')
  }

  close(): void {
    if (this.closed) return
    // Closing is the one place a write waits for the lock in place (SQLite's busy wait): nothing comes after it.
    this.flush(true)
    this.unlocked()
    this.closed = true
    this.statements.clear()
    this.checkpointer?.stop()
    this.db.close()
  }

  /**
   * Moves WAL checkpoints off this connection to a thread of their own (checkpointer.ts);
   * a file database in WAL mode only. Should the thread fail, this connection checkpoints
   * again as SQLite does by default.
   */
  checkpointInBackground(synchronous: 'NORMAL' | 'FULL'): void {
    if (!this.file || this.checkpointer || this.closed) return
    this.run('PRAGMA wal_autocheckpoint = 0')
    this.checkpointer = startCheckpointer(this.file.path, {
      synchronous,
      restartPages: this.restartPages,
      onFailure: (reason) => {
        if (this.closed) return
        this.log(`switchboard: WAL checkpoints return to the registry's connection: ${reason}`)
        this.run(`PRAGMA wal_autocheckpoint = ${CHECKPOINT_PAGES}`)
      },
    })
  }

  /** What the background checkpoint thread did (null without one; for tests and the benchmarks). */
  checkpointStats(): Promise<CheckpointStats> | null {
    return this.checkpointer?.stats() ?? null
  }

  private inTransaction(begin: string, stmts: InStatement[]): ResultSet[] {
    this.run(begin)
    try {
      const results = this.runAll(stmts)
      this.run('COMMIT')
      return results
    } finally {
      if (this.db.inTransaction) this.run('ROLLBACK')
    }
  }

  /** Whether a batch writes: some statement of it returns no rows (reads, and writes with RETURNING, return rows). */
  private writes(stmts: InStatement[]): boolean {
    try {
      return stmts.some((s) => !this.prepared(typeof s === 'string' ? s : s.sql).reader)
    } catch {
      return false // a statement that does not prepare fails the batch when it runs, on its own
    }
  }

  /** Runs a batch's statements in the open transaction; a failure names the statement (LibsqlBatchError). */
  private runAll(stmts: InStatement[]): ResultSet[] {
    const results: ResultSet[] = []
    for (let i = 0; i < stmts.length; i++) {
      if (!this.db.inTransaction) throw new LibsqlBatchError('The transaction has been rolled back', i, 'TRANSACTION_CLOSED')
      try {
        results.push(this.run(stmts[i]!))
      } catch (error) {
        if (error instanceof LibsqlError) throw new LibsqlBatchError(error.message, i, error.code, error.extendedCode, error.rawCode, error.cause instanceof Error ? error.cause : undefined)
        throw error
      }
    }
    return results
  }

  /**
   * Commits the queued write batches in one transaction (see the top of this file), and
   * answers true once the queue is empty. When another connection holds the write lock it
   * answers false: the batches stay queued, tried again on a timer (`drain` waits for
   * them). With `wait` it takes the lock with SQLite's own busy wait instead (closing).
   */
  private flush(wait = false): boolean {
    if (this.queue.length === 0) return true
    const group = this.queue
    this.queue = []
    if (this.closed) {
      for (const w of group) w.reject(new LibsqlError('The client is closed', 'CLIENT_CLOSED'))
      return true
    }
    let outcomes: Outcome[]
    const began = performance.now()
    try {
      this.checkStorage(false)
      // Below the free-space reserve only dry runs go ahead (they store nothing); the others fail as SQLITE_FULL.
      const full = this.reserveShortfall()
      const run = full ? group.filter((w) => w.dryRun) : group
      // Most groups fail nowhere: run them without savepoints. When a batch of a group of
      // several fails, the whole transaction is undone and the group runs again, each
      // batch in a savepoint, so that the failing one fails alone (a lone batch's failure
      // is already its own).
      const first = run.length === 0 ? [] : this.runGroup(run, false, wait)
      const ran = first === null ? this.runGroup(run, true, wait)! : first
      if (ran === 'locked') return this.locked(group)
      this.unlocked()
      outcomes = full ? group.map((w) => (w.dryRun ? ran[run.indexOf(w)]! : { error: full })) : ran
    } catch (error) {
      // The transaction itself failed (BEGIN, COMMIT, or an error that ended it): nothing of the group committed.
      if (this.db.inTransaction) this.run('ROLLBACK')
      this.unlocked()
      this.failed(error)
      for (const w of group) w.reject(error)
      return true
    }
    if (outcomes.some((o) => 'ok' in o)) {
      this.commits.transactions++
      this.commits.batches += group.length
      this.commits.ms += performance.now() - began
    }
    const fault = outcomes.find((o): o is { error: unknown } => 'error' in o && storageFaultOf(o.error) !== null)
    if (fault) this.failed(fault.error)
    else if (outcomes.some((o) => 'ok' in o)) this.committed()
    group.forEach((w, i) => {
      const outcome = outcomes[i]!
      if ('ok' in outcome) w.resolve(outcome.ok)
      else w.reject(outcome.error)
    })
    return true
  }

  /**
   * The write lock was held by another connection: fails as SQLITE_BUSY (nothing of them
   * applied) the batches of `group` that have waited `busyTimeoutMs` since they were
   * queued, keeps the others queued, and arms the next try.
   */
  private locked(group: Pending[]): boolean {
    const now = performance.now()
    const expired = group.filter((w) => now - w.queuedAt >= this.busyTimeoutMs)
    this.queue = expired.length ? group.filter((w) => now - w.queuedAt < this.busyTimeoutMs) : group
    if (expired.length) {
      const error = new LibsqlError(
        `database is locked: another connection held the write lock for more than ${this.busyTimeoutMs} ms`,
        'SQLITE_BUSY',
        'SQLITE_BUSY',
        5,
      )
      this.failed(error)
      for (const w of expired) w.reject(error)
    }
    if (this.queue.length === 0) {
      this.unlocked()
      return true
    }
    const wait = this.lockWait
    if (wait?.timer) return false
    const pauseMs = wait ? Math.min(wait.pauseMs * 2, LOCK_RETRY_MAX_MS) : 1
    let settle!: () => void
    const retried = new Promise<void>((resolve) => (settle = resolve))
    const timer = setTimeout(() => {
      if (this.lockWait) this.lockWait.timer = null
      this.flush()
      settle()
    }, pauseMs)
    this.lockWait = { pauseMs, retried, settle, timer }
    return false
  }

  /** The write lock was taken (or the wait ended): forgets the wait and wakes whoever waited on it. */
  private unlocked(): void {
    const wait = this.lockWait
    if (!wait) return
    this.lockWait = null
    if (wait.timer) clearTimeout(wait.timer)
    wait.settle()
  }

  /** Waits, without blocking, until the queued write batches have committed or failed. */
  private async drain(): Promise<void> {
    while (!this.flush()) await this.lockWait!.retried
  }

  /**
   * Runs a group's batches in one transaction and commits it. Without savepoints, a
   * failing batch in a group of several rolls the transaction back and answers null (run
   * the group again with savepoints); with them, a failing batch rolls back to its own
   * savepoint and the others commit. 'locked': another connection holds the write lock
   * (nothing ran).
   */
  private runGroup(group: Pending[], savepoints: boolean, wait: boolean): Outcome[] | null | 'locked' {
    const outcomes: Outcome[] = []
    if (!this.beginImmediate(wait)) return 'locked'
    for (const w of group) {
      if (savepoints) this.run('SAVEPOINT batch')
      try {
        outcomes.push({ ok: this.runAll(w.stmts) })
        if (savepoints) this.run('RELEASE batch')
      } catch (error) {
        // A statement error leaves the transaction open (SQLite undoes that statement alone).
        if (!this.db.inTransaction) throw error
        if (!savepoints) {
          this.run('ROLLBACK')
          if (group.length > 1) return null
          return [{ error }]
        }
        this.run('ROLLBACK TO batch')
        this.run('RELEASE batch')
        outcomes.push({ error })
      }
    }
    this.run('COMMIT')
    return outcomes
  }

  /**
   * Begins a write transaction, taking the write lock: false when another connection holds
   * it (the registry's connection does not wait in place), unless `wait`.
   */
  private beginImmediate(wait: boolean): boolean {
    // Through exec, not a kept prepared statement: a statement that met SQLITE_BUSY stays
    // active until it is reset (SQLite lets it be retried), and an active statement makes
    // every later COMMIT on the connection fail ("SQL statements in progress").
    const begin = () => {
      try {
        this.db.exec('BEGIN IMMEDIATE')
      } catch (error) {
        throw libsqlError(error)
      }
    }
    try {
      if (wait) this.blocking(begin)
      else begin()
      return true
    } catch (error) {
      if (!wait && isBusy(error)) return false
      throw error
    }
  }

  /**
   * Runs a read. A WAL reader meets SQLITE_BUSY only briefly and rarely (another process
   * resetting or removing the WAL): the read is tried again on a timer, not waited for in place.
   */
  private async reading<T>(read: () => T): Promise<T> {
    const since = performance.now()
    for (let pauseMs = 1; ; pauseMs = Math.min(pauseMs * 2, LOCK_RETRY_MAX_MS)) {
      try {
        const began = performance.now()
        const result = read()
        this.reads.count++
        this.reads.ms += performance.now() - began
        return result
      } catch (error) {
        if (!isBusy(error) || performance.now() - since >= this.busyTimeoutMs) throw error
      }
      await new Promise((resolve) => setTimeout(resolve, pauseMs))
    }
  }

  /**
   * Runs `fn` with SQLite's own busy wait, which may hold this thread until another
   * process's lock is free: for set-up (migrations, pragmas) and closing, never for requests.
   */
  private blocking<T>(fn: () => T): T {
    if (!this.groupCommit) return fn()
    this.run(`PRAGMA busy_timeout = ${this.busyTimeoutMs}`)
    try {
      return fn()
    } finally {
      this.run('PRAGMA busy_timeout = 0')
    }
  }

  private run(stmt: InStatement): ResultSet {
    const { sql, args } = typeof stmt === 'string' ? { sql: stmt, args: [] as InArgs } : stmt
    const bound = bind(args)
    try {
      const p = this.prepared(sql)
      if (!p.reader) {
        const info = p.stmt.run(bound)
        return new ResultSetImpl([], [], [], info.changes, BigInt(info.lastInsertRowid))
      }
      const rows = p.stmt.all(bound) as unknown[][]
      return new ResultSetImpl(p.columns, p.columnTypes, rows.map((values) => toRow(values, p)), 0, undefined)
    } catch (error) {
      throw libsqlError(error)
    }
  }

  private prepared(sql: string): Prepared {
    const hit = this.statements.get(sql)
    if (hit) {
      // Stamped rather than moved to the end of the map: a hit is one lookup, and only a
      // miss over the limit looks for the least recently used (preparing costs far more).
      hit.used = ++this.uses
      return hit
    }
    const stmt = this.db.prepare(sql)
    stmt.safeIntegers(true)
    const reader = stmt.reader
    let columns: string[] = []
    let columnTypes: string[] = []
    if (reader) {
      stmt.raw(true)
      const described = stmt.columns() as { name: string; type: string | null }[]
      columns = described.map((c) => c.name)
      columnTypes = described.map((c) => c.type ?? '')
    }
    const p: Prepared = { stmt, reader, columns, columnTypes, duplicateNames: new Set(columns).size !== columns.length, used: ++this.uses }
    if (this.statements.size >= STATEMENT_CACHE_SIZE) this.statements.delete(this.leastRecentlyUsed())
    this.statements.set(sql, p)
    return p
  }

  private leastRecentlyUsed(): string {
    let oldest: string | undefined
    let used = Infinity
    for (const [sql, p] of this.statements) {
      if (p.used < used) {
        used = p.used
        oldest = sql
      }
    }
    return oldest!
  }

  /** Whether a statement of this text is prepared now. */
  isPrepared(sql: string): boolean {
    return this.statements.has(sql)
  }

  /** Runs a write outside a group: refused when the file is gone, and its storage faults logged (see the top of this file). */
  private writing<T>(write: () => T, reserve = true): T {
    try {
      this.checkStorage(reserve)
      const result = write()
      this.committed()
      return result
    } catch (error) {
      this.failed(error)
      throw error
    }
  }

  /**
   * Throws SQLITE_READONLY_DBMOVED when the path no longer names the file this client
   * opened, and (with `reserve`) SQLITE_FULL when its file system has less than
   * `minFreeBytes` free.
   */
  private checkStorage(reserve = true): void {
    if (!this.file) return
    const now = identity(this.file.path)
    if (!now || now.dev !== this.file.dev || now.ino !== this.file.ino) throw moved(this.file.path, now)
    const wal = identity(`${this.file.path}-wal`)
    if (this.wal && (!wal || wal.dev !== this.wal.dev || wal.ino !== this.wal.ino)) throw moved(`${this.file.path}-wal`, wal)
    this.wal ??= wal
    const full = reserve ? this.reserveShortfall() : null
    if (full) throw full
  }

  /** SQLITE_FULL when the file system holding the database has less than `minFreeBytes` free; null otherwise. */
  private reserveShortfall(): LibsqlError | null {
    if (!this.file || this.minFreeBytes <= 0) return null
    const at = performance.now()
    if (at - this.free.at >= FREE_SPACE_CHECK_MS) {
      const fs = statfsSync(dirname(this.file.path))
      this.free = { bytes: fs.bavail * fs.bsize, at }
    }
    if (this.free.bytes < this.minFreeBytes) {
      this.free.at = -Infinity // read it again at the next write: freed space counts at once
      const message = `database or disk is full: ${this.free.bytes} bytes free on the disk holding ${this.file.path}, less than the ${this.minFreeBytes} kept free`
      return new LibsqlError(message, 'SQLITE_FULL', 'SQLITE_FULL', 13)
    }
    return null
  }

  /** Logs a storage fault when it begins (not again while writes keep failing on it). */
  private failed(error: unknown): void {
    const fault = storageFaultOf(error)
    if (!fault || fault === this.fault) return
    this.fault = fault
    this.log(`switchboard: database: ${FAULT_LINES[fault](this.file?.path ?? ':memory:')}`)
  }

  /** Logs the end of a storage fault once a write commits. */
  private committed(): void {
    if (!this.fault) return
    this.log(`switchboard: database: writes commit again (the ${this.fault === 'full' ? 'disk has room' : 'fault has cleared'})`)
    this.fault = null
  }

  private checkOpen(): void {
    if (this.closed) throw new LibsqlError('The client is closed', 'CLIENT_CLOSED')
  }
}

/** Whether a driver error is SQLITE_BUSY: another connection holds the lock asked for. */
function isBusy(error: unknown): boolean {
  return error instanceof LibsqlError && (error.code === 'SQLITE_BUSY' || error.cause instanceof LibsqlError && error.cause.code === 'SQLITE_BUSY')
}

/** Whether a statement changes rows, returning some or not (`writes` counts only those that return none). */
function changesData(stmts: InStatement[]): boolean {
  return stmts.some((s) => /^\s*(INSERT|UPDATE|DELETE|REPLACE)\b/i.test(typeof s === 'string' ? s : s.sql))
}

/** The refusal of a write because `path` names another file than the one opened (`now`), or none. */
function moved(path: string, now: FileIdentity | null): LibsqlError {
  const what = now ? 'replaced by another file' : 'removed'
  return new LibsqlError(`the database file ${path} was ${what} after it was opened: writes are refused`, 'SQLITE_READONLY', DBMOVED, 1032)
}

/** The device and inode of the file at `path`, or null when there is none. */
function identity(path: string): FileIdentity | null {
  const stat = statSync(path, { throwIfNoEntry: false, bigint: true })
  return stat ? { dev: stat.dev, ino: stat.ino } : null
}

/** A read transaction of the embedded client: its own connection, closed with it. */
class ReadTransaction implements Transaction {
  constructor(private readonly reader: EmbeddedClient) {}

  get closed(): boolean {
    return this.reader.closed
  }

  execute(stmt: InStatement): Promise<ResultSet> {
    return this.reader.execute(stmt)
  }

  async batch(stmts: InStatement[]): Promise<ResultSet[]> {
    const results: ResultSet[] = []
    for (const stmt of stmts) results.push(await this.reader.execute(stmt))
    return results
  }

  executeMultiple(sql: string): Promise<void> {
    return this.reader.executeMultiple(sql)
  }

  async rollback(): Promise<void> {
    this.close()
  }

  async commit(): Promise<void> {
    this.close()
  }

  close(): void {
    if (this.reader.closed) return
    // The statement runs at once (the connection is synchronous); nothing was written, so a failure leaves nothing behind.
    this.reader.execute('ROLLBACK').catch(() => undefined)
    this.reader.close()
  }
}

/** A row as `@libsql/client` gives it: values by index (not enumerable) and by column name (enumerable, first of equal names wins). */
function toRow(values: unknown[], p: Prepared): Row {
  const row: Record<string | number, unknown> = {}
  Object.defineProperty(row, 'length', { value: values.length })
  for (let i = 0; i < values.length; i++) {
    const value = fromSql(values[i])
    Object.defineProperty(row, i, { value })
    const column = p.columns[i]!
    if (!p.duplicateNames || !Object.hasOwn(row, column)) row[column] = value
  }
  return row as unknown as Row
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER)
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

function fromSql(value: unknown): unknown {
  if (typeof value === 'bigint') {
    if (value < MIN_SAFE || value > MAX_SAFE) throw new RangeError('Received integer which cannot be safely represented as a JavaScript number')
    return Number(value)
  }
  if (value instanceof Buffer) return value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength)
  return value
}

const MIN_INTEGER = -9223372036854775808n
const MAX_INTEGER = 9223372036854775807n

function bind(args: InArgs | undefined): unknown[] | Record<string, unknown> {
  if (args === undefined) return []
  if (Array.isArray(args)) return args.map(toSql)
  const named: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(args)) named[/^[@$:]/.test(name) ? name.slice(1) : name] = toSql(value)
  return named
}

function toSql(value: InValue): unknown {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError('Only finite numbers (not Infinity or NaN) can be passed as arguments')
    return value
  }
  if (typeof value === 'bigint') {
    if (value < MIN_INTEGER || value > MAX_INTEGER) throw new RangeError('bigint is too large to be represented as a 64-bit integer and passed as argument')
    return value
  }
  if (typeof value === 'boolean') return value ? 1 : 0
  if (value instanceof ArrayBuffer) return Buffer.from(value)
  if (value instanceof Date) return value.valueOf()
  if (value === undefined) throw new TypeError('undefined cannot be passed as argument to the database')
  return value
}

const BASE_CODES: Record<number, string> = {
  1: 'SQLITE_ERROR', 2: 'SQLITE_INTERNAL', 3: 'SQLITE_PERM', 4: 'SQLITE_ABORT', 5: 'SQLITE_BUSY', 6: 'SQLITE_LOCKED',
  7: 'SQLITE_NOMEM', 8: 'SQLITE_READONLY', 9: 'SQLITE_INTERRUPT', 10: 'SQLITE_IOERR', 11: 'SQLITE_CORRUPT',
  12: 'SQLITE_NOTFOUND', 13: 'SQLITE_FULL', 14: 'SQLITE_CANTOPEN', 15: 'SQLITE_PROTOCOL', 16: 'SQLITE_EMPTY',
  17: 'SQLITE_SCHEMA', 18: 'SQLITE_TOOBIG', 19: 'SQLITE_CONSTRAINT', 20: 'SQLITE_MISMATCH', 21: 'SQLITE_MISUSE',
  22: 'SQLITE_NOLFS', 23: 'SQLITE_AUTH', 24: 'SQLITE_FORMAT', 25: 'SQLITE_RANGE', 26: 'SQLITE_NOTADB',
  27: 'SQLITE_NOTICE', 28: 'SQLITE_WARNING',
}

/** The driver's SqliteError as the LibsqlError `@libsql/client` would throw; anything else unchanged. */
function libsqlError(error: unknown): unknown {
  if (!(error instanceof Database.SqliteError)) return error
  const raw = (error as { rawCode?: number }).rawCode
  const code = raw === undefined ? 'SQLITE_UNKNOWN' : (BASE_CODES[raw & 0xff] ?? `SQLITE_UNKNOWN_${raw & 0xff}`)
  return new LibsqlError(error.message, code, (error as { code?: string }).code, raw, error)
}

/** Whether a batch is a dry run: it ends in the statement that always fails (batch.ts). */
function isDryRun(stmts: InStatement[]): boolean {
  const last = stmts[stmts.length - 1]
  return last !== undefined && (typeof last === 'string' ? last : last.sql) === ROLL_BACK_SQL
}
