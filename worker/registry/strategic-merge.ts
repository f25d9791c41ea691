/**
 * Strategic merge patch (`application/strategic-merge-patch+json`), applied as Kubernetes'
 * API server applies it (apimachinery's strategicpatch, server side: parallel deletion
 * lists merged, nulls that match nothing ignored). Objects merge key by key and `null`
 * deletes; a list replaces unless its field's strategy is `merge`: then a list of
 * primitives is a set union and a list of objects merges item by item on the field's merge
 * key (the first stored item with the key's value takes the patch item; others are
 * appended). Each field's strategy and key come from the kind's schema
 * (strategic-merge-schema.ts). Directives:
 * - `$patch: replace | delete` in an object (the object replaces, or is removed), and
 *   `$patch: delete | replace` as an item of a merge list (items with that key are
 *   removed; the list is replaced by the patch's other items);
 * - `$setElementOrder/<list>`: the order of a merge list's items after the patch;
 * - `$deleteFromPrimitiveList/<list>`: values removed from a merge list of primitives;
 * - `$retainKeys`: the keys of an object that stay, all others cleared.
 * A malformed patch is a 400 naming the field; a list of lists, a 422. Both inputs are
 * copied, never changed.
 */
import { copyJson, setOwn } from '../json'
import { RegistryError, badRequest, fieldError } from './errors'
import type { PatchMeta, PatchSchema } from './strategic-merge-schema'

type Json = unknown
type JsonMap = Record<string, Json>

const DIRECTIVE = '$patch'
const RETAIN_KEYS = '$retainKeys'
const SET_ORDER = '$setElementOrder'
const DELETE_FROM = '$deleteFromPrimitiveList'

/** Applies a strategic merge patch to an object. */
export function strategicMerge(original: Json, patch: Json, schema: PatchSchema): Json {
  if (!isMap(patch)) throw badRequest('a strategic merge patch must be a JSON object')
  const base = isMap(original) ? copyJson(original) : {}
  return mergeMap(base, copyJson(patch), schema, '')
}

function mergeMap(original: JsonMap, patch: JsonMap, schema: PatchSchema, path: string): JsonMap {
  if (Object.hasOwn(patch, DIRECTIVE)) {
    const directive = patch[DIRECTIVE]
    if (directive === 'delete') return {}
    if (directive !== 'replace') throw bad(join(path, DIRECTIVE), directive, 'unknown patch type (expected "replace" or "delete")')
    delete patch[DIRECTIVE]
    return patch
  }
  retainKeys(original, patch, path)
  orderLists(original, patch, schema, path)
  for (const [key, patchValue] of Object.entries(patch)) {
    const deleteList = key.startsWith(DELETE_FROM)
    const k = deleteList ? listKey(key, DELETE_FROM, path) : key
    const at = join(path, k)
    if (patchValue === null) {
      delete original[k]
      continue
    }
    if (!Object.hasOwn(original, k) || kindOf(original[k]) !== kindOf(patchValue)) {
      if (!deleteList) setOrDrop(original, k, withoutDirectives(withoutNulls(patchValue)))
      continue
    }
    const { schema: sub, meta } = schema.field(k)
    const strategy = strategyOf(meta)
    const current = original[k]
    if (isMap(current) && isMap(patchValue)) {
      setOwn(original, k, strategy === 'replace' ? patchValue : mergeMap(current, patchValue, sub, at))
    } else if (Array.isArray(current) && Array.isArray(patchValue)) {
      const merges = strategy === 'merge' || deleteList
      setOwn(original, k, merges ? mergeList(current, patchValue, sub.items(), meta.mergeKey, deleteList, at) : patchValue)
    } else {
      setOrDrop(original, k, withoutDirectives(patchValue))
    }
  }
  return original
}

