/**
 * The registry: the domain operations behind the API. It decodes and validates
 * objects, fills server-set metadata, allocates, and hands each write to the store as
 * one guarded batch. Replaces and patches read the object, compute the new one, and
 * write it on the condition that nothing changed in between (retrying when the caller
 * gave no resourceVersion of its own).
 */
import { PreconditionFailed } from '../db/errors'
import type { Kind, PodWrite, Precondition, Store } from '../db/store'
import { allocate, taken, SMALL_RANGE, type AllocationConfig } from './allocate'
import {
  RegistryError,
  badRequest,
  conflict,
  fieldError,
  invalid,
  notFound,
} from './errors'
import { SelectorError, parseLabelSelector } from './labels'
import { parseFieldSelector } from './fields'
import { cidrSize } from './ipnet'
import { checkTypeMeta, decode, metaForCreate, metaForUpdate, timestamp, type Clock } from './meta'
import { PROTECTED_NAMESPACES, buildNamespace } from './namespace'
import { applyPatch, type PatchType } from './patch'
import { ZONE_LABEL, buildPod, buildPodSpec, buildPodStatus, isReady, podWeight, validatePod } from './pod'
import { EndpointRegistry } from './endpoint-registry'
import { guarded } from './preconditions'
import { decodeBase64url, encodeBase64url } from './base64url'
import { DeleteOptions, Namespace, Pod, Service, type DeleteOptionsInput } from './schemas'
import { buildService, keepAllocated, usesNodePorts, validateService } from './service'
import type { ListObject, NamespaceObject, ObjectMetaOut, PodObject, RegistryObject, ServiceObject } from './types'
import { canonicalIP } from './validation'

export interface ListQuery {
  labelSelector?: string
  fieldSelector?: string
  limit?: number
  continue?: string
  /** Only these namespaces (the caller's reach); all when absent. */
  namespaces?: string[]
}

/** The annotation that records the token of an object's last write. */
export const MODIFIED_BY = 'switchboard.dev/modified-by'

export interface RegistryOptions {
  store: Store
  clock: Clock
  allocation: AllocationConfig
  maxEndpointsPerSlice: number
}

const RESOURCES: Record<Kind, string> = { Namespace: 'namespaces', Service: 'services', Pod: 'pods' }
const FIELDS: Record<Kind, readonly string[]> = {
  Namespace: ['metadata.name'],
  Service: ['metadata.name', 'metadata.namespace', 'spec.type', 'spec.clusterIP'],
  Pod: ['metadata.name', 'metadata.namespace', 'spec.nodeName', 'status.phase', 'status.podIP'],
}
const RETRIES = 8
/**
 * An update without a resourceVersion tries again after a concurrent change for this long
 * (each round lets at least one writer of the object through, so contention always drains),
 * pausing at random up to MAX_BACKOFF_MS between tries.
 */
const UPDATE_DEADLINE_MS = 10_000
const MAX_BACKOFF_MS = 64
const PROPAGATION = ['Orphan', 'Background', 'Foreground']

export class Registry {
  readonly store: Store
  /** Endpoints and EndpointSlices. */
  readonly endpoints: EndpointRegistry
  private readonly clock: Clock
  private readonly allocation: AllocationConfig

  private readonly options: RegistryOptions

  constructor(options: RegistryOptions) {
    this.options = options
    this.store = options.store
    this.clock = options.clock
    this.allocation = options.allocation
    this.endpoints = new EndpointRegistry(options.store, options.clock, options.maxEndpointsPerSlice)
  }

  /** This registry acting for a token: its writes record the token's name. */
  as(actor: string): Registry {
    return actor ? new Registry({ ...this.options, store: this.options.store.as(actor) }) : this
  }

  /** Records the acting token on an object about to be written. */
  private stamp(obj: RegistryObject): void {
    const actor = this.store.actor
    if (actor) obj.metadata.annotations = { ...obj.metadata.annotations, [MODIFIED_BY]: actor }
  }

  // ---- reads shared by every kind ----

  async get<T extends RegistryObject>(kind: Kind, namespace: string, name: string): Promise<T> {
    const stored = await this.store.get(kind, namespace, name)
    if (!stored) throw notFound(RESOURCES[kind], name)
    return withRv(stored.body as unknown as T, stored.rv)
  }

