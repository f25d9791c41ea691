/**
 * Domain errors of the registry. They carry what a Kubernetes Status needs
 * (reason, code, field causes) but know nothing about HTTP: the API layer
 * turns them into Status objects.
 */
import { storageFaultOf, type StorageFault } from '../db/errors'
import { goQuote } from './printable'

export type CauseReason =
  | 'FieldValueInvalid'
  | 'FieldValueRequired'
  | 'FieldValueDuplicate'
  | 'FieldValueNotSupported'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  /** Server-side apply: a field another manager owns with another value. */
  | 'FieldManagerConflict'
  | 'FieldValueTooMany'
  | 'FieldValueTypeInvalid'

/** One wrong field, as Kubernetes reports it in `details.causes[]`. */
export interface FieldError {
  reason: CauseReason
  field: string
  message: string
}

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'Invalid'
  | 'TooManyRequests'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'NotAcceptable'
  /** Not one of Kubernetes' reasons: the database's disk is full (HTTP 507). */
  | 'InsufficientStorage'

const CODES: Record<StatusReason, number> = {
  BadRequest: 400,
  Unauthorized: 401,
  Forbidden: 403,
  NotFound: 404,
  MethodNotAllowed: 405,
  NotAcceptable: 406,
  AlreadyExists: 409,
  Conflict: 409,
  Gone: 410,
  Expired: 410,
  RequestEntityTooLarge: 413,
  UnsupportedMediaType: 415,
  Invalid: 422,
  TooManyRequests: 429,
  InternalError: 500,
  ServiceUnavailable: 503,
  InsufficientStorage: 507,
}

export interface ErrorDetails {
  name?: string
  kind?: string
  group?: string
  causes?: FieldError[]
  retryAfterSeconds?: number
}

/** An error that becomes a Kubernetes Status object. */
export class RegistryError extends Error {
  readonly code: number
  constructor(
    readonly reason: StatusReason,
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message)
    this.name = 'RegistryError'
    this.code = CODES[reason]
  }
}

/**
 * The Status details that name an object of `qualified`, a resource or kind as Kubernetes
 * writes one in messages: `leases.coordination.k8s.io`, `Lease.coordination.k8s.io`, or
 * without a group for the core one (`pods`). It splits at the first dot, as apimachinery's
 * ParseGroupResource does: `details.kind` is the name before it, `details.group` the group.
 */
export function namedDetails(qualified: string, name: string): ErrorDetails {
  const dot = qualified.indexOf('.')
  // An empty name is left out, as Kubernetes' StatusDetails leaves it (omitempty).
  const named = name ? { name } : {}
  return dot < 0 ? { ...named, kind: qualified } : { ...named, group: qualified.slice(dot + 1), kind: qualified.slice(0, dot) }
}

/** `<resource>[.<group>] "<name>" not found`, with `details.kind` the resource (plural), as Kubernetes does. */
export function notFound(resource: string, name: string): RegistryError {
  return new RegistryError('NotFound', `${resource} "${name}" not found`, namedDetails(resource, name))
}

export function alreadyExists(resource: string, name: string): RegistryError {
  return new RegistryError('AlreadyExists', `${resource} "${name}" already exists`, namedDetails(resource, name))
}

/** `Operation cannot be fulfilled on <resource>[.<group>] "<name>": <why>`, a 409, as Kubernetes' NewConflict words it. */
export function conflict(
  resource: string,
  name: string,
  why = 'the object has been modified; please apply your changes to the latest version and try again',
): RegistryError {
  return new RegistryError('Conflict', `Operation cannot be fulfilled on ${resource} "${name}": ${why}`, namedDetails(resource, name))
}

export function badRequest(message: string, causes?: FieldError[]): RegistryError {
  return new RegistryError('BadRequest', message, causes ? { causes } : {})
}

/** The 422 for options of a request (CreateOptions, PatchOptions, DeleteOptions, ListOptions…): `PatchOptions.meta.k8s.io "" is invalid: …`. */
export function invalidOptions(kind: string, causes: FieldError[]): RegistryError {
  return invalid(`${kind}.meta.k8s.io`, '', causes)
}

/**
 * `<Kind>[.<group>] "<name>" is invalid: field: message`, or `[field: message, ...]` for
 * several, each repeated message once (apimachinery's error aggregate), with `details.kind`
 * the Kind (singular, capitalised) and every cause in `details.causes`, as Kubernetes does for 422.
 */
