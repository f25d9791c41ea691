/**
 * Sets of fields, as server-side apply tracks who owns what: the fields an object (or an
 * apply configuration) sets, set algebra over them, and Kubernetes' FieldsV1 encoding of
 * `metadata.managedFields` (`f:<field>`, `k:<key object>` for an item of a list keyed by
 * some of its fields, `v:<value>` for an item of a set-like list of scalars, and `.` for a
 * list item or map that is itself a member). A path is written as kubectl prints it in a
 * conflict: `.spec.ports[port=80,protocol="TCP"].targetPort`.
 *
 * How a list is merged is the list's own: `atomic` (the whole list is one field), `set`
 * (scalars, each a member) or `map` (items identified by their key fields, defaulted where
 * the schema defaults them), looked up by the list's field path (`spec.ports`,
 * `spec.containers.ports`: field names only, no indices).
 */
import { sameJson } from '../json'

/** How a list merges, by its field path. */
export type ListType = { type: 'atomic' } | { type: 'set' } | { type: 'map'; keys: readonly string[]; defaults?: Readonly<Record<string, unknown>> }
export type ListTypes = (path: string) => ListType

/** One step of a path: a field, a keyed list item, or a value of a set. */
export type PathElement = { field: string } | { key: Record<string, unknown> } | { value: unknown }

/** A set of paths; each path is its elements' FieldsV1 keys joined by SEP. */
export type FieldSet = Set<string>

/** A FieldsV1 tree, as `metadata.managedFields[].fieldsV1` holds it. */
export type FieldsV1 = { [key: string]: FieldsV1 }

const SEP = '\u0000'

/** The FieldsV1 key of a path element. */
export function elementKey(e: PathElement): string {
  if ('field' in e) return `f:${e.field}`
  if ('key' in e) return `k:${JSON.stringify(e.key)}`
  return `v:${JSON.stringify(e.value)}`
}

/** The path elements of a set member. */
export function elementsOf(path: string): PathElement[] {
  return path.split(SEP).map((k) => {
    const rest = k.slice(2)
    if (k.startsWith('f:')) return { field: rest }
    if (k.startsWith('k:')) return { key: JSON.parse(rest) as Record<string, unknown> }
    return { value: JSON.parse(rest) as unknown }
  })
}

/** `.spec.ports[port=80,protocol="TCP"].targetPort`, as Kubernetes prints a path. */
export function pathString(path: string): string {
  return elementsOf(path)
    .map((e) => {
      if ('field' in e) return `.${e.field}`
      if ('key' in e) return `[${Object.entries(e.key).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`
      return `[=${JSON.stringify(e.value)}]`
    })
    .join('')
}

/** The field path a list type is looked up by: field names only. */
function fieldPath(path: readonly string[]): string {
  return path.filter((k) => k.startsWith('f:')).map((k) => k.slice(2)).join('.')
}

/** The key of a map-list item: its key fields (defaulted), in name order as FieldsV1 writes them. */
export function itemKey(item: unknown, list: { keys: readonly string[]; defaults?: Readonly<Record<string, unknown>> }): Record<string, unknown> | null {
  if (!isObject(item)) return null
  const key: Record<string, unknown> = {}
  for (const k of [...list.keys].sort()) {
    const v = item[k] ?? list.defaults?.[k]
    if (v !== undefined && v !== null) key[k] = v
  }
  return Object.keys(key).length ? key : null
}

/**
 * The fields `value` sets, each with its value: every scalar, empty object and atomic
 * list is a member, and so is every item of a keyed list or set (with the fields inside
 * the item; an item's value is the item). `skip` leaves out paths (server-set metadata, a
 * subresource's other half). One walk of the object: own properties only.
 */
export function fieldValues(value: unknown, lists: ListTypes, skip: (path: readonly string[]) => boolean = () => false): Map<string, unknown> {
  const out = new Map<string, unknown>()
  collect({ path: [], lists, skip }, value, out)
  return out
}

/**
 * A walk's state: one path, extended and cut back as the walk goes (`skip` reads it and
 * keeps nothing), and how the object's lists merge. The walks are functions of the module
 * rather than closures, so that a walk makes no functions of its own.
 */
type Walk = { path: string[]; lists: ListTypes; skip: (path: readonly string[]) => boolean }

/** The fieldValues of `v`, found at `walk.path`, into `out`. */
function collect(walk: Walk, v: unknown, out: Map<string, unknown>): void {
  const { path } = walk
  if (path.length && walk.skip(path)) return
  if (Array.isArray(v)) return collectList(walk, v, out)
  if (isObject(v)) {
    let fields = 0
    for (const k in v) {
      if (!Object.hasOwn(v, k)) continue
      fields++
      const child = v[k]
      if (child === undefined) continue
      path.push(`f:${k}`)
      collect(walk, child, out)
      path.pop()
    }
    if (fields) return
  }
  if (path.length) out.set(path.join(SEP), v)
}

