/**
 * What the table of kinds (kinds.ts) says of each kind: its names and API group, its
 * verbs and subresources, who may write it, its schema and strategy, its field
 * selectors and where it is stored. Routes, discovery, access control, field-selector
 * allow-lists and the generic store all read it.
 */
import type { z } from 'zod'
import type { ObjectTable } from '../db/tables'
import type { Columns } from './columns'
import type { Role } from './roles'
import type { Strategy } from './strategy'
import type { RegistryObject } from './types'

/** The API verbs, as discovery names them. */
export type Verb = 'create' | 'delete' | 'get' | 'list' | 'patch' | 'update' | 'watch'

export interface KindInfo {
  kind: string
  listKind: string
  /** The plural resource name used in paths. */
  resource: string
  singular: string
  /** The API group; '' is the core group (`/api/v1`). */
  group: string
  version: string
  namespaced: boolean
  shortNames: readonly string[]
  categories: readonly string[]
  verbs: readonly Verb[]
  /** `status`: the `/status` subresource (get, update, patch). */
  subresources: readonly 'status'[]
  /**
   * The least role that may write it, and whether a write (`create`) or every call
   * (`all`) needs that role in every namespace.
   */
  access: { write: Role; everywhere?: 'create' | 'all' }
  /** Fields `?fieldSelector=` may name. */
  fieldSelectors: readonly string[]
  /** Generic kinds: the body schema, the strategy and the table the generic store keeps them in. */
  schema?: z.ZodType
  strategy?: Strategy<RegistryObject, never>
  storage?: ObjectTable
  /** The computed kinds (no strategy): the columns of their Table; a generic kind's are in its strategy. */
  columns?: Columns<never>
}

/** The columns of a kind's Table: its strategy's, or the table entry's for a kind without one. */
export function columnsOf(kind: KindInfo): Columns<never> {
  const columns = kind.strategy?.columns ?? kind.columns
  if (!columns) throw new Error(`${kind.kind} has no table columns`)
  return columns
}

/** `v1` for the core group, `<group>/<version>` otherwise. */
export function apiVersionOf(kind: KindInfo): string {
  return kind.group ? `${kind.group}/${kind.version}` : kind.version
}

/** The kind's resource as Kubernetes names it in messages: `pods`, `leases.coordination.k8s.io`. */
export function qualifiedResource(kind: Pick<KindInfo, 'group' | 'resource'>): string {
  return kind.group ? `${kind.resource}.${kind.group}` : kind.resource
}

/** The kind as Kubernetes names it in messages: `Pod`, `Lease.coordination.k8s.io`. */
export function qualifiedKind(kind: Pick<KindInfo, 'group' | 'kind'>): string {
  return kind.group ? `${kind.kind}.${kind.group}` : kind.kind
}

/** The path prefix of a kind's group and version: `/api/v1` or `/apis/<group>/<version>`. */
export function groupPath(kind: Pick<KindInfo, 'group' | 'version'>): string {
  return kind.group ? `/apis/${kind.group}/${kind.version}` : `/api/${kind.version}`
}

