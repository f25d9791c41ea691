/**
 * The tables that hold whole objects, described so that generic reads, lists and
 * write guards need no per-kind code: the table, the kind its label rows carry, whether
 * its objects live in a namespace, and the column behind each selectable field.
 */
import type { SQL } from 'drizzle-orm'
import { sql } from './sql'

export interface ObjectTable {
  table: string
  labelKind: string
  namespaced: boolean
  /** Field path (as a field selector names it) → column. */
  fieldColumns: Record<string, string>
}

export const namespaceTable: ObjectTable = {
  table: 'namespaces',
  labelKind: 'Namespace',
  namespaced: false,
  fieldColumns: { 'metadata.name': 'name' },
}

export const serviceTable: ObjectTable = {
  table: 'services',
  labelKind: 'Service',
  namespaced: true,
  fieldColumns: {
    'metadata.name': 'name',
    'metadata.namespace': 'namespace',
    'spec.type': 'type',
    'spec.clusterIP': 'cluster_ip',
  },
}

export const podTable: ObjectTable = {
  table: 'pods',
  labelKind: 'Pod',
  namespaced: true,
  fieldColumns: {
    'metadata.name': 'name',
    'metadata.namespace': 'namespace',
    'spec.nodeName': 'node_name',
    'status.phase': 'phase',
    'status.podIP': 'pod_ip',
  },
}

export const leaseTable: ObjectTable = {
  table: 'leases',
  labelKind: 'Lease',
  namespaced: true,
  fieldColumns: { 'metadata.name': 'name', 'metadata.namespace': 'namespace' },
}

/** What every write of an object table carries: the key, the uid, the JSON body and the labels. */
export interface ObjectWrite {
  name: string
  uid: string
  body: Record<string, unknown>
  labels: Record<string, string>
}

/** A table keyed by name, or by namespace and name; enough for the write guards. */
export type KeyedTable = Pick<ObjectTable, 'table' | 'namespaced'>

export const userEndpointsTable: KeyedTable = { table: 'user_endpoints', namespaced: true }
export const tokenTable: ObjectTable = { table: 'tokens', labelKind: 'Token', namespaced: false, fieldColumns: { 'metadata.name': 'name' } }

/** The condition that selects one object of `table` by its key. */
export function keyWhere(table: KeyedTable, namespace: string, name: string): SQL {
  return table.namespaced ? sql`namespace = ${namespace} AND name = ${name}` : sql`name = ${name}`
}
