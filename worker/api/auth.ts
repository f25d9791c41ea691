/**
 * Access control on every route: `Authorization: Bearer <token>` (or, for DoH clients
 * that cannot set headers, `/dns-query/<token>`). A missing or unknown token is a 401,
 * a token outside its role or namespaces a 403 — decided from the path alone, before
 * any object is read, so the answer never tells whether an object exists. `/livez`,
 * `/readyz`, `/healthz`, `/version` and the dashboard's pages under `/ui` are open; DNS is open too when `DOH_PUBLIC=true`.
 * With access control on, requests are rate-limited per token (per client address
 * without one), and an address whose tokens failed too often gets 429 before its next
 * token is looked at.
 */
import type { Context, MiddlewareHandler } from 'hono'
import { RegistryError, namedDetails } from '../registry/errors'
import type { AppEnv } from '../http/env'
import { clientAddress, type RateLimiter } from '../http/rate-limit'
import type { KindInfo } from '../registry/kind-info'
import { KINDS, NAMESPACES, kindOf } from '../registry/kinds'
import type { Registry } from '../registry/registry'
import { ALL_NAMESPACES, reaches, type Principal, type Role, type TokenRegistry } from '../registry/tokens'

export interface AccessOptions {
  tokens: TokenRegistry
  /** DNS answers need no token. */
  dohPublic: boolean
  /** With no root credential configured, refuse every call (the Workers runtime) instead of opening up. */
  failClosed: boolean
  /** Request and failed-authentication limits (http/rate-limit.ts); none while access control is off. */
  limiter?: RateLimiter
}

/** What a request needs: nothing, or a role over one namespace, or over every namespace. */
type Need =
  | { kind: 'public' }
  | { kind: 'dns' }
  /** `group`: the resource's API group, when it has one (the core group and non-resource paths do not). */
  | { kind: 'role'; role: Role; namespace?: string; everywhere?: boolean; verb: string; resource: string; group?: string }

const RANK: Record<Role, number> = { read: 0, register: 1, admin: 2 }
const OPEN: Principal = { name: '', role: 'admin', namespaces: ALL_NAMESPACES }

export function accessControl(registry: Registry, options: AccessOptions): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const open = () => {
      c.set('principal', OPEN)
      c.set('registry', registry)
      return next()
    }
    // Access control off (Node, loopback only): every route is open and nothing is limited, whatever it needs.
    if (!options.tokens.enabled && !options.failClosed) return open()
    const need = requirement(c.req.method, c.req.path)
    const limiter = options.tokens.enabled ? options.limiter : undefined
    if (need.kind === 'public') {
      limiter?.request({ address: clientAddress(c) })
      return open()
    }
    if (!options.tokens.enabled && options.failClosed && !(need.kind === 'dns' && options.dohPublic)) {
      throw new RegistryError(
        'ServiceUnavailable',
        'access control is not configured: set the SWITCHBOARD_ADMIN_TOKEN secret (wrangler secret put SWITCHBOARD_ADMIN_TOKEN)',
      )
    }
    // Public DNS.
    if (need.kind === 'dns' && dnsNeedsNoToken(options.tokens.enabled, options.dohPublic)) {
      limiter?.request({ address: clientAddress(c) })
      return open()
    }
    const secret = bearer(c)
    // An address that failed too often is refused before its token is looked at, so guessing cannot go on.
    if (secret) limiter?.checkFailures(clientAddress(c))
    const principal = secret ? await options.tokens.authenticate(secret) : null
    if (!principal) {
      if (secret) limiter?.failed(clientAddress(c))
      c.header('WWW-Authenticate', 'Bearer realm="switchboard"')
      throw new RegistryError('Unauthorized', secret ? 'the token is not valid (unknown, revoked or expired)' : 'a bearer token is required')
    }
    limiter?.request({ token: principal.name })
    // Known before the role is checked, so that a refusal's request line names the token.
    c.set('principal', principal)
    if (need.kind === 'role') {
      const inScope = need.everywhere ? principal.namespaces === ALL_NAMESPACES : need.namespace === undefined || reaches(principal, need.namespace)
      if (RANK[principal.role] < RANK[need.role] || !inScope) throw forbidden(principal, need)
    }
    c.set('registry', registry.as(principal.name))
    return next()
  }
}

/**
 * Whether DNS is answered to a caller without a token: with access control off, or with
 * DOH_PUBLIC. Classic DNS (UDP and TCP) carries no token, so it answers only then.
 */
export function dnsNeedsNoToken(accessControl: boolean, dohPublic: boolean): boolean {
  return !accessControl || dohPublic
}

