/**
 * Endpoints recomputed from scratch, from the Kubernetes rules of the EndpointSlice
 * controller, and the same shape read back from what a server serves. Both sides become
 * sorted lists of flat tuples (one per service, pod and IP), so that a test compares them
 * with one `toEqual` and reads any difference directly.
 *
 * The recomputation takes the served services and pods only: which pods a service
 * selects, which IPs count, the three conditions, the weight, hostname, node, zone and
 * the resolved ports all follow from those objects.
 *
 * The second half is the workload the endpoint tests drive: random creates, replaces,
 * patches and deletes of pods and services over a small universe of names, labels and
 * ports, so that selectors, readiness and named ports keep changing under each other.
 */
import fc from 'fast-check'
import { authHeaders } from './auth'

/** Sends a request to the registry under test: a server's URL, or an app in this process. */
export type Fetcher = (path: string, init?: RequestInit) => Promise<Response>

/** A fetcher for a server listening at `url`. */
export function urlFetcher(url: string): Fetcher {
  return (path, init) => fetch(`${url}${path}`, init)
}

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name'
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by'
export const CONTROLLER = 'endpointslice-controller.k8s.io'
export const ZONE_LABEL = 'topology.kubernetes.io/zone'
export const WEIGHT_ANNOTATION = 'switchboard.dev/weight'

// ---------------------------------------------------------------------------------------------
// The objects as served (only the fields the endpoint rules read)

interface Meta {
  name: string
  namespace?: string
  uid?: string
  resourceVersion?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  deletionTimestamp?: string
  ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[]
}

export interface ServicePortJson {
  name?: string
  protocol?: string
  appProtocol?: string
  port: number
  targetPort?: number | string
}

export interface ServiceJson {
  metadata: Meta
  spec: {
    type?: string
    selector?: Record<string, string>
    ports?: ServicePortJson[]
    publishNotReadyAddresses?: boolean
    clusterIP?: string
  }
}

export interface PodJson {
  metadata: Meta
  spec?: {
    nodeName?: string
    hostname?: string
    subdomain?: string
    containers?: { name?: string; ports?: { name?: string; containerPort: number; protocol?: string }[] }[]
  }
  status?: {
    phase?: string
    podIP?: string
    podIPs?: { ip: string }[]
    conditions?: { type: string; status: string }[]
  }
}

export interface PortJson {
  name?: string
  port: number
  protocol?: string
  appProtocol?: string
}

export interface SliceEndpointJson {
  addresses: string[]
  conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean }
  hostname?: string
  targetRef?: { kind?: string; namespace?: string; name?: string; uid?: string }
  nodeName?: string
  zone?: string
  weight?: number
}

export interface SliceJson {
  metadata: Meta
  addressType: string
  endpoints: SliceEndpointJson[] | null
  ports: PortJson[] | null
}

export interface EndpointAddressJson {
  ip: string
  hostname?: string
  nodeName?: string
  targetRef?: { kind?: string; namespace?: string; name?: string; uid?: string }
  weight?: number
}

export interface EndpointsJson {
  metadata: Meta
  subsets?: { addresses?: EndpointAddressJson[]; notReadyAddresses?: EndpointAddressJson[]; ports?: PortJson[] }[] | null
}

// ---------------------------------------------------------------------------------------------
// The tuples both sides are reduced to

export interface PortTuple {
  name: string
  port: number
  protocol: string
  appProtocol?: string
}

/** One endpoint: a (service, pod, IP) with everything an EndpointSlice says about it. */
export interface EndpointTuple {
  namespace: string
  service: string
  pod: string
  ip: string
  addressType: string
  ready: boolean
  serving: boolean
  terminating: boolean
  weight: number
  hostname: string | null
  nodeName: string | null
  zone: string | null
  /** In the order of the service's ports. */
  ports: PortTuple[]
}

/** One address of a legacy Endpoints object; `ports` sorted, as subset order carries no meaning. */
export interface AddressTuple {
  namespace: string
  service: string
  pod: string | null
  ip: string
  ready: boolean
  hostname: string | null
  nodeName: string | null
  weight: number
  ports: PortTuple[]
}

