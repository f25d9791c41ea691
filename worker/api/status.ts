/**
 * Kubernetes Status objects: every error the API returns has this shape, with the
 * Kubernetes code and reason and, for invalid input, the fields that were wrong.
 */
import type { Context } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { RegistryError, type ErrorDetails, type StatusReason } from '../registry/errors'

export interface Status {
  kind: 'Status'
  apiVersion: 'v1'
  metadata: Record<string, never>
  status: 'Failure'
  message: string
  reason: StatusReason
  details?: ErrorDetails
  code: number
}

export function toStatus(error: RegistryError): Status {
  const details = Object.keys(error.details).length ? { details: error.details } : {}
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: error.message,
    reason: error.reason,
    ...details,
    code: error.code,
  }
}

export function statusResponse(c: Context, error: RegistryError): Response {
  if (error.details.retryAfterSeconds !== undefined) c.header('Retry-After', String(error.details.retryAfterSeconds))
  return c.json(toStatus(error), error.code as ContentfulStatusCode)
}

/** The Status for an unknown path. */
export function pathNotFound(): RegistryError {
  return new RegistryError('NotFound', 'the server could not find the requested resource')
}

export function methodNotAllowed(method: string, allowed: string[]): RegistryError {
  return new RegistryError('MethodNotAllowed', `the server does not allow this method on the requested resource: ${method} (allowed: ${allowed.join(', ')})`)
}
