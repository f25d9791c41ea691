/**
 * Field ownership (`metadata.managedFields`) and server-side apply, as Kubernetes'
 * structured merge does them:
 *
 * - An apply (`application/apply-patch+yaml` with a `fieldManager`) owns exactly the
 *   fields its configuration sets. A field it set last time and leaves out now is removed
 *   from the object, unless another manager also owns it. A field it sets that another
 *   manager owns with a different value is a conflict: a 409 naming every such field and
 *   its owner, unless `force=true`, which takes the field from its owner.
 * - Every other write (create, replace, patch) is an update by its field manager, which
 *   comes to own the fields it changed, taking them from whoever owned them; fields it
 *   removed are nobody's any more.
 *
 * Server-set metadata (name, uid, resourceVersion, timestamps, managedFields itself) is
 * owned by nobody; the main resource and its `status` subresource own their own halves.
 */
import { copyJson, sameJson, setOwn } from '../json'
import { RegistryError } from './errors'
import {
  changedFields,
  fieldValues,
  fromFieldsV1,
  inFieldsV1,
  intersect,
  isMap,
  isValuePath,
  itemElement,
  pathString,
  removeFields,
  subtract,
  toFieldsV1,
  union,
  type FieldSet,
  type FieldsV1,
  type ListTypes,
} from './field-set'

export interface ManagedFieldsEntry {
  manager: string
  operation: 'Apply' | 'Update'
  apiVersion: string
  time: string
  fieldsType: 'FieldsV1'
  fieldsV1: FieldsV1
  subresource?: string
}

/** What a write needs to keep ownership: who writes, through which version and subresource, when, and how the kind's lists merge. */
export interface Ownership {
  manager: string
  apiVersion: string
  /** '' for the main resource, 'status' for the status subresource. */
  subresource: '' | 'status'
  /** The time of the write (RFC 3339, seconds). */
  now: string
  lists: ListTypes
}

type Obj = Record<string, unknown>
type Entry = Omit<ManagedFieldsEntry, 'fieldsV1'>
/** A manager's entry and set; `tree`: the FieldsV1 the set was read from, while it still encodes it. */
type Owned = { entry: Entry; set: FieldSet; tree?: FieldsV1 }
/** An entry as written: its set (and the tree that encodes it, if still read), or a stored tree left unread. */
type Written = Owned | { entry: Entry; tree: FieldsV1 }
/** An entry of a stored object, read into a set when `set` is first called; `tree`: the FieldsV1 it is read from, if any. */
type Stored = { entry: Entry; tree?: FieldsV1; set: () => FieldSet }

/** Metadata the server sets, which no manager owns. */
const SERVER_METADATA = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink'])

/** The paths no manager of `subresource` owns. */
function unowned(subresource: '' | 'status') {
  return (path: readonly string[]): boolean => {
    const [top, second] = path
    if (path.length === 1 && (top === 'f:apiVersion' || top === 'f:kind')) return true
    if (top === 'f:metadata') return path.length === 2 && SERVER_METADATA.has(second!.slice(2))
    return subresource === 'status' ? top !== 'f:status' : top === 'f:status'
  }
}

/** The fields of `obj` a manager of `subresource` may own, with their values (none of undefined). */
function ownedValuesOf(obj: unknown, o: Pick<Ownership, 'lists' | 'subresource'>): Map<string, unknown> {
  return obj === undefined ? new Map() : fieldValues(obj, o.lists, unowned(o.subresource))
}

/**
 * Applies a configuration to the stored object (undefined: the object is created) for
 * `o.manager`. Returns the object to store, its managedFields included; throws a 409
 * Conflict naming the fields other managers own with other values, unless `force`.
 */
