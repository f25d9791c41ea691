/**
 * Pods as the registry keeps them: a name, labels, an IP, optional named container
 * ports, readiness (the Ready condition), an optional node, and a weight carried by
 * the annotation `switchboard.dev/weight` (0–65535, default 1; 0 drains the pod), and
 * optionally the lease that keeps it alive (`switchboard.dev/lease`, see lease.ts).
 *
 * Unlike Kubernetes, where the kubelet owns the status, a workload here registers its
 * own status: create and replace take `status` from the body, and `/status` updates
 * it alone.
 */
import { fieldError, invalid, type FieldError } from './errors'
import { timestamp, validateMeta } from './meta'
import type { PodInput } from './schemas'
import { PROTOCOLS } from './service'
import type { ContainerPortOut, ObjectMetaOut, PodCondition, PodObject, PodPhase, Protocol } from './types'
import { isDns1123Subdomain, isValidPort, validateIanaSvcName, validateName } from './validation'
import { canonicalIP, ipFamily } from './ip-address'
import { validatePodLease } from './lease'
import { validatePodIPs, type AddressPolicy } from './endpoint-address'
import { MAX_CONTAINERS, MAX_CONTAINER_PORTS, MAX_POD_PORTS } from './limits'
import { normalTime, parseRfc3339, timeMessage } from './rfc3339'
import { validateGracePeriod } from './delete-options'
import { ratchet } from './ratchet'

export const WEIGHT_ANNOTATION = 'switchboard.dev/weight'
export const DEFAULT_WEIGHT = 1
export const ZONE_LABEL = 'topology.kubernetes.io/zone'
const PHASES: readonly PodPhase[] = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']
const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const

export function buildPodSpec(input: PodInput): PodObject['spec'] {
  const s = input.spec ?? {}
  const spec: PodObject['spec'] = {}
  if (s.nodeName) spec.nodeName = s.nodeName
  if (s.hostname) spec.hostname = s.hostname
  if (s.subdomain) spec.subdomain = s.subdomain
  if (s.containers?.length) {
    spec.containers = s.containers.map((c) => ({
      ...(c.name ? { name: c.name } : {}),
      ...(c.image ? { image: c.image } : {}),
      ...(c.ports?.length
        ? {
            ports: c.ports.map(
              (p): ContainerPortOut => ({
                ...(p.name ? { name: p.name } : {}),
                containerPort: p.containerPort,
                protocol: (p.protocol || 'TCP') as Protocol,
                ...(p.hostPort ? { hostPort: p.hostPort } : {}),
              }),
            ),
          }
        : {}),
    }))
  }
  if (s.terminationGracePeriodSeconds != null) spec.terminationGracePeriodSeconds = s.terminationGracePeriodSeconds
  return spec
}

/**
 * The status from a body. `podIP` and `podIPs[0]` fill each other; a condition keeps its
 * `lastTransitionTime` while its status is unchanged, and gets `now` when it changes.
 */
export function buildPodStatus(input: PodInput['status'], old: PodObject['status'] | undefined, now: Date): PodObject['status'] {
  const s = input ?? {}
  const status: PodObject['status'] = { phase: (s.phase || 'Running') as PodPhase }
  const ips = s.podIPs?.length ? s.podIPs.map((p) => p.ip) : s.podIP ? [s.podIP] : []
  const podIP = s.podIP || ips[0]
  if (podIP) status.podIP = canonicalIP(podIP) ?? podIP
  if (ips.length) status.podIPs = ips.map((ip) => ({ ip: canonicalIP(ip) ?? ip }))
  if (s.hostIP) status.hostIP = s.hostIP
  if (s.conditions?.length) {
    const previous = new Map<string, PodCondition>()
    for (const o of old?.conditions ?? []) if (!previous.has(o.type)) previous.set(o.type, o)
    status.conditions = s.conditions.map((c): PodCondition => {
      const before = previous.get(c.type)
      // A stored time that is not RFC 3339 (written before times were checked) is not carried on: the change gets `now`.
      const since = before && before.status === c.status && before.lastTransitionTime ? (normalTime(before.lastTransitionTime) ?? undefined) : undefined
      // Times are kept as Kubernetes writes them (UTC, whole seconds); one that is not RFC 3339 is kept as sent for validation to name.
      const time = (t: string) => normalTime(t) ?? t
      return {
        type: c.type,
        status: c.status as PodCondition['status'],
        lastTransitionTime: c.lastTransitionTime != null ? time(c.lastTransitionTime) : (since ?? timestamp(now)),
        ...(c.lastProbeTime ? { lastProbeTime: time(c.lastProbeTime) } : {}),
        ...(c.reason ? { reason: c.reason } : {}),
        ...(c.message ? { message: c.message } : {}),
      }
    })
  }
  if (s.message) status.message = s.message
  if (s.reason) status.reason = s.reason
  return status
}