  /** Lists a kind in one namespace, or across all when `namespace` is undefined. */
  async list<T extends RegistryObject>(kind: Kind, namespace: string | undefined, query: ListQuery): Promise<ListObject<T>> {
    let labels, fields
    try {
      labels = parseLabelSelector(query.labelSelector ?? '')
      fields = parseFieldSelector(query.fieldSelector ?? '', FIELDS[kind])
    } catch (e) {
      if (e instanceof SelectorError) throw badRequest(e.message)
      throw e
    }
    if (query.limit !== undefined && (!Number.isInteger(query.limit) || query.limit < 0)) {
      throw badRequest(`limit must be a non-negative integer, got ${query.limit}`)
    }
    const after = query.continue ? decodeContinue(query.continue) : undefined
    const result = await this.store.list(kind, {
      ...(namespace !== undefined ? { namespace } : {}),
      ...(query.namespaces !== undefined ? { namespaces: query.namespaces } : {}),
      labels,
      fields,
      ...(after ? { after } : {}),
      ...(query.limit ? { limit: query.limit } : {}),
    })
    return {
      apiVersion: 'v1',
      kind: `${kind}List`,
      metadata: {
        resourceVersion: String(result.rv),
        ...(result.next ? { continue: encodeContinue(result.next) } : {}),
      },
      items: result.items.map((i) => withRv(i.body as unknown as T, i.rv)),
    }
  }

  // ---- namespaces ----

  async createNamespace(body: unknown): Promise<NamespaceObject> {
    const input = decode(Namespace, body, 'Namespace')
    checkTypeMeta(input, 'v1', 'Namespace')
    const ns = buildNamespace(input, metaForCreate(input.metadata, undefined, this.clock))
    this.stamp(ns)
    const rv = await this.run('Namespace', '', ns.metadata.name, () =>
      this.store.createNamespace({ name: ns.metadata.name, uid: ns.metadata.uid, body: strip(ns), labels: ns.metadata.labels ?? {} }),
    )
    return withRv(ns, rv)
  }

  /** Deletes a namespace and everything in it, atomically. */
  async deleteNamespace(name: string, options?: unknown): Promise<NamespaceObject> {
    const pre = deletePrecondition(options)
    if (PROTECTED_NAMESPACES.includes(name)) {
      throw new RegistryError('Forbidden', `namespaces "${name}" is forbidden: this namespace may not be deleted`, {
        name,
        kind: 'namespaces',
      })
    }
    const ns = await this.get<NamespaceObject>('Namespace', '', name)
    checkUid(ns, pre.uid)
    const rv = await this.run('Namespace', '', name, () => this.store.deleteNamespace(name, precondition(pre.rv, ns)))
    return withRv({ ...ns, status: { phase: 'Terminating' } }, rv)
  }

  // ---- services ----

  async createService(namespace: string, body: unknown): Promise<ServiceObject> {
    const input = decode(Service, body, 'Service')
    checkTypeMeta(input, 'v1', 'Service')
    const svc = buildService(input, { ...metaForCreate(input.metadata, namespace, this.clock), generation: 1 })
    validateService(svc)
    const rv = await this.writeService(svc, undefined, 'create')
    return withRv(svc, rv)
  }

  async replaceService(namespace: string, name: string, body: unknown): Promise<ServiceObject> {
    return this.updateService(namespace, name, () => body)
  }

  async patchService(namespace: string, name: string, type: PatchType, patch: unknown): Promise<ServiceObject> {
    return this.updateService(namespace, name, (old) => patched(type, old, patch))
  }

  async deleteService(namespace: string, name: string, options?: unknown): Promise<ServiceObject> {
    const pre = deletePrecondition(options)
    const svc = await this.get<ServiceObject>('Service', namespace, name)
    checkUid(svc, pre.uid)
    const rv = await this.run('Service', namespace, name, () => this.store.deleteService(namespace, name, precondition(pre.rv, svc)))
    return withRv(svc, rv)
  }

