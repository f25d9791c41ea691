/**
 * An unpaged list read page by page from one snapshot of the database, for every kind
 * that streams its unpaged lists (the generic kinds, Endpoints, EndpointSlices, tokens):
 * each kind says how to read one page after a key, this module reads them in turn, so
 * that all of the list is as of one resourceVersion without all of it being in memory at
 * once. Where the database offers no snapshot (D1, `:memory:`) the pages would not make
 * one list, so the list is read whole in one read and handed out in pages.
 */
import type { StoreSnapshot } from '../db/store'

/** Items read from one page of a list, the resourceVersion read at, and the key to read on after when more follow. */
export interface Page<T, K> {
  rv: number
  items: T[]
  next?: K
}

/** Reads the page after `after` (from the start when undefined) of at most `limit` keys (all when undefined). */
export type ReadPage<T, K> = (after: K | undefined, limit: number | undefined) => Promise<Page<T, K>>

export interface SnapshotPages<T> {
  rv: number
  /** The next items (at most `pageSize`; possibly none while more follow); null after the last. */
  next(): Promise<T[] | null>
  /** Ends the snapshot (after the last page it has ended already). */
  close(): void
}

/**
 * Reads the first page now (its resourceVersion heads the list; a failure is the
 * caller's to answer), the others as `next` asks for them. The snapshot is closed after
 * the last page, on a failure, or by `close`.
 */
export async function snapshotPages<T, K>(snapshot: Pick<StoreSnapshot, 'snapshot' | 'close'>, read: ReadPage<T, K>, start: K | undefined, pageSize: number): Promise<SnapshotPages<T>> {
  const limit = snapshot.snapshot ? pageSize : undefined
  const readPage = async (after: K | undefined) => {
    try {
      const page = await read(after, limit)
      if (page.next === undefined) snapshot.close()
      return page
    } catch (e) {
      snapshot.close()
      throw e
    }
  }
  let page = await readPage(start)
  let at = 0
  return {
    rv: page.rv,
    async next() {
      if (at >= page.items.length) {
        if (page.next === undefined) return null
        page = await readPage(page.next)
        at = 0
      }
      return page.items.slice(at, (at += pageSize))
    },
    close: () => snapshot.close(),
  }
}
