/**
 * The Endpoints and EndpointSlice views of the stored endpoint rows. Rows are computed
 * on every write (see db/endpoint-rows.ts); these functions only shape them: slices group
 * endpoints by address type and resolved port list, at most `maxPerSlice` each, and a
 * selector service with no endpoints has one empty slice. Names and UIDs are derived
 * from the service and the port list, so they are stable from read to read.
 *
 * Beyond Kubernetes, every endpoint carries its pod's `weight` (0 = drained).
 */
import type { EndpointRow, EndpointSources, ServiceSourceRow } from '../db/endpoint-reads'
import { legacySubset, withAddressPolicy } from './endpoint-conditions'
import { isServable, type AddressPolicy } from './endpoint-address'
import type { ObjectMetaOut, ServiceObject } from './types'

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name'
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by'
export const HEADLESS_LABEL = 'service.kubernetes.io/headless'
export const CONTROLLER = 'endpointslice-controller.k8s.io'
export const MIRRORING_CONTROLLER = 'endpointslicemirroring-controller.k8s.io'
/** Legacy Endpoints hold at most this many addresses, as in Kubernetes. */
export const MAX_ENDPOINTS_ADDRESSES = 1000

export interface EndpointPort {
  name?: string
  port: number
  protocol: string
  appProtocol?: string
}

export interface SliceEndpoint {
  addresses: string[]
  conditions: { ready: boolean; serving: boolean; terminating: boolean }
  hostname?: string
  targetRef?: { kind: 'Pod'; namespace: string; name: string; uid: string }
  nodeName?: string
  zone?: string
  weight: number
}

export interface EndpointSlice {
  apiVersion: 'discovery.k8s.io/v1'
  kind: 'EndpointSlice'
  metadata: ObjectMetaOut
  addressType: 'IPv4' | 'IPv6'
  endpoints: SliceEndpoint[]
  ports: EndpointPort[]
}

export interface EndpointAddress {
  ip: string
  hostname?: string
  nodeName?: string
  targetRef?: { kind: 'Pod'; namespace: string; name: string; uid: string }
  weight: number
}

export interface EndpointsObject {
  apiVersion: 'v1'
  kind: 'Endpoints'
  metadata: ObjectMetaOut
  subsets: { addresses?: EndpointAddress[]; notReadyAddresses?: EndpointAddress[]; ports?: EndpointPort[] }[]
}

/**
 * The sources with every endpoint at an address the registry may not hand out read as not
 * ready and not serving (see `withAddressPolicy`): in the rows, and in the Endpoints users
 * wrote, where such an address moves from `addresses` to `notReadyAddresses`.
 */
export function withServableAddresses(sources: EndpointSources, policy: AddressPolicy): EndpointSources {
  const servable = (a: EndpointAddress) => isServable(a.ip, policy)
  const user = sources.user.map((u) => {
    const body = u.body as unknown as EndpointsObject
    if ((body.subsets ?? []).every((s) => (s.addresses ?? []).every(servable))) return u
    const subsets = body.subsets.map(({ addresses = [], notReadyAddresses = [], ...rest }) => {
      const ready = addresses.filter(servable)
      const notReady = [...notReadyAddresses, ...addresses.filter((a) => !servable(a))]
      return { ...(ready.length ? { addresses: ready } : {}), ...(notReady.length ? { notReadyAddresses: notReady } : {}), ...rest }
    })
    return { ...u, body: { ...u.body, subsets } }
  })
  return { ...sources, rows: sources.rows.map((r) => withAddressPolicy(r, policy)), user }
}

/** Whether a service's endpoints are computed from its selector. */
export function isComputed(svc: ServiceSourceRow): boolean {
  return svc.computed === 1
}

function serviceOf(row: ServiceSourceRow): ServiceObject {
  return row.body as unknown as ServiceObject
}

function rvOf(svc: ServiceSourceRow): string {
  return String(Math.max(svc.rv, svc.endpoints_rv))
}

function baseLabels(svc: ServiceObject): Record<string, string> {
  const labels = { ...(svc.metadata.labels ?? {}) }
  if (svc.spec.clusterIP === 'None') labels[HEADLESS_LABEL] = ''
  return labels
}

