/**
 * Namespace rows. Deleting a namespace deletes everything in it, in the same batch.
 */
import { sql } from '../sql'
import { bodyText, RV, type Batch, type Precondition } from '../batch'
import { namespaceTable, type ObjectWrite } from '../tables'
import { deleteLabels, labelRows } from './labels'

export type NamespaceWrite = ObjectWrite

/** Every table whose rows belong to a namespace. */
const NAMESPACED_TABLES = [
  'endpoints',
  'user_endpoints',
  'pods',
  'pod_ports',
  'services',
  'selectors',
  'service_ports',
  'cluster_ips',
  'node_ports',
  'labels',
  'leases',
]

export function createNamespace(b: Batch, w: NamespaceWrite): Promise<number> {
  return b.write(b.precondition(namespaceTable, '', w.name, 'create'), [
    b.change('Namespace', namespaceTable, '', w.name, 'ADDED', w.body),
    b.run(sql`INSERT INTO namespaces (name, uid, rv, body) VALUES (${w.name}, ${w.uid}, ${RV}, ${bodyText(w.body)})`),
    ...labelRows(b, namespaceTable.labelKind, '', w.name, w.labels),
  ])
}

/**
 * Replaces a namespace's body and labels (what an update may change); nothing in it is
 * touched. `recordBefore` false: its event leaves out the namespace before.
 */
export function updateNamespace(b: Batch, w: NamespaceWrite, pre: Precondition, recordBefore = true): Promise<number> {
  return b.write(b.existing(namespaceTable, '', w.name, pre), [
    b.change('Namespace', namespaceTable, '', w.name, 'MODIFIED', w.body, recordBefore),
    b.run(sql`UPDATE namespaces SET rv = ${RV}, body = ${bodyText(w.body)} WHERE name = ${w.name}`),
    ...labelRows(b, namespaceTable.labelKind, '', w.name, w.labels),
  ])
}

/** Deletes a namespace and everything in it, in one batch. */
export function deleteNamespace(b: Batch, name: string, pre?: Precondition): Promise<number> {
  return b.write(b.existing(namespaceTable, '', name, pre), [
    b.deletedIn('Pod', 'pods', name),
    b.deletedIn('Service', 'services', name),
    b.deletedIn('Endpoints', 'user_endpoints', name),
    b.deletedIn('Lease', 'leases', name),
    b.change('Namespace', namespaceTable, '', name, 'DELETED'),
    ...NAMESPACED_TABLES.map((table) => b.run(sql`DELETE FROM ${sql.raw(table)} WHERE namespace = ${name}`)),
    deleteLabels(b, namespaceTable.labelKind, '', name),
    b.run(sql`DELETE FROM namespaces WHERE name = ${name}`),
  ])
}