function forbidden(principal: Principal, need: Extract<Need, { kind: 'role' }>): RegistryError {
  const where = need.namespace !== undefined ? ` in the namespace "${need.namespace}"` : need.everywhere ? ' in every namespace' : ''
  // Named with its group, as Kubernetes names a resource in a Status (leases.coordination.k8s.io).
  const qualified = need.group ? `${need.resource}.${need.group}` : need.resource
  return new RegistryError('Forbidden', `${qualified} is forbidden: token "${principal.name}" cannot ${need.verb} ${need.resource}${where}`, namedDetails(qualified, ''))
}

/**
 * Why the caller may not create an object of `kind` through a write that is not a POST
 * (a server-side apply of an object that does not exist): a kind whose creation needs a
 * token of every namespace (namespaces) refuses it to narrower tokens, as its POST does.
 */
export function createRefusal(c: Context<AppEnv>, kind: KindInfo): RegistryError | undefined {
  const principal = c.get('principal')
  if (kind.access.everywhere !== 'create' || principal.namespaces === ALL_NAMESPACES) return undefined
  return forbidden(principal, { kind: 'role', role: kind.access.write, everywhere: true, verb: 'create', resource: kind.resource, ...(kind.group ? { group: kind.group } : {}) })
}

/** The namespaces a list may show the caller (undefined: all). */
export function visibleNamespaces(c: Context<AppEnv>): string[] | undefined {
  const p = c.get('principal')
  return p.namespaces === ALL_NAMESPACES ? undefined : p.namespaces
}

function bearer(c: Context): string | null {
  const header = c.req.header('authorization')
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null
  if (m) return m[1]!
  const path = /^\/dns-query\/([^/]+)$/.exec(c.req.path)
  return path ? decodeURIComponent(path[1]!) : null
}

const VERBS: Record<string, string> = { GET: 'get', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' }

/** The access a method and path need. */
export function requirement(method: string, path: string): Need {
  const p = path.replace(/\/+$/, '') || '/'
  if (p === '/version' || /^\/(healthz|livez|readyz)(\/[^/]*)?$/.test(p) || p === '/ui' || p.startsWith('/ui/')) return { kind: 'public' }
  // Registry-wide counts: a token that may read every namespace (api/metrics.ts).
  if (p === '/metrics') return { kind: 'role', role: 'read', everywhere: true, verb: 'get', resource: 'metrics' }
  if (p === '/dns-query' || p === '/resolve' || /^\/dns-query\/[^/]+$/.test(p)) return { kind: 'dns' }
  const read = method === 'GET' || method === 'HEAD'
  const verb = VERBS[method] ?? method.toLowerCase()
  const parts = p.split('/').filter(Boolean).map((x) => safeDecode(x))
  const group = parts[0] === 'api' ? '' : parts[0] === 'apis' ? parts[1] : undefined
  // A group whose every kind needs admin in every namespace (switchboard.dev: tokens) needs it for all its paths.
  const kinds = KINDS.filter((k) => k.group === group)
  if (group && kinds.length && kinds.every((k) => k.access.everywhere === 'all')) {
    return { kind: 'role', role: kinds[0]!.access.write, everywhere: true, verb, resource: kinds[0]!.resource, group }
  }
  const served = group !== undefined && KINDS.some((k) => k.group === group && k.version === parts[group ? 2 : 1])
  const rest = served ? parts.slice(group ? 3 : 2) : []
  if (rest.length === 0) return { kind: 'role', role: 'read', verb, resource: 'discovery' }
  const inGroup = group ? { group } : {}
  if (rest[0] !== NAMESPACES.resource) return { kind: 'role', role: 'read', verb: read ? 'list' : verb, resource: rest[0]!, ...inGroup }
  const write = (kind: KindInfo | undefined) => kind?.access.write ?? 'admin'
  if (rest.length === 1) {
    return read
      ? { kind: 'role', role: 'read', verb: 'list', resource: NAMESPACES.resource }
      : { kind: 'role', role: write(NAMESPACES), everywhere: NAMESPACES.access.everywhere === 'create', verb, resource: NAMESPACES.resource }
  }
  const namespace = rest[1]!
  if (rest.length === 2) return { kind: 'role', role: read ? 'read' : write(NAMESPACES), namespace, verb, resource: NAMESPACES.resource }
  const resource = rest[2]!
  // A GET of the collection itself is a list, as Kubernetes names the verb.
  const collection = read && rest.length === 3
  return { kind: 'role', role: read ? 'read' : write(kindOf(group!, resource)), namespace, verb: collection ? 'list' : verb, resource, ...inGroup }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}
