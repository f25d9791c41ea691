/**
 * Endpoints objects users write for selectorless services, kept as written, with the
 * endpoint rows they stand for.
 */
import { sql } from '../sql'
import { bodyText, RV, type Batch, type Precondition } from '../batch'
import { manualEndpoints, type ManualEndpoint } from '../endpoint-rows'
import { userEndpointsTable } from '../tables'

export interface UserEndpointsWrite {
  namespace: string
  name: string
  uid: string
  body: Record<string, unknown>
  rows: ManualEndpoint[]
}

/**
 * Writes an Endpoints object for a selectorless service. Fails with `conflict` when a
 * service of that name has a selector (its endpoints are computed) or when the stored
 * object is not at the expected resourceVersion.
 */
export function putUserEndpoints(b: Batch, w: UserEndpointsWrite, pre: Precondition): Promise<number> {
  const { namespace: ns, name } = w
  return b.write(
    [
      ...b.precondition(userEndpointsTable, ns, name, pre),
      b.guard('conflict', sql`EXISTS (SELECT 1 FROM services WHERE namespace = ${ns} AND name = ${name} AND selector_size > 0)`),
    ],
    [
      b.change('Endpoints', userEndpointsTable, ns, name, pre === 'create' ? 'ADDED' : 'MODIFIED', w.body),
      b.run(sql`
        INSERT INTO user_endpoints (namespace, name, uid, rv, body) VALUES (${ns}, ${name}, ${w.uid}, ${RV}, ${bodyText(w.body)})
        ON CONFLICT (namespace, name) DO UPDATE SET uid = excluded.uid, rv = excluded.rv, body = excluded.body`),
      ...manualEndpoints(ns, name, w.rows).map((q) => b.run(q)),
    ],
  )
}

export function deleteUserEndpoints(b: Batch, namespace: string, name: string, pre?: Precondition): Promise<number> {
  return b.write(b.existing(userEndpointsTable, namespace, name, pre), [
    b.change('Endpoints', userEndpointsTable, namespace, name, 'DELETED'),
    b.run(sql`DELETE FROM user_endpoints WHERE namespace = ${namespace} AND name = ${name}`),
    ...manualEndpoints(namespace, name, []).map((q) => b.run(q)),
  ])
}
