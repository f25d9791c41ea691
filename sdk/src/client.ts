/**
 * The Switchboard client: the resources of the registry, and the calls workloads need
 * (register, pick, resolve, lookup, leader election).
 */
import { request, type HttpOptions } from './http.js'
import { LeaderElection, type LeaderElectionOptions, type LeaderElector } from './leader-election.js'
import { PodResource, type PodRegistration } from './pods.js'
import { register, type Registration, type RegisterOptions } from './registration.js'
import { Discovery, type DiscoverOptions } from './discovery.js'
import { Resource, type CallOptions } from './resources.js'
import { sliceEndpointUnserved } from './selection.js'
import type {
  Endpoints,
  EndpointsInput,
  EndpointPort,
  EndpointSlice,
  Lease,
  LeaseInput,
  Namespace,
  NamespaceInput,
  PickResult,
  Service,
  ServiceInput,
  Token,
  TokenInput,
} from './types.js'

export interface ClientOptions {
  /** The registry's URL, e.g. `http://127.0.0.1:8787`. */
  baseUrl: string
  /** A bearer token (read, register or admin). */
  token?: string
  /** A fetch implementation (defaults to the global one). */
  fetch?: typeof fetch
  /** Per-attempt timeout; default 10 s. */
  timeoutMs?: number
  /** Retries of safe calls on network errors, 429 and 5xx; default 2. */
  maxRetries?: number
  /** The namespace of calls that name none; default `default`. */
  namespace?: string
}

export interface PickOptions extends CallOptions {
  port?: string
  key?: string
  zone?: string
  explain?: boolean
  /**
   * With no ready endpoint the pick fails at once with a `ServiceUnavailableError` whose
   * message gives the reason. `wait: true` retries instead (honouring the server's
   * Retry-After, up to the client's `maxRetries`).
   */
  wait?: boolean
}

/** A record of a DNS answer, typed by its kind. */
export type DnsRecord =
  | { name: string; ttl: number; type: 'A' | 'AAAA'; address: string }
  | { name: string; ttl: number; type: 'CNAME' | 'PTR' | 'NS'; target: string }
  | { name: string; ttl: number; type: 'SRV'; priority: number; weight: number; port: number; target: string }
  | { name: string; ttl: number; type: 'TXT'; text: string[] }
  | { name: string; ttl: number; type: 'SOA' | 'OTHER'; data: string; rrtype: number }

export interface Resolution {
  /** 0 NOERROR, 3 NXDOMAIN, 5 REFUSED, ... */
  status: number
  answers: DnsRecord[]
  authority: DnsRecord[]
}

/** A ready endpoint as `lookup` returns it. */
export interface ReadyEndpoint {
  address: string
  ports: EndpointPort[]
  pod?: string
  node?: string
  zone?: string
  weight: number
}

const LEASES = { prefix: '/apis/coordination.k8s.io/v1', plural: 'leases', namespaced: true }
const RR_TYPES: Record<number, string> = { 1: 'A', 28: 'AAAA', 5: 'CNAME', 12: 'PTR', 2: 'NS', 33: 'SRV', 16: 'TXT', 6: 'SOA' }

export class ServiceResource extends Resource<Service, ServiceInput> {
  /** One ready endpoint of the service, by weight (or sticky by `key`). */
  pick(name: string, options: PickOptions = {}): Promise<PickResult> {
    return request(this.http, 'GET', `${this.item(name, options.namespace)}/pick`, {
      query: { port: options.port, key: options.key, zone: options.zone, explain: options.explain ? 'true' : undefined },
      retryUnavailable: options.wait === true,
      ...(options.signal ? { signal: options.signal } : {}),
    })
  }
}

export class Switchboard {
  readonly namespaces: Resource<Namespace, NamespaceInput>
  readonly services: ServiceResource
  readonly pods: PodResource
  readonly endpoints: Resource<Endpoints, EndpointsInput>
  readonly endpointSlices: Resource<EndpointSlice, never>
  readonly tokens: Resource<Token, TokenInput>
  readonly leases: Resource<Lease, LeaseInput>
  private readonly http: HttpOptions
  private readonly namespace: string

