/**
 * Access tokens: who may do what, in which namespaces.
 *
 * A token has a name, a role and the namespaces it reaches (a list, or all):
 * - `read`: get and list everything in its namespaces, endpoints, the pick and DNS;
 * - `register`: read, plus create, update and delete of pods and pod status — what a
 *   workload needs to register itself;
 * - `admin`: everything, including services, namespaces and tokens.
 * The secret is returned once, at creation; only its SHA-256 is stored. The root
 * credential is `SWITCHBOARD_ADMIN_TOKEN`, compared in constant time; it acts under the
 * name `admin` (ROOT_NAME), which no token may take, nor any `system:` name. A token is
 * bound to the uids of its namespaces (which must exist when it is issued): deleting one
 * of them revokes it, and re-creating the namespace does not bring it back. A revoked or
 * expired token is refused from the next request on.
 */
import * as z from 'zod'
import { PreconditionFailed } from '../db/errors'
import type { Store, TokenRow } from '../db/store'
import { encodeBase64url } from './base64url'
import type { ChangeFeed } from './change-feed'
import { alreadyExists, fieldError, invalid, notFound } from './errors'
import { checkTypeMeta, decode, timestamp, type Clock } from './meta'
import { encodeContinue } from './continue-token'
import { TOKENS } from './kinds'
import { qualifiedKind, qualifiedResource } from './kind-info'
import { STREAM_PAGE_SIZE, listOptions, type ListOptions, type ListQuery, type ListStream } from './list-options'
import { snapshotPages } from './snapshot-pages'
import { ROLES, type Role } from './roles'
import { parseRfc3339, timeMessage } from './rfc3339'
import { isDns1123Subdomain } from './validation'
import type { WriteOptions } from './write-options'

export { ROLES, type Role }
export const ALL_NAMESPACES = '*'
export const TOKEN_API_VERSION = 'switchboard.dev/v1'
/** The most namespaces a token may list (beyond them, `*`); bounds the checks and the refusal's causes. */
export const MAX_TOKEN_NAMESPACES = 1000
/** The name the root credential acts under (recorded as the actor of its writes). */
export const ROOT_NAME = 'admin'

/** Whether a token may not be named `name`: the root credential's name, and `system:` names, as Kubernetes reserves them. */
function reservedName(name: string): boolean {
  return name === ROOT_NAME || name.startsWith('system:')
}

/** Who is calling: the root credential, a token, or nobody in particular (access control off). */
export interface Principal {
  name: string
  role: Role
  /** The namespaces reached, or `'*'` for all. */
  namespaces: string[] | '*'
}

export const TokenInput = z.object({
  apiVersion: z.string().nullish(),
  kind: z.string().nullish(),
  metadata: z.object({ name: z.string().nullish() }).nullish(),
  spec: z
    .object({
      role: z.string().nullish(),
      namespaces: z.array(z.string()).nullish(),
      expiresAt: z.string().nullish(),
    })
    .nullish(),
})

export type TokenSpec = z.infer<typeof TokenInput>

export interface TokenObject {
  apiVersion: typeof TOKEN_API_VERSION
  kind: 'Token'
  metadata: { name: string; uid: string; creationTimestamp: string; resourceVersion: string; annotations?: Record<string, string> }
  spec: { role: Role; namespaces: string[]; expiresAt?: string }
  /** Only in the answer to a create: the secret, shown once. */
  status?: { secret: string }
}

/**
 * Principals by secret hash are kept until the change feed reports an event of their token
 * (so a revocation or a new token in another process is seen within the feed's catch-up
 * interval), and for this long at most: the bound for a token changed in the database
 * behind the registry's back, which the log does not record.
 */
const CACHE_MS = 5_000
/** Secrets whose hash is kept at most; beyond that the memory starts again. */
const MAX_HASHES = 10_000