/** Whether the endpoint controller manages a service's endpoints: a non-empty selector, not ExternalName. */
export function isSelectorService(svc: ServiceJson): boolean {
  return Object.keys(svc.spec.selector ?? {}).length > 0 && svc.spec.type !== 'ExternalName'
}

function familyOf(ip: string): 'IPv4' | 'IPv6' {
  return ip.includes(':') ? 'IPv6' : 'IPv4'
}

// ---------------------------------------------------------------------------------------------
// The recomputation

/** The endpoints every selector service should have, from the services and pods alone. */
export function expectedEndpoints(services: ServiceJson[], pods: PodJson[]): EndpointTuple[] {
  const out: EndpointTuple[] = []
  for (const svc of services) {
    if (!isSelectorService(svc)) continue
    const namespace = svc.metadata.namespace ?? ''
    const selector = svc.spec.selector ?? {}
    for (const pod of pods) {
      if ((pod.metadata.namespace ?? '') !== namespace) continue
      const labels = pod.metadata.labels ?? {}
      if (!Object.entries(selector).every(([k, v]) => Object.hasOwn(labels, k) && labels[k] === v)) continue
      const phase = pod.status?.phase
      if (phase === 'Succeeded' || phase === 'Failed') continue
      const ips = pod.status?.podIPs?.length ? pod.status.podIPs.map((p) => p.ip) : pod.status?.podIP ? [pod.status.podIP] : []
      if (ips.length === 0) continue
      const serving = (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
      const terminating = Boolean(pod.metadata.deletionTimestamp)
      const ready = svc.spec.publishNotReadyAddresses === true || (serving && !terminating)
      const rawWeight = pod.metadata.annotations?.[WEIGHT_ANNOTATION]
      const weight = rawWeight === undefined ? 1 : Number(rawWeight)
      const hostname = pod.spec?.subdomain === svc.metadata.name && pod.spec?.hostname ? pod.spec.hostname : null
      const ports = resolvePorts(svc.spec.ports ?? [], pod)
      for (const ip of ips) {
        out.push({
          namespace,
          service: svc.metadata.name,
          pod: pod.metadata.name,
          ip,
          addressType: familyOf(ip),
          ready,
          serving,
          terminating,
          weight,
          hostname,
          nodeName: pod.spec?.nodeName || null,
          zone: labels[ZONE_LABEL] || null,
          ports,
        })
      }
    }
  }
  return sortEndpoints(out)
}

/**
 * The service's ports as one pod serves them: a numeric targetPort as is, a named one
 * resolved to the first container port with that name and protocol, or left out.
 */
function resolvePorts(ports: ServicePortJson[], pod: PodJson): PortTuple[] {
  const out: PortTuple[] = []
  for (const p of ports) {
    const protocol = p.protocol ?? 'TCP'
    const target = p.targetPort ?? p.port
    let port: number | undefined
    if (typeof target === 'number') port = target
    else {
      for (const c of pod.spec?.containers ?? []) {
        const found = (c.ports ?? []).find((cp) => cp.name === target && (cp.protocol ?? 'TCP') === protocol)
        if (found) {
          port = found.containerPort
          break
        }
      }
    }
    if (port === undefined) continue
    out.push({ name: p.name ?? '', port, protocol, ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}) })
  }
  return out
}

/** The addresses the legacy Endpoints should hold, from the expected endpoints. */
export function expectedAddresses(services: ServiceJson[], endpoints: EndpointTuple[]): AddressTuple[] {
  const portless = new Set(
    services.filter((s) => (s.spec.ports ?? []).length === 0).map((s) => `${s.metadata.namespace ?? ''}/${s.metadata.name}`),
  )
  const out: AddressTuple[] = []
  for (const e of endpoints) {
    // Terminating pods are left out unless they count as ready; so is a pod matching none of the ports.
    if (!e.ready && e.terminating) continue
    if (e.ports.length === 0 && !portless.has(`${e.namespace}/${e.service}`)) continue
    out.push({
      namespace: e.namespace,
      service: e.service,
      pod: e.pod,
      ip: e.ip,
      ready: e.ready,
      hostname: e.hostname,
      nodeName: e.nodeName,
      weight: e.weight,
      ports: sortPorts(e.ports),
    })
  }
  return sortAddresses(out)
}