  constructor(options: ClientOptions) {
    const f = options.fetch ?? globalThis.fetch
    this.http = {
      baseUrl: options.baseUrl,
      ...(options.token ? { token: options.token } : {}),
      fetch: (input, init) => f(input, init),
      timeoutMs: options.timeoutMs ?? 10_000,
      maxRetries: options.maxRetries ?? 2,
    }
    this.namespace = options.namespace ?? 'default'
    const core = (plural: string, namespaced = true) => ({ prefix: '/api/v1', plural, namespaced })
    this.namespaces = new Resource(this.http, core('namespaces', false), this.namespace)
    this.services = new ServiceResource(this.http, core('services'), this.namespace)
    this.pods = new PodResource(this.http, core('pods'), this.namespace)
    this.endpoints = new Resource(this.http, core('endpoints'), this.namespace)
    this.endpointSlices = new Resource(this.http, { prefix: '/apis/discovery.k8s.io/v1', plural: 'endpointslices', namespaced: true }, this.namespace)
    this.tokens = new Resource(this.http, { prefix: '/apis/switchboard.dev/v1', plural: 'tokens', namespaced: false }, this.namespace)
    this.leases = new Resource(this.http, LEASES, this.namespace)
  }

  /**
   * Registers a pod kept alive by a lease, and keeps renewing the lease until `close()`:
   * if this process dies, the registry stops answering with the pod within the lease's
   * duration. (`pods.register()` is the plain, lease-less upsert.)
   */
  register(registration: PodRegistration, options: RegisterOptions = {}): Promise<Registration> {
    return register({ pods: this.pods, leases: this.leases, renewals: this.leaseLoop() }, registration, options)
  }

  /**
   * A local view of a service's endpoints, kept by a watch of its EndpointSlices, that picks
   * without a round trip (see discovery.ts). `close()` it when done.
   */
  discover(namespace: string, service: string, options: DiscoverOptions = {}): Discovery {
    return new Discovery({ services: this.services, endpointSlices: this.endpointSlices }, namespace, service, options)
  }

  /** Leader election over a Lease, as client-go's leaderelection does it. */
  leaderElection(options: LeaderElectionOptions): LeaderElector {
    return new LeaderElection(this.leaseLoop(), options)
  }

  /** Leases for the renewal loops, which retry on their own schedule: no retries per call. */
  private leaseLoop(): Resource<Lease, LeaseInput> {
    return new Resource({ ...this.http, maxRetries: 0 }, LEASES, this.namespace)
  }

  /** A DNS lookup through the registry's DoH JSON form. */
  async resolve(name: string, type: string | number = 'A', options: { signal?: AbortSignal } = {}): Promise<Resolution> {
    const body = await request<{ Status: number; Answer?: JsonRecord[]; Authority?: JsonRecord[] }>(this.http, 'GET', '/resolve', {
      query: { name, type },
      accept: 'application/dns-json',
      ...(options.signal ? { signal: options.signal } : {}),
    })
    return { status: body.Status, answers: (body.Answer ?? []).map(record), authority: (body.Authority ?? []).map(record) }
  }

  /**
   * The endpoints of a service that the registry serves (its `isServed`): ready, by the
   * server's own condition (which already leaves out terminating pods, pods whose lease
   * lapsed and addresses the registry will not hand out), and not drained (weight 0).
   */
  async lookup(service: string, options: CallOptions = {}): Promise<ReadyEndpoint[]> {
    const { items: slices } = await this.endpointSlices.listAll({
      ...options,
      labelSelector: { 'kubernetes.io/service-name': service },
    })
    return slices.flatMap((s) =>
      s.endpoints
        .filter((e) => !sliceEndpointUnserved(e.conditions.ready, e.weight))
        .map((e) => ({
          address: e.addresses[0]!,
          ports: s.ports,
          ...(e.targetRef ? { pod: e.targetRef.name } : {}),
          ...(e.nodeName ? { node: e.nodeName } : {}),
          ...(e.zone ? { zone: e.zone } : {}),
          weight: e.weight,
        })),
    )
  }
}

interface JsonRecord {
  name: string
  type: number
  TTL: number
  data: string
}

function record(r: JsonRecord): DnsRecord {
  const base = { name: r.name, ttl: r.TTL }
  const kind = RR_TYPES[r.type]
  const fields = r.data.split(' ')
  switch (kind) {
    case 'A':
    case 'AAAA':
      return { ...base, type: kind, address: r.data }
    case 'CNAME':
    case 'PTR':
    case 'NS':
      return { ...base, type: kind, target: r.data }
    case 'SRV':
      return { ...base, type: 'SRV', priority: Number(fields[0]), weight: Number(fields[1]), port: Number(fields[2]), target: fields[3] ?? '' }
    case 'TXT':
      return { ...base, type: 'TXT', text: [...r.data.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\(.)/g, '$1')) }
    default:
      return { ...base, type: kind === 'SOA' ? 'SOA' : 'OTHER', data: r.data, rrtype: r.type }
  }
}