export class TokenRegistry {
  private readonly cache = new Map<string, { principal: Principal | null; until: number; expiresAt: number | null }>()
  private readonly adminHash: Promise<string> | null
  /**
   * The hashes of secrets that named a principal, by secret (in memory only), so that a
   * token's requests are not each hashed again: a SHA-256 per request was about 6% of a
   * DoH query's samples in workerd. Only the hashing is skipped; whether the hash still
   * names a principal is decided on every request as before.
   */
  private readonly hashes = new Map<string, string>()

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    adminToken: string | null,
    private readonly feed: ChangeFeed,
  ) {
    this.adminHash = adminToken === null ? null : sha256(adminToken)
    feed.subscribe((update) => {
      if ('reset' in update) return this.cache.clear()
      for (const event of update.events) {
        if (event.kind === 'Token') this.forget((p) => p.name === event.name)
        // A deleted namespace revokes the tokens bound to it.
        else if (event.kind === 'Namespace' && event.type === 'DELETED') this.forget((p) => p.namespaces !== ALL_NAMESPACES && p.namespaces.includes(event.name))
      }
    })
  }

  /** Drops the cached principals `which` picks, and every cached refusal (a new token may answer one). */
  private forget(which: (principal: Principal) => boolean): void {
    for (const [hash, hit] of this.cache) if (hit.principal === null || which(hit.principal)) this.cache.delete(hash)
  }

  /** Whether access control is on (a root credential is configured). */
  get enabled(): boolean {
    return this.adminHash !== null
  }

  /** The principal a bearer secret stands for, or null when it stands for none (unknown, revoked, expired). */
  async authenticate(secret: string): Promise<Principal | null> {
    const known = this.hashes.get(secret)
    const hash = known ?? (await sha256(secret))
    const principal = await this.principalOf(hash)
    if (principal && known === undefined) {
      if (this.hashes.size >= MAX_HASHES) this.hashes.clear()
      this.hashes.set(secret, hash)
    }
    return principal
  }

  /** The principal a secret's hash stands for, or null. */
  private async principalOf(hash: string): Promise<Principal | null> {
    if (this.adminHash !== null && constantTimeEqual(hash, await this.adminHash)) {
      return { name: ROOT_NAME, role: 'admin', namespaces: ALL_NAMESPACES }
    }
    await this.feed.sync()
    const now = this.clock.now().getTime()
    const hit = this.cache.get(hash)
    if (hit && hit.until > now) return hit.expiresAt !== null && hit.expiresAt <= now ? null : hit.principal
    const row = (await this.store.tokens({ hash }))[0]
    const principal: Principal | null = row?.bound
      ? { name: row.name, role: row.role as Role, namespaces: row.namespaces.includes(ALL_NAMESPACES) ? ALL_NAMESPACES : row.namespaces }
      : null
    const expiresAt = row?.expiresAt ? Date.parse(row.expiresAt) : null
    if (this.cache.size > 10_000) this.cache.clear()
    this.cache.set(hash, { principal, until: now + CACHE_MS, expiresAt })
    return expiresAt !== null && expiresAt <= now ? null : principal
  }

  /** Creates a token and shows its secret once; a dry run checks the same, stores nothing and shows no secret (none was issued). */
  async create(body: unknown, actor: string, options: WriteOptions = {}): Promise<TokenObject> {
    const input = decode(TokenInput, body, 'Token')
    checkTypeMeta(input, TOKEN_API_VERSION, 'Token')
    const name = input.metadata?.name ?? ''
    const role = input.spec?.role ?? ''
    const namespaces = input.spec?.namespaces ?? []
    const expiresAt = input.spec?.expiresAt ?? undefined
    const causes = []
    if (!name) causes.push(fieldError.required('metadata.name'))
    else if (reservedName(name)) causes.push(fieldError.invalid('metadata.name', name, `"${ROOT_NAME}" and "system:" names are reserved (the root credential acts as "${ROOT_NAME}")`))
    else if (!isDns1123Subdomain(name)) causes.push(fieldError.invalid('metadata.name', name, 'must be a lowercase RFC 1123 subdomain'))
    if (!(ROLES as readonly string[]).includes(role)) causes.push(fieldError.notSupported('spec.role', role, ROLES))
    if (namespaces.length === 0) causes.push(fieldError.required('spec.namespaces', 'list namespaces, or "*" for all'))
    if (namespaces.includes(ALL_NAMESPACES) && namespaces.length > 1) {
      causes.push(fieldError.invalid('spec.namespaces', namespaces, '"*" must stand alone'))
    }
    if (namespaces.length > MAX_TOKEN_NAMESPACES) {
      causes.push(fieldError.tooMany('spec.namespaces', MAX_TOKEN_NAMESPACES))
    } else {
      const seen = new Set<string>()
      namespaces.forEach((n, i) => {
        if (n !== ALL_NAMESPACES && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(n)) {
          causes.push(fieldError.invalid(`spec.namespaces[${i}]`, n, 'must be a namespace name or "*"'))
        } else if (seen.has(n)) causes.push(fieldError.duplicate(`spec.namespaces[${i}]`, n))
        seen.add(n)
      })
    }
    const expires = expiresAt === undefined ? null : expiryMs(expiresAt)
    if (expiresAt !== undefined && expires === null) {
      causes.push(fieldError.invalid('spec.expiresAt', expiresAt, timeMessage('2030-01-02T15:04:05Z')))
    } else if (expires !== null && expires <= this.clock.now().getTime()) {
      causes.push(fieldError.invalid('spec.expiresAt', expiresAt, 'must be in the future'))
    }
    if (causes.length) throw invalid(qualifiedKind(TOKENS), name, causes)
    const secret = `sb_${randomSecret()}`
    const row = {
      name,
      uid: this.clock.uuid(),
      hash: await sha256(secret),
      role,
      namespaces,
      expiresAt: expires === null ? null : new Date(expires).toISOString(),
      createdAt: timestamp(this.clock.now()),
      createdBy: actor,
    }
    let rv: number
    try {
      rv = await (options.dryRun ? this.store.dryRun() : this.store).createToken(row)
    } catch (e) {
      if (e instanceof PreconditionFailed && e.code === 'exists') throw alreadyExists(qualifiedResource(TOKENS), name)
      if (e instanceof PreconditionFailed && e.code === 'missing_namespace') throw await this.missingNamespaces(name, namespaces)
      throw e
    }
    const token = toObject({ ...row, rv })
    if (!options.dryRun) return { ...token, status: { secret } }
    const { resourceVersion: _none, ...metadata } = token.metadata
    return { ...token, metadata: metadata as TokenObject['metadata'] }
  }

  /**
   * The 422 for a token whose namespaces do not all exist, naming each missing one. A
   * token is bound to its namespaces' uids, so it can only be issued for namespaces that
   * exist (Kubernetes likewise refuses objects in a namespace that does not).
   */
  private async missingNamespaces(name: string, namespaces: string[]): Promise<Error> {
    const missing = new Set(await this.store.missingNamespaces(namespaces))
    const causes = namespaces.flatMap((n, i) =>
      missing.has(n) ? [fieldError.invalid(`spec.namespaces[${i}]`, n, 'no such namespace: create it before issuing a token for it')] : [],
    )
    // A namespace missing at the write may exist again by this read: the refusal then names the list.
    return invalid(qualifiedKind(TOKENS), name, causes.length ? causes : [fieldError.invalid('spec.namespaces', namespaces, 'a namespace does not exist')])
  }

  /** Tokens in name order, a page of `limit` at a time (tokens have no namespace: the continue key's is empty). */
  async list(query: ListQuery = {}) {
    const { labels, fields, limit, after } = listOptions(query, TOKENS.fieldSelectors)
    const page = await this.store.tokenPage(tokenFilter(labels, fields, after?.name, limit))
    return {
      ...tokenListHead(page.rv),
      metadata: {
        resourceVersion: String(page.rv),
        ...(page.next !== undefined ? { continue: encodeContinue({ namespace: '', name: page.next }) } : {}),
      },
      items: page.items.map(toObject),
    }
  }

  /** All tokens (a `limit` is not applied), page by page from one snapshot (snapshot-pages.ts). */
  async stream(query: ListQuery = {}): Promise<ListStream<TokenObject>> {
    const { labels, fields, after: start } = listOptions(query, TOKENS.fieldSelectors)
    const snapshot = await this.store.snapshot()
    const pages = await snapshotPages(
      snapshot,
      async (after: string | undefined, limit) => {
        const page = await snapshot.tokenPage(tokenFilter(labels, fields, after, limit))
        return { rv: page.rv, items: page.items.map(toObject), ...(page.next !== undefined ? { next: page.next } : {}) }
      },
      start?.name,
      STREAM_PAGE_SIZE,
    )
    return { list: tokenListHead(pages.rv), next: pages.next, close: pages.close }
  }

  async get(name: string): Promise<TokenObject> {
    const row = (await this.store.tokens({ name }))[0]
    if (!row) throw notFound(qualifiedResource(TOKENS), name)
    return toObject(row)
  }

  /** Revokes a token: it is refused from the next request on. A dry run checks the same and revokes nothing. */
  async revoke(name: string, options: WriteOptions = {}): Promise<TokenObject> {
    const token = await this.get(name)
    let rv: number
    try {
      rv = await (options.dryRun ? this.store.dryRun() : this.store).deleteToken(name)
    } catch (e) {
      if (e instanceof PreconditionFailed && e.code === 'not_found') throw notFound(qualifiedResource(TOKENS), name)
      throw e
    }
    // Answered at the revocation's resourceVersion, as other deletes are (a dry run: the stored one).
    return options.dryRun ? token : { ...token, metadata: { ...token.metadata, resourceVersion: String(rv) } }
  }
}

