/**
 * A live list: list once, then watch from the list's resourceVersion (newline-delimited
 * JSON read with fetch and a ReadableStream, since EventSource cannot send a bearer
 * token). A 410 Expired re-lists and watches again; a dropped or ended stream resumes
 * from the last resourceVersion seen, after a short pause that grows while it keeps
 * failing. A stopped list is silent: a list or an event that arrives after `stop()` (a
 * namespace switched while the list was on its way) is dropped, never handed on.
 */
import { ApiError, call, headers } from './api.js'

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'
  object: any
}

export interface LiveListOptions {
  /** The list path, without a query. */
  path: string
  /** The whole list, after the first read and after every re-list. */
  onList: (items: any[]) => void
  onEvent: (event: WatchEvent) => void
  /** Connection state for the page: 'live', 'relisting', 'reconnecting' or an error text. */
  onState?: (state: string) => void
}

export class LiveList {
  private readonly abort = new AbortController()

  constructor(private readonly options: LiveListOptions) {
    void this.run()
  }

  stop(): void {
    this.abort.abort()
  }

  private async list(): Promise<string> {
    const list = await call('GET', this.options.path)
    if (!this.abort.signal.aborted) this.options.onList(list.items ?? [])
    return list.metadata?.resourceVersion ?? '0'
  }

  private state(state: string): void {
    if (!this.abort.signal.aborted) this.options.onState?.(state)
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal
    let rv: string | null = null
    let pause = 250
    while (!signal.aborted) {
      try {
        if (rv === null) {
          this.state('relisting')
          rv = await this.list()
          if (signal.aborted) return
        }
        const res = await fetch(`${this.options.path}?watch=1&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(rv)}`, { headers: headers(), signal })
        if (res.status === 410) {
          rv = null
          continue
        }
        if (!res.ok || !res.body) throw new ApiError(res.status, res.statusText, `watch of ${this.options.path} failed: HTTP ${res.status}`)
        this.state('live')
        pause = 250
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
        let buffer = ''
        for (;;) {
          const { done, value } = await reader.read()
          if (signal.aborted) return
          if (done) break
          buffer += value
          let nl: number
          while ((nl = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, nl).trim()
            buffer = buffer.slice(nl + 1)
            if (!line) continue
            const event = JSON.parse(line) as WatchEvent
            if (event.type === 'ERROR') {
              // 410 Expired: the resourceVersion was compacted away; re-list.
              rv = null
              void reader.cancel()
              break
            }
            rv = event.object?.metadata?.resourceVersion ?? rv
            if (signal.aborted) return
            if (event.type !== 'BOOKMARK') this.options.onEvent(event)
          }
          if (rv === null) break
        }
      } catch (e) {
        if (signal.aborted) return
        if (e instanceof ApiError && (e.code === 401 || e.code === 403)) {
          this.state(e.message)
          return
        }
        this.state('reconnecting')
        await new Promise((r) => setTimeout(r, pause))
        pause = Math.min(pause * 2, 5000)
      }
    }
  }
}
