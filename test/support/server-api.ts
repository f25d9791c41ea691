/**
 * JSON calls to a real server's API, for end-to-end tests that set up state beside the
 * client under test. A reply of 300 or more throws with its Status, so a setup step that
 * fails names itself.
 */
export type ServerApi = (method: string, path: string, body?: unknown, contentType?: string) => Promise<any>

export function serverApi(baseUrl: string, headers: Record<string, string> = {}): ServerApi {
  return async (method, path, body, contentType = 'application/json') => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': contentType }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text}`)
    return text ? JSON.parse(text) : undefined
  }
}

/** A server process without access control (no SWITCHBOARD_ADMIN_TOKEN; it listens on loopback only). */
export const OPEN_ACCESS = { SWITCHBOARD_ADMIN_TOKEN: '' }
