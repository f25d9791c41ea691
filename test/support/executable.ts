/** An outside tool a test needs: the path in $<env> when set, else `fallback`; null unless it is an executable file. */
import { accessSync, constants } from 'node:fs'

export function executable(env: string, fallback: string): string | null {
  const path = process.env[env] ?? fallback
  try {
    accessSync(path, constants.X_OK)
    return path
  } catch {
    return null
  }
}
