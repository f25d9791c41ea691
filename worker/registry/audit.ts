/**
 * The audit trail: every accepted write through a kind's REST storage (create, update,
 * patch — server-side apply included — and delete, of every kind) is told to an audit
 * sink once it has succeeded, with who wrote (the token's name; `admin` for the root
 * credential; `anonymous` with access control off), the verb, the kind, the namespace,
 * the name and the resourceVersion it was answered at. Dry runs and refused writes are
 * not. The change log is compacted, so it is not the audit trail; these lines are.
 */
import { deleteOptions, type DeleteQuery } from './delete-options'
import type { KindInfo } from './kind-info'
import type { Rest } from './registry'
import type { WriteOptions } from './write-options'

export interface AuditEntry {
  actor: string
  verb: 'create' | 'update' | 'patch' | 'delete'
  kind: string
  subresource?: string
  namespace: string
  name: string
  resourceVersion: string
}

export type AuditSink = (entry: AuditEntry) => void

/** The actor of writes made with access control off (no token at all). */
export const ANONYMOUS = 'anonymous'

/** `rest` with each of its accepted writes told to `sink`. */
export function audited(kind: KindInfo, rest: Rest, actor: string, sink: AuditSink): Rest {
  const tell = <T extends object>(verb: AuditEntry['verb'], namespace: string, name: string, scope: string | undefined, result: T): T => {
    const meta = (result as { metadata?: { name?: unknown; namespace?: unknown; resourceVersion?: unknown } } | null)?.metadata
    sink({
      actor: actor || ANONYMOUS,
      verb,
      kind: kind.kind,
      ...(scope === 'status' ? { subresource: 'status' } : {}),
      namespace: typeof meta?.namespace === 'string' ? meta.namespace : namespace,
      name: typeof meta?.name === 'string' && meta.name ? meta.name : name,
      resourceVersion: typeof meta?.resourceVersion === 'string' ? meta.resourceVersion : '',
    })
    return result
  }
  const wet = (options: WriteOptions | undefined) => !options?.dryRun
  // A REST storage may be a class instance (GenericStore): its methods are bound, not spread.
  const out: Rest = {
    ...(rest.get ? { get: rest.get.bind(rest) } : {}),
    ...(rest.list ? { list: rest.list.bind(rest) } : {}),
    ...(rest.stream ? { stream: rest.stream.bind(rest) } : {}),
  }
  if (rest.create) {
    const create = rest.create.bind(rest)
    out.create = async (ns, body, options) => {
      const created = await create(ns, body, options)
      return wet(options) ? tell('create', ns, '', undefined, created) : created
    }
  }
  if (rest.replace) {
    const replace = rest.replace.bind(rest)
    out.replace = async (ns, name, body, scope, options) => {
      const replaced = await replace(ns, name, body, scope, options)
      return wet(options) ? tell('update', ns, name, scope, replaced) : replaced
    }
  }
  if (rest.patch) {
    const patch = rest.patch.bind(rest)
    out.patch = async (ns, name, type, body, scope, options) => {
      const patched = await patch(ns, name, type, body, scope, options)
      return wet(options) ? tell('patch', ns, name, scope, patched) : patched
    }
  }
  if (rest.apply) {
    const apply = rest.apply.bind(rest)
    out.apply = async (ns, name, config, scope, options) => {
      const applied = await apply(ns, name, config, scope, options)
      if (wet(options)) tell(applied.created ? 'create' : 'patch', ns, name, scope, applied.object)
      return applied
    }
  }
  if (rest.delete) {
    const remove = rest.delete.bind(rest)
    out.delete = async (ns, name, options, query: DeleteQuery) => {
      const deleted = await remove(ns, name, options, query)
      return deleteOptions(options, query).dryRun ? deleted : tell('delete', ns, name, undefined, deleted)
    }
  }
  return out
}