// ---------------------------------------------------------------------------------------------
// What the server serves, flattened, with the slice-level rules checked on the way

/**
 * Every endpoint of every served EndpointSlice as a tuple, and the broken slice rules:
 * labels, owner, size, address family, duplicates, and one slice at least per selector
 * service (a single empty one when it has no endpoints). Meant for namespaces where no
 * user writes Endpoints, so every slice must belong to a selector service.
 */
export function servedEndpoints(
  services: ServiceJson[],
  slices: SliceJson[],
  maxPerSlice: number,
): { endpoints: EndpointTuple[]; problems: string[] } {
  const problems: string[] = []
  const byKey = new Map(services.map((s) => [`${s.metadata.namespace ?? ''}/${s.metadata.name}`, s]))
  const slicesOf = new Map<string, SliceJson[]>()
  const seen = new Set<string>()
  const names = new Set<string>()
  const out: EndpointTuple[] = []
  for (const slice of slices) {
    const namespace = slice.metadata.namespace ?? ''
    const id = `slice ${namespace}/${slice.metadata.name}`
    if (names.has(`${namespace}/${slice.metadata.name}`)) problems.push(`${id}: name served twice`)
    names.add(`${namespace}/${slice.metadata.name}`)
    const service = slice.metadata.labels?.[SERVICE_NAME_LABEL]
    if (!service) {
      problems.push(`${id}: no ${SERVICE_NAME_LABEL} label`)
      continue
    }
    if (slice.metadata.labels?.[MANAGED_BY_LABEL] !== CONTROLLER) {
      problems.push(`${id}: ${MANAGED_BY_LABEL} is ${JSON.stringify(slice.metadata.labels?.[MANAGED_BY_LABEL])}`)
    }
    const svc = byKey.get(`${namespace}/${service}`)
    const owner = slice.metadata.ownerReferences?.[0]
    if (!owner || owner.kind !== 'Service' || owner.name !== service || (svc && owner.uid !== svc.metadata.uid)) {
      problems.push(`${id}: ownerReferences[0] ${JSON.stringify(owner)} does not name service ${service}`)
    }
    if (!svc) problems.push(`${id}: service ${service} does not exist`)
    else if (!isSelectorService(svc)) problems.push(`${id}: service ${service} has no selector or is ExternalName`)
    slicesOf.set(`${namespace}/${service}`, [...(slicesOf.get(`${namespace}/${service}`) ?? []), slice])
    const endpoints = slice.endpoints ?? []
    if (endpoints.length > maxPerSlice) problems.push(`${id}: ${endpoints.length} endpoints, more than ${maxPerSlice}`)
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') problems.push(`${id}: addressType ${slice.addressType}`)
    const ports = (slice.ports ?? []).map((p) => ({
      name: p.name as string,
      port: p.port,
      protocol: p.protocol as string,
      ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
    }))
    for (const e of endpoints) {
      if (e.addresses.length !== 1) problems.push(`${id}: endpoint with ${e.addresses.length} addresses ${JSON.stringify(e.addresses)}`)
      const ip = e.addresses[0] ?? ''
      if (familyOf(ip) !== slice.addressType) problems.push(`${id}: address ${ip} in a slice of type ${slice.addressType}`)
      const c = e.conditions ?? {}
      if (typeof c.ready !== 'boolean' || typeof c.serving !== 'boolean' || typeof c.terminating !== 'boolean') {
        problems.push(`${id}: conditions of ${ip} not all explicit booleans: ${JSON.stringify(c)}`)
      }
      if (e.targetRef?.kind !== 'Pod' || e.targetRef.namespace !== namespace || !e.targetRef.name) {
        problems.push(`${id}: targetRef of ${ip} is ${JSON.stringify(e.targetRef)}`)
      }
      const pod = e.targetRef?.name ?? ''
      const key = `${namespace}/${service}/${pod}/${ip}`
      if (seen.has(key)) problems.push(`${id}: endpoint ${key} served twice`)
      seen.add(key)
      out.push({
        namespace,
        service,
        pod,
        ip,
        addressType: slice.addressType,
        ready: c.ready ?? true,
        serving: c.serving ?? true,
        terminating: c.terminating ?? false,
        weight: e.weight as number,
        hostname: e.hostname ?? null,
        nodeName: e.nodeName ?? null,
        zone: e.zone ?? null,
        ports,
      })
    }
  }
  for (const svc of services) {
    if (!isSelectorService(svc)) continue
    const key = `${svc.metadata.namespace ?? ''}/${svc.metadata.name}`
    const own = slicesOf.get(key) ?? []
    const empty = own.filter((s) => (s.endpoints ?? []).length === 0)
    if (own.length === 0) problems.push(`service ${key}: no EndpointSlice`)
    else if (empty.length === own.length && own.length > 1) problems.push(`service ${key}: ${own.length} empty slices, not one placeholder`)
    else if (empty.length > 0 && empty.length < own.length) problems.push(`service ${key}: an empty slice beside slices with endpoints`)
    for (const s of empty) {
      if ((s.ports ?? []).length > 0) problems.push(`service ${key}: placeholder slice ${s.metadata.name} has ports`)
    }
  }
  return { endpoints: sortEndpoints(out), problems }
}

