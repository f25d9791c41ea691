/**
 * The Status a failed write precondition stands for.
 */
import { PreconditionFailed } from '../db/errors'
import { RegistryError, alreadyExists, conflict, notFound } from './errors'

/**
 * Runs a store write; a failed precondition becomes its Status (`onConflict` may word
 * a conflict differently), anything else is rethrown.
 */
export async function guarded(
  resource: string,
  namespace: string,
  name: string,
  write: () => Promise<number>,
  onConflict: () => RegistryError = () => conflict(resource, name),
): Promise<number> {
  try {
    return await write()
  } catch (e) {
    if (!(e instanceof PreconditionFailed)) throw e
    switch (e.code) {
      case 'missing_namespace':
        throw notFound('namespaces', namespace)
      case 'exists':
        throw alreadyExists(resource, name)
      case 'not_found':
        throw notFound(resource, name)
      case 'conflict':
        throw onConflict()
      default:
        throw e
    }
  }
}
