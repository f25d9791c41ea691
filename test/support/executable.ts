/**
 * Finding a tool from outside npm for the tests that need it: the path in an environment
 * variable, else the first of its names on the PATH that is executable.
 */
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

/** `$<variable>` if set, else the first executable `names[i]` on the PATH; null when there is none. */
export function findExecutable(variable: string, names: string[]): string | null {
  const override = process.env[variable]
  const dirs = (process.env.PATH ?? '').split(delimiter).filter(Boolean)
  const candidates = override ? [override] : names.flatMap((n) => dirs.map((d) => join(d, n)))
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
