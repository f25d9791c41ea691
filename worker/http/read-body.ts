/**
 * Reading a request body up to a limit, whatever Content-Length says. On Node the body
 * is read from the server's IncomingMessage (the `incoming` binding @hono/node-server
 * passes), which spares building a web Request and its streams for every write; elsewhere
 * (Workers, `app.request()` in tests) from the Request's body stream. Both paths keep the
 * same limit rule.
 */
import type { Context } from 'hono'

/** The bytes of the request's body; null when the body (declared or streamed) is larger than `limit`. */
export async function readBody(c: Context, limit: number): Promise<Uint8Array | null> {
  const incoming = nodeIncoming(c)
  return incoming ? readIncoming(incoming, declaredLength(c.req.raw), limit) : readBytes(c.req.raw, limit)
}

/** The bytes of a web Request's body; null when the body (declared or streamed) is larger than `limit`. */
export async function readBytes(req: Request, limit: number): Promise<Uint8Array | null> {
  if (declaredLength(req) > limit) return null
  if (!req.body) return new Uint8Array()
  const reader = req.body.getReader()
  const chunks = new Chunks(limit)
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return chunks.bytes()
    if (!chunks.add(value)) {
      await reader.cancel()
      return null
    }
  }
}

/** The part of a Node IncomingMessage this module uses. */
interface Incoming {
  readableEnded: boolean
  on(event: 'data', listener: (chunk: Uint8Array) => void): unknown
  on(event: 'end' | 'close', listener: () => void): unknown
  on(event: 'error', listener: (error: Error) => void): unknown
  off(event: string, listener: (...args: never[]) => void): unknown
  pause(): unknown
}

function nodeIncoming(c: Context): Incoming | undefined {
  const incoming = (c.env as { incoming?: Partial<Incoming> } | undefined)?.incoming
  return incoming && typeof incoming.on === 'function' && typeof incoming.pause === 'function' ? (incoming as Incoming) : undefined
}

/**
 * Reads an IncomingMessage to its end. Past the limit it stops listening and leaves the
 * rest unread (the server drains or closes it once the answer is sent), as the web path
 * cancels its reader.
 */
function readIncoming(incoming: Incoming, declared: number, limit: number): Promise<Uint8Array | null> {
  if (declared > limit) return Promise.resolve(null)
  if (incoming.readableEnded) return Promise.resolve(new Uint8Array())
  const chunks = new Chunks(limit)
  return new Promise((resolve, reject) => {
    const done = (result: Uint8Array | null, error?: Error) => {
      incoming.off('data', onData)
      incoming.off('end', onEnd)
      incoming.off('close', onClose)
      incoming.off('error', onError)
      if (error) reject(error)
      else resolve(result)
    }
    const onData = (chunk: Uint8Array) => {
      if (chunks.add(chunk)) return
      incoming.pause()
      done(null)
    }
    const onEnd = () => done(chunks.bytes())
    const onClose = () => done(null, new Error('the client closed the connection before sending the whole body'))
    const onError = (error: Error) => done(null, error)
    incoming.on('data', onData)
    incoming.on('end', onEnd)
    incoming.on('close', onClose)
    incoming.on('error', onError)
  })
}

function declaredLength(req: Request): number {
  return Number(req.headers.get('content-length') ?? '0')
}

/** Chunks gathered up to a limit. */
class Chunks {
  private readonly list: Uint8Array[] = []
  private size = 0
  constructor(private readonly limit: number) {}

  /** False once the total passes the limit (the chunk is not kept). */
  add(chunk: Uint8Array): boolean {
    this.size += chunk.byteLength
    if (this.size > this.limit) return false
    this.list.push(chunk)
    return true
  }

  bytes(): Uint8Array {
    if (this.list.length === 1) return this.list[0]!
    const out = new Uint8Array(this.size)
    let offset = 0
    for (const chunk of this.list) {
      out.set(chunk, offset)
      offset += chunk.byteLength
    }
    return out
  }
}
