/**
 * The options of a write (Kubernetes' CreateOptions, UpdateOptions, PatchOptions and the
 * dryRun of DeleteOptions), as the API hands them to the registry.
 *
 * `dryRun=All` runs the write through decoding, defaults, validation and every check
 * against the stored objects, and answers what it would have written, storing nothing.
 * `All` is the only value Kubernetes defines; any other is a 422 naming `dryRun`, as the
 * API server answers (`CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value`).
 */
import { fieldError, invalid } from './errors'

export const DRY_RUN_ALL = 'All'

export interface WriteOptions {
  /** Check everything, store nothing, answer the would-be object. */
  dryRun?: boolean
  /** The `fieldManager` the caller named, passed through (for server-side apply). */
  fieldManager?: string
}

/** Which options a write reads, as the 422 for a bad value names them. */
export type OptionsKind = 'CreateOptions' | 'UpdateOptions' | 'PatchOptions' | 'DeleteOptions'

/** Whether `values` (every `dryRun` the request gave) ask for a dry run; any value but `All` is refused. */
export function isDryRun(values: readonly string[] | null | undefined, kind: OptionsKind): boolean {
  if (!values?.length) return false
  const unsupported = values.filter((v) => v !== DRY_RUN_ALL)
  if (unsupported.length) throw invalid(kind, '', [fieldError.notSupported('dryRun', values, [DRY_RUN_ALL])])
  return true
}

/** The options of a create, replace or patch from its query parameters. */
export function writeOptions(query: { dryRun?: readonly string[]; fieldManager?: string | undefined }, kind: OptionsKind): WriteOptions {
  return {
    ...(isDryRun(query.dryRun, kind) ? { dryRun: true } : {}),
    ...(query.fieldManager !== undefined ? { fieldManager: query.fieldManager } : {}),
  }
}