function collectList(walk: Walk, items: unknown[], out: Map<string, unknown>): void {
  const { path } = walk
  const list = walk.lists(fieldPath(path))
  if (list.type === 'atomic') return void out.set(path.join(SEP), items)
  for (const item of items) {
    const key = itemElement(item, list)
    if (!key) continue
    path.push(key)
    out.set(path.join(SEP), item)
    if (list.type === 'map' && isObject(item)) {
      for (const k in item) {
        if (!Object.hasOwn(item, k) || item[k] === undefined) continue
        path.push(`f:${k}`)
        collect(walk, item[k], out)
        path.pop()
      }
    }
    path.pop()
  }
}

/**
 * How the fields of `after` differ from those of `before` (see fieldValues, whose `lists`
 * and `skip` it takes): `changed`, the members of after that before lacks or holds with
 * another value (a list item, a member by presence, only when before lacks it), and
 * `removed`, the members of before that after lacks. The same sets as comparing the two
 * objects' fieldValues, but one walk of both that builds paths only where they differ:
 * maps are compared key by key, and a list or anything else that is not alike in both is
 * compared by its own fieldValues. (Paths join keys with NUL, so a field name holding NUL
 * could make two fields' paths alike in the whole-object maps, where this walk keeps them
 * apart; no stored kind takes such a name.)
 */
export function changedFields(before: unknown, after: unknown, lists: ListTypes, skip: (path: readonly string[]) => boolean = () => false): { changed: FieldSet; removed: FieldSet } {
  const diff: Diff = { path: [], lists, skip, changed: new Set(), removed: new Set() }
  compare(diff, before, after)
  return { changed: diff.changed, removed: diff.removed }
}

type Diff = Walk & { changed: FieldSet; removed: FieldSet }

function compare(diff: Diff, a: unknown, b: unknown): void {
  const { path } = diff
  if (path.length && diff.skip(path)) return
  if (identical(a, b)) return
  if (isMap(a) && isMap(b)) {
    for (const k in a) {
      if (!Object.hasOwn(a, k)) continue
      path.push(`f:${k}`)
      const was = a[k]
      const is = Object.hasOwn(b, k) ? b[k] : undefined
      if (was === undefined) {
        if (is !== undefined) addMembers(diff, is, diff.changed)
      } else if (is === undefined) {
        addMembers(diff, was, diff.removed)
      } else {
        compare(diff, was, is)
      }
      path.pop()
    }
    for (const k in b) {
      if (!Object.hasOwn(b, k) || Object.hasOwn(a, k) || b[k] === undefined) continue
      path.push(`f:${k}`)
      addMembers(diff, b[k], diff.changed)
      path.pop()
    }
    return
  }
  const was = new Map<string, unknown>()
  const is = new Map<string, unknown>()
  collect(diff, a, was)
  collect(diff, b, is)
  for (const [p, value] of is) if (!was.has(p) || (isValuePath(p) && !sameJson(was.get(p), value))) diff.changed.add(p)
  for (const p of was.keys()) if (!is.has(p)) diff.removed.add(p)
}

/** Every member of `v` (found at the diff's path) into `into`. */
function addMembers(diff: Diff, v: unknown, into: FieldSet): void {
  const found = new Map<string, unknown>()
  collect(diff, v, found)
  for (const p of found.keys()) into.add(p)
}

/** A map that fieldValues walks into: an object with a field (a field of undefined counts). */
export function isMap(v: unknown): v is Record<string, unknown> {
  if (!isObject(v)) return false
  for (const k in v) if (Object.hasOwn(v, k)) return true
  return false
}

/**
 * Whether two values are alike to the last field, a field of undefined included (where
 * sameJson would ignore it): then their fieldValues are the same at any path.
 */
