/**
 * `npm run backup -- FILE [--force]`: an online, consistent copy of the embedded database
 * named by DATABASE_URL (as `npm start` reads it; ./data/switchboard.db by default) into
 * FILE, while the server runs and writes. See worker/db/backup.ts.
 */
import { isAbsolute, resolve } from 'node:path'
import { ConfigError } from '../config'
import { BackupError, backupEmbedded } from '../db/backup'
import { databaseTarget, redactUrl, toolFailure } from '../db/location'

const USAGE = 'usage: npm run backup -- FILE [--force]   (copies the database DATABASE_URL names into FILE; --force replaces an existing FILE)'

async function main(args: string[]): Promise<number> {
  const force = args.includes('--force')
  const rest = args.filter((a) => a !== '--force')
  if (rest.length !== 1 || rest[0]!.startsWith('-')) {
    console.error(rest.some((a) => a.startsWith('-')) ? `switchboard backup: unknown option ${rest.find((a) => a.startsWith('-'))}\n${USAGE}` : USAGE)
    return 2
  }
  const { url, embedded: source } = databaseTarget(process.env)
  if (source === null) {
    console.error(
      `switchboard backup: DATABASE_URL=${redactUrl(url)} is a remote database; npm run backup copies an embedded file. ` +
        'Turso keeps point-in-time backups of its own (restore one with `turso db create NEW --from-db NAME --timestamp 2026-01-01T00:00:00Z`; ' +
        '`turso db shell NAME .dump` exports it); for D1 use `npx wrangler d1 time-travel` or `npx wrangler d1 export`',
    )
    return 1
  }
  if (source === ':memory:' || source === '') {
    console.error(`switchboard backup: DATABASE_URL=${url} lives in the memory of the process that opened it: there is no file to back up`)
    return 1
  }
  // npm runs scripts in the project's folder: FILE is taken from where the command was typed.
  const target = isAbsolute(rest[0]!) ? rest[0]! : resolve(process.env.INIT_CWD ?? process.cwd(), rest[0]!)
  const result = await backupEmbedded(source, target, { force })
  const at = result.resourceVersion === null ? '' : ` at resourceVersion ${result.resourceVersion}`
  console.log(`switchboard backup: copied ${source} to ${target}${at}: ${formatBytes(result.bytes)} in ${Math.round(result.ms)} ms`)
  return 0
}

function formatBytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${bytes} bytes (${(bytes / 1024).toFixed(1)} KiB)`
  return `${bytes} bytes (${(bytes / 1024 / 1024).toFixed(1)} MiB)`
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof ConfigError || e instanceof BackupError) console.error(`switchboard backup: ${e.message}`)
    else console.error(`switchboard backup: failed: ${toolFailure(e)}`)
    process.exit(1)
  },
)
