/**
 * The resources: list (a page, iterable across every page through `continue`), listAll,
 * get, create, replace, patch, apply (server-side), delete, and watch.
 */
import { request, type HttpOptions } from './http.js'
import { Page, PagePromise, type ListAll } from './pages.js'
import { Watch, type WatchOptions } from './watch.js'
import type { ListObject } from './types.js'

export type Selector = string | Record<string, string>

export interface ListOptions {
  namespace?: string
  /** List across every namespace the token reaches. */
  allNamespaces?: boolean
  /** `{ app: 'web' }` or the full grammar as a string (`tier in (fe,be),!legacy`). */
  labelSelector?: Selector
  fieldSelector?: Selector
  /** Page size (the server's default when left out); iterating a page follows every page. */
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

export interface ApplyOptions extends CallOptions {
  /** Who owns the fields this apply sets; default `switchboard-sdk`. */
  fieldManager?: string
  /** Take over fields another manager owns instead of failing with a 409 Conflict. */
  force?: boolean
}

export interface DeleteOptions extends CallOptions {
  gracePeriodSeconds?: number
  /** Delete only if the object is still at this resourceVersion. */
  resourceVersion?: string
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

  /**
   * The first page: `await` it for a `Page` (`items`, `resourceVersion`, `nextPage()`), or
   * iterate it with `for await` for every object across every page.
   */
  list(options: ListOptions = {}): PagePromise<T> {
    return new PagePromise((resolve, reject) => this.page(options, undefined).then(resolve, reject))
  }

  /** Every object, following `continue` from page to page, and the list's resourceVersion (to start a watch from). */
  async listAll(options: ListOptions = {}): Promise<ListAll<T>> {
    const first = await this.list(options)
    const items = [...first.items]
    for (let page = first; page.hasNextPage(); ) {
      page = await page.nextPage()
      items.push(...page.items)
    }
    return { items, resourceVersion: first.resourceVersion }
  }

  /**
   * The changes to the objects a list with these options would hold, as typed events,
   * resuming after a disconnect and re-listing after a 410 Expired (see watch.ts).
   */
  watch(options: WatchOptions<T> = {}): Watch<T> {
    return new Watch(this.http, {
      path: this.collection(options.namespace, options.allNamespaces),
      query: { labelSelector: selector(options.labelSelector), fieldSelector: selector(options.fieldSelector) },
      list: (signal) => this.listAll({ ...options, signal }),
    }, options)
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

  /**
   * Server-side apply: creates the object, or updates the fields this `fieldManager` owns
   * (a field it set before and leaves out now is removed, unless another manager owns it).
   * Idempotent: an apply that changes nothing keeps the resourceVersion.
   */
  apply(body: TInput & { metadata: { name: string } }, options: ApplyOptions = {}): Promise<T> {
    const { prefix, plural } = this.paths
    const apiVersion = prefix === '/api/v1' ? 'v1' : prefix.replace('/apis/', '')
    const kind = KINDS[plural] ?? plural
    return request(this.http, 'PATCH', this.item(body.metadata.name, options.namespace), {
      body: { apiVersion, kind, ...body },
      contentType: 'application/apply-patch+yaml',
      query: { fieldManager: options.fieldManager ?? 'switchboard-sdk', force: options.force ? 'true' : undefined },
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

  private async page(options: ListOptions, token: string | undefined): Promise<Page<T>> {
    const listed: ListObject<T> = await request(this.http, 'GET', this.collection(options.namespace, options.allNamespaces), {
      query: {
        labelSelector: selector(options.labelSelector),
        fieldSelector: selector(options.fieldSelector),
        limit: options.limit,
        continue: token,
      },
      ...signalOf(options),
    })
    const next = listed.metadata.continue || undefined
    return new Page(listed.items, listed.metadata.resourceVersion, next, next ? () => this.page(options, next) : undefined)
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

const KINDS: Record<string, string> = {
  namespaces: 'Namespace',
  services: 'Service',
  pods: 'Pod',
  endpoints: 'Endpoints',
  endpointslices: 'EndpointSlice',
  tokens: 'Token',
  leases: 'Lease',
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
