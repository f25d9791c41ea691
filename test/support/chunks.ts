/**
 * A streamed answer's body as the chunks it arrived in, for tests of lists sent page by
 * page (worker/api/list-stream.ts).
 */

/** The body's chunks as text; `between` runs after each chunk is read (its count so far), before the next is asked for. */
export async function chunks(res: Response, between?: (n: number) => Promise<void>): Promise<string[]> {
  const reader = res.body!.getReader()
  const decoder = new TextDecoder()
  const out: string[] = []
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return out
    out.push(decoder.decode(value, { stream: true }))
    await between?.(out.length)
  }
}
