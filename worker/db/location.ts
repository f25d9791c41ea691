/**
 * Where the Node entry and the database tools (`npm start`, `npm run backup`,
 * `npm run migrate`) find the database: DATABASE_URL, or the embedded file below.
 */
export const DEFAULT_DATABASE_URL = 'file:./data/switchboard.db'

/** The database URL without credentials, for what is printed. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@').replace(/([?&](authToken|token)=)[^&]*/gi, '$1***')
}