/** `$retainKeys`: every key of the patch must be listed; keys of the original not listed are cleared. */
function retainKeys(original: JsonMap, patch: JsonMap, path: string): void {
  if (!Object.hasOwn(patch, RETAIN_KEYS)) return
  const keep = patch[RETAIN_KEYS]
  delete patch[RETAIN_KEYS]
  const at = join(path, RETAIN_KEYS)
  if (!Array.isArray(keep)) throw bad(at, keep, 'invalid patch format of retainKeys: must be a list of field names')
  const kept = new Set(keep)
  for (const [key, value] of Object.entries(patch)) {
    if (value === null || key.startsWith(DELETE_FROM) || key.startsWith(SET_ORDER)) continue
    if (!kept.has(key)) throw bad(at, keep, `invalid patch format of retainKeys: the patch sets "${key}", which is not retained`)
  }
  for (const key of Object.keys(original)) if (!kept.has(key)) delete original[key]
}

/** `$setElementOrder/<list>`: merges the list named and puts its items in the order given (then the stored ones). */
function orderLists(original: JsonMap, patch: JsonMap, schema: PatchSchema, path: string): void {
  for (const [directiveKey, order] of Object.entries(patch)) {
    if (!directiveKey.startsWith(SET_ORDER)) continue
    delete patch[directiveKey]
    const key = listKey(directiveKey, SET_ORDER, path)
    const at = join(path, key)
    if (!Array.isArray(order)) throw bad(join(path, directiveKey), order, 'invalid patch format of setElementOrder list: must be a list')
    const stored = listAt(original, key, at)
    const patched = listAt(patch, key, at)
    if (!stored && !patched) continue
    const { schema: sub, meta } = schema.field(key)
    const mergeKey = meta.mergeKey
    checkOrder(patched ?? [], order, mergeKey, at)
    let merged: Json[]
    if (!patched) merged = stored!
    else if (!stored) merged = withoutDirectives(patched) as Json[]
    else merged = strategyOf(meta) === 'merge' ? mergeList(stored, patched, sub.items(), mergeKey, false, at) : patched
    const { inPatch, serverOnly } = partition(merged, order, mergeKey, at)
    setOwn(original, key, ordered(inPatch, serverOnly, order, stored ?? [], mergeKey, at))
    delete patch[key]
  }
}

/** The patch's items (deletions aside) must appear in the order list, in the same relative order. */
function checkOrder(patched: Json[], order: Json[], mergeKey: string, at: string): void {
  if (!patched.length || !order.length) return
  const items = mergeKey ? patched.filter((item) => !(isMap(item) && item[DIRECTIVE] === 'delete')) : patched
  let p = 0
  for (let o = 0; p < items.length && o < order.length; o++) {
    if (isMap(items[p]) && Object.hasOwn(items[p] as JsonMap, DIRECTIVE)) {
      p++
      o--
      continue
    }
    if (idOf(items[p], mergeKey, at) === idOf(order[o], mergeKey, at)) p++
  }
  if (p < items.length) throw bad(at, order, `the order of the patch list does not match its ${SET_ORDER} list`)
}

/**
 * Merges a merge list (or applies a deletion list). Items are found by their identity in
 * maps, so the work is linear in the sizes of the list and the patch.
 */
function mergeList(original: Json[], patch: Json[], items: PatchSchema, mergeKey: string, deleteList: boolean, at: string): Json[] {
  if (!original.length && !patch.length) return original
  const kind = itemKind([...original, ...patch], at)
  if (kind !== 'object') {
    if (deleteList) {
      const deleted = new Set(patch)
      return original.filter((v) => !deleted.has(v))
    }
    const merged = [...new Set([...original, ...patch])]
    const { inPatch, serverOnly } = partition(merged, patch, '', at)
    return ordered(inPatch, serverOnly, patch, original, '', at)
  }
  if (!mergeKey) throw bad(at, patch, 'cannot merge a list of objects that has no merge key')
  const { base, patchItems } = specialItems(original, patch, mergeKey, at)
  const merged = base.map((v) => v)
  const firstAt = new Map<Json, number>()
  merged.forEach((stored, i) => {
    const value = keyOf(asMap(stored, at), mergeKey, at, false)
    if (value !== undefined && !firstAt.has(value)) firstAt.set(value, i)
  })
  for (const item of patchItems as JsonMap[]) {
    const value = keyOf(item, mergeKey, at)
    const i = firstAt.get(value)
    if (i !== undefined) merged[i] = mergeMap(merged[i] as JsonMap, item, items, `${at}[${mergeKey}=${String(value)}]`)
    else {
      firstAt.set(value, merged.length)
      merged.push(item)
    }
  }
  const { inPatch, serverOnly } = partition(merged, patchItems, mergeKey, at)
  return ordered(inPatch, serverOnly, patchItems, base, mergeKey, at)
}

