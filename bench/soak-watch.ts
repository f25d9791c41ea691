/**
 * A long-lived watch of the soak, run the way a Kubernetes reflector runs one: list, then
 * watch from the list's resourceVersion with bookmarks, and when the stream ends, watch
 * again from the last resourceVersion it saw (after a 410 Expired, list again). It keeps
 * the objects the events describe and checks the stream as it goes:
 *
 * - order: every event's resourceVersion is above the one before (a BOOKMARK's not below);
 * - consistency: ADDED only for an object it does not hold, MODIFIED and DELETED only for
 *   one it does;
 * - no gaps: every write the load generator made in the watch's scope (the resourceVersion
 *   its answer carried) arrives as an event (`missing`);
 * - the end state: what it holds equals a fresh list of the same scope (`differences`).
 *
 * A stream that ends early and a re-list are counted, not errors: clients are expected to
 * resume. An ERROR event, a failed request or a broken stream is an error of the timeline.
 */
import { performance } from 'node:perf_hooks'
import type { Timeline } from './soak-timeline'

interface WatchedObject {
  metadata?: { name?: string; resourceVersion?: string }
  code?: number
  reason?: string
  message?: string
}

interface ListAnswer {
  metadata?: { resourceVersion?: string; continue?: string }
  items?: WatchedObject[]
}

export class SoakWatch {
  /** Name → resourceVersion of the objects the events describe. */
  readonly objects = new Map<string, number>()
  readonly seen = new Set<number>()
  lastRv = 0
  events = 0
  bookmarks = 0
  /** Streams opened after the first (the server ended one, or it broke). */
  resumes = 0
  relists = 0
  private stopping = false
  private readonly abort = new AbortController()
  private running: Promise<void> | undefined

  constructor(
    private readonly timeline: Timeline,
    readonly name: string,
    private readonly base: string,
    /** The collection's path, with its selector query if any (`…/pods?labelSelector=…`). */
    readonly path: string,
    private readonly timeoutSeconds: number,
    /** Called with each event (not BOOKMARKs or ERRORs) when it arrives. */
    private readonly arrived: (rv: number, at: number, type: string, name: string) => void = () => {},
  ) {}

  /** Lists and starts watching; resolves once the first stream is open. */
  async start(): Promise<void> {
    await this.list()
    let opened!: () => void
    const open = new Promise<void>((resolve) => (opened = resolve))
    this.running = this.loop(opened)
    await open
  }

  async stop(): Promise<void> {
    this.stopping = true
    this.abort.abort()
    await this.running
  }