function identical(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => identical(x, b[i]))
  if (Array.isArray(b)) return false
  const ka = Object.keys(a)
  if (ka.length !== Object.keys(b).length) return false
  for (const k of ka) if (!Object.hasOwn(b, k) || !identical((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false
  return true
}

/** The fields `value` sets (see fieldValues). */
export function fieldsOf(value: unknown, lists: ListTypes, skip?: (path: readonly string[]) => boolean): FieldSet {
  return new Set(fieldValues(value, lists, skip).keys())
}

/**
 * `obj` without the members of `remove`, in place, in one walk: an item goes whole with
 * its `.`; a member with a path under it in `keep` stays (its item or map is still needed).
 */
export function removeFields(obj: Record<string, unknown>, remove: FieldSet, lists: ListTypes, keep: FieldSet = new Set()): void {
  if (remove.size === 0) return
  const toward = prefixesOf(remove)
  const needed = prefixesOf(keep)
  const gone = (path: string) => remove.has(path) && !needed.has(path)
  const walkObject = (o: Record<string, unknown>, path: string) => {
    for (const k of Object.keys(o)) {
      const at = joined(path, `f:${k}`)
      if (gone(at)) delete o[k]
      else if (toward.has(at)) walkValue(o[k], at)
    }
  }
  const walkValue = (v: unknown, path: string) => {
    if (Array.isArray(v)) walkList(v, path)
    else if (isObject(v)) walkObject(v, path)
  }
  const walkList = (items: unknown[], path: string) => {
    const list = lists(fieldPath(path.split(SEP)))
    if (list.type === 'atomic') return
    let kept = 0
    for (const item of items) {
      const key = itemElement(item, list)
      const at = key === null ? null : joined(path, key)
      if (at !== null && gone(at)) continue
      if (at !== null && toward.has(at) && isObject(item)) walkObject(item, at)
      items[kept++] = item
    }
    items.length = kept
  }
  walkObject(obj, '')
}

/** The FieldsV1 key of a list item (`k:` of a map list's key, `v:` of a set's value); null for an item of a map list without its key. */
export function itemElement(item: unknown, list: ListType): string | null {
  if (list.type === 'set') return elementKey({ value: item })
  if (list.type !== 'map') return null
  const key = itemKey(item, list)
  return key ? elementKey({ key }) : null
}

/** Whether a member is a field's value (compared by value), not a list item (shared by presence). */
export function isValuePath(path: string): boolean {
  return path.slice(path.lastIndexOf(SEP) + 1).startsWith('f:')
}

function joined(path: string, key: string): string {
  return path ? `${path}${SEP}${key}` : key
}

/** Every proper prefix of the members of a set. */
function prefixesOf(set: FieldSet): Set<string> {
  const out = new Set<string>()
  for (const path of set) {
    for (let at = path.indexOf(SEP); at >= 0; at = path.indexOf(SEP, at + 1)) out.add(path.slice(0, at))
  }
  return out
}

export function union(...sets: FieldSet[]): FieldSet {
  const out: FieldSet = new Set()
  for (const s of sets) for (const p of s) out.add(p)
  return out
}

export function subtract(a: FieldSet, b: FieldSet): FieldSet {
  return new Set([...a].filter((p) => !b.has(p)))
}

export function intersect(a: FieldSet, b: FieldSet): FieldSet {
  return new Set([...a].filter((p) => b.has(p)))
}

/** The FieldsV1 tree of a set. */
export function toFieldsV1(set: FieldSet): FieldsV1 {
  const root: Trie = { member: false, children: null }
  for (const path of set) {
    let node = root
    let from = 0
    for (;;) {
      const to = path.indexOf(SEP, from)
      const key = to < 0 ? path.slice(from) : path.slice(from, to)
      const children = (node.children ??= new Map())
      let child = children.get(key)
      if (!child) {
        child = { member: false, children: null }
        children.set(key, child)
      }
      node = child
      if (to < 0) break
      from = to + 1
    }
    node.member = true
  }
  return emitTree(root)
}

/** A set as a tree of its members' keys, on the way to FieldsV1. */
type Trie = { member: boolean; children: Map<string, Trie> | null }

/** FieldsV1 of a tree: keys in order, and `.` first in a member that has members below it. */
function emitTree(node: Trie): FieldsV1 {
  const out: FieldsV1 = {}
  if (!node.children) return out
  if (node.member) out['.'] = {}
  for (const key of [...node.children.keys()].sort()) out[key] = emitTree(node.children.get(key)!)
  return out
}

/** The set a FieldsV1 tree encodes; null when it is not one (a malformed managedFields entry). */
export function fromFieldsV1(tree: unknown): FieldSet | null {
  const out: FieldSet = new Set()
  return readTree(tree, '', out) ? out : null
}

/**
 * Whether `path` is a member of the set a well-formed FieldsV1 tree encodes (one
 * fromFieldsV1 reads), found by following the path's keys down the tree rather than reading
 * the whole tree: the node it reaches is a member when it is empty or says so with `.`.
 */
export function inFieldsV1(tree: FieldsV1, path: string): boolean {
  let node: unknown = tree
  for (let from = 0; ; ) {
    const to = path.indexOf(SEP, from)
    const key = to < 0 ? path.slice(from) : path.slice(from, to)
    if (!isObject(node) || !Object.hasOwn(node, key)) return false
    node = node[key]
    if (to < 0) break
    from = to + 1
  }
  if (!isObject(node)) return false
  for (const k in node) if (Object.hasOwn(node, k)) return Object.hasOwn(node, '.')
  return true
}

/**
 * Reads the FieldsV1 node at `path` into `out`: a node is a member when it is empty or
 * says so with `.`, and every other key is `f:`, `k:` or `v:` (the last two followed by
 * JSON), over a node of its own. False when the node is not one.
 */
function readTree(node: unknown, path: string, out: FieldSet): boolean {
  if (!isObject(node)) return false
  let keys = 0
  for (const k in node) if (Object.hasOwn(node, k)) keys++
  if (path && (keys === 0 || Object.hasOwn(node, '.'))) out.add(path)
  for (const k in node) {
    if (!Object.hasOwn(node, k) || k === '.') continue
    const kind = k.charCodeAt(0)
    // f, k or v, then a colon.
    if ((kind !== 102 && kind !== 107 && kind !== 118) || k.charCodeAt(1) !== 58) return false
    if (kind !== 102 && !isJson(k.slice(2))) return false
    if (!readTree(node[k], path ? `${path}${SEP}${k}` : k, out)) return false
  }
  return true
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
