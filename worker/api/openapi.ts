/**
 * `/openapi/v3` (the index of group-versions, each with a content hash), the v3 document
 * of each group-version, and `/openapi/v2`, all JSON whatever the Accept header asks
 * (kubectl asks for protobuf first). The documents are generated once per process and
 * served with an ETag; a request whose `If-None-Match` names it gets 304, and a request
 * for a v3 document by its current hash may cache it for good, as Kubernetes allows.
 */
import type { Context, Hono } from 'hono'
import type { AppEnv } from '../http/env'
import type { KindInfo } from '../registry/kind-info'
import { KINDS } from '../registry/kinds'
import { noneMatch } from './etag'
import { byGroupVersion, openApiV2, openApiV3, type Info } from './openapi-documents'
import { verbs } from './verbs'

interface Served {
  body: string
  hash: string
}

interface Documents {
  index: Served
  v3: Map<string, Served>
  v2: Served
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
  return { index: await served({ paths }), v3, v2: await served(openApiV2(kinds, info)) }
}

async function served(document: object): Promise<Served> {
  const body = JSON.stringify(document)
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-512', new TextEncoder().encode(body)))
  const hash = [...digest].map((b) => b.toString(16).padStart(2, '0')).join('').toUpperCase()
  return { body, hash }
}

function answer(c: Context<AppEnv>, doc: Served, immutable = false): Response {
  const etag = `"${doc.hash}"`
  c.header('ETag', etag)
  c.header('Cache-Control', immutable ? 'public, immutable, max-age=31536000' : 'no-cache, private')
  c.header('Vary', 'Accept')
  if (noneMatch(c.req.header('if-none-match'), etag)) return c.body(null, 304)
  c.header('Content-Type', 'application/json')
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
  verbs(app, '/openapi/v2', { get: async (c) => answer(c, (await docs()).v2) })
}
