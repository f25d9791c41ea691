/**
 * The bodies the benchmarks send and expect, shared by the server and the load generator
 * so both sides agree on them: the constant answer of the ceiling route, and pods with
 * realistic shapes (labels, a zone, a node, named container ports, an IP and a Ready
 * condition), built from an index so that names and IPs are known on both sides; and
 * leases, with pods bound to them.
 */
import { LEASE_ANNOTATION } from '../worker/registry/lease'

/** The answer of GET /bench/constant. */
export const CONSTANT_ANSWER = { kind: 'Constant', apiVersion: 'v1', ok: true }

export interface PodRef {
  name: string
  ip: string
  ready: boolean
}

const ZONES = ['zone-a', 'zone-b', 'zone-c']

/** An IPv4 address from a /8 prefix, a block number and an index: 10.<block + hi>.<mid>.<lo>. */
export function podIP(block: number, i: number): string {
  return `10.${block + (i >>> 16)}.${(i >>> 8) & 255}.${i & 255}`
}

/** The seeded pods: `pod-00000`, `pod-00001`, … in the 10.64.0.0/10 block. */
export function seedRef(i: number): PodRef {
  return { name: `pod-${String(i).padStart(5, '0')}`, ip: podIP(64, i), ready: true }
}

/** A pod body as a workload would register it: running, with an IP, and Ready. */
export function podBody(ref: PodRef, i: number): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: ref.name,
      labels: {
        app: `app-${i % 20}`,
        tier: i % 4 === 0 ? 'frontend' : 'backend',
        'topology.kubernetes.io/zone': ZONES[i % ZONES.length]!,
      },
      ...(i % 10 === 0 ? { annotations: { 'switchboard.dev/weight': '2' } } : {}),
    },
    spec: {
      nodeName: `node-${i % 50}`,
      containers: [
        {
          name: 'main',
          image: 'registry.example/app:1.0',
          ports: [
            { name: 'http', containerPort: 8080 },
            { name: 'metrics', containerPort: 9090 },
          ],
        },
      ],
    },
    status: statusOf(ref),
  }
}

/** Pod `i` with an IP from `ipBlock` and the label `group: g-<i / groupSize>`, so that a service can select a group. */
export function groupedPodBody(i: number, ipBlock: number, groupSize: number): Record<string, unknown> {
  const body = podBody({ name: seedRef(i).name, ip: podIP(ipBlock, i), ready: true }, i)
  const metadata = body.metadata as { labels: Record<string, string> }
  metadata.labels = { ...metadata.labels, group: groupName(Math.floor(i / groupSize)) }
  return body
}

export function groupName(n: number): string {
  return `g-${n}`
}

/** The body of PUT …/pods/{name}/status that sets the pod's Ready condition to `ref.ready`. */
export function statusBody(ref: PodRef): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: ref.name }, status: statusOf(ref) }
}

function statusOf(ref: PodRef): Record<string, unknown> {
  return {
    phase: 'Running',
    podIP: ref.ip,
    conditions: [{ type: 'Ready', status: ref.ready ? 'True' : 'False' }],
  }
}

/** A copy of `items` in a deterministic pseudo-random order. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = items.slice()
  let state = seed >>> 0 || 1
  for (let i = out.length - 1; i > 0; i--) {
    state ^= state << 13
    state ^= state >>> 17
    state ^= state << 5
    const j = (state >>> 0) % (i + 1)
    const t = out[i]!
    out[i] = out[j]!
    out[j] = t
  }
  return out
}

/** The leases of the leases benchmark: `lease-000000`, `lease-000001`, … */
export function leaseName(i: number): string {
  return `lease-${String(i).padStart(6, '0')}`
}

/** Lease `i`, held by its own agent for `durationSeconds` from `renewTime` (a MicroTime). */
export function leaseBody(i: number, renewTime: string, durationSeconds: number): Record<string, unknown> {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: leaseName(i) },
    spec: { holderIdentity: `agent-${i}`, leaseDurationSeconds: durationSeconds, acquireTime: renewTime, renewTime },
  }
}

/** groupedPodBody's pod `i`, bound to the lease `lease` (the annotation switchboard.dev/lease). */
export function leasedPodBody(i: number, ipBlock: number, groupSize: number, lease: string): Record<string, unknown> {
  const body = groupedPodBody(i, ipBlock, groupSize)
  const metadata = body.metadata as { annotations?: Record<string, string> }
  metadata.annotations = { ...metadata.annotations, [LEASE_ANNOTATION]: lease }
  return body
}
