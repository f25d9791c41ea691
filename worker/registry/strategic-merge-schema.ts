/**
 * How each field of a kind merges, read from the kind's zod schema: the
 * `x-kubernetes-patch-strategy` and `x-kubernetes-patch-merge-key` metadata a strategic
 * merge patch follows, and the `x-kubernetes-list-type` and `x-kubernetes-list-map-keys`
 * that server-side apply follows (with the `default` of a key field), that schemas.ts
 * attaches to a field (the names OpenAPI uses, taken from Kubernetes' core/v1 tags). The
 * schema stays the one place that says it; this only turns it into a tree the merges can
 * walk, built once per schema.
 */
import type { z } from 'zod'

export const PATCH_STRATEGY = 'x-kubernetes-patch-strategy'
export const PATCH_MERGE_KEY = 'x-kubernetes-patch-merge-key'
export const LIST_TYPE = 'x-kubernetes-list-type'
export const LIST_MAP_KEYS = 'x-kubernetes-list-map-keys'

/**
 * The merge metadata of one field: its patch strategies (`merge`, `retainKeys`,
 * `replace`) and merge key; for a list, how server-side apply merges it (`atomic` when
 * unsaid) and its key fields; and its default, if the schema documents one.
 */
export interface PatchMeta {
  strategies: string[]
  mergeKey: string
  listType: 'atomic' | 'set' | 'map'
  listMapKeys: string[]
  default?: unknown
}

/** A value's patch schema: its fields (an object), its items (a list) or its values (a map). */
export interface PatchSchema {
  /** The schema of field `key` and how it patches; a field the schema does not know patches plainly. */
  field(key: string): { schema: PatchSchema; meta: PatchMeta }
  /** The schema of the items, when this is a list. */
  items(): PatchSchema
  /** Whether this is a list. */
  list?: true
}

const NO_META: PatchMeta = { strategies: [], mergeKey: '', listType: 'atomic', listMapKeys: [] }

/** A value nothing is known about: every field and item patches plainly. */
export const PLAIN: PatchSchema = {
  field: () => ({ schema: PLAIN, meta: NO_META }),
  items: () => PLAIN,
}

const cache = new WeakMap<z.ZodType, PatchSchema>()

/** The patch schema of a zod schema (cached: the walk happens once per schema). */
export function patchSchemaOf(schema: z.ZodType): PatchSchema {
  let found = cache.get(schema)
  if (!found) {
    found = build(schema)
    cache.set(schema, found)
  }
  return found
}

interface Unwrapped {
  node: z.ZodType
  meta: PatchMeta
}

const WRAPPERS = ['optional', 'nullable', 'default', 'prefault', 'readonly', 'catch', 'nonoptional']

/** Strips optional/nullable/default wrappers (and lazy schemas), collecting the patch metadata found on any layer (outermost first). */
function unwrap(schema: z.ZodType): Unwrapped {
  let node = schema
  let meta: PatchMeta | undefined
  for (;;) {
    meta ??= metaOf(node)
    const def = node._zod.def as { type: string; innerType?: z.ZodType; getter?: () => z.ZodType }
    if (def.type === 'lazy' && def.getter) node = def.getter()
    else if (def.innerType && WRAPPERS.includes(def.type)) node = def.innerType
    else break
  }
  return { node, meta: meta ?? NO_META }
}

function metaOf(schema: z.ZodType): PatchMeta | undefined {
  const meta = (schema as { meta?: () => Record<string, unknown> | undefined }).meta?.()
  if (!meta) return undefined
  const strategy = meta[PATCH_STRATEGY]
  const key = meta[PATCH_MERGE_KEY]
  const listType = meta[LIST_TYPE]
  const listMapKeys = meta[LIST_MAP_KEYS]
  if (strategy === undefined && key === undefined && listType === undefined && !('default' in meta)) return undefined
  return {
    strategies: typeof strategy === 'string' ? strategy.split(',').filter(Boolean) : [],
    mergeKey: typeof key === 'string' ? key : '',
    listType: listType === 'set' || listType === 'map' ? listType : 'atomic',
    listMapKeys: Array.isArray(listMapKeys) ? listMapKeys.filter((k): k is string => typeof k === 'string') : [],
    ...('default' in meta ? { default: meta.default } : {}),
  }
}

function build(schema: z.ZodType): PatchSchema {
  const { node } = unwrap(schema)
  const def = node._zod.def as { type: string; shape?: Record<string, z.ZodType>; element?: z.ZodType; valueType?: z.ZodType }
  switch (def.type) {
    case 'object': {
      const shape = def.shape ?? {}
      const fields = new Map<string, { schema: PatchSchema; meta: PatchMeta }>()
      const field = (key: string) => {
        if (!Object.hasOwn(shape, key)) return PLAIN.field(key)
        let f = fields.get(key)
        if (!f) {
          f = { schema: patchSchemaOf(shape[key]!), meta: unwrap(shape[key]!).meta }
          fields.set(key, f)
        }
        return f
      }
      return { field, items: () => PLAIN }
    }
    case 'array': {
      const items = patchSchemaOf(def.element!)
      return { field: PLAIN.field, items: () => items, list: true }
    }
    case 'record': {
      const values = patchSchemaOf(def.valueType!)
      return { field: () => ({ schema: values, meta: NO_META }), items: () => PLAIN }
    }
    default:
      return PLAIN
  }
}
