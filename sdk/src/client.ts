/**
 * The Switchboard client: the resources of the registry, and the calls workloads need
 * (register, setReady, drain, pick, resolve, lookup).
 */
import { NotFoundError, AlreadyExistsError } from './errors.js'
import { request, type HttpOptions } from './http.js'
import { Resource, type CallOptions } from './resources.js'
import type {
  Endpoints,
  EndpointsInput,
  EndpointPort,
  EndpointSlice,
  Namespace,
  NamespaceInput,
  PickResult,
  Pod,
  PodInput,
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

export interface Registration {
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

export interface PickOptions extends CallOptions {
  port?: string
  key?: string
  zone?: string
  explain?: boolean
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

const WEIGHT_ANNOTATION = 'switchboard.dev/weight'
const ZONE_LABEL = 'topology.kubernetes.io/zone'
const RR_TYPES: Record<number, string> = { 1: 'A', 28: 'AAAA', 5: 'CNAME', 12: 'PTR', 2: 'NS', 33: 'SRV', 16: 'TXT', 6: 'SOA' }

export class PodResource extends Resource<Pod, PodInput> {
  /** Creates or updates a pod from a registration (idempotent). */
  async register(r: Registration, options: CallOptions = {}): Promise<Pod> {
    const namespace = r.namespace ?? options.namespace
    const body = podBody(r)
    const call = { ...options, ...(namespace ? { namespace } : {}) }
    try {
      return await this.replace(r.name, body, call)
    } catch (e) {
      if (!(e instanceof NotFoundError) || e.body?.details?.kind !== 'pods') throw e
    }
    try {
      return await this.create(body, call)
    } catch (e) {
      if (e instanceof AlreadyExistsError) return this.replace(r.name, body, call)
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

  /** Sets the pod's weight to 0: it stays registered but is never picked or answered in DNS. */
  drain(name: string, options: CallOptions = {}): Promise<Pod> {
    return this.patch(name, { metadata: { annotations: { [WEIGHT_ANNOTATION]: '0' } } }, options)
  }
}

export class ServiceResource extends Resource<Service, ServiceInput> {
  /** One ready endpoint of the service, by weight (or sticky by `key`). */
  pick(name: string, options: PickOptions = {}): Promise<PickResult> {
    return request(this.http, 'GET', `${this.item(name, options.namespace)}/pick`, {
      query: { port: options.port, key: options.key, zone: options.zone, explain: options.explain ? 'true' : undefined },
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

  /** The ready, non-drained endpoints of a service. */
  async lookup(service: string, options: CallOptions = {}): Promise<ReadyEndpoint[]> {
    const slices = await this.endpointSlices.list({
      ...options,
      labelSelector: { 'kubernetes.io/service-name': service },
    })
    return slices.flatMap((s) =>
      s.endpoints
        .filter((e) => e.conditions.ready && e.weight > 0)
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

function podBody(r: Registration): PodInput {
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
      annotations: { [WEIGHT_ANNOTATION]: String(r.weight ?? 1) },
    },
    spec: { ...(r.nodeName ? { nodeName: r.nodeName } : {}), ...(ports.length ? { containers: [{ name: 'app', ports }] } : {}) },
    status: {
      podIPs: ips.map((ip) => ({ ip })),
      conditions: [{ type: 'Ready', status: r.ready === false ? 'False' : 'True' }],
    },
  }
}
