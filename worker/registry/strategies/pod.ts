/**
 * The Pod strategy. A workload is its own kubelet: create takes `status` from the body, a
 * replace takes it from the body when the body has one and otherwise keeps the stored
 * status (as Kubernetes keeps it on an update of the main resource), and `/status`
 * changes the status alone. Deleting with a grace period marks the pod terminating first.
 */
import type { PodWrite } from '../../db/store'
import { WEIGHT_ANNOTATION, ZONE_LABEL, buildPod, buildPodSpec, buildPodStatus, isReady, podWeight, validatePod } from '../pod'
import { objectWrite } from '../meta'
import type { PodInput } from '../schemas'
import type { Strategy } from '../strategy'
import type { PodObject } from '../types'
import { canonicalIP } from '../ip-address'
import { LEASE_ANNOTATION, podLease } from '../lease'
import { LEASE_EXPIRED } from '../lease-expiry'
import { ageColumn, nameColumn, type Columns } from '../columns'

/**
 * Kubernetes' pod columns (Nominated Node and Readiness Gates left out: nothing here sets
 * them), and Switchboard's weight and lease in wide output. A registry pod has no container
 * statuses: its containers (at least one: the pod itself) are all ready when the pod is
 * Ready, and none has restarted.
 */
const columns: Columns<PodObject> = [
  nameColumn,
  { name: 'Ready', type: 'string', description: 'The aggregate readiness state of this pod for accepting traffic.', cell: (pod) => readyOf(pod) },
  { name: 'Status', type: 'string', description: 'The aggregate status of the containers in this pod.', cell: (pod) => statusOf(pod) },
  { name: 'Restarts', type: 'string', description: 'The number of times the containers in this pod have been restarted.', cell: () => '0' },
  ageColumn,
  { name: 'IP', type: 'string', priority: 1, description: 'podIP address allocated to the pod.', cell: (pod) => pod.status.podIPs?.[0]?.ip ?? pod.status.podIP ?? '<none>' },
  { name: 'Node', type: 'string', priority: 1, description: 'NodeName is the name of the node the pod runs on.', cell: (pod) => pod.spec.nodeName || '<none>' },
  { name: 'Weight', type: 'integer', priority: 1, description: `The pod's weight in the pick and SRV answers (annotation ${WEIGHT_ANNOTATION}; 0 drains it).`, cell: (pod) => podWeight(pod) },
  { name: 'Lease', type: 'string', priority: 1, description: `The lease that keeps the pod alive (annotation ${LEASE_ANNOTATION}).`, cell: (pod) => podLease(pod.metadata.annotations) ?? '<none>' },
]

function readyOf(pod: PodObject): string {
  const total = Math.max(pod.spec.containers?.length ?? 0, 1)
  return `${isReady(pod) ? total : 0}/${total}`
}

/** The phase, or the status's reason; Terminating once deletion began (unless the pod already ended). */
function statusOf(pod: PodObject): string {
  const ended = pod.status.phase === 'Succeeded' || pod.status.phase === 'Failed'
  if (pod.metadata.deletionTimestamp && !ended) return 'Terminating'
  return pod.status.reason || pod.status.phase
}

export const podStrategy: Strategy<PodObject, PodInput> = {
  create: (input, metadata, clock) =>
    buildPod({ ...metadata, generation: 1 }, buildPodSpec(input), buildPodStatus(input.status, undefined, clock.now())),
  update: (input, metadata, old, clock) =>
    buildPod(metadata, buildPodSpec(input), input.status == null ? old.status : buildPodStatus(input.status, old.status, clock.now())),
  updateStatus: (input, old, clock) => buildPod(old.metadata, old.spec, buildPodStatus(input.status, old.status, clock.now())),
  validate: (pod, old, { addresses }) => validatePod(pod, addresses, old),
  write: ({ store }, pod, old, pre, recordBefore) => store.putPod(podWrite(pod), pre, old ? podWrite(old) : undefined, { recordBefore }),
  remove: ({ store }, namespace, name, pre) => store.deletePod(namespace, name, pre),
  gracePeriod: (pod, requested) => requested ?? pod.spec.terminationGracePeriodSeconds ?? 0,
  columns,
}

/** A pod as the store keeps it: its body and the columns derived from it. */
export function podWrite(pod: PodObject): PodWrite {
  const ports = (pod.spec.containers ?? []).flatMap((c) =>
    (c.ports ?? []).filter((p) => p.name).map((p) => ({ name: p.name!, protocol: p.protocol, port: p.containerPort })),
  )
  return objectWrite(pod, {
    nodeName: pod.spec.nodeName ?? null,
    phase: pod.status.phase,
    podIP: pod.status.podIP ? canonicalIP(pod.status.podIP) : null,
    ready: isReady(pod),
    weight: podWeight(pod),
    deletionTimestamp: pod.metadata.deletionTimestamp ?? null,
    zone: pod.metadata.labels?.[ZONE_LABEL] ?? null,
    lease: podLease(pod.metadata.annotations),
    leaseLapsed: pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'False' && c.reason === LEASE_EXPIRED) ?? false,
    ports: dedupePorts(ports),
  })
}

function dedupePorts<T extends { name: string; protocol: string }>(ports: T[]): T[] {
  const seen = new Set<string>()
  return ports.filter((p) => {
    const key = `${p.name}/${p.protocol}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}
