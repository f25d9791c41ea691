/**
 * The resources: list (selectors as objects or strings, every page followed through
 * `continue`), get, create, replace, patch, delete.
 */
import { request, type HttpOptions } from './http.js'

export type Selector = string | Record<string, string>

export interface ListOptions {
  namespace?: string
  /** List across every namespace the token reaches. */
  allNamespaces?: boolean
  /** `{ app: 'web' }` or the full grammar as a string (`tier in (fe,be),!legacy`). */
  labelSelector?: Selector
  fieldSelector?: Selector
  /** Page size; every page is followed. */
  limit?: number
  signal?: AbortSignal
}

export interface CallOptions {
  namespace?: string
  signal?: AbortSignal
}

export interface PatchOptions extends CallOptions {
  /** `merge` (RFC 7396, the default) or `json` (RFC 6902). */
  type?: 'merge' | 'json'
}

export interface DeleteOptions extends CallOptions {
  gracePeriodSeconds?: number
  /** Delete only if the object is still at this resourceVersion. */
  resourceVersion?: string
}

interface Listed<T> {
  metadata: { continue?: string }
  items: T[]
}

/** How a resource's paths are built. */
export interface ResourcePaths {
  /** e.g. `/api/v1` or `/apis/discovery.k8s.io/v1`. */
  prefix: string
  plural: string
  namespaced: boolean
}

export class Resource<T, TInput = Partial<T>> {
  constructor(
    protected readonly http: HttpOptions,
    protected readonly paths: ResourcePaths,
    protected readonly defaultNamespace: string,
  ) {}

  /** Every object (following `continue` from page to page). */
  async list(options: ListOptions = {}): Promise<T[]> {
    const items: T[] = []
    let token: string | undefined
    do {
      const page: Listed<T> = await request(this.http, 'GET', this.collection(options.namespace, options.allNamespaces), {
        query: {
          labelSelector: selector(options.labelSelector),
          fieldSelector: selector(options.fieldSelector),
          limit: options.limit,
          continue: token,
        },
        ...(options.signal ? { signal: options.signal } : {}),
      })
      items.push(...page.items)
      token = page.metadata.continue || undefined
    } while (token)
    return items
  }

  get(name: string, options: CallOptions = {}): Promise<T> {
    return request(this.http, 'GET', this.item(name, options.namespace), signalOf(options))
  }

  create(body: TInput, options: CallOptions = {}): Promise<T> {
    return request(this.http, 'POST', this.collection(options.namespace), { body, ...signalOf(options) })
  }

  replace(name: string, body: TInput, options: CallOptions = {}): Promise<T> {
    return request(this.http, 'PUT', this.item(name, options.namespace), { body, ...signalOf(options) })
  }

  patch(name: string, patch: unknown, options: PatchOptions = {}): Promise<T> {
    const json = options.type === 'json'
    return request(this.http, 'PATCH', this.item(name, options.namespace), {
      body: patch,
      contentType: json ? 'application/json-patch+json' : 'application/merge-patch+json',
      idempotent: !json,
      ...signalOf(options),
    })
  }

  delete(name: string, options: DeleteOptions = {}): Promise<T> {
    const body =
      options.gracePeriodSeconds !== undefined || options.resourceVersion !== undefined
        ? {
            kind: 'DeleteOptions',
            apiVersion: 'v1',
            ...(options.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: options.gracePeriodSeconds } : {}),
            ...(options.resourceVersion !== undefined ? { preconditions: { resourceVersion: options.resourceVersion } } : {}),
          }
        : undefined
    return request(this.http, 'DELETE', this.item(name, options.namespace), { ...(body ? { body } : {}), ...signalOf(options) })
  }

  protected collection(namespace?: string, allNamespaces?: boolean): string {
    const { prefix, plural, namespaced } = this.paths
    if (!namespaced || allNamespaces) return `${prefix}/${plural}`
    return `${prefix}/namespaces/${encodeURIComponent(namespace ?? this.defaultNamespace)}/${plural}`
  }

  protected item(name: string, namespace?: string): string {
    return `${this.collection(namespace)}/${encodeURIComponent(name)}`
  }
}

export function selector(s: Selector | undefined): string | undefined {
  if (s === undefined) return undefined
  if (typeof s === 'string') return s
  return Object.entries(s)
    .map(([k, v]) => `${k}=${v}`)
    .join(',')
}

function signalOf(options: { signal?: AbortSignal }) {
  return options.signal ? { signal: options.signal } : {}
}
