/**
 * Rate limits, as token buckets kept in memory per process (Node) or per isolate
 * (Workers): a bucket per key holds up to `burst` requests and refills at `perSecond`.
 * A request finding its bucket empty is refused with 429 TooManyRequests and the seconds
 * until it may try again (`Retry-After`, `details.retryAfterSeconds`), as Kubernetes'
 * API server answers. The access control (api/auth.ts) keys requests by token, or by
 * client address when no token is involved, and keeps a separate, tighter bucket per
 * address for failed authentications.
 */
import type { Context } from 'hono'
import { RegistryError } from '../registry/errors'

export interface BucketRate {
  /** Requests per second refilled; 0 turns the limit off. */
  perSecond: number
  /** Requests a full bucket allows at once. */
  burst: number
}

export interface RateLimits {
  /** Requests per token, or per client address for requests without one. */
  requests: BucketRate
  /** Failed authentications per client address. */
  authFailures: BucketRate
}

/** Keys remembered at most; past this the least recently used bucket is dropped (a dropped bucket is a full one). */
const MAX_KEYS = 100_000

export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>()

  constructor(
    private readonly rate: BucketRate,
    private readonly nowMs: () => number,
    private readonly maxKeys = MAX_KEYS,
  ) {}

  /** Seconds until `key` may make one more request: 0 when it may now. */
  wait(key: string): number {
    if (this.rate.perSecond <= 0) return 0
    const tokens = this.refill(key).tokens
    return tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - tokens) / this.rate.perSecond))
  }

  /** Takes one request from `key`'s bucket; answers the seconds to wait instead when it is empty. */
  take(key: string): number {
    const wait = this.wait(key)
    if (wait === 0 && this.rate.perSecond > 0) this.buckets.get(key)!.tokens -= 1
    return wait
  }

  private refill(key: string): { tokens: number; at: number } {
    const now = this.nowMs()
    const bucket = this.buckets.get(key)
    this.buckets.delete(key) // re-inserted last: the map stays in order of use
    const next = bucket
      ? { tokens: Math.min(this.rate.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.rate.perSecond), at: now }
      : { tokens: this.rate.burst, at: now }
    this.buckets.set(key, next)
    if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!)
    return next
  }
}

/** The request and failed-authentication buckets of one process or isolate. */
export class RateLimiter {
  private readonly requests: TokenBuckets
  private readonly failures: TokenBuckets

  constructor(limits: RateLimits, nowMs: () => number) {
    this.requests = new TokenBuckets(limits.requests, nowMs)
    this.failures = new TokenBuckets(limits.authFailures, nowMs)
  }

  /**
   * Counts a request of a token (by name) or, without one, of a client address; 429 past
   * the limit. An unknown address (none was given: an in-process request) is not limited,
   * lest every such caller share one bucket.
   */
  request(who: { token: string } | { address: string | undefined }): void {
    if ('address' in who && who.address === undefined) return
    const key = 'token' in who ? `token:${who.token}` : `address:${who.address}`
    const wait = this.requests.take(key)
    if (wait) throw tooMany(`too many requests from ${'token' in who ? `token "${who.token}"` : `address ${who.address}`}`, wait)
  }

  /** Before authenticating a token from `address`: 429 while the address has failed too often. */
  checkFailures(address: string | undefined): void {
    if (address === undefined) return
    const wait = this.failures.wait(address)
    if (wait) throw tooMany(`too many failed authentications from address ${address}`, wait)
  }

  /** Records a failed authentication from `address`. */
  failed(address: string | undefined): void {
    if (address === undefined) return
    this.failures.take(address)
  }
}

function tooMany(what: string, seconds: number): RegistryError {
  return new RegistryError('TooManyRequests', `${what}: retry after ${seconds} s`, { retryAfterSeconds: seconds })
}

/**
 * The client's address: the peer of the TCP connection on Node (@hono/node-server puts
 * the request in `env.incoming`), the `CF-Connecting-IP` Cloudflare sets on Workers;
 * undefined when neither is there.
 */
export function clientAddress(c: Context): string | undefined {
  const incoming = (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming
  if (incoming) return incoming.socket?.remoteAddress
  return c.req.header('cf-connecting-ip')
}