/** The filter of a page of tokens: after the token named `after`, at most `limit` (all when undefined). */
function tokenFilter(labels: ListOptions['labels'], fields: ListOptions['fields'], after: string | undefined, limit: number | undefined) {
  return { labels, fields, ...(limit ? { limit } : {}), ...(after !== undefined ? { after: { namespace: '', name: after } } : {}) }
}

function tokenListHead(rv: number) {
  return { apiVersion: TOKEN_API_VERSION, kind: 'TokenList', metadata: { resourceVersion: String(rv) }, items: [] as TokenObject[] }
}

/** The token as the API shows it: never its secret or its hash. */
function toObject(row: Omit<TokenRow, 'hash' | 'bound'> & { hash?: string }): TokenObject {
  return {
    apiVersion: TOKEN_API_VERSION,
    kind: 'Token',
    metadata: {
      name: row.name,
      uid: row.uid,
      creationTimestamp: row.createdAt,
      resourceVersion: String(row.rv),
      ...(row.createdBy ? { annotations: { 'switchboard.dev/created-by': row.createdBy } } : {}),
    },
    spec: { role: row.role as Role, namespaces: row.namespaces, ...(row.expiresAt ? { expiresAt: row.expiresAt } : {}) },
  }
}

/** The instant an expiresAt names, to the millisecond (stored as such), or null when it is not an RFC 3339 time. */
function expiryMs(value: string): number | null {
  const time = parseRfc3339(value)
  return time === null ? null : time.ms + Number(time.fraction.padEnd(3, '0').slice(0, 3))
}

/** Whether `principal` reaches `namespace`. */
export function reaches(principal: Principal, namespace: string): boolean {
  return principal.namespaces === ALL_NAMESPACES || principal.namespaces.includes(namespace)
}

export async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
}

/** Compares two equal-length hex digests without an early exit. */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return diff === 0
}

function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32))
  return encodeBase64url(bytes)
}

