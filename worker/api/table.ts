/**
 * Server-side printing: the meta.k8s.io Table that `kubectl get` asks for with
 * `Accept: application/json;as=Table;v=v1;g=meta.k8s.io,…;v=v1beta1…,application/json`.
 *
 * The Accept header is negotiated as the API server does: its media ranges in order of
 * preference (q-value, then order), the first one served wins — a Table (v1 or v1beta1)
 * or plain JSON; a header that names only conversions not served here (another `as=`)
 * is a 406. A request without a Table in its Accept gets today's JSON.
 *
 * A Table has the kind's columns (its strategy's, or its table entry's; see
 * registry/columns.ts), wide ones included, and one row per object: its cells and, as
 * `includeObject` says, nothing (None), its metadata as a PartialObjectMetadata
 * (Metadata, the default) or the whole object (Object). A list's Table carries the list's
 * resourceVersion and continue token, so paging works as with lists. In a watch, each
 * event's object is a Table of one row, with the column definitions in the first event
 * only (kubectl keeps them from the list and the first event).
 */
import { RegistryError, badRequest } from '../registry/errors'
import { columnsOf, type KindInfo } from '../registry/kind-info'
import type { WatchEvent } from '../registry/watch-events'
import { mediaRanges } from '../http/accept'

export const TABLE_GROUP = 'meta.k8s.io'
const TABLE_VERSIONS = ['v1', 'v1beta1'] as const
type TableVersion = (typeof TABLE_VERSIONS)[number]

/** What a read answers with: the objects as JSON, or a Table of that meta.k8s.io version. */
export type Rendering = { as: 'json' } | { as: 'Table'; version: TableVersion; include: IncludeObject }

export type IncludeObject = 'None' | 'Metadata' | 'Object'
const INCLUDE: readonly IncludeObject[] = ['None', 'Metadata', 'Object']


/** How a read is answered, from its Accept header and `?includeObject=`. */
export function rendering(accept: string | undefined, includeObject: string | undefined): Rendering {
  const clauses = mediaRanges(accept)
  if (!clauses.length) return { as: 'json' }
  for (const c of clauses) {
    if (!jsonLike(c.type)) continue
    const as = c.params.as
    if (as === undefined) return { as: 'json' }
    const version = c.params.v as TableVersion
    if (as === 'Table' && c.params.g === TABLE_GROUP && TABLE_VERSIONS.includes(version)) {
      return { as: 'Table', version, include: includeOf(includeObject) }
    }
  }
  // Other media types are answered with JSON, as before; only a header asking for nothing but conversions not served here is refused.
  if (!clauses.every((c) => jsonLike(c.type) && c.params.as !== undefined)) return { as: 'json' }
  throw new RegistryError('NotAcceptable', `only the following media types are accepted: application/json, application/json;as=Table;v=v1;g=${TABLE_GROUP}, application/json;as=Table;v=v1beta1;g=${TABLE_GROUP}`)
}

function includeOf(value: string | undefined): IncludeObject {
  if (value === undefined || value === '') return 'Metadata'
  if (!(INCLUDE as readonly string[]).includes(value)) throw badRequest(`unrecognized includeObject value: "${value}"`)
  return value as IncludeObject
}

function jsonLike(type: string): boolean {
  return type === 'application/json' || type === 'application/*' || type === '*/*'
}

export interface TableOptions {
  version: TableVersion
  include: IncludeObject
  /** Leave out the column definitions (watch events after the first). */
  noHeaders?: boolean
  nowMs: number
}

type Obj = { apiVersion?: string; kind?: string; metadata?: Record<string, unknown> & { resourceVersion?: string; continue?: string } }
type ListLike = Obj & { items: Obj[] }

/** The Table of a list (one row per item, the list's resourceVersion and continue) or of one object. */
export function toTable(kind: KindInfo, result: object, options: TableOptions): Record<string, unknown> {
  const list = Array.isArray((result as ListLike).items) ? (result as ListLike) : undefined
  const objects = list ? list.items : [result as Obj]
  const columns = columnsOf(kind)
  const metadata = list
    ? { resourceVersion: list.metadata?.resourceVersion, ...(list.metadata?.continue ? { continue: list.metadata.continue } : {}) }
    : { resourceVersion: (result as Obj).metadata?.resourceVersion }
  return {
    kind: 'Table',
    apiVersion: `${TABLE_GROUP}/${options.version}`,
    metadata,
    columnDefinitions: options.noHeaders
      ? []
      : columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description, priority: c.priority ?? 0 })),
    rows: objects.map((obj) => ({
      cells: columns.map((c) => c.cell(obj as never, options.nowMs)),
      ...(options.include === 'None' ? {} : { object: rowObject(kind, obj, options) }),
    })),
  }
}

function rowObject(kind: KindInfo, obj: Obj, options: TableOptions): Obj {
  if (options.include === 'Object') return { apiVersion: obj.apiVersion, kind: obj.kind ?? kind.kind, ...obj }
  return { kind: 'PartialObjectMetadata', apiVersion: `${TABLE_GROUP}/${options.version}`, metadata: obj.metadata ?? {} }
}

/**
 * The events of a watch rendered as Tables: each object a Table of one row, the column
 * definitions only in the first; a BOOKMARK a Table of no rows at its resourceVersion;
 * ERROR events (a Status) unchanged.
 */
export function tableEvents(kind: KindInfo, options: Omit<TableOptions, 'noHeaders' | 'nowMs'>, now: () => number): (event: WatchEvent) => WatchEvent {
  let headers = true
  return (event) => {
    if (event.type === 'ERROR') return event
    const opts = { ...options, noHeaders: !headers, nowMs: now() }
    if (event.type === 'BOOKMARK') {
      const table = toTable(kind, { items: [] }, opts)
      return { type: event.type, object: { ...table, metadata: (event.object as Obj).metadata ?? {} } }
    }
    headers = false
    return { type: event.type, object: toTable(kind, event.object, opts) }
  }
}
