/**
 * The routes of one kind, from its entry in the table of kinds: its collection (and, for
 * a namespaced kind, the list across namespaces), its objects and their `/status`, each
 * path with the verbs the kind has. Handlers are thin: read the request, call the kind's
 * REST storage in the registry acting for the caller, answer.
 */
import { Hono, type Context } from 'hono'
import type { AppEnv } from '../http/env'
import { readDeleteOptions, readObject, readPatch } from '../http/body'
import { visibleNamespaces } from './auth'
import { badRequest } from '../registry/errors'
import { groupPath, type KindInfo } from '../registry/kind-info'
import type { ListQuery } from '../registry/list-options'
import type { Rest } from '../registry/registry'
import { isWatch } from '../registry/watch-options'
import { conditionalJson } from './etag'
import { fieldValidation } from './field-validation'
import { verbs } from './verbs'
import { watchResponse } from './watch'

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
  for (const path of [collection, item, ...kind.subresources.map((sub) => `${item}/${sub}`)]) app.use(path, fieldValidation(kind))

  const list: Handler = async (c) => {
    const namespace = kind.namespaced ? c.req.param('namespace') : undefined
    if (isWatch(c.req.query('watch'))) return watchResponse(c, kind, namespace, listQuery(c))
    return c.json(await rest(c).list!(namespace, listQuery(c)))
  }
  const get: Handler = async (c) => conditionalJson(c, await rest(c).get!(ns(c), name(c)))
  const create: Handler = async (c) => {
    const created = await rest(c).create!(ns(c), await refuseDryRun(c, readObject))
    c.header('Cache-Control', 'no-store') // a created object may carry a secret shown once (tokens)
    return c.json(created, 201)
  }
  const replace = (scope: 'all' | 'status'): Handler => async (c) =>
    c.json(await rest(c).replace!(ns(c), name(c), await refuseDryRun(c, readObject), scope))
  const patch = (scope: 'all' | 'status'): Handler => async (c) => {
    const { type, patch } = await refuseDryRun(c, readPatch)
    return c.json(await rest(c).patch!(ns(c), name(c), type, patch, scope))
  }
  const remove: Handler = async (c) => {
    const options = await refuseDryRun(c, readDeleteOptions)
    const query = { gracePeriodSeconds: c.req.query('gracePeriodSeconds'), propagationPolicy: c.req.query('propagationPolicy') }
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
  const limit = q.limit === undefined || q.limit === '' ? undefined : Number(q.limit)
  const namespaces = visibleNamespaces(c)
  return {
    ...(q.labelSelector !== undefined ? { labelSelector: q.labelSelector } : {}),
    ...(q.fieldSelector !== undefined ? { fieldSelector: q.fieldSelector } : {}),
    ...(limit !== undefined ? { limit } : {}),
    ...(q.continue ? { continue: q.continue } : {}),
    ...(namespaces ? { namespaces } : {}),
  }
}

/** Reads the body of a write; a dry run is refused rather than applied. */
async function refuseDryRun<T>(c: Context, read: (c: Context) => Promise<T>): Promise<T> {
  if (c.req.query('dryRun') !== undefined) throw badRequest('dryRun is not supported')
  return read(c)
}
