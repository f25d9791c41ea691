/**
 * The Pod strategy. A workload is its own kubelet: create takes `status` from the body, a
 * replace takes it from the body when the body has one and otherwise keeps the stored
 * status (as Kubernetes keeps it on an update of the main resource), and `/status`
 * changes the status alone. Deleting with a grace period marks the pod terminating first.
 */
import type { PodWrite } from '../../db/store'
import { ZONE_LABEL, buildPod, buildPodSpec, buildPodStatus, isReady, podWeight, validatePod } from '../pod'
import { objectWrite } from '../meta'
import type { PodInput } from '../schemas'
import type { Strategy } from '../strategy'
import type { PodObject } from '../types'
import { canonicalIP } from '../ip-address'
import { podLease } from '../lease'
import { LEASE_EXPIRED } from '../lease-expiry'

export const podStrategy: Strategy<PodObject, PodInput> = {
  create: (input, metadata, clock) =>
    buildPod({ ...metadata, generation: 1 }, buildPodSpec(input), buildPodStatus(input.status, undefined, clock.now())),
  update: (input, metadata, old, clock) =>
    buildPod(metadata, buildPodSpec(input), input.status == null ? old.status : buildPodStatus(input.status, old.status, clock.now())),
  updateStatus: (input, old, clock) => buildPod(old.metadata, old.spec, buildPodStatus(input.status, old.status, clock.now())),
  validate: (pod) => validatePod(pod),
  write: ({ store }, pod, old, pre) => store.putPod(podWrite(pod), pre, old ? podWrite(old) : undefined),
  remove: ({ store }, namespace, name, pre) => store.deletePod(namespace, name, pre),
  gracePeriod: (pod, requested) => requested ?? pod.spec.terminationGracePeriodSeconds ?? 0,
}

/** A pod as the store keeps it: its body and the columns derived from it. */
export function podWrite(pod: PodObject): PodWrite {
  const ports = (pod.spec.containers ?? []).flatMap((c) =>
    (c.ports ?? []).filter((p) => p.name).map((p) => ({ name: p.name!, protocol: p.protocol, port: p.containerPort })),
  )
  return {
    ...objectWrite(pod),
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
  }
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
