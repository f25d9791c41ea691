/**
 * JSON Schemas generated from the zod schemas with zod's own `z.toJSONSchema`, the one
 * source of what a body may hold: the OpenAPI documents and the unknown-field check of
 * `fieldValidation` both read these. Computed once per process.
 */
import * as z from 'zod'
import type { KindInfo } from './kind-info'
import { schemaOf } from './openapi-schemas'

/** The subset of JSON Schema (OpenAPI 3.0 dialect) that the generated schemas use. */
export interface JsonSchema {
  type?: string
  format?: string
  nullable?: boolean
  properties?: Record<string, JsonSchema>
  additionalProperties?: JsonSchema | boolean
  items?: JsonSchema
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
  allOf?: JsonSchema[]
  required?: string[]
  minimum?: number
  maximum?: number
  [extension: string]: unknown
}

/**
 * A zod schema as an OpenAPI 3.0 schema of what a request may send. `.meta()` (such as
 * `x-kubernetes-patch-merge-key`) passes through; integers bounded only by JavaScript's
 * safe range read as `int64`, and a union of an integer and a string as Kubernetes'
 * IntOrString, as Kubernetes' own documents type them.
 */
export function toJsonSchema(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, {
    target: 'openapi-3.0',
    io: 'input',
    unrepresentable: 'any',
    override: ({ jsonSchema }) => {
      const s = jsonSchema as JsonSchema
      if (s.anyOf?.length === 2 && s.anyOf.every((b) => b.type === 'integer' || b.type === 'string') && s.anyOf[0]!.type !== s.anyOf[1]!.type) {
        delete s.anyOf
        Object.assign(s, { type: 'string', format: 'int-or-string', 'x-kubernetes-int-or-string': true })
      }
      if (s.type === 'integer' && s.minimum === Number.MIN_SAFE_INTEGER && s.maximum === Number.MAX_SAFE_INTEGER) {
        delete s.minimum
        delete s.maximum
        s.format = 'int64'
      }
    },
  }) as JsonSchema
}

const cache = new Map<KindInfo, JsonSchema>()

/** The JSON Schema of a kind's objects (computed once). */
export function kindJsonSchema(kind: KindInfo): JsonSchema {
  let schema = cache.get(kind)
  if (!schema) {
    schema = toJsonSchema(schemaOf(kind))
    delete schema.$schema
    cache.set(kind, schema)
  }
  return schema
}
