/**
 * `npm run migrate [-- --status]`: applies the pending migrations of `migrations/` to the
 * database DATABASE_URL names (an embedded file, as `npm start` reads it, or a remote
 * libSQL server such as Turso with DATABASE_AUTH_TOKEN), printing each one applied, or
 * "up to date". `--status` lists what is applied and pending and changes nothing. The
 * same code runs at `npm start` (worker/db/migrate.ts). D1 is migrated by wrangler.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { ConfigError } from '../config'
import { databaseTarget, redactUrl, toolFailure } from '../db/location'
import { migrateClient, migrationPlan, MigrationError, openForMigration, readMigrations, type MigrationState } from '../db/migrate'

const USAGE = 'usage: npm run migrate [-- --status]   (applies pending migrations to the database DATABASE_URL names; --status only lists them)'

async function main(args: string[]): Promise<number> {
  if (args.length > 1 || (args.length === 1 && args[0] !== '--status')) {
    console.error(args.length === 1 ? `switchboard migrate: unknown argument ${args[0]}\n${USAGE}` : USAGE)
    return 2
  }
  const status = args[0] === '--status'
  const { url, authToken, embedded: path } = databaseTarget(process.env)
  const where = `database ${redactUrl(url)}`
  if (path === ':memory:' || path === '') {
    console.error(`switchboard migrate: DATABASE_URL=${url} lives in the memory of the process that opens it: npm start migrates it itself`)
    return 1
  }
  if (path !== null && !existsSync(path)) {
    if (status) {
      const all = readMigrations()
      console.log(`${where}: no file yet; all ${all.length} migrations pending`)
      for (const m of all) console.log(`  pending     ${m.tag}`)
      return 0
    }
    mkdirSync(dirname(path), { recursive: true })
  }

  const remote = path === null
  const client = await reach(() => openForMigration(url, authToken), url, remote)
  try {
    if (status) return await reach(() => printStatus(client, where), url, remote)
    const report = await reach(() => migrateClient(client, { log: (line) => console.log(line) }), url, remote)
    if (report.applied.length === 0 && report.adopted.length === 0) console.log(`${where}: up to date (${report.total} migrations applied)`)
    else console.log(`${where}: up to date now (${report.adopted.length ? `${report.adopted.length} recorded, ` : ''}${report.applied.length} applied, ${report.total} in all)`)
    return 0
  } finally {
    client.close()
  }
}

async function printStatus(client: Awaited<ReturnType<typeof openForMigration>>, where: string): Promise<number> {
  const plan = await migrationPlan(client)
  const pending = plan.migrations.filter((m) => !m.applied)
  if (plan.kind === 'unrecorded') {
    const through = plan.migrations[plan.adopt - 1]!.tag
    console.log(
      `${where}: its tables were made without a record of migrations (by hand); their schema is exactly the one migrations up to ${through} make. ` +
        `npm run migrate records those as applied without running them again${pending.length ? `, then applies the ${pending.length} pending` : ''}`,
    )
  } else {
    console.log(`${where}: ${plan.migrations.length - pending.length} of ${plan.migrations.length} migrations applied, ${pending.length} pending`)
  }
  for (const w of plan.warnings) console.log(`warning: ${w}`)
  for (const m of plan.migrations) console.log(`  ${label(m, plan.kind === 'unrecorded')} ${m.tag}`)
  if (pending.length > 0) console.log('run npm run migrate to apply the pending migrations')
  return 0
}

function label(m: MigrationState, unrecorded: boolean): string {
  if (!m.applied) return 'pending   '
  if (unrecorded) return 'unrecorded'
  return m.changedFrom ? 'changed   ' : 'applied   '
}

/** Runs `task`, turning a failure to reach a remote database into a message naming DATABASE_URL. */
async function reach<T>(task: () => Promise<T>, url: string, remote: boolean): Promise<T> {
  try {
    return await task()
  } catch (e) {
    if (e instanceof MigrationError || e instanceof ConfigError) throw e
    const code = (e as { code?: string }).code
    if (remote && /SERVER_ERROR|HRANA|FETCH|ECONN|URL_INVALID|UNAUTHORIZED|TIMEOUT/i.test(`${code} ${(e as Error).message}`)) {
      throw new ConfigError(
        `cannot use the database at DATABASE_URL=${redactUrl(url)}: ${(e as Error).message}${/401|UNAUTHORIZED|auth/i.test(String((e as Error).message)) ? ' (is DATABASE_AUTH_TOKEN set and valid?)' : ''}`,
      )
    }
    throw e
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof ConfigError || e instanceof MigrationError) console.error(`switchboard migrate: ${e.message}`)
    else console.error(`switchboard migrate: failed: ${toolFailure(e)}`)
    process.exit(1)
  },
)
