/**
 * `/openapi/v3` (the index of group-versions, each with a content hash) and the v3
 * document of each group-version, JSON whatever the Accept header asks (kubectl asks for
 * protobuf first, and takes JSON); and `/openapi/v2`, in protobuf when the Accept header
 * prefers gnostic's protobuf media type to JSON (kubectl asks for nothing else, to
 * validate files and to learn which kinds take `fieldValidation`), JSON otherwise. The
 * documents are generated once per process and served with an ETag of their own bytes;
 * a request whose `If-None-Match` names it gets 304, and a request for a v3 document by
 * its current hash may cache it for good, as Kubernetes allows.
 */
import type { Context, Hono } from 'hono'
import { mediaRanges } from '../http/accept'
import type { AppEnv } from '../http/env'
import type { KindInfo } from '../registry/kind-info'
import { KINDS } from '../registry/kinds'
import { customResourceDefinitionRoutes } from './custom-resource-definitions'
import { noneMatch } from './etag'
import { byGroupVersion, openApiV2, openApiV3, type Info } from './openapi-documents'
import { OPENAPI_V2_PROTOBUF, OPENAPI_V2_PROTOBUF_OLD, openApiV2Protobuf } from './openapi-v2-protobuf'
import { verbs } from './verbs'

interface Served {
  body: string | Uint8Array<ArrayBuffer>
  hash: string
  type: string
}

interface Documents {
  index: Served
  v3: Map<string, Served>
  v2: Served
  /** The v2 document in protobuf, encoded when first asked for (only kubectl asks). */
  v2Protobuf: () => Promise<Served>
}

const generated = new WeakMap<readonly KindInfo[], Map<string, Promise<Documents>>>()

/** The documents for these kinds and this version, generated on first use and kept. */
function documents(kinds: readonly KindInfo[], info: Info): Promise<Documents> {
  const byVersion = generated.get(kinds) ?? new Map<string, Promise<Documents>>()
  generated.set(kinds, byVersion)
  let docs = byVersion.get(info.version)
  if (!docs) {
    docs = generate(kinds, info)
    byVersion.set(info.version, docs)
  }
  return docs
}

async function generate(kinds: readonly KindInfo[], info: Info): Promise<Documents> {
  const v3 = new Map<string, Served>()
  for (const [key, group] of byGroupVersion(kinds)) v3.set(key, await served(openApiV3(group, info)))
  const paths = Object.fromEntries([...v3].map(([key, doc]) => [key, { serverRelativeURL: `/openapi/v3/${key}?hash=${doc.hash}` }]))
  const v2 = openApiV2(kinds, info)
  let v2Protobuf: Promise<Served> | undefined
  return { index: await served({ paths }), v3, v2: await served(v2), v2Protobuf: () => (v2Protobuf ??= served(openApiV2Protobuf(v2), OPENAPI_V2_PROTOBUF)) }
}

/** A document as served: JSON text, or bytes of `type`, with the hash of what is sent. */
async function served(document: object | Uint8Array<ArrayBuffer>, type = 'application/json'): Promise<Served> {
  const body = document instanceof Uint8Array ? document : JSON.stringify(document)
  const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-512', bytes))
  const hash = [...digest].map((b) => b.toString(16).padStart(2, '0')).join('').toUpperCase()
  return { body, hash, type }
}

/**
 * Whether an Accept header prefers `/openapi/v2` in protobuf, negotiated as Kubernetes
 * negotiates it: the media ranges by quality (equal ones in the header's order), the first
 * that JSON or the protobuf type (in either spelling) answers decides.
 */
function wantsProtobuf(accept: string | undefined): boolean {
  for (const { type } of mediaRanges(accept)) {
    if (type === 'application/json' || type === 'application/*' || type === '*/*') return false
    if (type === OPENAPI_V2_PROTOBUF || type === OPENAPI_V2_PROTOBUF_OLD) return true
  }
  return false
}

function answer(c: Context<AppEnv>, doc: Served, immutable = false): Response {
  const etag = `"${doc.hash}"`
  c.header('ETag', etag)
  c.header('Cache-Control', immutable ? 'public, immutable, max-age=31536000' : 'no-cache, private')
  c.header('Vary', 'Accept')
  if (noneMatch(c.req.header('if-none-match'), etag)) return c.body(null, 304)
  c.header('Content-Type', doc.type)
  return c.body(doc.body)
}

export function openApiRoutes(app: Hono<AppEnv>, options: { version: string; kinds?: readonly KindInfo[] }): void {
  const kinds = options.kinds ?? KINDS
  const info: Info = { title: 'Switchboard', version: options.version }
  const docs = () => documents(kinds, info)
  verbs(app, '/openapi/v3', { get: async (c) => answer(c, (await docs()).index) })
  for (const key of byGroupVersion(kinds).keys()) {
    verbs(app, `/openapi/v3/${key}`, {
      get: async (c) => {
        const doc = (await docs()).v3.get(key)!
        return answer(c, doc, c.req.query('hash') === doc.hash)
      },
    })
  }
  verbs(app, '/openapi/v2', {
    get: async (c) => {
      const { v2, v2Protobuf } = await docs()
      return answer(c, wantsProtobuf(c.req.header('accept')) ? await v2Protobuf() : v2)
    },
  })
  // What kubectl's validation reads beside the documents, for kinds with no PATCH operation.
  customResourceDefinitionRoutes(app)
}