  private updateService(namespace: string, name: string, bodyFrom: (old: ServiceObject) => unknown): Promise<ServiceObject> {
    return this.update<ServiceObject>(
      'Service',
      namespace,
      name,
      (old) => {
        const body = bodyFrom(old)
        const input = decode(Service, body, 'Service')
        checkTypeMeta(input, 'v1', 'Service')
        const svc = buildService(input, metaForUpdate(input.metadata, old.metadata, name))
        keepAllocated(svc, old)
        bumpGeneration(svc, old)
        validateService(svc, old)
        return { object: svc, rv: input.metadata?.resourceVersion ?? undefined }
      },
      (svc, old, pre) => this.writeService(svc, old, pre),
    )
  }

  /** Allocates the service's IP and NodePorts and writes it, drawing again on a collision. */
  private async writeService(svc: ServiceObject, old: ServiceObject | undefined, pre: Precondition): Promise<number> {
    this.stamp(svc)
    const heldIPs = old?.spec.clusterIPs?.filter((ip) => ip !== 'None') ?? []
    const heldPorts = new Set((old?.spec.ports ?? []).map((p) => p.nodePort).filter((p): p is number => p !== undefined))
    const smallRange = cidrSize(this.allocation.range) <= SMALL_RANGE
    for (let attempt = 0; ; attempt++) {
      const candidate = structuredClone(svc)
      const [ports, ips] = await Promise.all([
        usesNodePorts(candidate.spec.type) ? this.store.usedNodePorts() : Promise.resolve([]),
        smallRange && candidate.spec.type !== 'ExternalName' ? this.store.usedClusterIPs() : Promise.resolve(undefined),
      ])
      const alloc = allocate(candidate, this.allocation, this.clock.random, {
        ports: new Set(ports.filter((p) => !heldPorts.has(p))),
        ...(ips ? { ips: new Set(ips.filter((ip) => !heldIPs.includes(ip))) } : {}),
        held: heldIPs,
      })
      try {
        const rv = await this.run('Service', svc.metadata.namespace!, svc.metadata.name, () =>
          this.store.putService(
            {
              namespace: candidate.metadata.namespace!,
              name: candidate.metadata.name,
              uid: candidate.metadata.uid,
              body: strip(candidate),
              labels: candidate.metadata.labels ?? {},
              type: candidate.spec.type,
              clusterIP: candidate.spec.clusterIP ?? null,
              allocatedIPs: alloc.ips,
              nodePorts: alloc.nodePorts,
              selector: candidate.spec.type === 'ExternalName' ? {} : (candidate.spec.selector ?? {}),
              publishNotReady: candidate.spec.publishNotReadyAddresses ?? false,
              ports: (candidate.spec.ports ?? []).map((p) => ({
                name: p.name ?? '',
                protocol: p.protocol,
                port: p.port,
                targetPort: typeof p.targetPort === 'number' ? p.targetPort : null,
                targetPortName: typeof p.targetPort === 'string' ? p.targetPort : null,
                appProtocol: p.appProtocol ?? null,
              })),
            },
            pre,
          ),
        )
        Object.assign(svc, candidate)
        return rv
      } catch (e) {
        if (!(e instanceof PreconditionFailed)) throw e
        const retry = attempt < RETRIES
        if (e.code === 'ip_taken') {
          if (alloc.dynamicIP && retry) continue
          throw invalid('Service', svc.metadata.name, [taken(candidate, candidate.spec.clusterIP ?? '')])
        }
        if (e.code === 'port_taken') {
          if (retry) continue
          throw invalid('Service', svc.metadata.name, [fieldError.invalid('spec.ports', alloc.nodePorts, 'provided port is already allocated')])
        }
        throw e
      }
    }
  }

  // ---- pods ----

  async createPod(namespace: string, body: unknown): Promise<PodObject> {
    const input = decode(Pod, body, 'Pod')
    checkTypeMeta(input, 'v1', 'Pod')
    const metadata = { ...metaForCreate(input.metadata, namespace, this.clock), generation: 1 }
    const pod = buildPod(metadata, buildPodSpec(input), buildPodStatus(input.status, undefined, this.clock.now()))
    validatePod(pod)
    const rv = await this.writePod(pod, 'create')
    return withRv(pod, rv)
  }

  async replacePod(namespace: string, name: string, body: unknown): Promise<PodObject> {
    return this.updatePod(namespace, name, () => body, 'all')
  }

  async patchPod(namespace: string, name: string, type: PatchType, patch: unknown): Promise<PodObject> {
    return this.updatePod(namespace, name, (old) => patched(type, old, patch), 'all')
  }