/** `$patch` items of a merge list: `delete` removes the stored items with that key, `replace` makes the patch's other items the list. */
function specialItems(original: Json[], patch: Json[], mergeKey: string, at: string): { base: Json[]; patchItems: Json[] } {
  const deleted = new Set<Json>()
  let replace = false
  const plain: Json[] = []
  for (const item of patch as JsonMap[]) {
    if (!Object.hasOwn(item, DIRECTIVE)) {
      plain.push(item)
      continue
    }
    const directive = item[DIRECTIVE]
    if (directive === 'delete') deleted.add(keyOf(item, mergeKey, at))
    else if (directive === 'replace') replace = true
    else if (directive === 'merge') throw bad(`${at}[].${DIRECTIVE}`, directive, 'merging lists cannot yet be specified in the patch')
    else throw bad(`${at}[].${DIRECTIVE}`, directive, 'unknown patch type (expected "delete" or "replace")')
  }
  if (replace) return { base: plain, patchItems: [] }
  const base = deleted.size ? original.filter((stored) => !deleted.has(keyOf(asMap(stored, at), mergeKey, at, false))) : original
  return { base, patchItems: plain }
}

/** Splits items into those named in `by` and the others, each in its own order. */
function partition(items: Json[], by: Json[], mergeKey: string, at: string): { inPatch: Json[]; serverOnly: Json[] } {
  const named = ranks(by, mergeKey, at)
  const inPatch: Json[] = []
  const serverOnly: Json[] = []
  for (const item of items) (named.has(idOf(item, mergeKey, at)) ? inPatch : serverOnly).push(item)
  return { inPatch, serverOnly }
}

/**
 * The patch's items in the patch's order, with the stored-only items put back among them
 * where the stored order places them (an item goes before the first patch item stored after it).
 */
function ordered(inPatch: Json[], serverOnly: Json[], patchOrder: Json[], serverOrder: Json[], mergeKey: string, at: string): Json[] {
  const serverRanks = ranks(serverOrder, mergeKey, at)
  const left = sortBy(serverOnly, serverRanks, mergeKey, at)
  const right = sortBy(inPatch, ranks(patchOrder, mergeKey, at), mergeKey, at)
  const out: Json[] = []
  let i = 0
  let j = 0
  while (i < left.length || j < right.length) {
    if (j >= right.length) out.push(left[i++]!.item)
    else if (i >= left.length) out.push(right[j++]!.item)
    else {
      const li = serverRanks.get(left[i]!.id)
      const ri = serverRanks.get(right[j]!.id)
      out.push(li !== undefined && ri !== undefined && li < ri ? left[i++]!.item : right[j++]!.item)
    }
  }
  return out
}

/** Items with their identities, sorted by their rank in an order (stably; items it does not name keep their order, last). */
function sortBy(items: Json[], order: Map<Json, number>, mergeKey: string, at: string): { item: Json; id: Json }[] {
  return items
    .map((item, i) => {
      const id = idOf(item, mergeKey, at)
      return { item, id, i, r: order.get(id) ?? Number.MAX_SAFE_INTEGER }
    })
    .sort((a, b) => a.r - b.r || a.i - b.i)
}

