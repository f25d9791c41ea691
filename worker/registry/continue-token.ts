/**
 * Continue tokens of paged lists: the (namespace, name) key of the last item of a page,
 * base64url-encoded; the next page starts strictly after it. Lists with several items
 * per key (the slices of a service) also name the last item given within the key.
 */
import { decodeBase64url, encodeBase64url } from './base64url'
import { badRequest } from './errors'

export interface ListKey {
  namespace: string
  name: string
  /** The last item given within the key, when a key has several. */
  part?: string
}

export function encodeContinue(key: ListKey): string {
  const value = key.part === undefined ? [key.namespace, key.name] : [key.namespace, key.name, key.part]
  return encodeBase64url(new TextEncoder().encode(JSON.stringify(value)))
}

export function decodeContinue(token: string): ListKey {
  const bytes = decodeBase64url(token)
  try {
    const value: unknown = bytes ? JSON.parse(new TextDecoder().decode(bytes)) : null
    if (Array.isArray(value) && (value.length === 2 || value.length === 3) && value.every((v) => typeof v === 'string')) {
      const [namespace, name, part] = value as [string, string, string?]
      return { namespace, name, ...(part !== undefined ? { part } : {}) }
    }
  } catch {
    // fall through to the error below
  }
  throw badRequest('the continue token is not valid')
}
