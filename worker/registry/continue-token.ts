/**
 * Continue tokens of paged lists: the (namespace, name) key of the last item of a page,
 * base64url-encoded; the next page starts strictly after it.
 */
import { decodeBase64url, encodeBase64url } from './base64url'
import { badRequest } from './errors'

export interface ListKey {
  namespace: string
  name: string
}

export function encodeContinue(key: ListKey): string {
  return encodeBase64url(new TextEncoder().encode(JSON.stringify([key.namespace, key.name])))
}

export function decodeContinue(token: string): ListKey {
  const bytes = decodeBase64url(token)
  try {
    const value: unknown = bytes ? JSON.parse(new TextDecoder().decode(bytes)) : null
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string') {
      return { namespace: value[0], name: value[1] }
    }
  } catch {
    // fall through to the error below
  }
  throw badRequest('the continue token is not valid')
}