export function buildPod(metadata: ObjectMetaOut, spec: PodObject['spec'], status: PodObject['status']): PodObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec, status }
}

/** Whether the pod's Ready condition is True. */
export function isReady(pod: PodObject): boolean {
  return pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false
}

/** The pod's weight from its annotation (validated before it is stored). */
export function podWeight(pod: PodObject): number {
  const raw = pod.metadata.annotations?.[WEIGHT_ANNOTATION]
  return raw === undefined ? DEFAULT_WEIGHT : Number(raw)
}

/**
 * Validates a pod; on update (`old`), a value kept as stored is not judged again (see
 * ratchet.ts), so that a pod stored before a rule can still be relabelled, drained or
 * reported ready. The rules that compare the pod's IPs with each other are judged always.
 */
export function validatePod(pod: PodObject, addresses: AddressPolicy, old?: PodObject): void {
  const values: FieldError[] = [
    ...validateMeta(pod.metadata, 'dns1123subdomain'),
    ...validateWeight(pod),
    ...validatePodLease(pod.metadata.annotations),
    ...validateSpec(pod),
    ...validateStatus(pod),
    ...validatePodIPs(pod.status, addresses),
  ]
  const causes = [...ratchet(values, pod, old), ...validatePodIPPair(pod.status)]
  if (causes.length) throw invalid('Pod', pod.metadata.name, causes)
}

function validateWeight(pod: PodObject): FieldError[] {
  const raw = pod.metadata.annotations?.[WEIGHT_ANNOTATION]
  if (raw === undefined) return []
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535) {
    return [fieldError.invalid(`metadata.annotations[${WEIGHT_ANNOTATION}]`, raw, 'must be an integer from 0 to 65535')]
  }
  return []
}