  /** The status subresource: only `status` changes; spec and metadata stay as stored. */
  async replacePodStatus(namespace: string, name: string, body: unknown): Promise<PodObject> {
    return this.updatePod(namespace, name, () => body, 'status')
  }

  async patchPodStatus(namespace: string, name: string, type: PatchType, patch: unknown): Promise<PodObject> {
    return this.updatePod(namespace, name, (old) => patched(type, old, patch), 'status')
  }

  /**
   * Deletes a pod. With a grace period (from DeleteOptions or `?gracePeriodSeconds=`, else
   * the pod's `spec.terminationGracePeriodSeconds`, else none) the pod is first marked
   * terminating (`metadata.deletionTimestamp` = now + grace) and removed when the period
   * ends (see `reapExpired`) or on a DELETE with a zero grace period.
   */
  async deletePod(namespace: string, name: string, options?: unknown, gracePeriodSeconds?: string): Promise<PodObject> {
    const pre = deletePrecondition(options)
    const pod = await this.get<PodObject>('Pod', namespace, name)
    checkUid(pod, pre.uid)
    const grace = gracePeriod(gracePeriodSeconds) ?? pre.grace ?? pod.spec.terminationGracePeriodSeconds ?? 0
    if (grace > 0) {
      return this.update<PodObject>(
        'Pod',
        namespace,
        name,
        (current) => {
          checkUid(current, pre.uid)
          precondition(pre.rv, current) // a stale precondition is a 409 even on a pod already terminating
          if (current.metadata.deletionTimestamp) return undefined
          current.metadata.deletionTimestamp = timestamp(new Date(this.clock.now().getTime() + grace * 1000))
          current.metadata.deletionGracePeriodSeconds = grace
          return { object: current, rv: pre.rv }
        },
        (next, old, p) => this.writePod(next, p, old),
      )
    }
    const rv = await this.run('Pod', namespace, name, () => this.store.deletePod(namespace, name, precondition(pre.rv, pod)))
    return withRv(pod, rv)
  }

  /**
   * Creates many pods of one namespace in one write (all or none), validated exactly as
   * `createPod` validates one. Returns the resourceVersion of the write.
   */
  async importPods(namespace: string, bodies: unknown[]): Promise<number> {
    const pods = bodies.map((body) => {
      const input = decode(Pod, body, 'Pod')
      checkTypeMeta(input, 'v1', 'Pod')
      const metadata = { ...metaForCreate(input.metadata, namespace, this.clock), generation: 1 }
      const pod = buildPod(metadata, buildPodSpec(input), buildPodStatus(input.status, undefined, this.clock.now()))
      validatePod(pod)
      this.stamp(pod)
      return podWrite(pod)
    })
    return this.run('Pod', namespace, pods[0]?.name ?? '', () => this.store.importPods(namespace, pods))
  }

  /** Removes the pods whose grace period has ended; returns how many. */
  async reapExpired(): Promise<number> {
    let removed = 0
    for (const pod of await this.store.expiredPods(timestamp(this.clock.now()))) {
      try {
        await this.store.deletePod(pod.namespace, pod.name, { rv: pod.rv })
        removed++
      } catch (e) {
        if (!(e instanceof PreconditionFailed)) throw e
      }
    }
    return removed
  }

  private updatePod(
    namespace: string,
    name: string,
    bodyFrom: (old: PodObject) => unknown,
    scope: 'all' | 'status',
  ): Promise<PodObject> {
    return this.update<PodObject>(
      'Pod',
      namespace,
      name,
      (old) => {
        const input = decode(Pod, bodyFrom(old), 'Pod')
        checkTypeMeta(input, 'v1', 'Pod')
        const status = buildPodStatus(input.status, old.status, this.clock.now())
        const pod =
          scope === 'status'
            ? buildPod(structuredClone(old.metadata), structuredClone(old.spec), status)
            : buildPod(metaForUpdate(input.metadata, old.metadata, name), buildPodSpec(input), status)
        if (scope === 'status') metaForUpdate(input.metadata, old.metadata, name) // checks name and namespace
        bumpGeneration(pod, old)
        validatePod(pod)
        return { object: pod, rv: input.metadata?.resourceVersion ?? undefined }
      },
      (pod, old, pre) => this.writePod(pod, pre, old),
    )
  }