  /** Waits until the watch has seen `rv` or a later event, for at most `ms`; whether it has. */
  async reached(rv: number, ms: number): Promise<boolean> {
    const deadline = performance.now() + ms
    while (this.lastRv < rv && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    return this.lastRv >= rv
  }

  /** Of `written` (resourceVersions of writes in the watch's scope), those it has passed without an event. */
  missing(written: Iterable<number>): number[] {
    return [...written].filter((rv) => rv <= this.lastRv && !this.seen.has(rv)).sort((a, b) => a - b)
  }

  /** How what the watch holds differs from a list of the same scope now, as descriptions (none: equal). */
  async differences(): Promise<string[]> {
    const listed = await this.listAll()
    const out: string[] = []
    for (const [name, rv] of listed.objects) {
      const held = this.objects.get(name)
      if (held === undefined) out.push(`${name} (rv ${rv}) is listed but the watch does not hold it`)
      else if (held !== rv) out.push(`${name} is rv ${rv} in the list, rv ${held} in the watch`)
    }
    for (const [name, rv] of this.objects) if (!listed.objects.has(name)) out.push(`the watch holds ${name} (rv ${rv}), the list does not`)
    return out
  }

  private async list(): Promise<void> {
    const listed = await this.listAll()
    this.objects.clear()
    for (const [name, rv] of listed.objects) this.objects.set(name, rv)
    this.lastRv = Math.max(this.lastRv, listed.rv)
  }

  /** Every object of the scope, page by page, and the list's resourceVersion. */
  private async listAll(): Promise<{ objects: Map<string, number>; rv: number }> {
    const objects = new Map<string, number>()
    let rv = 0
    let token = ''
    do {
      const sep = this.path.includes('?') ? '&' : '?'
      const res = await fetch(`${this.base}${this.path}${sep}limit=500${token ? `&continue=${encodeURIComponent(token)}` : ''}`, { signal: this.abort.signal })
      const text = await res.text()
      if (!res.ok) throw new Error(`listing ${this.path} answered ${res.status}: ${text.slice(0, 200)}`)
      const page = JSON.parse(text) as ListAnswer
      if (!rv) rv = Number(page.metadata?.resourceVersion ?? 0)
      for (const item of page.items ?? []) objects.set(item.metadata?.name ?? '', Number(item.metadata?.resourceVersion ?? 0))
      token = page.metadata?.continue ?? ''
    } while (token)
    return { objects, rv }
  }

  private async loop(opened: () => void): Promise<void> {
    let first = true
    while (!this.stopping) {
      if (!first) this.resumes++
      try {
        await this.stream(first ? opened : () => {})
      } catch (e) {
        if (this.stopping) break
        this.timeline.error(`watch ${this.name}: stream failed`, `${this.path} from rv ${this.lastRv}: ${(e as Error).message}`)
        await new Promise((r) => setTimeout(r, 500))
      } finally {
        if (first) opened()
        first = false
      }
    }
  }

  private async stream(opened: () => void): Promise<void> {
    const sep = this.path.includes('?') ? '&' : '?'
    const url = `${this.base}${this.path}${sep}watch=true&allowWatchBookmarks=true&resourceVersion=${this.lastRv}&timeoutSeconds=${this.timeoutSeconds}`
    const res = await fetch(url, { signal: this.abort.signal })
    if (!res.ok || !res.body) throw new Error(`answered ${res.status}: ${(await res.text()).slice(0, 200)}`)
    opened()
    const decoder = new TextDecoder()
    let pending = ''
    const reader = res.body.getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) return
      pending += decoder.decode(value, { stream: true })
      let nl: number
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl)
        pending = pending.slice(nl + 1)
        if (line.trim()) await this.event(JSON.parse(line) as { type: string; object: WatchedObject })
      }
    }
  }

  private async event(event: { type: string; object: WatchedObject }): Promise<void> {
    const at = performance.now()
    const { type, object } = event
    if (type === 'ERROR') {
      this.timeline.error(`watch ${this.name}: ERROR ${object.code ?? ''} ${object.reason ?? ''}`.trimEnd(), `${this.path} from rv ${this.lastRv}: ${object.message ?? JSON.stringify(object)}`)
      // A 410 Expired: what the watch missed is gone from the log; start again from a list, as a reflector does.
      if (object.code === 410) {
        this.relists++
        await this.list()
      }
      return
    }
    const rv = Number(object.metadata?.resourceVersion)
    const name = object.metadata?.name ?? ''
    if (!Number.isSafeInteger(rv)) {
      this.timeline.error(`watch ${this.name}: event without a resourceVersion`, `${type} ${name}: ${JSON.stringify(object).slice(0, 200)}`)
      return
    }
    if (type === 'BOOKMARK') {
      this.bookmarks++
      if (rv < this.lastRv) this.timeline.error(`watch ${this.name}: out of order`, `BOOKMARK rv ${rv} after rv ${this.lastRv}`)
      this.lastRv = Math.max(this.lastRv, rv)
      return
    }
    this.events++
    if (rv <= this.lastRv) this.timeline.error(`watch ${this.name}: out of order`, `${type} ${name} rv ${rv} after rv ${this.lastRv}`)
    const held = this.objects.has(name)
    if ((type === 'ADDED') === held) this.timeline.error(`watch ${this.name}: inconsistent event`, `${type} ${name} rv ${rv}, ${held ? 'held' : 'not held'} before`)
    if (type === 'DELETED') this.objects.delete(name)
    else this.objects.set(name, rv)
    this.seen.add(rv)
    this.lastRv = Math.max(this.lastRv, rv)
    this.arrived(rv, at, type, name)
  }
}