function validateSpec(pod: PodObject): FieldError[] {
  const s = pod.spec
  const out: FieldError[] = []
  if (s.nodeName && !isDns1123Subdomain(s.nodeName)) {
    out.push(fieldError.invalid('spec.nodeName', s.nodeName, 'must be a lowercase RFC 1123 subdomain'))
  }
  if (s.hostname) out.push(...validateName('dns1123label', s.hostname, 'spec.hostname'))
  if (s.subdomain) out.push(...validateName('dns1123label', s.subdomain, 'spec.subdomain'))
  if (s.terminationGracePeriodSeconds !== undefined) out.push(...validateGracePeriod(s.terminationGracePeriodSeconds, 'spec.terminationGracePeriodSeconds'))
  const containers = s.containers ?? []
  // Past a count limit a list is refused whole, without an error per item.
  if (containers.length > MAX_CONTAINERS) return [...out, fieldError.tooMany('spec.containers', MAX_CONTAINERS, containers.length)]
  const portCount = containers.reduce((n, c) => n + (c.ports?.length ?? 0), 0)
  if (portCount > MAX_POD_PORTS) out.push(fieldError.tooMany('spec.containers[*].ports', MAX_POD_PORTS, portCount))
  const containerNames = new Set<string>()
  containers.forEach((c, i) => {
    const f = `spec.containers[${i}]`
    out.push(...validateName('dns1123label', c.name, `${f}.name`)) // a container, when given, needs a name
    if (c.name) {
      if (containerNames.has(c.name)) out.push(fieldError.duplicate(`${f}.name`, c.name))
      containerNames.add(c.name)
    }
    if ((c.ports?.length ?? 0) > MAX_CONTAINER_PORTS) {
      out.push(fieldError.tooMany(`${f}.ports`, MAX_CONTAINER_PORTS, c.ports!.length))
      return
    }
    if (portCount > MAX_POD_PORTS) return
    const portNames = new Set<string>()
    c.ports?.forEach((p, j) => {
      const pf = `${f}.ports[${j}]`
      if (!isValidPort(p.containerPort)) {
        out.push(fieldError.invalid(`${pf}.containerPort`, p.containerPort, 'must be between 1 and 65535, inclusive'))
      }
      if (p.hostPort !== undefined && !isValidPort(p.hostPort)) {
        out.push(fieldError.invalid(`${pf}.hostPort`, p.hostPort, 'must be between 1 and 65535, inclusive'))
      }
      if (!PROTOCOLS.includes(p.protocol)) out.push(fieldError.notSupported(`${pf}.protocol`, p.protocol, PROTOCOLS))
      if (p.name !== undefined) {
        out.push(...validateIanaSvcName(p.name, `${pf}.name`))
        if (portNames.has(p.name)) out.push(fieldError.duplicate(`${pf}.name`, p.name))
        portNames.add(p.name)
      }
    })
  })
  return out
}

function validateStatus(pod: PodObject): FieldError[] {
  const s = pod.status
  const out: FieldError[] = []
  if (!PHASES.includes(s.phase)) out.push(fieldError.notSupported('status.phase', s.phase, PHASES))
  if (s.podIP && !canonicalIP(s.podIP)) out.push(fieldError.invalid('status.podIP', s.podIP, 'must be a valid IP address'))
  const ips = s.podIPs ?? []
  if (ips.length > 2) out.push(fieldError.tooMany('status.podIPs', 2, ips.length))
  ips.forEach((p, i) => {
    if (!canonicalIP(p.ip)) out.push(fieldError.invalid(`status.podIPs[${i}].ip`, p.ip, 'must be a valid IP address'))
  })
  if (s.hostIP && !canonicalIP(s.hostIP)) out.push(fieldError.invalid('status.hostIP', s.hostIP, 'must be a valid IP address'))
  const types = new Set<string>()
  s.conditions?.forEach((c, i) => {
    if (!c.type) out.push(fieldError.required(`status.conditions[${i}].type`))
    if (types.has(c.type)) out.push(fieldError.duplicate(`status.conditions[${i}].type`, c.type))
    types.add(c.type)
    if (!CONDITION_STATUSES.includes(c.status)) {
      out.push(fieldError.notSupported(`status.conditions[${i}].status`, c.status, CONDITION_STATUSES))
    }
    for (const field of ['lastTransitionTime', 'lastProbeTime'] as const) {
      const value = c[field]
      if (value !== undefined && parseRfc3339(value) === null) out.push(fieldError.invalid(`status.conditions[${i}].${field}`, value, timeMessage()))
    }
  })
  return out
}

/** The rules that compare the pod's IPs with each other: podIPs[0] repeats podIP, and a second IP is of the other family. */
function validatePodIPPair(s: PodObject['status']): FieldError[] {
  const ips = s.podIPs ?? []
  const out: FieldError[] = []
  if (s.podIP && ips[0] && ips[0].ip !== s.podIP) {
    out.push(fieldError.invalid('status.podIPs[0].ip', ips[0].ip, 'must match status.podIP'))
  }
  if (ips.length === 2 && ipFamily(ips[0]!.ip) && ipFamily(ips[0]!.ip) === ipFamily(ips[1]!.ip)) {
    out.push(fieldError.invalid('status.podIPs[1].ip', ips[1]!.ip, 'expected an IP of the other family'))
  }
  return out
}