export function applyConfiguration(live: Obj | undefined, config: Obj, o: Ownership, force: boolean): Obj {
  const managers = readManagedFields(live)
  const liveValues = ownedValuesOf(live, o)
  const configValues = ownedValuesOf(config, o)
  const applied: FieldSet = new Set(configValues.keys())
  const mine = (m: Owned) => m.entry.manager === o.manager && m.entry.operation === 'Apply' && (m.entry.subresource ?? '') === o.subresource
  const previous = managers.find(mine)?.set ?? new Set<string>()
  const others = managers.filter((m) => !mine(m))

  const conflicts: { manager: string; path: string }[] = []
  for (const other of others) {
    if (other.entry.manager === o.manager) continue
    for (const path of intersect(applied, other.set)) {
      // Items of keyed lists and sets are shared by presence; only values conflict.
      if (!isValuePath(path)) continue
      if (!sameJson(liveValues.get(path), configValues.get(path))) conflicts.push({ manager: other.entry.manager, path })
    }
  }
  if (conflicts.length && !force) throw applyConflict(conflicts, o.apiVersion)
  const taken = new Set(conflicts.map((c) => c.path))
  for (const other of others) {
    const set = subtract(other.set, taken)
    if (set.size !== other.set.size) delete other.tree
    other.set = set
  }

  const owned = union(...others.map((m) => m.set))
  const removed = subtract(subtract(previous, applied), owned)
  const base = live ? copyJson(live) : {}
  removeFields(base, removed, o.lists, union(owned, applied))
  const merged = mergeConfiguration(base, config, o.lists, []) as Obj
  // The entry keeps its place, and its time when the apply changed nothing (so that repeating one is a no-op).
  const unchanged = managers.some(mine) && previous.size === applied.size && [...applied].every((p) => previous.has(p)) && sameJson(withoutManaged(merged), withoutManaged(live))
  const own = { entry: unchanged ? managers.find(mine)!.entry : entryOf(o, 'Apply'), set: applied }
  const at = managers.findIndex(mine)
  const entries = at < 0 ? [...others, own] : [...others.slice(0, at), own, ...others.slice(at)]
  return withManagedFields(merged, entries)
}

/**
 * The managedFields after an update (create, replace, patch) by `o.manager` turned `old`
 * (undefined on create) into `next`: the manager owns what it changed, others lose it,
 * and removed fields are nobody's. Managed fields the request itself sent replace the
 * stored ones first, as Kubernetes lets a client reset them.
 */
export function recordUpdate(old: Obj | undefined, next: Obj, o: Ownership): Obj {
  const sent = (next.metadata as Obj | undefined)?.managedFields
  // Stored entries keep their trees when unchanged; entries a request sent are written anew.
  // Entries that come back exactly as stored (a patch or a status update carries the stored
  // ones along) were not sent: they keep their trees rather than being encoded again.
  const reset = sent !== undefined && sent !== null && !sameJson(sent, (old?.metadata as Obj | undefined)?.managedFields)
  const { changed, removed } = changedFields(old, next, o.lists, unowned(o.subresource))
  const mine = (m: { entry: Entry }) => m.entry.manager === o.manager && m.entry.operation === 'Update' && (m.entry.subresource ?? '') === o.subresource
  // Sets only lose members here, but the writer's own: an entry this write leaves as it was keeps its
  // stored tree, and a stored entry is read into a set only when the write touches it.
  const managers: Stored[] = reset ? readManagedFields(next).map(({ entry, set }) => ({ entry, set: () => set })) : storedManagedFields(old)
  const writer = managers.findIndex(mine)
  const entries = managers.map((m, i): Written => {
    const role = i === writer ? 'writer' : mine(m) ? 'duplicate' : 'other'
    return m.tree && untouched(m.tree, role, changed, removed) ? { entry: m.entry, tree: m.tree } : updated(m, role, changed, removed)
  })
  if (writer >= 0) {
    if (changed.size) entries[writer]!.entry = entryOf(o, 'Update')
  } else if (changed.size) {
    entries.push({ entry: entryOf(o, 'Update'), set: changed })
  }
  return withManagedFields(next, entries)
}

/**
 * An entry's part in an update: the writer's own entry, another entry of the writer's
 * (a duplicate a request sent), or another manager's.
 */
type Role = 'writer' | 'duplicate' | 'other'

/** An entry after an update: the writer's gains what the write changed, another manager's loses it, and every entry loses what it removed. */
function updated(m: Stored, role: Role, changed: FieldSet, removed: FieldSet): Owned {
  const set = subtract(m.set(), removed)
  return { entry: m.entry, set: role === 'writer' ? union(set, changed) : role === 'duplicate' ? set : subtract(set, changed) }
}

/** Whether an update leaves an entry's set as it was: it removes none of the members, and changes none of another manager's or a member the writer's lacks. */
function untouched(tree: FieldsV1, role: Role, changed: FieldSet, removed: FieldSet): boolean {
  for (const path of removed) if (inFieldsV1(tree, path)) return false
  if (role === 'duplicate') return true
  for (const path of changed) if (inFieldsV1(tree, path) !== (role === 'writer')) return false
  return true
}

/**
 * A configuration merged into an object: maps key by key (`null` removes), keyed lists
 * item by item (new items after the existing ones), sets value by value, anything else
 * replaced.
 */
