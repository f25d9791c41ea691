/**
 * Errors of the Switchboard client: one class per Kubernetes Status reason, each with
 * the HTTP status, the Status object and the request ID; and classes of their own for
 * network failures, timeouts and aborts, and for a lease that could not be kept.
 */
import type { FieldError, Status } from './types.js'

export class SwitchboardError extends Error {
  override name = 'SwitchboardError'
}

/** The server answered with an error Status. */
export class APIError extends SwitchboardError {
  override name = 'APIError'
  /** The answer's headers (`Retry-After`, `X-Request-Id`, rate-limit headers, ...). */
  readonly headers: Headers
  constructor(
    readonly status: number,
    readonly body: Status | undefined,
    readonly requestId: string | null,
    message: string,
    headers: Headers = new Headers(),
  ) {
    super(message)
    this.headers = headers
  }

  /** The reason of the Status (NotFound, Conflict, ...). */
  get reason(): string | undefined {
    return this.body?.reason
  }

  /** Builds the class that fits the Status' reason (or the HTTP status). */
  static from(status: number, body: Status | undefined, headers: Headers): APIError {
    const message = body?.message ?? `HTTP ${status}`
    const Class = REASONS[body?.reason ?? ''] ?? BY_STATUS[status] ?? APIError
    return new Class(status, body, headers.get('x-request-id'), message, headers)
  }
}

export class BadRequestError extends APIError {
  override name = 'BadRequestError'
}
export class UnauthorizedError extends APIError {
  override name = 'UnauthorizedError'
}
export class ForbiddenError extends APIError {
  override name = 'ForbiddenError'
}
export class NotFoundError extends APIError {
  override name = 'NotFoundError'
}
export class AlreadyExistsError extends APIError {
  override name = 'AlreadyExistsError'
}
export class ConflictError extends APIError {
  override name = 'ConflictError'
}
/** 422: `causes` names the fields that were wrong. */
export class InvalidError extends APIError {
  override name = 'InvalidError'
  get causes(): FieldError[] {
    return this.body?.details?.causes ?? []
  }
}
/** 410: a resourceVersion older than the registry's change log keeps (a watch re-lists). */
export class ExpiredError extends APIError {
  override name = 'ExpiredError'
}
export class ServiceUnavailableError extends APIError {
  override name = 'ServiceUnavailableError'
}
export class RateLimitError extends APIError {
  override name = 'RateLimitError'
}
export class InternalServerError extends APIError {
  override name = 'InternalServerError'
}

/** The request never got an answer (connection refused, reset, DNS failure). */
export class ConnectionError extends SwitchboardError {
  override name = 'ConnectionError'
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
  }
}

/** The request took longer than `timeoutMs`. */
export class TimeoutError extends SwitchboardError {
  override name = 'TimeoutError'
}

/** The caller's AbortSignal cancelled the request. */
export class AbortError extends SwitchboardError {
  override name = 'AbortError'
}

/**
 * A registration's lease was not renewed within its renew deadline (or is held by someone
 * else now): the registration stopped renewing, and the registry will soon stop answering
 * with its pod. `cause` is the last renewal's error.
 */
export class LeaseLostError extends SwitchboardError {
  override name = 'LeaseLostError'
  constructor(
    message: string,
    /** The lease, as `namespace/name`. */
    readonly lease: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }
}

/**
 * A registration's name was taken over: a renewal found its lease held by another holder
 * (another process registered the name with `takeOver: true`). The registration stopped
 * renewing and leaves the pod, now the other holder's, alone, `close()` included.
 */
export class TakenOverError extends LeaseLostError {
  override name = 'TakenOverError'
  constructor(
    message: string,
    lease: string,
    /** Who holds the lease now. */
    readonly holderIdentity: string,
  ) {
    super(message, lease)
  }
}

/**
 * `register()` found the name held by another live registration: the pod names a lease that
 * another holder renewed within its duration. Register under another name, wait for that
 * lease to lapse, or pass `takeOver: true`.
 */
export class NameTakenError extends SwitchboardError {
  override name = 'NameTakenError'
  constructor(
    message: string,
    /** The lease, as `namespace/name`. */
    readonly lease: string,
    /** Who holds it. */
    readonly holderIdentity: string,
  ) {
    super(message)
  }
}

/** A watch's resourceVersion is older than the registry's change log keeps (410 Expired). */
export function isExpired(e: unknown): boolean {
  return e instanceof ExpiredError || (e instanceof APIError && e.status === 410)
}

const REASONS: Record<string, typeof APIError> = {
  BadRequest: BadRequestError,
  Unauthorized: UnauthorizedError,
  Forbidden: ForbiddenError,
  NotFound: NotFoundError,
  AlreadyExists: AlreadyExistsError,
  Conflict: ConflictError,
  Invalid: InvalidError,
  Expired: ExpiredError,
  Gone: ExpiredError,
  ServiceUnavailable: ServiceUnavailableError,
  TooManyRequests: RateLimitError,
  InternalError: InternalServerError,
}

const BY_STATUS: Record<number, typeof APIError> = {
  400: BadRequestError,
  401: UnauthorizedError,
  403: ForbiddenError,
  404: NotFoundError,
  409: ConflictError,
  410: ExpiredError,
  422: InvalidError,
  429: RateLimitError,
  500: InternalServerError,
  503: ServiceUnavailableError,
}
