/**
 * The root credential end-to-end servers start with: the suite runs with access
 * control on, and every request it sends carries this token.
 */
export const E2E_TOKEN = 'e2e-root-credential-0123456789abcdef'

/** Request headers with the bearer token (and any others given). */
export function authHeaders(headers: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${E2E_TOKEN}`, ...headers }
}