  /** Writes a pod; with the stored pod given, the store leaves unchanged rows alone. */
  private writePod(pod: PodObject, pre: Precondition, old?: PodObject): Promise<number> {
    this.stamp(pod)
    return this.run('Pod', pod.metadata.namespace!, pod.metadata.name, () =>
      this.store.putPod(podWrite(pod), pre, old ? podWrite(old) : undefined),
    )
  }

  // ---- the shared write paths ----

  /**
   * Read, compute, write-if-unchanged. A resourceVersion in the body makes the write
   * conditional on it (409 when stale); without one the write is unconditional and a
   * concurrent change only makes it compute again from the newer object. `compute` gets
   * a copy of the stored object, and answers `undefined` when there is nothing to write.
   */
  private async update<T extends RegistryObject>(
    kind: Kind,
    namespace: string,
    name: string,
    compute: (old: T) => { object: T; rv: string | undefined } | undefined,
    write: (object: T, old: T, pre: Precondition) => Promise<number>,
  ): Promise<T> {
    const deadline = Date.now() + UPDATE_DEADLINE_MS
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) await backoff(attempt)
      const old = await this.get<T>(kind, namespace, name)
      const next = compute(structuredClone(old))
      if (!next) return old
      const { object, rv: wanted } = next
      if (wanted && wanted !== old.metadata.resourceVersion) throw conflict(RESOURCES[kind], name)
      // A no-op update writes nothing and keeps the resourceVersion, as in Kubernetes
      // (the acting token is recorded first, so the same caller repeating itself is a no-op).
      this.stamp(object)
      if (sameJson(strip(object), strip(old))) return old
      try {
        const rv = await write(object, old, { rv: Number(old.metadata.resourceVersion) })
        return withRv(object, rv)
      } catch (e) {
        const retriable = e instanceof RegistryError && e.reason === 'Conflict' && !wanted && Date.now() < deadline
        if (!retriable) throw e
      }
    }
  }

  /** Runs a store write, turning a failed precondition into its Status. */
  private run(kind: Kind, namespace: string, name: string, write: () => Promise<number>): Promise<number> {
    return guarded(RESOURCES[kind], namespace, name, write)
  }
}

/**
 * A patched object. It carries the stored resourceVersion; only a patch that sets another
 * one makes the write conditional (as in Kubernetes), so a plain patch retries on a
 * concurrent change instead of failing with 409.
 */
function patched(type: PatchType, old: RegistryObject, patch: unknown): unknown {
  const body = applyPatch(type, old, patch)
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body
  const meta = (body as { metadata?: unknown }).metadata
  if (!meta || typeof meta !== 'object' || Array.isArray(meta)) return body
  if ((meta as { resourceVersion?: unknown }).resourceVersion !== old.metadata.resourceVersion) return body
  // A merge patch copies only the top level: copy metadata rather than edit the stored object's.
  const { resourceVersion: _stored, ...rest } = meta as Record<string, unknown>
  return { ...body, metadata: rest }
}