export function mergeConfiguration(live: unknown, config: unknown, lists: ListTypes, path: string[]): unknown {
  if (Array.isArray(config)) {
    const list = lists(path.join('.'))
    if (list.type === 'atomic' || !Array.isArray(live)) return copyJson(config)
    const out = [...live]
    // Where each existing item is, by its FieldsV1 key (one pass, so a merge is linear in the list).
    const at = new Map<string, number>()
    out.forEach((item, i) => {
      const key = itemElement(item, list)
      if (key !== null && !at.has(key)) at.set(key, i)
    })
    for (const item of config) {
      const key = itemElement(item, list)
      const i = key === null ? undefined : at.get(key)
      if (i !== undefined) {
        if (list.type === 'map') out[i] = mergeConfiguration(out[i], item, lists, path)
        continue
      }
      if (key !== null) at.set(key, out.length)
      out.push(copyJson(item))
    }
    return out
  }
  if (isObject(config) && isObject(live)) {
    const out: Obj = { ...live }
    for (const [k, v] of Object.entries(config)) {
      if (v === undefined) continue
      if (v === null) delete out[k]
      else setOwn(out, k, mergeConfiguration(Object.hasOwn(live, k) ? live[k] : undefined, v, lists, [...path, k]))
    }
    return out
  }
  return copyJson(config)
}

/** The managedFields entries of an object, each beside its FieldsV1 tree; an entry that is not one is left out. */
function entriesOf(obj: Obj | undefined): { entry: Entry; tree: unknown }[] {
  const raw = (obj?.metadata as Obj | undefined)?.managedFields
  if (!Array.isArray(raw)) return []
  return raw.flatMap((e: unknown) => {
    if (!isObject(e) || typeof e.manager !== 'string' || (e.operation !== 'Apply' && e.operation !== 'Update')) return []
    const { fieldsV1: tree, ...entry } = e as unknown as ManagedFieldsEntry
    return [{ entry, tree }]
  })
}

/** The managedFields of an object, each with its set; an entry whose tree is not one is dropped. */
function readManagedFields(obj: Obj | undefined): Owned[] {
  return entriesOf(obj).flatMap(({ entry, tree }) => {
    const set = fromFieldsV1(tree ?? {})
    return set ? [{ entry, set, tree: tree as FieldsV1 }] : []
  })
}

/**
 * The managedFields of a stored object, each read into a set only when a write asks for it.
 * A tree is trusted unread: every tree the registry stores is toFieldsV1's encoding of a
 * non-empty set, or one readManagedFields read and accepted, so none is malformed (were one,
 * readManagedFields would drop it; here it is kept while no write touches it, and read as
 * owning nothing once one does). Trees that hold no key, or are not objects, are read at
 * once, and dropped as readManagedFields drops them.
 */
function storedManagedFields(obj: Obj | undefined): Stored[] {
  return entriesOf(obj).flatMap(({ entry, tree }): Stored[] => {
    if (!isMap(tree)) {
      const set = fromFieldsV1(tree ?? {})
      return set ? [{ entry, set: () => set }] : []
    }
    let set: FieldSet | undefined
    return [{ entry, tree: tree as FieldsV1, set: () => (set ??= fromFieldsV1(tree) ?? new Set<string>()) }]
  })
}

function entryOf(o: Ownership, operation: 'Apply' | 'Update'): Entry {
  return { manager: o.manager, operation, apiVersion: o.apiVersion, time: o.now, fieldsType: 'FieldsV1', ...(o.subresource ? { subresource: o.subresource } : {}) }
}

/** `obj` with these managers as its managedFields (managers left owning nothing are dropped). */
function withManagedFields(obj: Obj, managers: Written[]): Obj {
  const managedFields: ManagedFieldsEntry[] = managers
    .filter((m) => !('set' in m) || m.set.size > 0)
    .map((m) => ({ ...m.entry, fieldsV1: 'set' in m ? (m.tree ?? toFieldsV1(m.set)) : m.tree }))
  const metadata = { ...((obj.metadata as Obj | undefined) ?? {}) }
  if (managedFields.length) metadata.managedFields = managedFields
  else delete metadata.managedFields
  return { ...obj, metadata }
}

/** Kubernetes' answer to an apply that would change fields other managers own. */
function applyConflict(conflicts: { manager: string; path: string }[], apiVersion: string): RegistryError {
  const causes = conflicts.map((c) => ({ reason: 'FieldManagerConflict' as const, message: `conflict with "${c.manager}" using ${apiVersion}`, field: pathString(c.path) }))
  const list = causes.map((c) => `${c.message}: ${c.field}`)
  const message =
    conflicts.length === 1 ? `Apply failed with 1 conflict: ${list[0]}` : `Apply failed with ${conflicts.length} conflicts: ${list.join('\n')}`
  return new RegistryError('Conflict', message, { causes })
}

/** An object without its managed fields, to compare contents. */
function withoutManaged(obj: Obj | undefined): unknown {
  if (!obj) return undefined
  const { managedFields: _managed, ...metadata } = (obj.metadata as Obj | undefined) ?? {}
  return { ...obj, metadata }
}

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
