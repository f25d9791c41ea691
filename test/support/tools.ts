/**
 * Tools from outside npm that some tests use as independent peers. Each is looked up on
 * the PATH, or taken from an environment variable that names it; a test whose tool is
 * missing is skipped and prints one line saying which tool and how to install it
 * (`.ci/run` installs them all, so CI runs every test).
 */
import { spawnSync } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

/** The executable `name` (or the first of several names): $`override` when that variable is set, else the first on the PATH; null when there is none. */
export function findExecutable(name: string | readonly string[], override?: string): string | null {
  const given = override ? process.env[override] : undefined
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean)
  const candidates = given ? [given] : (typeof name === 'string' ? [name] : name).flatMap((n) => dirs.map((d) => join(d, n)))
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK)
      return path
    } catch {
      // not there, or not executable
    }
  }
  return null
}

/** Chromium for the browser tests: $CHROMIUM, else the first of `chromium`, `chromium-browser`, `google-chrome` on the PATH. */
export function findChromium(): string | null {
  return findExecutable(CHROMIUM_NAMES, 'CHROMIUM')
}

const CHROMIUM_NAMES = ['chromium', 'chromium-browser', 'google-chrome'] as const

/** How to get Chromium, printed when its tests are skipped. */
export const CHROMIUM_INSTALL_HINT = 'install it (Debian: apt-get install chromium, as .ci/run does) or set CHROMIUM=/path/to/chromium'

/** Why a tool is missing, for the skip line: the override named something unusable, or the PATH has none. */
export function whyMissing(name: string, override?: string): string {
  const given = override ? process.env[override] : undefined
  return given ? `${override}=${given} is not an executable` : `${name} is not on the PATH`
}

/**
 * A tool from outside npm that `tests` need: its path ($`override`, by default the name in
 * capitals, else the PATH), or null after printing the skip line with the Debian package to install.
 */
export function outsideTool(tests: string, name: string, debianPackage: string, override = name.toUpperCase().replace(/-/g, '_')): string | null {
  const path = findExecutable(name, override)
  if (!path) reportSkip(tests, whyMissing(name, override), `install it (Debian: apt-get install ${debianPackage}, as .ci/run does) or set ${override}=/path/to/${name}`)
  return path
}

/** Prints the line a skipped test leaves in the run's output. */
export function reportSkip(tests: string, why: string, install: string): void {
  console.log(`${tests} skipped: ${why}; ${install}`)
}

/**
 * The Python with dnspython and httpx for the DoH tests: $SWITCHBOARD_TEST_PYTHON, else
 * Debian's /usr/bin/python3 (a pyenv or virtualenv python usually lacks Debian's modules).
 */
export const DNSPYTHON_INSTALL_HINT =
  'install them (Debian: apt-get install python3-dnspython python3-httpx, as .ci/run does) or set SWITCHBOARD_TEST_PYTHON to a python3 that has dnspython and httpx'

export function findDnspython(): { python: string } | { missing: string } {
  const python = process.env.SWITCHBOARD_TEST_PYTHON || '/usr/bin/python3'
  const probe = spawnSync(python, ['-c', 'import dns.query, dns.message, httpx'], { encoding: 'utf8', timeout: 30_000 })
  if (probe.error) return { missing: `${python} cannot be run (${probe.error.message})` }
  if (probe.status !== 0) return { missing: `${python} has no dnspython or httpx (${probe.stderr.trim().split('\n').pop()})` }
  return { python }
}
