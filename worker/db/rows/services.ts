/**
 * Service rows, with their selector pairs, ports and allocated ClusterIPs and NodePorts;
 * every service write recomputes the service's endpoints in the same batch.
 */
import { sql } from '../sql'
import type { Database } from '../client'
import { bodyText, RV, type Batch, type Precondition } from '../batch'
import { endpointChanges, serviceEndpoints, serviceGone } from '../endpoint-rows'
import { serviceTable, type ObjectWrite } from '../tables'
import { deleteRows, replaceRows } from './child-rows'
import { deleteLabels, labelRows } from './labels'

export interface ServicePortRow {
  name: string
  protocol: string
  port: number
  targetPort: number | null
  targetPortName: string | null
  appProtocol: string | null
}

export interface ServiceWrite extends ObjectWrite {
  namespace: string
  type: string
  clusterIP: string | null
  /** IPs this service holds in the allocator (empty for headless and ExternalName). */
  allocatedIPs: string[]
  nodePorts: number[]
  selector: Record<string, string>
  publishNotReady: boolean
  ports: ServicePortRow[]
}

/** The tables of a service's own rows besides `services` and `labels`. */
const CHILD_TABLES = ['selectors', 'service_ports', 'cluster_ips', 'node_ports']

export function putService(b: Batch, w: ServiceWrite, pre: Precondition): Promise<number> {
  const { namespace: ns, name } = w
  const child = (table: string, columns: string[], rows: unknown[][]) => replaceRows(b, table, ns, 'service', name, columns, rows)
  return b.write(b.precondition(serviceTable, ns, name, pre), [
    b.change('Service', serviceTable, ns, name, pre === 'create' ? 'ADDED' : 'MODIFIED', w.body),
    b.run(sql`
      INSERT INTO services (namespace, name, uid, rv, type, cluster_ip, selector_size, publish_not_ready, body)
      VALUES (${ns}, ${name}, ${w.uid}, ${RV}, ${w.type}, ${w.clusterIP}, ${Object.keys(w.selector).length},
              ${w.publishNotReady ? 1 : 0}, ${bodyText(w.body)})
      ON CONFLICT (namespace, name) DO UPDATE SET uid = excluded.uid, rv = excluded.rv, type = excluded.type,
        cluster_ip = excluded.cluster_ip, selector_size = excluded.selector_size,
        publish_not_ready = excluded.publish_not_ready, body = excluded.body`),
    ...child('selectors', ['key', 'value'], Object.entries(w.selector)),
    ...child(
      'service_ports',
      ['idx', 'name', 'protocol', 'port', 'target_port', 'target_port_name', 'app_protocol'],
      w.ports.map((p, i) => [i, p.name, p.protocol, p.port, p.targetPort, p.targetPortName, p.appProtocol]),
    ),
    ...child('cluster_ips', ['ip'], w.allocatedIPs.map((ip) => [ip])),
    ...child('node_ports', ['port'], w.nodePorts.map((p) => [p])),
    ...labelRows(b, serviceTable.labelKind, ns, name, w.labels),
    ...serviceEndpoints(ns, name, Object.keys(w.selector).length > 0).map((q) => b.run(q)),
    b.run(endpointChanges(ns, b.at(), b.actor)),
  ])
}

export function deleteService(b: Batch, namespace: string, name: string, pre?: Precondition): Promise<number> {
  return b.write(b.existing(serviceTable, namespace, name, pre), [
    b.change('Service', serviceTable, namespace, name, 'DELETED'),
    ...CHILD_TABLES.map((table) => deleteRows(b, table, namespace, 'service', name)),
    deleteLabels(b, serviceTable.labelKind, namespace, name),
    b.run(sql`DELETE FROM services WHERE namespace = ${namespace} AND name = ${name}`),
    ...serviceGone(namespace, name).map((q) => b.run(q)),
  ])
}

export async function usedNodePorts(db: Database): Promise<number[]> {
  const rows = await db.all<{ port: number }>(sql`SELECT port FROM node_ports`)
  return rows.map((r) => Number(r.port))
}

export async function usedClusterIPs(db: Database): Promise<string[]> {
  const rows = await db.all<{ ip: string }>(sql`SELECT ip FROM cluster_ips`)
  return rows.map((r) => r.ip)
}
