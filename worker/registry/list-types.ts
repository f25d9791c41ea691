/**
 * How server-side apply merges each list of a kind (field-set.ts's ListTypes), from the
 * `x-kubernetes-list-type` and `x-kubernetes-list-map-keys` metadata of the kind's zod
 * schema (strategic-merge-schema.ts reads it); a key field's documented default (a port's
 * `protocol: TCP`) stands in for it when an item leaves it out.
 */
import type { z } from 'zod'
import type { ListType, ListTypes } from './field-set'
import { patchSchemaOf, type PatchSchema } from './strategic-merge-schema'

const cache = new WeakMap<z.ZodType, ListTypes>()

/** The list types of a kind's schema, by field path (`spec.containers.ports`). */
export function listTypesOf(schema: z.ZodType): ListTypes {
  let found = cache.get(schema)
  if (!found) {
    const root = patchSchemaOf(schema)
    const byPath = new Map<string, ListType>()
    found = (path) => {
      let type = byPath.get(path)
      if (!type) {
        type = lookUp(root, path.split('.'))
        byPath.set(path, type)
      }
      return type
    }
    cache.set(schema, found)
  }
  return found
}

function lookUp(root: PatchSchema, names: string[]): ListType {
  let node = root
  let meta: ReturnType<PatchSchema['field']>['meta'] | undefined
  for (const name of names) {
    if (node.list) node = node.items()
    const field = node.field(name)
    node = field.schema
    meta = field.meta
  }
  if (!meta || meta.listType === 'atomic') return { type: 'atomic' }
  if (meta.listType === 'set') return { type: 'set' }
  const items = node.items()
  const defaults: Record<string, unknown> = {}
  for (const key of meta.listMapKeys) {
    const d = items.field(key).meta.default
    if (d !== undefined) defaults[key] = d
  }
  return { type: 'map', keys: meta.listMapKeys, ...(Object.keys(defaults).length ? { defaults } : {}) }
}
