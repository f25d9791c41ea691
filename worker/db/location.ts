/**
 * Where the Node entry and the database tools (`npm start`, `npm run backup`,
 * `npm run migrate`) find the database: DATABASE_URL, or the embedded file below.
 */
import { ConfigError, parseConfig } from '../config'
import { embeddedTarget } from './client'

export const DEFAULT_DATABASE_URL = 'file:./data/switchboard.db'

/** The database URL without credentials, for what is printed. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/\s]*@/g, '//***@').replace(/([?&](authToken|token)=)[^&\s]*/gi, '$1***')
}

/** An unexpected error of a tool, for its one line: the message (its cause's too) with any URL's credentials hidden, no stack. */
export function toolFailure(e: unknown): string {
  if (!(e instanceof Error)) return redactUrl(String(e))
  const cause = e.cause instanceof Error ? ` (${e.cause.message})` : ''
  return redactUrl(`${e.name}: ${e.message}${cause}`)
}

/** The database the tools work on, read from the environment as `npm start` reads it. */
export interface DatabaseTarget {
  url: string
  authToken: string | undefined
  /** The file (or `:memory:`) of an embedded database; null for a remote one. */
  embedded: string | null
}

/** Reads DATABASE_URL and DATABASE_AUTH_TOKEN; a URL libSQL cannot open is a ConfigError naming DATABASE_URL. */
export function databaseTarget(env: Record<string, string | undefined>): DatabaseTarget {
  const config = parseConfig(env)
  const url = config.databaseUrl ?? DEFAULT_DATABASE_URL
  try {
    return { url, authToken: config.databaseAuthToken, embedded: embeddedTarget(url) }
  } catch (e) {
    throw new ConfigError(`DATABASE_URL=${redactUrl(url)} is not a database URL libSQL can open: ${(e as Error).message}`)
  }
}
