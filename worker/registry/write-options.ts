/**
 * The options of a write (Kubernetes' CreateOptions, UpdateOptions, PatchOptions and the
 * dryRun of DeleteOptions), as the API hands them to the registry.
 *
 * `dryRun=All` runs the write through decoding, defaults, validation and every check
 * against the stored objects, and answers what it would have written, storing nothing.
 * `All` is the only value Kubernetes defines; any other is a 422 naming `dryRun`, as the
 * API server answers (`CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value`).
 */
import { fieldError, invalidOptions } from './errors'
import { goCodePoint, isPrintable } from './printable'

export const DRY_RUN_ALL = 'All'

export interface WriteOptions {
  /** Check everything, store nothing, answer the would-be object. */
  dryRun?: boolean
  /**
   * Who the write's fields are recorded as set by (`metadata.managedFields`): the
   * `fieldManager` the caller named, else the product name its User-Agent starts with,
   * as Kubernetes defaults it.
   */
  fieldManager?: string
  /** Server-side apply: take fields other managers own instead of failing with a conflict. */
  force?: boolean
  /** Server-side apply: the error to answer if the apply would create the object (the caller may not create it). */
  createRefused?: Error
}

/** Kubernetes' limit on a field manager's name. */
export const FIELD_MANAGER_MAX_BYTES = 128

const UTF8 = new TextEncoder()

/** Which options a write reads, as the 422 for a bad value names them. */
export type OptionsKind = 'CreateOptions' | 'UpdateOptions' | 'PatchOptions' | 'DeleteOptions'

/** Whether `values` (every `dryRun` the request gave) ask for a dry run; any value but `All` is refused. */
export function isDryRun(values: readonly string[] | null | undefined, kind: OptionsKind): boolean {
  if (!values?.length) return false
  const unsupported = values.filter((v) => v !== DRY_RUN_ALL)
  if (unsupported.length) throw invalidOptions(kind, [fieldError.notSupported('dryRun', values, [DRY_RUN_ALL])])
  return true
}

/** The query parameters and headers a create, replace or patch reads its options from. */
export interface WriteQuery {
  dryRun?: readonly string[]
  fieldManager?: string | undefined
  force?: string | undefined
  userAgent?: string | undefined
  /** Whether the write is a server-side apply (which needs a field manager and alone may force). */
  apply?: boolean
}

/** The options of a create, replace or patch from its query parameters. */
export function writeOptions(query: WriteQuery, kind: OptionsKind): WriteOptions {
  const errors = []
  const manager = query.fieldManager
  if (manager !== undefined) {
    if (UTF8.encode(manager).length > FIELD_MANAGER_MAX_BYTES) errors.push(fieldError.tooLong('fieldManager', FIELD_MANAGER_MAX_BYTES))
    // As Kubernetes words it: one error per character that is not printable, at its byte offset.
    if (!isPrintable(manager)) {
      let offset = 0
      for (const ch of manager) {
        if (!isPrintable(ch)) errors.push(fieldError.invalid('fieldManager', manager, `invalid character ${goCodePoint(ch)} (at position ${offset})`))
        offset += UTF8.encode(ch).length
      }
    }
  } else if (query.apply) {
    errors.push(fieldError.required('fieldManager', 'is required for apply patch'))
  }
  let force: boolean | undefined
  if (query.force !== undefined) {
    force = parseBool(query.force)
    if (force === undefined) errors.push(fieldError.invalid('force', query.force, 'must be true or false'))
    else if (!query.apply) errors.push(fieldError.forbidden('force', 'may not be specified for non-apply patch'))
  }
  if (errors.length) throw invalidOptions(kind, errors)
  return {
    ...(isDryRun(query.dryRun, kind) ? { dryRun: true } : {}),
    fieldManager: manager ?? managerFromUserAgent(query.userAgent ?? ''),
    ...(force ? { force } : {}),
  }
}

/**
 * The default field manager: what the User-Agent says before its first `/`, printable
 * characters only, cut to the limit (`kubectl/v1.32.0 (linux/amd64)` → `kubectl`).
 */
export function managerFromUserAgent(userAgent: string): string {
  const product = userAgent.split('/')[0]!
  // Printable ASCII within the limit (nearly every agent) is the manager as it is.
  if (product.length <= FIELD_MANAGER_MAX_BYTES && /^[\x20-\x7e]*$/.test(product)) return product
  let out = ''
  let bytes = 0
  for (const ch of product) {
    if (!isPrintable(ch)) continue
    const size = UTF8.encode(ch).length
    if (bytes + size > FIELD_MANAGER_MAX_BYTES) break
    out += ch
    bytes += size
  }
  return out
}

/** A boolean query value as Go's strconv.ParseBool reads it; undefined when it is none. */
function parseBool(value: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false
  return undefined
}