/**
 * Every address of the served Endpoints of the selector services, and the broken rules:
 * one Endpoints per selector service and none for any other name (no user writes any).
 */
export function servedAddresses(services: ServiceJson[], endpoints: EndpointsJson[]): { addresses: AddressTuple[]; problems: string[] } {
  const problems: string[] = []
  const selectorServices = new Set(services.filter(isSelectorService).map((s) => `${s.metadata.namespace ?? ''}/${s.metadata.name}`))
  const found = new Set<string>()
  const out: AddressTuple[] = []
  for (const ep of endpoints) {
    const namespace = ep.metadata.namespace ?? ''
    const key = `${namespace}/${ep.metadata.name}`
    if (!selectorServices.has(key)) {
      problems.push(`Endpoints ${key}: no selector service of that name`)
      continue
    }
    if (found.has(key)) problems.push(`Endpoints ${key}: served twice`)
    found.add(key)
    for (const subset of ep.subsets ?? []) {
      const ports = sortPorts(
        (subset.ports ?? []).map((p) => ({
          name: p.name as string,
          port: p.port,
          protocol: p.protocol as string,
          ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
        })),
      )
      const add = (a: EndpointAddressJson, ready: boolean) =>
        out.push({
          namespace,
          service: ep.metadata.name,
          pod: a.targetRef?.name ?? null,
          ip: a.ip,
          ready,
          hostname: a.hostname ?? null,
          nodeName: a.nodeName ?? null,
          weight: a.weight as number,
          ports,
        })
      for (const a of subset.addresses ?? []) add(a, true)
      for (const a of subset.notReadyAddresses ?? []) add(a, false)
    }
  }
  for (const key of selectorServices) if (!found.has(key)) problems.push(`service ${key}: no Endpoints`)
  return { addresses: sortAddresses(out), problems }
}

// ---------------------------------------------------------------------------------------------
// Comparing

/** The lines on which two sorted tuple lists differ: `- ` expected but not served, `+ ` served but not expected. */
export function diffTuples<T>(expected: T[], served: T[]): string[] {
  const count = new Map<string, number>()
  for (const t of expected) count.set(JSON.stringify(t), (count.get(JSON.stringify(t)) ?? 0) + 1)
  const extra: string[] = []
  for (const t of served) {
    const k = JSON.stringify(t)
    const n = count.get(k) ?? 0
    if (n > 0) count.set(k, n - 1)
    else extra.push(`+ ${k}`)
  }
  const missing = [...count].flatMap(([k, n]) => Array.from({ length: n }, () => `- ${k}`))
  return [...missing, ...extra].sort((a, b) => a.slice(2).localeCompare(b.slice(2)) || a.localeCompare(b))
}

export interface Snapshot {
  resourceVersion: string
  services: ServiceJson[]
  pods: PodJson[]
  slices: SliceJson[]
  endpoints: EndpointsJson[]
}

/**
 * Services, pods, EndpointSlices and Endpoints (of one namespace, or all), read until the
 * four lists were served at the same resourceVersion: no write fell between them.
 */
