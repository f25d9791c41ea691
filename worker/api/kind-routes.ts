/**
 * The routes of one kind, from its entry in the table of kinds: its collection (and, for
 * a namespaced kind, the list across namespaces), its objects and their `/status`, each
 * path with the verbs the kind has. Handlers are thin: read the request, call the kind's
 * REST storage in the registry acting for the caller, answer. Reads answer JSON, or the
 * Table the Accept header asks for (table.ts).
 */
import { Hono, type Context } from 'hono'
import type { AppEnv } from '../http/env'
import { isApplyPatch, readDeleteOptions, readObject, readPatch } from '../http/body'
import { createRefusal, visibleNamespaces } from './auth'
import { groupPath, type KindInfo } from '../registry/kind-info'
import { unpaged, type ListQuery } from '../registry/list-options'
import { streamedList } from './list-stream'
import type { Rest } from '../registry/registry'
import { isWatch } from '../registry/watch-options'
import { writeOptions, type OptionsKind, type WriteOptions } from '../registry/write-options'
import { conditionalJson } from './etag'
import { checkedObject, checkedPatch } from './field-validation'
import { rendering, tableEvents, toTable } from './table'
import { verbs } from './verbs'
import { MAX_BUFFERED_BYTES, watchResponse } from './watch'

type Handler = (c: Context<AppEnv>) => Promise<Response>

/** A router serving one kind, to mount with `app.route('/', …)`. */
export function kindRoutes(kind: KindInfo): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  const has = (verb: KindInfo['verbs'][number]) => kind.verbs.includes(verb)
  const rest = (c: Context<AppEnv>): Rest => c.get('registry').rest(kind)
  const ns = (c: Context) => (kind.namespaced ? c.req.param('namespace')! : '')
  const name = (c: Context) => c.req.param('name')!
  const base = groupPath(kind)
  const collection = kind.namespaced ? `${base}/namespaces/:namespace/${kind.resource}` : `${base}/${kind.resource}`
  const item = `${collection}/:name`

  const list: Handler = async (c) => {
    const namespace = kind.namespaced ? c.req.param('namespace') : undefined
    const as = renderingOf(c)
    if (isWatch(c.req.query('watch'))) {
      const present = as.as === 'Table' ? tableEvents(kind, as, nowMs(c)) : undefined
      return watchResponse(c, kind, namespace, listQuery(c), MAX_BUFFERED_BYTES, present)
    }
    const query = listQuery(c)
    const storage = rest(c)
    // An unpaged list is sent page by page as it is read, from one snapshot (list-stream.ts).
    if (storage.stream && unpaged(query)) {
      const stream = await storage.stream(namespace, query)
      if (as.as !== 'Table') return streamedList(c, stream.list, 'items', stream)
      const options = { ...as, nowMs: nowMs(c)() }
      return streamedList(c, toTable(kind, stream.list, options), 'rows', {
        next: async () => {
          const items = await stream.next()
          return items && (toTable(kind, { items }, { ...options, noHeaders: true }).rows as unknown[])
        },
        close: () => stream.close(),
      })
    }
    const result = await storage.list!(namespace, query)
    return c.json(as.as === 'Table' ? toTable(kind, result, { ...as, nowMs: nowMs(c)() }) : result)
  }
  const get: Handler = async (c) => {
    const as = renderingOf(c)
    const found = await rest(c).get!(ns(c), name(c))
    if (as.as === 'Table') return c.json(toTable(kind, found, { ...as, nowMs: nowMs(c)() }))
    return conditionalJson(c, found)
  }
  const create: Handler = async (c) => {
    const options = optionsOf(c, 'CreateOptions')
    const created = await rest(c).create!(ns(c), await checkedObject(c, kind, 'CreateOptions', readObject), options)
    c.header('Cache-Control', 'no-store') // a created object may carry a secret shown once (tokens)
    return c.json(created, 201)
  }
  const replace = (scope: 'all' | 'status'): Handler => async (c) => {
    const options = optionsOf(c, 'UpdateOptions')
    return c.json(await rest(c).replace!(ns(c), name(c), await checkedObject(c, kind, 'UpdateOptions', readObject), scope, options))
  }
  const patch = (scope: 'all' | 'status'): Handler => async (c) => {
    const options = optionsOf(c, 'PatchOptions')
    const { type, patch } = await checkedPatch(c, kind, readPatch)
    const storage = rest(c)
    if (type === 'apply' && storage.apply) {
      const refused = createRefusal(c, kind)
      const { object, created } = await storage.apply(ns(c), name(c), patch, scope, { ...options, ...(refused ? { createRefused: refused } : {}) })
      return c.json(object, created ? 201 : 200)
    }
    return c.json(await storage.patch!(ns(c), name(c), type, patch, scope, options))
  }
  const remove: Handler = async (c) => {
    const options = await readDeleteOptions(c)
    const query = { gracePeriodSeconds: c.req.query('gracePeriodSeconds'), propagationPolicy: c.req.query('propagationPolicy'), dryRun: c.req.queries('dryRun') }
    return c.json(await rest(c).delete!(ns(c), name(c), options, query))
  }

  if (kind.namespaced && has('list')) verbs(app, `${base}/${kind.resource}`, { get: list })
  verbs(app, collection, { ...(has('list') ? { get: list } : {}), ...(has('create') ? { post: create } : {}) })
  verbs(app, item, {
    ...(has('get') ? { get } : {}),
    ...(has('update') ? { put: replace('all') } : {}),
    ...(has('patch') ? { patch: patch('all') } : {}),
    ...(has('delete') ? { delete: remove } : {}),
  })
  if (kind.subresources.includes('status')) verbs(app, `${item}/status`, { get, put: replace('status'), patch: patch('status') })
  return app
}

/** The list query of a request (a watch's too): selectors, limit, continue token, and the caller's namespaces. */
function listQuery(c: Context<AppEnv>): ListQuery {
  const q = c.req.query()
  const limit = q.limit === undefined || q.limit === '' ? undefined : q.limit
  const namespaces = visibleNamespaces(c)
  return {
    ...(q.labelSelector !== undefined ? { labelSelector: q.labelSelector } : {}),
    ...(q.fieldSelector !== undefined ? { fieldSelector: q.fieldSelector } : {}),
    ...(limit !== undefined ? { limit } : {}),
    ...(q.continue ? { continue: q.continue } : {}),
    ...(namespaces ? { namespaces } : {}),
  }
}

/** How a read is answered (JSON or a Table), from the Accept header and `?includeObject=`. */
function renderingOf(c: Context<AppEnv>) {
  return rendering(c.req.header('accept'), c.req.query('includeObject'))
}

/** The registry's clock, in milliseconds (ages in Tables are relative to it). */
function nowMs(c: Context<AppEnv>): () => number {
  const clock = c.get('registry').clock
  return () => clock.now().getTime()
}

/** The options of a create, replace or patch: `?dryRun=`, `?fieldManager=` (or the User-Agent) and `?force=` (checked before the body is read). */
function optionsOf(c: Context, kind: OptionsKind): WriteOptions {
  const query = { dryRun: c.req.queries('dryRun') ?? [], fieldManager: c.req.query('fieldManager'), force: c.req.query('force'), userAgent: c.req.header('user-agent') }
  return writeOptions({ ...query, apply: kind === 'PatchOptions' && isApplyPatch(c) }, kind)
}