export function invalid(kind: string, name: string, causes: FieldError[]): RegistryError {
  const messages = [...new Set(causes.map((c) => `${c.field}: ${c.message}`))]
  const list = messages.length === 0 ? '' : messages.length === 1 ? `: ${messages[0]}` : `: [${messages.join(', ')}]`
  return new RegistryError('Invalid', `${kind} "${name}" is invalid${list}`, { ...namedDetails(kind, name), causes })
}

/**
 * An object too large to store: `<Kind> "<name>" is too large: ...`, a 413 RequestEntityTooLarge
 * (Kubernetes' answer to a request over its size limits).
 */
export function tooLarge(kind: string, name: string, bytes: number, max: number): RegistryError {
  return new RegistryError('RequestEntityTooLarge', `${kind} "${name}" is too large: it would be stored as ${bytes} bytes, more than the limit of ${max} bytes`, { name, kind })
}

/** What each storage fault tells the client; none of them applied anything. */
const STORAGE_FAULTS: Record<StorageFault, [StatusReason, string]> = {
  full: ['InsufficientStorage', 'the disk of the registry database is full: nothing was changed; writes succeed again once space is freed'],
  moved: [
    'ServiceUnavailable',
    'the registry database file was removed or replaced while the registry was running: writes are refused so that none is lost; restart the registry',
  ],
  readonly: ['ServiceUnavailable', 'the registry database cannot be written (it is read-only): nothing was changed'],
  io: ['ServiceUnavailable', 'the disk of the registry database failed (I/O error): nothing was changed'],
  busy: ['ServiceUnavailable', "another process held the registry database's write lock for too long: nothing was changed; retry"],
}

/** The Status of a storage fault (a full disk is 507, the others 503), or null for any other error. */
export function storageError(error: unknown): RegistryError | null {
  const fault = storageFaultOf(error)
  if (!fault) return null
  const [reason, message] = STORAGE_FAULTS[fault]
  // A held lock passes: the client may retry at once (Retry-After), as after a 429.
  return new RegistryError(reason, message, fault === 'busy' ? { retryAfterSeconds: 1 } : {})
}

/** Builders for field errors, worded as Kubernetes words them. */
export const fieldError = {
  invalid(field: string, value: unknown, detail: string): FieldError {
    return { reason: 'FieldValueInvalid', field, message: `Invalid value: ${show(value)}: ${detail}` }
  },
  required(field: string, detail = ''): FieldError {
    return { reason: 'FieldValueRequired', field, message: detail ? `Required value: ${detail}` : 'Required value' }
  },
  duplicate(field: string, value: unknown): FieldError {
    return { reason: 'FieldValueDuplicate', field, message: `Duplicate value: ${show(value)}` }
  },
  notSupported(field: string, value: unknown, allowed: readonly string[]): FieldError {
    const list = allowed.map(goQuote).join(', ')
    return { reason: 'FieldValueNotSupported', field, message: `Unsupported value: ${show(value)}: supported values: ${list}` }
  },
  forbidden(field: string, detail: string): FieldError {
    return { reason: 'FieldValueForbidden', field, message: `Forbidden: ${detail}` }
  },
  tooLong(field: string, max: number): FieldError {
    return { reason: 'FieldValueTooLong', field, message: `Too long: may not be more than ${max} bytes` }
  },
  /** `Too many: <actual>: must have at most <max> items`, as apimachinery's field.TooMany words it (without the count when it is unknown). */
  tooMany(field: string, max: number, actual?: number): FieldError {
    return { reason: 'FieldValueTooMany', field, message: `Too many: ${actual !== undefined ? `${actual}: ` : ''}must have at most ${max} items` }
  },
  type(field: string, detail: string): FieldError {
    return { reason: 'FieldValueTypeInvalid', field, message: `Invalid value: ${detail}` }
  },
}

/** A value as field errors show it: a string quoted as Go's %q quotes it, anything else as JSON (cut at 80 characters). */
function show(value: unknown): string {
  if (typeof value === 'string') return goQuote(value)
  if (value === undefined) return 'null'
  try {
    const s = JSON.stringify(value)
    return s.length > 80 ? `${s.slice(0, 77)}...` : s
  } catch {
    return String(value)
  }
}