export async function snapshot(fetcher: Fetcher, namespace?: string): Promise<Snapshot> {
  const core = namespace === undefined ? '/api/v1' : `/api/v1/namespaces/${namespace}`
  const discovery = namespace === undefined ? '/apis/discovery.k8s.io/v1' : `/apis/discovery.k8s.io/v1/namespaces/${namespace}`
  for (let attempt = 0; attempt < 50; attempt++) {
    const lists = await Promise.all(
      [`${core}/services`, `${core}/pods`, `${discovery}/endpointslices`, `${core}/endpoints`].map(async (u) => {
        const res = await fetcher(u, { headers: authHeaders() })
        const body = (await res.json()) as { metadata: { resourceVersion: string }; items: unknown[] }
        if (res.status !== 200) throw new Error(`GET ${u}: ${res.status} ${JSON.stringify(body)}`)
        return body
      }),
    )
    const rvs = new Set(lists.map((l) => l.metadata.resourceVersion))
    if (rvs.size === 1) {
      const [services, pods, slices, endpoints] = lists
      return {
        resourceVersion: services!.metadata.resourceVersion,
        services: services!.items as ServiceJson[],
        pods: pods!.items as PodJson[],
        slices: slices!.items as SliceJson[],
        endpoints: endpoints!.items as EndpointsJson[],
      }
    }
  }
  throw new Error('the lists never came from one resourceVersion')
}

export interface Comparison {
  problems: string[]
  endpoints: string[]
  addresses: string[]
}

/**
 * Served against recomputed: broken slice and Endpoints rules, and the differing endpoint
 * and address tuples. All three lists are empty when the server is right.
 */
export function compare(s: Snapshot, maxPerSlice: number): Comparison {
  const expected = expectedEndpoints(s.services, s.pods)
  const served = servedEndpoints(s.services, s.slices, maxPerSlice)
  const legacy = servedAddresses(s.services, s.endpoints)
  return {
    problems: [...served.problems, ...legacy.problems],
    endpoints: diffTuples(expected, served.endpoints),
    addresses: diffTuples(expectedAddresses(s.services, expected), legacy.addresses),
  }
}

function sortPorts(ports: PortTuple[]): PortTuple[] {
  return [...ports].sort((a, b) => a.name.localeCompare(b.name) || a.port - b.port || a.protocol.localeCompare(b.protocol))
}

function sortEndpoints(list: EndpointTuple[]): EndpointTuple[] {
  const key = (e: EndpointTuple) => `${e.namespace}/${e.service}/${e.pod}/${e.ip}`
  return list.sort((a, b) => key(a).localeCompare(key(b)) || JSON.stringify(a).localeCompare(JSON.stringify(b)))
}

function sortAddresses(list: AddressTuple[]): AddressTuple[] {
  const key = (e: AddressTuple) => `${e.namespace}/${e.service}/${e.pod ?? ''}/${e.ip}`
  return list.sort((a, b) => key(a).localeCompare(key(b)) || JSON.stringify(a).localeCompare(JSON.stringify(b)))
}

// ---------------------------------------------------------------------------------------------
// The workload

export const POD_NAMES = Array.from({ length: 12 }, (_, i) => `pod-${String.fromCharCode(97 + i)}`)
export const SERVICE_NAMES = ['svc-a', 'svc-b', 'svc-c'] as const
/** Skewed towards one value so that selectors match several pods and slices fill up. */
const APPS = ['web', 'web', 'web', 'api', 'db'] as const
const TIERS = ['front', 'back'] as const
const ZONES = ['zone-a', 'zone-b'] as const
/** Pods are deleted gracefully with a period long enough that none ends during a test. */
export const GRACE_SECONDS = 3600

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

export type Command =
  | { op: 'createPod' | 'replacePod'; name: string; body: Json }
  | { op: 'patchPod' | 'patchPodStatus'; name: string; patch: Json }
  | { op: 'deletePod'; name: string; grace: number | null }
  | { op: 'createService' | 'replaceService'; name: string; body: Json }
  | { op: 'patchService'; name: string; patch: Json }
  | { op: 'deleteService'; name: string }

export type Step = Command | { op: 'burst'; commands: Command[] }

/** A value, or `undefined` (left out) once in `freq` times. */
const opt = <T>(arb: fc.Arbitrary<T>, freq = 2) => fc.option(arb, { nil: undefined, freq })

/** Absent keys are left out; the rest become a JSON object. */
function compact(o: Record<string, Json | undefined>): { [key: string]: Json } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as { [key: string]: Json }
}

