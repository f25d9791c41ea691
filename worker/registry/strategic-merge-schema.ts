/**
 * How each field of a kind takes a strategic merge patch, read from the kind's zod schema:
 * the `x-kubernetes-patch-strategy` and `x-kubernetes-patch-merge-key` metadata that
 * schemas.ts attaches to a field (the names OpenAPI uses, taken from Kubernetes' core/v1
 * `patchStrategy` and `patchMergeKey` tags). The schema stays the one place that says it;
 * this only turns it into a tree the merge can walk, built once per schema.
 */
import type { z } from 'zod'

export const PATCH_STRATEGY = 'x-kubernetes-patch-strategy'
export const PATCH_MERGE_KEY = 'x-kubernetes-patch-merge-key'

/** The patch metadata of one field: its strategies (`merge`, `retainKeys`, `replace`) and its merge key. */
export interface PatchMeta {
  strategies: string[]
  mergeKey: string
}

/** A value's patch schema: its fields (an object), its items (a list) or its values (a map). */
export interface PatchSchema {
  /** The schema of field `key` and how it patches; a field the schema does not know patches plainly. */
  field(key: string): { schema: PatchSchema; meta: PatchMeta }
  /** The schema of the items, when this is a list. */
  items(): PatchSchema
}

const NO_META: PatchMeta = { strategies: [], mergeKey: '' }

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
  if (strategy === undefined && key === undefined) return undefined
  return {
    strategies: typeof strategy === 'string' ? strategy.split(',').filter(Boolean) : [],
    mergeKey: typeof key === 'string' ? key : '',
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
      return { field: PLAIN.field, items: () => items }
    }
    case 'record': {
      const values = patchSchemaOf(def.valueType!)
      return { field: () => ({ schema: values, meta: NO_META }), items: () => PLAIN }
    }
    default:
      return PLAIN
  }
}