/** Each item's identity mapped to the first place it has in the list. */
function ranks(list: Json[], mergeKey: string, at: string): Map<Json, number> {
  const out = new Map<Json, number>()
  list.forEach((item, i) => {
    const id = idOf(item, mergeKey, at)
    if (!out.has(id)) out.set(id, i)
  })
  return out
}

/** What makes an item the same list member: its merge-key value (objects; a 400 when missing), or itself (primitives). */
function idOf(item: Json, mergeKey: string, at: string): Json {
  return mergeKey ? keyOf(asMap(item, at), mergeKey, at) : item
}

/** The merge-key value of a list item (a primitive); a missing or non-primitive key is a 400 unless `strict` is off. */
function keyOf(item: JsonMap, mergeKey: string, at: string, strict = true): Json {
  const value = item[mergeKey]
  if (value === undefined || (typeof value === 'object' && value !== null)) {
    if (!strict) return undefined
    throw bad(`${at}[].${mergeKey}`, value ?? item, `each item must have the merge key "${mergeKey}"`)
  }
  return value
}

function asMap(item: Json, at: string): JsonMap {
  if (!isMap(item)) throw bad(at, item, 'expected an object in a list merged by key')
  return item
}

/** The one kind of the items of a list: objects, or one kind of primitive. */
function itemKind(items: Json[], at: string): string {
  let kind: string | undefined
  for (const item of items) {
    const k = kindOf(item)
    if (k === 'array') throw new RegistryError('Invalid', `${at}: lists of lists are not supported`, { causes: [fieldError.invalid(at, item, 'lists of lists are not supported')] })
    if (k === 'null') throw bad(at, item, 'a merge list cannot hold null')
    if (kind && k !== kind) throw bad(at, item, 'list element types are not identical')
    kind = k
  }
  return kind!
}

function listAt(map: JsonMap, key: string, at: string): Json[] | undefined {
  if (!Object.hasOwn(map, key) || map[key] === null) return undefined
  if (!Array.isArray(map[key])) throw bad(at, map[key], 'expected a list')
  return map[key] as Json[]
}

/** `$setElementOrder/ports` → `ports`. */
function listKey(key: string, prefix: string, path: string): string {
  const slash = key.indexOf('/')
  if (slash < 0 || key.slice(0, slash) !== prefix) throw bad(join(path, key), key, `invalid patch format: expected "${prefix}/<list>"`)
  return key.slice(slash + 1)
}

/** The field's strategy besides `retainKeys` (which only allows the `$retainKeys` directive). */
function strategyOf(meta: PatchMeta): string {
  return meta.strategies.find((s) => s !== 'retainKeys') ?? ''
}

/** A patch value without the objects that carry a `$patch` directive; undefined when the value itself carries one. */
function withoutDirectives(value: Json): Json {
  if (Array.isArray(value)) return value.map(withoutDirectives).filter((v) => v !== undefined)
  if (!isMap(value)) return value
  if (Object.hasOwn(value, DIRECTIVE)) return undefined
  const out: JsonMap = {}
  for (const [k, v] of Object.entries(value)) {
    const kept = withoutDirectives(v)
    if (kept !== undefined) setOwn(out, k, kept)
  }
  return out
}

/** A patch value that adds a field: its nulls delete nothing, so they are dropped. */
function withoutNulls(value: Json): Json {
  if (Array.isArray(value)) return value.map(withoutNulls)
  if (!isMap(value)) return value
  const out: JsonMap = {}
  for (const [k, v] of Object.entries(value)) if (v !== null) setOwn(out, k, withoutNulls(v))
  return out
}

function setOrDrop(map: JsonMap, key: string, value: Json): void {
  if (value === undefined) delete map[key]
  else setOwn(map, key, value)
}

function kindOf(v: Json): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v
}

function isMap(v: Json): v is JsonMap {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key
}

function bad(field: string, value: Json, detail: string): RegistryError {
  return badRequest(`${field}: ${detail}`, [fieldError.invalid(field, value, detail)])
}
