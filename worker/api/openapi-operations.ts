/**
 * What the OpenAPI documents say, before either dialect spells it: for each kind of the
 * table of kinds, its paths and the operations its verbs serve (named as Kubernetes
 * names them: `listCoreV1NamespacedService`, `patchCoreV1NamespacedPodStatus`, …), their
 * parameters and bodies, and the definitions they refer to — the kind's own schema,
 * generated from its zod schema, and the meta.k8s.io types every group-version shares.
 */
import * as z from 'zod'
import { kindJsonSchema, toJsonSchema, type JsonSchema } from '../registry/json-schema'
import { groupPath, type KindInfo, type Verb } from '../registry/kind-info'
import { DeleteOptions } from '../registry/schemas'

/** The prefix of the meta.k8s.io definitions. */
export const META = 'io.k8s.apimachinery.pkg.apis.meta.v1'

export interface Param {
  name: string
  in: 'path' | 'query'
  type: 'string' | 'integer' | 'boolean'
  description: string
  required?: boolean
}

export interface Operation {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete'
  operationId: string
  description: string
  /** `x-kubernetes-action` */
  action: 'get' | 'list' | 'post' | 'put' | 'patch' | 'delete'
  kind: KindInfo
  params: Param[]
  /** The request body: its definition and the media types it may come in. */
  body?: { definition: string; types: string[] }
  response: { code: '200' | '201'; definition: string }
}

export interface PathItem {
  path: string
  params: Param[]
  operations: Operation[]
}

/** The patch media types Kubernetes' PATCH operations list (server-side apply aside). */
export const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json']

const q = (name: string, type: Param['type'], description: string): Param => ({ name, in: 'query', type, description })

const DRY_RUN = q('dryRun', 'string', 'When present, indicates that modifications should not be persisted. Valid value: All.')
const WRITE_PARAMS = [
  DRY_RUN,
  q('fieldManager', 'string', 'A name associated with the actor or entity that is making these changes.'),
  q('fieldValidation', 'string', 'How the server treats unknown and duplicate fields in the body: Ignore, Warn (the default) or Strict.'),
]
const LIST_PARAMS = [
  q('labelSelector', 'string', 'A selector to restrict the list of returned objects by their labels.'),
  q('fieldSelector', 'string', 'A selector to restrict the list of returned objects by their fields.'),
  q('limit', 'integer', 'The maximum number of responses to return for a list call.'),
  q('continue', 'string', 'The continue token of the previous page of a list.'),
  q('resourceVersion', 'string', 'Which resourceVersion a watch starts after.'),
  q('timeoutSeconds', 'integer', 'Timeout for the list/watch call.'),
  q('watch', 'boolean', 'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.'),
  q('allowWatchBookmarks', 'boolean', 'Requests watch events with type "BOOKMARK".'),
]
const DELETE_PARAMS = [
  DRY_RUN,
  q('gracePeriodSeconds', 'integer', 'The duration in seconds before the object should be deleted.'),
  q('propagationPolicy', 'string', 'Whether and how garbage collection will be performed: Orphan, Background or Foreground.'),
]

const pathParam = (name: string, description: string): Param => ({ name, in: 'path', type: 'string', description, required: true })
const NAMESPACE = pathParam('namespace', 'object name and auth scope, such as for teams and projects')

/** The definition name of a kind (or of its list, with `suffix` 'List'), as Kubernetes names them. */
export function definitionName(kind: Pick<KindInfo, 'group' | 'version' | 'kind'>, suffix = ''): string {
  const group = kind.group === '' ? 'io.k8s.api.core' : kind.group.endsWith('.k8s.io') ? `io.k8s.api.${kind.group.slice(0, -'.k8s.io'.length)}` : kind.group.split('.').reverse().join('.')
  return `${group}.${kind.version}.${kind.kind}${suffix}`
}

/** `CoreV1`, `DiscoveryV1`, `SwitchboardDevV1`: how operation ids name a group-version. */
function groupVersionId(kind: KindInfo): string {
  const words = kind.group === '' ? ['core'] : kind.group.replace(/\.k8s\.io$/, '').split('.')
  return [...words, kind.version].map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('')
}