const labelsArb = fc
  .record({ app: opt(fc.constantFrom(...APPS), 8), tier: opt(fc.constantFrom(...TIERS)), zone: opt(fc.constantFrom(...ZONES)) })
  .map(({ app, tier, zone }) => compact({ app, tier, [ZONE_LABEL]: zone }))

/** The pod's IPs: indexed by pod so that pods differ, varied so that a replace can move them. */
function ipsArb(index: number): fc.Arbitrary<{ [key: string]: Json }> {
  return fc
    .record({ kind: fc.constantFrom('v4', 'v4', 'v4', 'v4', 'v4', 'v6', 'dual', 'dual', 'dual6', 'none'), n: fc.integer({ min: 1, max: 3 }) })
    .map(({ kind, n }) => {
      const v4 = `10.1.${index}.${n}`
      const v6 = `fd00::${index + 1}:${n}`
      const list = kind === 'v4' ? [v4] : kind === 'v6' ? [v6] : kind === 'dual' ? [v4, v6] : kind === 'dual6' ? [v6, v4] : []
      return list.length ? { podIP: list[0]!, podIPs: list.map((ip) => ({ ip })) } : ({} as { [key: string]: Json })
    })
}

const containerPortsArb = fc
  .record({
    http: opt(fc.constantFrom(8080, 8081), 3),
    httpProtocol: fc.constantFrom('TCP', 'TCP', 'TCP', 'UDP'),
    dns: opt(fc.constant(5353)),
    metrics: opt(fc.constantFrom(9100, 9101)),
    plain: opt(fc.constant(7000)),
  })
  .map(({ http, httpProtocol, dns, metrics, plain }) => {
    const ports: Json[] = []
    if (http) ports.push({ name: 'http', containerPort: http, protocol: httpProtocol })
    if (dns) ports.push({ name: 'dns', containerPort: dns, protocol: 'UDP' })
    if (metrics) ports.push({ name: 'metrics', containerPort: metrics })
    if (plain) ports.push({ containerPort: plain })
    return ports
  })

const conditionsArb = fc.constantFrom('True', 'True', 'False', 'Unknown').map((status) => [{ type: 'Ready', status }])

function podBodyArb(name: string): fc.Arbitrary<Json> {
  const index = POD_NAMES.indexOf(name)
  return fc
    .record({
      labels: labelsArb,
      weight: opt(fc.constantFrom('0', '1', '3', '100')),
      ips: ipsArb(index),
      phase: fc.constantFrom(...Array<string>(8).fill('Running'), 'Pending', 'Succeeded', 'Failed'),
      conditions: conditionsArb,
      containers: fc.array(containerPortsArb, { maxLength: 2 }),
      hostname: opt(fc.constant(`h-${name}`)),
      subdomain: opt(fc.constantFrom(...SERVICE_NAMES, 'other')),
      nodeName: opt(fc.constantFrom('node-1', 'node-2')),
    })
    .map((p) => ({
      metadata: compact({ name, labels: p.labels, annotations: p.weight === undefined ? undefined : { [WEIGHT_ANNOTATION]: p.weight } }),
      spec: compact({
        hostname: p.hostname,
        subdomain: p.subdomain,
        nodeName: p.nodeName,
        containers: p.containers.map((ports, i) => ({ name: `c${i}`, image: 'app:1', ports })),
      }),
      status: { phase: p.phase, conditions: p.conditions, ...p.ips },
    }))
}

const SERVICE_PORTS: Json[] = [
  { name: 'http', port: 80, targetPort: 'http' },
  { name: 'web', port: 8000, targetPort: 8080 },
  { name: 'dns', port: 53, protocol: 'UDP', targetPort: 'dns' },
  { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 'dns' },
  { name: 'metrics', port: 9090, targetPort: 'metrics' },
  { name: 'plain', port: 7000 },
]

const servicePortsArb = fc
  .record({ ports: fc.shuffledSubarray(SERVICE_PORTS, { maxLength: 3 }), unnamed: fc.boolean() })
  .map(({ ports, unnamed }) => (ports.length === 1 && unnamed ? [compact({ ...(ports[0] as object), name: undefined })] : ports))

