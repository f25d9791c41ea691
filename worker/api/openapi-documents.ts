/**
 * The OpenAPI documents, in the two dialects Kubernetes serves: one v3 document per
 * group-version (`/openapi/v3/api/v1`, `/openapi/v3/apis/<group>/<version>`) and one v2
 * (swagger 2.0) document of everything (`/openapi/v2`), both spelt from the same paths,
 * operations and definitions (openapi-operations.ts), which come from the table of
 * kinds and the zod schemas.
 */
import { apiVersionOf, groupPath, type KindInfo } from '../registry/kind-info'
import type { JsonSchema } from '../registry/json-schema'
import { definitions, pathItems, type Operation, type Param } from './openapi-operations'

export interface Info {
  title: string
  version: string
}

/** The key of a group-version in the v3 index (`api/v1`, `apis/discovery.k8s.io/v1`). */
export function groupVersionKey(kind: KindInfo): string {
  return groupPath(kind).slice(1)
}

/** The kinds of each group-version, by v3 key, in the table's order. */
export function byGroupVersion(kinds: readonly KindInfo[]): Map<string, KindInfo[]> {
  const out = new Map<string, KindInfo[]>()
  for (const kind of kinds) out.set(groupVersionKey(kind), [...(out.get(groupVersionKey(kind)) ?? []), kind])
  return out
}

const gvkOf = (kind: KindInfo) => ({ group: kind.group, kind: kind.kind, version: kind.version })
const tagOf = (kind: KindInfo) => apiVersionOf(kind).replace(/[./]/g, '_').replace(/^v1$/, 'core_v1')

function unauthorized() {
  return { description: 'Unauthorized' }
}

/** The paths of these kinds, their operations and parameters spelt by a dialect. */
function pathsOf(kinds: readonly KindInfo[], operation: (op: Operation) => object, param: (p: Param) => object): Record<string, object> {
  const paths: Record<string, object> = {}
  for (const kind of kinds) {
    for (const item of pathItems(kind)) {
      paths[item.path] = {
        ...Object.fromEntries(item.operations.map((op) => [op.method, operation(op)])),
        ...(item.params.length ? { parameters: item.params.map(param) } : {}),
      }
    }
  }
  return paths
}

/** One group-version's OpenAPI v3 document. */
export function openApiV3(kinds: readonly KindInfo[], info: Info): object {
  const ref = (name: string) => `#/components/schemas/${name}`
  const param3 = (p: Param) => ({
    name: p.name,
    in: p.in,
    description: p.description,
    ...(p.required ? { required: true } : {}),
    schema: { type: p.type, uniqueItems: true },
  })
  const operation3 = (op: Operation) => ({
    tags: [tagOf(op.kind)],
    description: op.description,
    operationId: op.operationId,
    ...(op.params.length ? { parameters: op.params.map(param3) } : {}),
    ...(op.body ? { requestBody: { content: Object.fromEntries(op.body.types.map((t) => [t, { schema: { $ref: ref(op.body!.definition) } }])), required: op.method !== 'delete' } } : {}),
    responses: {
      [op.response.code]: { description: op.response.code === '201' ? 'Created' : 'OK', content: { 'application/json': { schema: { $ref: ref(op.response.definition) } } } },
      '401': unauthorized(),
    },
    'x-kubernetes-action': op.action,
    'x-kubernetes-group-version-kind': gvkOf(op.kind),
  })
  return { openapi: '3.0.0', info, paths: pathsOf(kinds, operation3, param3), components: { schemas: definitions(kinds, ref) } }
}

/** The OpenAPI v2 (swagger 2.0) document of every kind. */
export function openApiV2(kinds: readonly KindInfo[], info: Info): object {
  const ref = (name: string) => `#/definitions/${name}`
  const param2 = (p: Param) => ({ name: p.name, in: p.in, description: p.description, type: p.type, uniqueItems: true, ...(p.required ? { required: true } : {}) })
  const operation2 = (op: Operation) => ({
    description: op.description,
    consumes: op.body ? op.body.types : ['*/*'],
    produces: ['application/json'],
    schemes: ['https'],
    tags: [tagOf(op.kind)],
    operationId: op.operationId,
    parameters: [
      ...(op.body ? [{ name: 'body', in: 'body', required: op.method !== 'delete', schema: { $ref: ref(op.body.definition) } }] : []),
      ...op.params.map(param2),
    ],
    responses: { [op.response.code]: { description: op.response.code === '201' ? 'Created' : 'OK', schema: { $ref: ref(op.response.definition) } }, '401': unauthorized() },
    'x-kubernetes-action': op.action,
    'x-kubernetes-group-version-kind': gvkOf(op.kind),
  })
  const defs = Object.fromEntries(Object.entries(definitions(kinds, ref)).map(([name, schema]) => [name, swagger2Schema(schema)]))
  return { swagger: '2.0', info, paths: pathsOf(kinds, operation2, param2), definitions: defs }
}

/** An OpenAPI 3.0 schema in swagger 2.0's dialect, which has no `nullable` and no unions. */
function swagger2Schema(schema: JsonSchema): JsonSchema {
  const { nullable: _nullable, anyOf, oneOf, properties, items, additionalProperties, ...rest } = schema
  if (anyOf || oneOf) return rest
  return {
    ...rest,
    ...(properties ? { properties: Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, swagger2Schema(v)])) } : {}),
    ...(items ? { items: swagger2Schema(items) } : {}),
    ...(additionalProperties !== undefined ? { additionalProperties: typeof additionalProperties === 'object' ? swagger2Schema(additionalProperties) : additionalProperties } : {}),
  }
}