/** The paths of one kind and the operations its verbs serve there. */
export function pathItems(kind: KindInfo): PathItem[] {
  const has = (verb: Verb) => kind.verbs.includes(verb)
  const base = groupPath(kind)
  const scope = kind.namespaced ? 'Namespaced' : ''
  const collection = kind.namespaced ? `${base}/namespaces/{namespace}/${kind.resource}` : `${base}/${kind.resource}`
  const nsParams = kind.namespaced ? [NAMESPACE] : []
  const nameParam = pathParam('name', `name of the ${kind.kind}`)
  const self = definitionName(kind)
  const id = (verb: string, suffix = '') => `${verb}${groupVersionId(kind)}${scope}${kind.kind}${suffix}`
  const op = (o: Omit<Operation, 'kind'>): Operation => ({ ...o, kind })
  const list = (operationId: string, description: string) =>
    op({ method: 'get', action: 'list', operationId, description, params: LIST_PARAMS, response: { code: '200', definition: definitionName(kind, 'List') } })
  const read = (suffix: string) => op({ method: 'get', action: 'get', operationId: id('read', suffix), description: `read the specified ${kind.kind}`, params: [], response: { code: '200', definition: self } })
  const replace = (suffix: string) =>
    op({ method: 'put', action: 'put', operationId: id('replace', suffix), description: `replace the specified ${kind.kind}`, params: WRITE_PARAMS, body: { definition: self, types: ['*/*'] }, response: { code: '200', definition: self } })
  const patch = (suffix: string) =>
    op({ method: 'patch', action: 'patch', operationId: id('patch', suffix), description: `partially update the specified ${kind.kind}`, params: WRITE_PARAMS, body: { definition: `${META}.Patch`, types: PATCH_TYPES }, response: { code: '200', definition: self } })

  const items: PathItem[] = []
  const collectionOps: Operation[] = []
  if (has('list')) collectionOps.push(list(id('list'), `list or watch objects of kind ${kind.kind}`))
  if (has('create')) {
    collectionOps.push(op({ method: 'post', action: 'post', operationId: id('create'), description: `create a ${kind.kind}`, params: WRITE_PARAMS, body: { definition: self, types: ['*/*'] }, response: { code: '201', definition: self } }))
  }
  if (collectionOps.length) items.push({ path: collection, params: nsParams, operations: collectionOps })
  const itemOps: Operation[] = []
  if (has('get')) itemOps.push(read(''))
  if (has('update')) itemOps.push(replace(''))
  if (has('patch')) itemOps.push(patch(''))
  if (has('delete')) {
    itemOps.push(op({ method: 'delete', action: 'delete', operationId: id('delete'), description: `delete a ${kind.kind}`, params: DELETE_PARAMS, body: { definition: `${META}.DeleteOptions`, types: ['*/*'] }, response: { code: '200', definition: self } }))
  }
  if (itemOps.length) items.push({ path: `${collection}/{name}`, params: [nameParam, ...nsParams], operations: itemOps })
  if (kind.subresources.includes('status')) {
    items.push({ path: `${collection}/{name}/status`, params: [nameParam, ...nsParams], operations: [read('Status'), replace('Status'), patch('Status')] })
  }
  if (kind.namespaced && has('list')) {
    items.push({ path: `${base}/${kind.resource}`, params: [], operations: [list(`list${groupVersionId(kind)}${kind.kind}ForAllNamespaces`, `list or watch objects of kind ${kind.kind} in every namespace`)] })
  }
  return items
}

const ListMeta = z.object({ resourceVersion: z.string().optional(), continue: z.string().optional(), remainingItemCount: z.number().int().optional() })

const Status = z.object({
  kind: z.string().optional(),
  apiVersion: z.string().optional(),
  metadata: ListMeta.optional(),
  status: z.string().optional(),
  message: z.string().optional(),
  reason: z.string().optional(),
  details: z
    .object({
      name: z.string().optional(),
      group: z.string().optional(),
      kind: z.string().optional(),
      causes: z.array(z.object({ reason: z.string().optional(), message: z.string().optional(), field: z.string().optional() })).optional(),
      retryAfterSeconds: z.number().int().optional(),
    })
    .optional(),
  code: z.number().int().optional(),
})

/** The meta.k8s.io definitions every group-version document carries. */
function metaDefinitions(): Record<string, JsonSchema> {
  const gvk = (kind: string) => ({ 'x-kubernetes-group-version-kind': [{ group: '', kind, version: 'v1' }] })
  return {
    [`${META}.DeleteOptions`]: { ...toJsonSchema(DeleteOptions), description: 'DeleteOptions may be provided when deleting an API object.', ...gvk('DeleteOptions') },
    [`${META}.ListMeta`]: { ...toJsonSchema(ListMeta), description: 'ListMeta describes metadata that synthetic resources must have, including lists.' },
    [`${META}.Patch`]: { type: 'object', description: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.' },
    [`${META}.Status`]: { ...toJsonSchema(Status), description: 'Status is a return value for calls that do not return other objects.', ...gvk('Status') },
  }
}

/**
 * The definitions of a group-version's kinds (each tagged with its group, version and
 * kind) and their lists, with the meta.k8s.io ones. `ref` spells a reference to a
 * definition in the document's dialect.
 */
export function definitions(kinds: readonly KindInfo[], ref: (name: string) => string): Record<string, JsonSchema> {
  const out: Record<string, JsonSchema> = metaDefinitions()
  for (const kind of kinds) {
    const gvk = { group: kind.group, kind: kind.kind, version: kind.version }
    out[definitionName(kind)] = { ...kindJsonSchema(kind), description: `${kind.kind} (${kind.resource}), as Switchboard serves it.`, 'x-kubernetes-group-version-kind': [gvk] }
    out[definitionName(kind, 'List')] = {
      type: 'object',
      description: `${kind.listKind} is a list of ${kind.kind} objects.`,
      required: ['items'],
      properties: {
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        metadata: { $ref: ref(`${META}.ListMeta`) },
        items: { type: 'array', items: { $ref: ref(definitionName(kind)) } },
      },
      'x-kubernetes-group-version-kind': [{ ...gvk, kind: kind.listKind }],
    }
  }
  return out
}