const selectorArb = fc
  .record({ app: opt(fc.constantFrom(...APPS), 6), tier: fc.constantFrom(undefined, undefined, undefined, ...TIERS) })
  .map(({ app, tier }) => compact({ app, tier }))

function serviceBodyArb(name: string): fc.Arbitrary<Json> {
  return fc
    .record({
      kind: fc.constantFrom('ClusterIP', 'ClusterIP', 'ClusterIP', 'NodePort', 'headless', 'headless', 'ExternalName'),
      selector: opt(selectorArb, 6),
      ports: servicePortsArb,
      publishNotReadyAddresses: opt(fc.boolean()),
    })
    .map((s) => {
      const spec = compact({
        selector: s.selector,
        ports: s.ports.length ? s.ports : undefined,
        publishNotReadyAddresses: s.publishNotReadyAddresses,
      })
      if (s.kind === 'headless') spec.clusterIP = 'None'
      else if (s.kind === 'ExternalName') Object.assign(spec, { type: 'ExternalName', externalName: 'db.example.com' })
      else spec.type = s.kind
      return { metadata: { name, labels: { team: 'switchboard' } }, spec }
    })
}

/** A merge patch value for a key: set, removed (null) or left alone. */
const patchValue = <T extends Json>(arb: fc.Arbitrary<T>) =>
  fc.option(fc.oneof({ weight: 3, arbitrary: arb }, { weight: 1, arbitrary: fc.constant(null) }), { nil: undefined })

const podName = fc.constantFrom(...POD_NAMES)
const serviceName = fc.constantFrom(...SERVICE_NAMES)

/** One write of the workload, over the universe of pod and service names. */
export const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 8, arbitrary: podName.chain((name) => podBodyArb(name).map((body): Command => ({ op: 'createPod', name, body }))) },
  { weight: 3, arbitrary: podName.chain((name) => podBodyArb(name).map((body): Command => ({ op: 'replacePod', name, body }))) },
  {
    weight: 4,
    arbitrary: fc
      .record({
        name: podName,
        app: opt(fc.constantFrom(...APPS, null)),
        tier: patchValue(fc.constantFrom(...TIERS)),
        zone: patchValue(fc.constantFrom(...ZONES)),
        weight: patchValue(fc.constantFrom('0', '2', '7')),
      })
      .map(({ name, app, tier, zone, weight }): Command => ({
        op: 'patchPod',
        name,
        patch: {
          metadata: compact({
            labels: compact({ app, tier, [ZONE_LABEL]: zone }),
            annotations: weight === undefined ? undefined : { [WEIGHT_ANNOTATION]: weight },
          }),
        },
      })),
  },
  {
    weight: 5,
    arbitrary: fc
      .record({
        name: podName,
        conditions: conditionsArb,
        phase: fc.constantFrom(...Array<undefined>(6).fill(undefined), 'Running', 'Running', 'Running', 'Pending', 'Succeeded'),
        ips: opt(fc.integer({ min: 0, max: 5 }).chain((i) => ipsArb(i)), 5),
      })
      .map(({ name, conditions, phase, ips }): Command => ({
        op: 'patchPodStatus',
        name,
        patch: { status: compact({ conditions, phase, ...(ips === undefined ? {} : { podIP: null, podIPs: null, ...ips }) }) },
      })),
  },
  { weight: 1, arbitrary: podName.map((name): Command => ({ op: 'deletePod', name, grace: null })) },
  { weight: 2, arbitrary: podName.map((name): Command => ({ op: 'deletePod', name, grace: GRACE_SECONDS })) },
  { weight: 1, arbitrary: podName.map((name): Command => ({ op: 'deletePod', name, grace: 0 })) },
  { weight: 3, arbitrary: serviceName.chain((name) => serviceBodyArb(name).map((body): Command => ({ op: 'createService', name, body }))) },
  { weight: 2, arbitrary: serviceName.chain((name) => serviceBodyArb(name).map((body): Command => ({ op: 'replaceService', name, body }))) },
  {
    weight: 3,
    arbitrary: fc
      .record({
        name: serviceName,
        selector: fc.oneof(
          { weight: 1, arbitrary: fc.constant(null) },
          {
            weight: 6,
            arbitrary: fc
              .record({ app: opt(fc.constantFrom(...APPS)), tier: patchValue(fc.constantFrom(...TIERS)) })
              .map((s) => compact(s)),
          },
        ),
        publishNotReadyAddresses: opt(fc.boolean()),
      })
      .map(({ name, selector, publishNotReadyAddresses }): Command => ({
        op: 'patchService',
        name,
        patch: { spec: compact({ selector, publishNotReadyAddresses }) },
      })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({ name: serviceName, ports: servicePortsArb })
      .map(({ name, ports }): Command => ({ op: 'patchService', name, patch: { spec: { ports } } })),
  },
  { weight: 1, arbitrary: serviceName.map((name): Command => ({ op: 'deleteService', name })) },
)

