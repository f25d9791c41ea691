/**
 * The `sql` template tag the store writes its statements with: drizzle's `sql`, `sql.raw`
 * and `sql.join`, building the same `SQL` objects (text chunks, values and nested
 * templates, which compile.ts turns into text and arguments), only cheaper.
 *
 * drizzle's `SQL` constructor asks of every chunk whether it is a table, walking the
 * chunk's class chain to compare entity kinds; on a readiness write, whose statements hold
 * about a hundred chunks, that check cost more than the rest of building them (0.85 µs a
 * statement of ten values against 0.1 µs here). The store never interpolates a table or
 * column object (it names tables with `sql.raw`; compile.ts would leave such a statement
 * to drizzle's general walk), so its templates skip the check. The text chunks of each
 * template are made once, the first time it runs, and shared (a `StringChunk` is never
 * changed).
 */
import { SQL, StringChunk } from 'drizzle-orm'

/** A drizzle `SQL` of these chunks, without the constructor's search for tables among them (see above). */
class StoreSQL extends SQL {
  constructor(chunks: SQL['queryChunks']) {
    super([])
    ;(this as { queryChunks: SQL['queryChunks'] }).queryChunks = chunks
  }
}

/** The text chunks of each template, by its strings (the same array every time a template runs). */
const texts = new WeakMap<TemplateStringsArray, StringChunk[]>()

function template(strings: TemplateStringsArray, ...values: unknown[]): SQL {
  let chunks = texts.get(strings)
  if (!chunks) {
    chunks = strings.map((s) => new StringChunk(s))
    texts.set(strings, chunks)
  }
  const out: SQL['queryChunks'] = [chunks[0]!]
  for (let i = 0; i < values.length; i++) out.push(values[i] as SQL['queryChunks'][number], chunks[i + 1]!)
  return new StoreSQL(out)
}

/** Text put into a statement as it is (a table or column name the store chose, never a caller's value). */
function raw(text: string): SQL {
  return new StoreSQL([new StringChunk(text)])
}

/** The parts one after another, `separator` between them. */
function join(parts: SQL[], separator?: SQL): SQL {
  const out: SQL['queryChunks'] = []
  parts.forEach((part, i) => {
    if (i > 0 && separator) out.push(separator)
    out.push(part)
  })
  return new StoreSQL(out)
}

export const sql = Object.assign(template, { raw, join })