/** A random pause of up to 2^attempt ms (at most MAX_BACKOFF_MS), so that writers that collided spread out. */
function backoff(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(2 ** attempt, MAX_BACKOFF_MS)
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** A pod as the store keeps it: its body and the columns derived from it. */
function podWrite(pod: PodObject): PodWrite {
  const ports = (pod.spec.containers ?? []).flatMap((c) =>
    (c.ports ?? []).filter((p) => p.name).map((p) => ({ name: p.name!, protocol: p.protocol, port: p.containerPort })),
  )
  return {
    namespace: pod.metadata.namespace!,
    name: pod.metadata.name,
    uid: pod.metadata.uid,
    body: strip(pod),
    labels: pod.metadata.labels ?? {},
    nodeName: pod.spec.nodeName ?? null,
    phase: pod.status.phase,
    podIP: pod.status.podIP ? canonicalIP(pod.status.podIP) : null,
    ready: isReady(pod),
    weight: podWeight(pod),
    deletionTimestamp: pod.metadata.deletionTimestamp ?? null,
    zone: pod.metadata.labels?.[ZONE_LABEL] ?? null,
    ports: dedupePorts(ports),
  }
}

/** The JSON to store: the object without its resourceVersion (kept in its own column). */
function strip(obj: RegistryObject): Record<string, unknown> {
  const { resourceVersion: _rv, ...metadata } = obj.metadata
  return { ...obj, metadata } as unknown as Record<string, unknown>
}

function withRv<T extends RegistryObject>(obj: T, rv: number): T {
  const { name, generateName, namespace, uid, ...rest } = obj.metadata as ObjectMetaOut
  const metadata = {
    name,
    ...(generateName ? { generateName } : {}),
    ...(namespace !== undefined ? { namespace } : {}),
    uid,
    ...rest,
    resourceVersion: String(rv),
  }
  return { ...obj, metadata }
}

function bumpGeneration(next: RegistryObject, old: RegistryObject): void {
  const same = sameJson(next.spec, old.spec)
  if (same && old.metadata.generation === undefined) delete next.metadata.generation
  else next.metadata.generation = (old.metadata.generation ?? 1) + (same ? 0 : 1)
}

/** Deep equality of two JSON values, whatever the order of their keys. */
function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b)
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  if (v && typeof v === 'object') {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined)
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`
  }
  return JSON.stringify(v)
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

interface DeletePreconditions {
  rv?: string
  uid?: string
  grace?: number
}

function deletePrecondition(options: unknown): DeletePreconditions {
  if (options === undefined) return {}
  const o: DeleteOptionsInput = decode(DeleteOptions, options, 'DeleteOptions')
  if (o.kind && o.kind !== 'DeleteOptions') {
    throw badRequest(`the kind in the data (${o.kind}) does not match the expected kind (DeleteOptions)`)
  }
  if (o.apiVersion && o.apiVersion !== 'v1' && o.apiVersion !== 'meta.k8s.io/v1') {
    throw badRequest(`the API version in the data (${o.apiVersion}) does not match the expected API version (v1)`)
  }
  if (o.dryRun?.length) throw badRequest('dryRun is not supported')
  const causes = []
  if (o.propagationPolicy && !PROPAGATION.includes(o.propagationPolicy)) {
    causes.push(fieldError.notSupported('propagationPolicy', o.propagationPolicy, PROPAGATION))
  }
  if (o.gracePeriodSeconds != null && o.gracePeriodSeconds < 0) {
    causes.push(fieldError.invalid('gracePeriodSeconds', o.gracePeriodSeconds, 'must be greater than or equal to 0'))
  }
  if (causes.length) throw invalid('DeleteOptions', '', causes)
  return {
    ...(o.preconditions?.resourceVersion ? { rv: o.preconditions.resourceVersion } : {}),
    ...(o.preconditions?.uid ? { uid: o.preconditions.uid } : {}),
    ...(o.gracePeriodSeconds != null ? { grace: o.gracePeriodSeconds } : {}),
  }
}

function gracePeriod(query: string | undefined): number | undefined {
  if (query === undefined || query === '') return undefined
  if (!/^\d{1,9}$/.test(query)) throw badRequest(`gracePeriodSeconds must be a non-negative integer, got "${query}"`)
  return Number(query)
}

function precondition(rv: string | undefined, current: RegistryObject): Precondition | undefined {
  if (rv === undefined) return undefined
  if (rv !== current.metadata.resourceVersion) throw conflict(`${current.kind.toLowerCase()}s`, current.metadata.name)
  return { rv: Number(rv) }
}

function checkUid(obj: RegistryObject, uid: string | undefined): void {
  if (uid && uid !== obj.metadata.uid) {
    throw new RegistryError(
      'Conflict',
      `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${obj.metadata.uid}`,
      { name: obj.metadata.name, kind: `${obj.kind.toLowerCase()}s` },
    )
  }
}

function encodeContinue(key: { namespace: string; name: string }): string {
  return encodeBase64url(new TextEncoder().encode(JSON.stringify([key.namespace, key.name])))
}

function decodeContinue(token: string): { namespace: string; name: string } {
  const bytes = decodeBase64url(token)
  try {
    const value: unknown = bytes ? JSON.parse(new TextDecoder().decode(bytes)) : null
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') {
      return { namespace: value[0], name: value[1] }
    }
  } catch {
    // fall through to the error below
  }
  throw badRequest('the continue token is not valid')
}