/** Between `min` and `max` commands, all sent at once. */
export function burstArb(min: number, max: number): fc.Arbitrary<Step> {
  return fc.array(commandArb, { minLength: min, maxLength: max }).map((commands): Step => ({ op: 'burst', commands }))
}

/** A single command or, now and then, a burst of 50 to 70. */
export const stepArb: fc.Arbitrary<Step> = fc.oneof({ weight: 12, arbitrary: commandArb }, { weight: 1, arbitrary: burstArb(50, 70) })

export interface Request {
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  path: string
  body?: Json
  contentType?: string
}

/** The HTTP request of a command in a namespace. */
export function requestOf(namespace: string, c: Command): Request {
  const base = `/api/v1/namespaces/${namespace}`
  switch (c.op) {
    case 'createPod':
      return { method: 'POST', path: `${base}/pods`, body: c.body }
    case 'replacePod':
      return { method: 'PUT', path: `${base}/pods/${c.name}`, body: c.body }
    case 'patchPod':
      return { method: 'PATCH', path: `${base}/pods/${c.name}`, body: c.patch, contentType: 'application/merge-patch+json' }
    case 'patchPodStatus':
      return { method: 'PATCH', path: `${base}/pods/${c.name}/status`, body: c.patch, contentType: 'application/merge-patch+json' }
    case 'deletePod':
      return { method: 'DELETE', path: `${base}/pods/${c.name}`, ...(c.grace === null ? {} : { body: { gracePeriodSeconds: c.grace } }) }
    case 'createService':
      return { method: 'POST', path: `${base}/services`, body: c.body }
    case 'replaceService':
      return { method: 'PUT', path: `${base}/services/${c.name}`, body: c.body }
    case 'patchService':
      return { method: 'PATCH', path: `${base}/services/${c.name}`, body: c.patch, contentType: 'application/merge-patch+json' }
    case 'deleteService':
      return { method: 'DELETE', path: `${base}/services/${c.name}` }
  }
}

/**
 * The answers a command of the workload may get: applied (200, 201), or refused because
 * the object is missing (404), already exists (409, creates only: no command carries a
 * resourceVersion, so a concurrent change never makes an update or delete fail), or the
 * change is not allowed (422, e.g. a ClusterIP service without ports). Anything else is
 * a failure.
 */
export const EXPECTED_STATUSES: readonly number[] = [200, 201, 404, 409, 422]

function expected(o: Outcome): boolean {
  return EXPECTED_STATUSES.includes(o.status) && (o.status !== 409 || o.command.op.startsWith('create'))
}

/** The outcomes answered with anything but an expected status, shaped for a readable diff. */
export function unexpectedAnswers(outcomes: Outcome[]): { request: Request; status: number; body: unknown }[] {
  return outcomes.filter((o) => !expected(o)).map((o) => ({ request: o.request, status: o.status, body: o.body }))
}

export interface Outcome {
  command: Command
  request: Request
  status: number
  body: any
}

/** Sends one command; a network failure rejects. */
export async function send(fetcher: Fetcher, namespace: string, command: Command): Promise<Outcome> {
  const request = requestOf(namespace, command)
  const init: RequestInit = { method: request.method, headers: authHeaders() }
  if (request.body !== undefined) {
    init.body = JSON.stringify(request.body)
    init.headers = authHeaders({ 'content-type': request.contentType ?? 'application/json' })
  }
  const res = await fetcher(request.path, init)
  const text = await res.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {
    // not JSON: kept as text for the report
  }
  return { command, request, status: res.status, body }
}
