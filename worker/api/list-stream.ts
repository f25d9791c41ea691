/**
 * A list answered as it is read: the JSON of the list's head (apiVersion, kind,
 * metadata, and for a Table its column definitions) goes out first, then the items page
 * by page as the client takes them, then the closing brackets. Only one page is in
 * memory at a time, and a slow client slows the reading rather than piling up pages.
 * The first page is read before the answer starts, so a failure there is still a Status;
 * a failure later can only cut the answer short (the client sees invalid JSON).
 *
 * Streamed lists take turns: each page waits for its turn, and turns are one per pass of
 * the event loop across all the lists being sent, so that requests arriving meanwhile
 * (DNS, picks, writes) wait for at most one page, however many lists are running. (The
 * embedded database answers synchronously, and a client reading fast keeps the socket
 * writable, so without turns a list would be sent to its end in one go.)
 */
import type { Context } from 'hono'

export interface Pages {
  next(): Promise<unknown[] | null>
  close(): void
}

/** `head` as JSON with its `field` (an array, its last key) filled from `pages`. */
export async function streamedList(c: Context, head: object, field: string, pages: Pages): Promise<Response> {
  const text = JSON.stringify({ ...head, [field]: [] })
  if (!text.endsWith(`"${field}":[]}`)) throw new Error(`streamedList: "${field}" is not the last key of the list`)
  const encoder = new TextEncoder()
  let first: unknown[] | null
  try {
    first = await nonEmpty(pages)
  } catch (e) {
    pages.close()
    throw e
  }
  let separator = ''
  const chunk = (items: unknown[]) => {
    const out = separator + items.map((item) => JSON.stringify(item)).join(',')
    separator = ','
    return out
  }
  let started = false
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        if (!started) {
          started = true
          controller.enqueue(encoder.encode(text.slice(0, -2) + (first ? chunk(first) : '')))
          if (first) return
        } else {
          await turn()
          const items = await nonEmpty(pages)
          if (items) return controller.enqueue(encoder.encode(chunk(items)))
        }
        controller.enqueue(encoder.encode(']}'))
        controller.close()
      } catch (e) {
        pages.close()
        controller.error(e)
      }
    },
    cancel() {
      pages.close()
    },
  })
  return c.body(body, 200, { 'content-type': 'application/json' })
}

/** Resolves on a later pass of the event loop than the turn before it (see the top of this file). */
const nextPass: () => Promise<void> =
  typeof setImmediate === 'function' ? () => new Promise((resolve) => setImmediate(resolve)) : () => new Promise((resolve) => setTimeout(resolve, 0))
let turns: Promise<void> = Promise.resolve()

function turn(): Promise<void> {
  const mine = turns.then(nextPass)
  turns = mine
  return mine
}

/** The next page with items in it, or null after the last. */
async function nonEmpty(pages: Pages): Promise<unknown[] | null> {
  for (;;) {
    const items = await pages.next()
    if (!items || items.length) return items
  }
}
