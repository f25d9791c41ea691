/**
 * The dashboard's calls to the registry's API: the bearer token from session storage on
 * every call, JSON in and out, and a Kubernetes Status turned into an `ApiError`.
 */
const TOKEN_KEY = 'switchboard.token'

export function storedToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY)
}

export function storeToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY)
  else sessionStorage.setItem(TOKEN_KEY, token)
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message)
  }
}

export function headers(extra: Record<string, string> = {}): Record<string, string> {
  const token = storedToken()
  return { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}), ...extra }
}

export async function call<T = any>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
  const init: RequestInit = { method, headers: headers(body === undefined ? {} : { 'content-type': contentType }) }
  if (body !== undefined) init.body = JSON.stringify(body)
  const res = await fetch(path, init)
  const text = await res.text()
  let json: any = null
  try {
    json = text ? JSON.parse(text) : null
  } catch {
    // not JSON: reported below with the status code
  }
  if (!res.ok) {
    throw new ApiError(res.status, json?.reason ?? res.statusText, json?.message ?? `HTTP ${res.status}`)
  }
  return json as T
}

export function query(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, v)
  return q.toString()
}
