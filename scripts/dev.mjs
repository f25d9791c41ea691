#!/usr/bin/env node
/**
 * `npm run dev`: the Worker locally in workerd. Applies the migrations to the local D1
 * database, then runs `wrangler dev --ip 127.0.0.1 --port <port>`.
 *
 * The port is `--port N` (or `--port=N`) if given, else the PORT environment variable,
 * else 8788 (beside the Node server's 8787); `--ip` likewise replaces 127.0.0.1. Every
 * other argument goes to `wrangler dev` as it is, and `--persist-to DIR` to the migrations
 * too, so both use the same local database.
 *
 *   npm run dev -- --port 9000
 *   PORT=9000 npm run dev
 */
import { spawn } from 'node:child_process'
import { constants } from 'node:os'
import { fileURLToPath } from 'node:url'

export const DEFAULT_DEV_PORT = 8788
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const WRANGLER = fileURLToPath(new URL('../node_modules/.bin/wrangler', import.meta.url))

/** Takes `--name V` or `--name=V` out of args; the last one wins. Throws when the value is missing. */
function take(args, name) {
  let value
  const rest = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    if (arg === `--${name}`) {
      if (i + 1 >= args.length || args[i + 1].startsWith('--')) throw new Error(`--${name} needs a value`)
      value = args[++i]
    } else if (arg.startsWith(`--${name}=`)) {
      value = arg.slice(name.length + 3)
    } else {
      rest.push(arg)
    }
  }
  return { value, rest }
}

function port(text, from) {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    throw new Error(`${from} must be a port number from 1 to 65535, got "${text}"`)
  }
  return text
}

/** Resolves with the exit code of `wrangler args`, passing SIGINT and SIGTERM on to it. */
function wrangler(args) {
  return new Promise((resolve) => {
    const child = spawn(WRANGLER, args, { cwd: ROOT, stdio: 'inherit' })
    const forward = (signal) => child.kill(signal)
    process.on('SIGINT', forward)
    process.on('SIGTERM', forward)
    child.once('error', (e) => {
      console.error(`npm run dev: cannot run wrangler (${e.message}); run npm ci first`)
      resolve(1)
    })
    child.once('exit', (code, signal) => {
      process.off('SIGINT', forward)
      process.off('SIGTERM', forward)
      resolve(code ?? 128 + (constants.signals[signal] ?? 0))
    })
  })
}

async function main() {
  let args = process.argv.slice(2)
  let chosen
  let ip
  let persist
  try {
    ;({ value: chosen, rest: args } = take(args, 'port'))
    ;({ value: ip, rest: args } = take(args, 'ip'))
    persist = take(args, 'persist-to').value
    chosen =
      chosen !== undefined ? port(chosen, '--port') : process.env.PORT ? port(process.env.PORT, 'the PORT environment variable') : String(DEFAULT_DEV_PORT)
  } catch (e) {
    console.error(`npm run dev: ${e.message}`)
    return 2
  }
  const persistArgs = persist === undefined ? [] : ['--persist-to', persist]
  const migrated = await wrangler(['d1', 'migrations', 'apply', 'DB', '--local', ...persistArgs])
  if (migrated !== 0) return migrated
  return wrangler(['dev', '--ip', ip ?? '127.0.0.1', '--port', chosen, ...args])
}

process.exitCode = await main()
