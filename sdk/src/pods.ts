/**
 * Pods as workloads write them: a registration (name, IP, labels, ports, readiness,
 * weight, zone) turned into a Pod, created or updated idempotently; readiness through the
 * status subresource; drain by weight 0.
 */
import { AlreadyExistsError, NotFoundError } from './errors.js'
import { request } from './http.js'
import { Resource, type CallOptions } from './resources.js'
import type { Pod, PodInput } from './types.js'

/** What a workload says about itself when it registers. */
export interface PodRegistration {
  name: string
  namespace?: string
  /** The pod's IP (IPv4 or IPv6), or both as a list. */
  ip: string | string[]
  labels?: Record<string, string>
  /** Named ports: `{ http: 8080 }` or `[{ name: 'http', port: 8080, protocol: 'TCP' }]`. */
  ports?: Record<string, number> | { name: string; port: number; protocol?: 'TCP' | 'UDP' | 'SCTP' }[]
  ready?: boolean
  /** 0–65535; 0 drains. Default 1. */
  weight?: number
  nodeName?: string
  zone?: string
}

const WEIGHT_ANNOTATION = 'switchboard.dev/weight'
/** The annotation naming the lease that keeps a pod alive (same namespace). */
export const LEASE_ANNOTATION = 'switchboard.dev/lease'
const ZONE_LABEL = 'topology.kubernetes.io/zone'

export class PodResource extends Resource<Pod, PodInput> {
  /**
   * Creates a pod from a registration, or updates the one that exists (idempotent). On an
   * existing pod only what the registration says is written: its readiness and weight stay
   * as they are unless `ready` or `weight` is given, so registering again does not undo a
   * drain or a readiness someone else set.
   */
  async register(r: PodRegistration, options: CallOptions = {}): Promise<Pod> {
    const call = { ...options, ...(r.namespace ? { namespace: r.namespace } : {}) }
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.patch(r.name, registrationPatch(r), call)
      } catch (e) {
        if (!(e instanceof NotFoundError) || e.body?.details?.kind !== 'pods') throw e
      }
      try {
        return await this.create(podBody(r), call)
      } catch (e) {
        if (!(e instanceof AlreadyExistsError) || attempt >= 3) throw e // created meanwhile: update it
      }
    }
  }

  /** Replaces the pod, or creates it when it does not exist (idempotent). */
  async upsert(body: PodInput, options: CallOptions = {}): Promise<Pod> {
    const name = body.metadata?.name ?? ''
    try {
      return await this.replace(name, body, options)
    } catch (e) {
      if (!(e instanceof NotFoundError) || e.body?.details?.kind !== 'pods') throw e
    }
    try {
      return await this.create(body, options)
    } catch (e) {
      if (e instanceof AlreadyExistsError) return this.replace(name, body, options)
      throw e
    }
  }

  /** Sets the pod's Ready condition through the status subresource. */
  setReady(name: string, ready: boolean, options: CallOptions = {}): Promise<Pod> {
    return request(this.http, 'PATCH', `${this.item(name, options.namespace)}/status`, {
      body: { status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } },
      contentType: 'application/merge-patch+json',
      ...(options.signal ? { signal: options.signal } : {}),
    })
  }

  /**
   * Sets the pod's weight to 0: it stays registered but is never picked or answered in DNS.
   * With `resourceVersion`, only if the pod is still at it (else a `ConflictError`).
   */
  drain(name: string, options: CallOptions & { resourceVersion?: string } = {}): Promise<Pod> {
    const { resourceVersion, ...call } = options
    const metadata = { ...(resourceVersion !== undefined ? { resourceVersion } : {}), annotations: { [WEIGHT_ANNOTATION]: '0' } }
    return this.patch(name, { metadata }, call)
  }
}

/**
 * What a registration owns of an existing pod, as a merge patch: labels, addresses, ports,
 * node and (given one) its lease; not its readiness nor its weight.
 */
export function ownedFields(r: PodRegistration, lease?: string): Record<string, unknown> {
  const body = podBody(r, lease)
  return {
    metadata: { labels: body.metadata?.labels, ...(lease ? { annotations: { [LEASE_ANNOTATION]: lease } } : {}) },
    spec: body.spec,
    status: { podIP: body.status?.podIPs?.[0]?.ip, podIPs: body.status?.podIPs },
  }
}

/** The owned fields, and the readiness and weight the registration gives explicitly. */
function registrationPatch(r: PodRegistration): unknown {
  const patch = ownedFields(r) as { metadata: Record<string, unknown>; status: Record<string, unknown> }
  if (r.weight !== undefined) patch.metadata.annotations = { [WEIGHT_ANNOTATION]: String(r.weight) }
  if (r.ready !== undefined) patch.status.conditions = [{ type: 'Ready', status: r.ready ? 'True' : 'False' }]
  return patch
}

/** The Pod a registration describes; `lease` names the lease that keeps it alive. */
export function podBody(r: PodRegistration, lease?: string): PodInput {
  const ips = Array.isArray(r.ip) ? r.ip : [r.ip]
  const ports = Array.isArray(r.ports)
    ? r.ports.map((p) => ({ name: p.name, containerPort: p.port, protocol: p.protocol ?? 'TCP' }))
    : Object.entries(r.ports ?? {}).map(([name, port]) => ({ name, containerPort: port, protocol: 'TCP' }))
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: r.name,
      labels: { ...(r.labels ?? {}), ...(r.zone ? { [ZONE_LABEL]: r.zone } : {}) },
      annotations: { [WEIGHT_ANNOTATION]: String(r.weight ?? 1), ...(lease ? { [LEASE_ANNOTATION]: lease } : {}) },
    },
    spec: { ...(r.nodeName ? { nodeName: r.nodeName } : {}), ...(ports.length ? { containers: [{ name: 'app', ports }] } : {}) },
    status: {
      podIPs: ips.map((ip) => ({ ip })),
      conditions: [{ type: 'Ready', status: r.ready === false ? 'False' : 'True' }],
    },
  }
}