/** The computed EndpointSlices of every service in `sources` (mirrored ones for user-written Endpoints). */
export function buildSlices(sources: EndpointSources, maxPerSlice: number): EndpointSlice[] {
  const rowsBy = groupRows(sources.rows)
  const out: EndpointSlice[] = []
  for (const row of sources.services) {
    const svc = serviceOf(row)
    const rows = rowsBy.get(`${row.namespace}/${row.name}`) ?? []
    if (isComputed(row)) out.push(...slicesOf(svc, rvOf(row), rows, CONTROLLER, maxPerSlice))
    else if (sources.user.some((u) => u.namespace === row.namespace && u.name === row.name)) {
      out.push(...slicesOf(svc, rvOf(row), rows.filter((r) => r.pod === ''), MIRRORING_CONTROLLER, maxPerSlice))
    }
  }
  return out.sort((a, b) => compareSlices(a.metadata, b.metadata))
}

function slicesOf(svc: ServiceObject, rv: string, rows: EndpointRow[], controller: string, max: number): EndpointSlice[] {
  const groups = new Map<string, EndpointRow[]>()
  for (const r of rows) {
    const k = `${r.family}|${r.ports}`
    groups.set(k, [...(groups.get(k) ?? []), r])
  }
  const family = (svc.spec.ipFamilies?.[0] ?? 'IPv4') as 'IPv4' | 'IPv6'
  if (groups.size === 0) groups.set(`${family}|[]`, [])
  const slices: EndpointSlice[] = []
  for (const [k, group] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const [addressType, ports] = splitKey(k)
    const sorted = [...group].sort((a, b) => a.pod.localeCompare(b.pod) || a.ip.localeCompare(b.ip))
    const chunks = sorted.length === 0 ? [[]] : chunk(sorted, max)
    chunks.forEach((part, i) => {
      const name = `${svc.metadata.name}-${hash(`${k}`)}${i ? `-${i}` : ''}`
      slices.push({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name,
          generateName: `${svc.metadata.name}-`,
          namespace: svc.metadata.namespace!,
          uid: uidFrom(`${svc.metadata.uid}/${name}`),
          resourceVersion: rv,
          generation: 1,
          creationTimestamp: svc.metadata.creationTimestamp,
          labels: { ...baseLabels(svc), [SERVICE_NAME_LABEL]: svc.metadata.name, [MANAGED_BY_LABEL]: controller },
          ownerReferences: [
            { apiVersion: 'v1', kind: 'Service', name: svc.metadata.name, uid: svc.metadata.uid, controller: true, blockOwnerDeletion: true },
          ],
        },
        addressType,
        endpoints: part.map(toSliceEndpoint),
        ports: JSON.parse(ports) as EndpointPort[],
      })
    })
  }
  return slices
}

function toSliceEndpoint(r: EndpointRow): SliceEndpoint {
  return {
    addresses: [r.ip],
    conditions: { ready: r.ready === 1, serving: r.serving === 1, terminating: r.terminating === 1 },
    ...(r.hostname ? { hostname: r.hostname } : {}),
    ...(r.pod ? { targetRef: { kind: 'Pod' as const, namespace: r.namespace, name: r.pod, uid: r.pod_uid ?? '' } } : {}),
    ...(r.node_name ? { nodeName: r.node_name } : {}),
    ...(r.zone ? { zone: r.zone } : {}),
    weight: r.weight,
  }
}

/** The computed Endpoints of every selector service in `sources`, and the user-written ones as written. */
export function buildEndpoints(sources: EndpointSources): EndpointsObject[] {
  const rowsBy = groupRows(sources.rows)
  const out: EndpointsObject[] = []
  for (const row of sources.services) {
    if (!isComputed(row)) continue
    out.push(endpointsOf(serviceOf(row), rvOf(row), rowsBy.get(`${row.namespace}/${row.name}`) ?? []))
  }
  for (const u of sources.user) {
    out.push({ ...(u.body as unknown as EndpointsObject), metadata: { ...(u.body.metadata as ObjectMetaOut), resourceVersion: String(u.rv) } })
  }
  return out.sort((a, b) => compareKeys(a.metadata, b.metadata))
}

