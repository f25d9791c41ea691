/**
 * `?fieldValidation=` on the writes of one kind (create, replace, patch, their status
 * too): reads a copy of the JSON body, finds its unknown and duplicate fields
 * (registry/field-validation.ts) and, as the directive says, refuses the write (Strict),
 * lets it proceed with a `Warning` header per field (Warn, the default) or says nothing
 * (Ignore). A body that is not JSON, too large or malformed is left for the handler to
 * refuse as it does.
 */
import type { Context, MiddlewareHandler } from 'hono'
import type { AppEnv } from '../http/env'
import { MAX_BODY_BYTES } from '../http/body'
import { fieldValidationOf, objectProblems, patchProblems, strictDecodingError, warningHeader, type WriteOptions } from '../registry/field-validation'
import { kindJsonSchema } from '../registry/json-schema'
import type { KindInfo, Verb } from '../registry/kind-info'

const OPTIONS: Record<string, WriteOptions> = { POST: 'CreateOptions', PUT: 'UpdateOptions', PATCH: 'PatchOptions' }
const VERBS: Record<string, Verb> = { POST: 'create', PUT: 'update', PATCH: 'patch' }

/** Whether the kind serves this write here (a write it does not serve is left to its 405). */
function serves(kind: KindInfo, method: string, path: string): boolean {
  if (kind.subresources.some((sub) => path.endsWith(`/${sub}`))) return method !== 'POST'
  return kind.verbs.includes(VERBS[method]!)
}

const PATCH_MEDIA: Record<string, string> = {
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/json-patch+json': 'json',
}

/** The middleware for a kind's write paths. */
export function fieldValidation(kind: KindInfo): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const options = OPTIONS[c.req.method]
    if (!options || !serves(kind, c.req.method, c.req.path)) return next()
    const directive = fieldValidationOf(c.req.query('fieldValidation'), options)
    if (directive === 'Ignore') return next()
    const problems = await problemsOf(c, kind, options)
    if (problems.length && directive === 'Strict') throw strictDecodingError(kind.kind, kind.version, problems)
    for (const problem of problems) c.header('Warning', warningHeader(problem), { append: true })
    return next()
  }
}

async function problemsOf(c: Context<AppEnv>, kind: KindInfo, options: WriteOptions): Promise<string[]> {
  const media = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
  const patchType = options === 'PatchOptions' ? PATCH_MEDIA[media] : undefined
  if (options === 'PatchOptions' ? !patchType : media !== 'application/json') return []
  const text = await copyOfBody(c.req.raw)
  if (text === null) return []
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return []
  }
  const schema = kindJsonSchema(kind)
  return patchType ? patchProblems(schema, patchType, body, text) : objectProblems(schema, body, text)
}

/**
 * The body's text, read from a copy so that the handler still reads the request; null
 * when it is over the size limit or not UTF-8. A copy over the limit is let go without
 * waiting for its cancellation, which a copy (a tee) only completes once the request's
 * own body is cancelled too.
 */
async function copyOfBody(req: Request): Promise<string | null> {
  if (Number(req.headers.get('content-length') ?? '0') > MAX_BODY_BYTES) return null
  if (!req.body) return ''
  const reader = req.clone().body!.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > MAX_BODY_BYTES) {
      void reader.cancel().catch(() => undefined)
      return null
    }
    chunks.push(value)
  }
  try {
    const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })
    return chunks.map((chunk) => decoder.decode(chunk, { stream: true })).join('') + decoder.decode()
  } catch {
    return null
  }
}
