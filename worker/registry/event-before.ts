/**
 * Whether a MODIFIED event needs the object as it was before. The followers of the change
 * log read the object before only to see a transition: a watch judges an object by its
 * labels and the fields its kind's field selectors read (watch-scope.ts, watch-events.ts),
 * and the discovery cache drops the entries of a pod's addresses (discovery-cache.ts). When
 * none of those differ between the two states, a follower judges the event by the object
 * as written alone, so the log records no copy of the object before: a readiness flip, the
 * most frequent write, logs one object instead of two. Pods, leases and namespaces follow
 * this; a service's write (its ClusterIP and node ports are allocated inside the strategy,
 * after this judgement) and a user Endpoints' (the cache keys its addresses) always record it.
 */
import { sameJson } from '../json'
import { podAddresses } from './discovery-cache'
import type { KindInfo } from './kind-info'
import { selectedFields } from './watch-scope'

type Obj = { metadata?: { labels?: Record<string, string> | null } }

/** Whether every follower of the log judges `before` and `after` alike (then the event needs no object before). */
export function judgedAlike(kind: Pick<KindInfo, 'kind' | 'fieldSelectors'>, before: Obj, after: Obj): boolean {
  if (!sameJson(before.metadata?.labels ?? {}, after.metadata?.labels ?? {})) return false
  if (!sameJson(selectedFields(kind, before), selectedFields(kind, after))) return false
  return kind.kind !== 'Pod' || sameJson(podAddresses(before as Record<string, unknown>), podAddresses(after as Record<string, unknown>))
}