function endpointsOf(svc: ServiceObject, rv: string, rows: EndpointRow[]): EndpointsObject {
  const hasPorts = (svc.spec.ports?.length ?? 0) > 0
  // Legacy Endpoints leave out terminating pods (unless they count as ready) and pods that match no port.
  let kept = rows.filter((r) => legacySubset(r) !== null && (!hasPorts || r.ports !== '[]'))
  kept.sort((a, b) => compareBytes(a.ip, b.ip) || (a.pod_uid ?? '').localeCompare(b.pod_uid ?? ''))
  const annotations: Record<string, string> = {}
  if (kept.length > MAX_ENDPOINTS_ADDRESSES) {
    kept = kept.slice(0, MAX_ENDPOINTS_ADDRESSES)
    annotations['endpoints.kubernetes.io/over-capacity'] = 'truncated'
  }
  const subsets = new Map<string, { addresses: EndpointAddress[]; notReadyAddresses: EndpointAddress[] }>()
  for (const r of kept) {
    const s = subsets.get(r.ports) ?? { addresses: [], notReadyAddresses: [] }
    const address: EndpointAddress = {
      ip: r.ip,
      ...(r.hostname ? { hostname: r.hostname } : {}),
      ...(r.node_name ? { nodeName: r.node_name } : {}),
      ...(r.pod ? { targetRef: { kind: 'Pod' as const, namespace: r.namespace, name: r.pod, uid: r.pod_uid ?? '' } } : {}),
      weight: r.weight,
    }
    s[legacySubset(r)!].push(address)
    subsets.set(r.ports, s)
  }
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: {
      name: svc.metadata.name,
      namespace: svc.metadata.namespace!,
      uid: uidFrom(`${svc.metadata.uid}/endpoints`),
      resourceVersion: rv,
      creationTimestamp: svc.metadata.creationTimestamp,
      ...(Object.keys(baseLabels(svc)).length ? { labels: baseLabels(svc) } : {}),
      ...(Object.keys(annotations).length ? { annotations } : {}),
    },
    subsets: [...subsets]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([ports, s]) => ({
        ...(s.addresses.length ? { addresses: s.addresses } : {}),
        ...(s.notReadyAddresses.length ? { notReadyAddresses: s.notReadyAddresses } : {}),
        ...(ports !== '[]' ? { ports: JSON.parse(ports) as EndpointPort[] } : {}),
      })),
  }
}

function groupRows(rows: EndpointRow[]): Map<string, EndpointRow[]> {
  const by = new Map<string, EndpointRow[]>()
  for (const r of rows) {
    const k = `${r.namespace}/${r.service}`
    const list = by.get(k)
    if (list) list.push(r)
    else by.set(k, [r])
  }
  return by
}

function splitKey(k: string): ['IPv4' | 'IPv6', string] {
  const i = k.indexOf('|')
  return [k.slice(0, i) as 'IPv4' | 'IPv6', k.slice(i + 1)]
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/** Objects in (namespace, name) order, as the database orders keys (bytewise). */
function compareKeys(a: ObjectMetaOut, b: ObjectMetaOut): number {
  return compareBytes(a.namespace ?? '', b.namespace ?? '') || compareBytes(a.name, b.name)
}

/** Slices in (namespace, service, name) order: a service's slices together, in the order of its key. */
function compareSlices(a: ObjectMetaOut, b: ObjectMetaOut): number {
  return (
    compareBytes(a.namespace ?? '', b.namespace ?? '') ||
    compareBytes(a.labels?.[SERVICE_NAME_LABEL] ?? '', b.labels?.[SERVICE_NAME_LABEL] ?? '') ||
    compareBytes(a.name, b.name)
  )
}

function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** FNV-1a, 32 bits, as 8 hex digits. */
function hash(s: string, seed = 0x811c9dc5): string {
  let h = seed
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h.toString(16).padStart(8, '0')
}

/** A stable UUID-shaped identifier derived from a string. */
function uidFrom(s: string): string {
  const h = [0x811c9dc5, 0x01234567, 0x89abcdef, 0x5bd1e995].map((seed) => hash(s, seed)).join('')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`
}
