/**
 * The generic store: get, list, create, replace, patch, the status subresource and
 * delete, the same for every kind that has a strategy (as `genericregistry.Store` is in
 * Kubernetes' API server). It decodes bodies against the kind's schema, fills the
 * server-set metadata, checks resourceVersion and uid preconditions, and hands each write
 * to the strategy as one guarded batch. Replaces and patches read the object, compute the
 * new one and write it on the condition that nothing changed in between, retrying when
 * the caller gave no resourceVersion of its own.
 *
 * A dry run (`dryRun` in the write's options) does all of that with a store whose writes
 * are rolled back once their guards ran (db/batch.ts), so it fails exactly where the real
 * write would, stores nothing, and answers the object the write would have stored: a
 * create without a resourceVersion, an update or delete at the stored one.
 *
 * Every create, replace, patch and apply is checked here against the size of the object
 * as it will be stored (`MAX_OBJECT_BYTES`, after any merge, managedFields included: a
 * 413), and against the count limits of the kind's lists (`LIST_COUNT_LIMITS`: a 422),
 * which a body or patch is checked against before it is merged, and the merged object after.
 */
import { RegistryError, badRequest, conflict, fieldError, invalid, notFound, type FieldError } from './errors'
import { checkUid, deleteOptions, deletionAt, precondition, type DeleteQuery } from './delete-options'
import { apiVersionOf, qualifiedKind, qualifiedResource, type KindInfo } from './kind-info'
import { STREAM_PAGE_SIZE, listOptions, type ListQuery, type ListStream } from './list-options'
import { snapshotPages } from './snapshot-pages'
import { encodeContinue } from './continue-token'
import { checkTypeMeta, checkUpdateMeta, decode, metaForCreate, metaForUpdate, storedForm, stripRv, timestamp, withRv } from './meta'
import { applyPatch, type PatchType } from './patch'
import { listTypesOf } from './list-types'
import { applyConfiguration, recordUpdate, type Ownership } from './managed-fields'
import { judgedAlike } from './event-before'
import { guarded } from './preconditions'
import { retryAfterConflicts } from './retry'
import type { Strategy, WriteContext } from './strategy'
import type { ListObject, RegistryObject } from './types'
import type { WriteOptions } from './write-options'
import { copyJson, sameJson } from '../json'
import { LIST_COUNT_LIMITS, checkObjectSize } from './limits'

/** The annotation that records the token of an object's last write. */
export const MODIFIED_BY = 'switchboard.dev/modified-by'

type Scope = 'all' | 'status'

export class GenericStore<T extends RegistryObject = RegistryObject> {
  private readonly strategy: Strategy<T, unknown>
  /** What dry runs write with: the same context over a store whose writes are rolled back. */
  private readonly dryCtx: WriteContext
  /** The kind's resource and the kind, as Status errors name them (with their group). */
  private readonly resource: string
  private readonly kindName: string
  /** Runs after every committed create, replace or patch, with the object as written, before the caller is answered. */
  afterWrite?: (obj: T) => Promise<unknown>

  constructor(
    readonly kind: KindInfo,
    private readonly ctx: WriteContext,
  ) {
    if (!kind.strategy || !kind.schema || !kind.storage) throw new Error(`${kind.kind} has no strategy, schema or storage`)
    this.strategy = kind.strategy as unknown as Strategy<T, unknown>
    this.dryCtx = { ...ctx, store: ctx.store.dryRun() }
    this.resource = qualifiedResource(kind)
    this.kindName = qualifiedKind(kind)
  }

  async get(namespace: string, name: string): Promise<T> {
    const stored = await this.ctx.store.get(this.kind.storage!, namespace, name)
    if (!stored) throw notFound(this.resource, name)
    return withRv(stored.body as unknown as T, stored.rv)
  }

  /** Lists the kind in one namespace, or across all when `namespace` is undefined. */
  async list(namespace: string | undefined, query: ListQuery): Promise<ListObject<T>> {
    const result = await this.ctx.store.list(this.kind.storage!, this.listFilter(namespace, query))
    return {
      ...this.listHead(result.rv),
      metadata: {
        resourceVersion: String(result.rv),
        ...(result.next ? { continue: encodeContinue(result.next) } : {}),
      },
      items: result.items.map((i) => withRv(i.body as unknown as T, i.rv)),
    }
  }

  /**
   * The whole list (a `limit` is not applied) read page by page from one snapshot of the
   * database, so that all of it is as of one resourceVersion without holding all of it
   * in memory at once. The caller reads it to the end or closes it.
   */
  async stream(namespace: string | undefined, query: ListQuery): Promise<ListStream<T>> {
    const { limit: _paged, after: start, ...filter } = this.listFilter(namespace, query)
    const snapshot = await this.ctx.store.snapshot()
    const pages = await snapshotPages(
      snapshot,
      async (after, limit) => {
        const page = await snapshot.list(this.kind.storage!, { ...filter, ...(after ? { after } : {}), ...(limit ? { limit } : {}) })
        return { rv: page.rv, items: page.items.map((i) => withRv(i.body as unknown as T, i.rv)), ...(page.next ? { next: page.next } : {}) }
      },
      start,
      STREAM_PAGE_SIZE,
    )
    return { list: this.listHead(pages.rv), next: pages.next, close: pages.close }
  }

  private listFilter(namespace: string | undefined, query: ListQuery) {
    return { ...listOptions(query, this.kind.fieldSelectors), ...(namespace !== undefined && this.kind.namespaced ? { namespace } : {}) }
  }

  private listHead(rv: number): ListObject<T> {
    return { apiVersion: apiVersionOf(this.kind), kind: this.kind.listKind, metadata: { resourceVersion: String(rv) }, items: [] }
  }

  async create(namespace: string, body: unknown, options: WriteOptions = {}): Promise<T> {
    const obj = this.prepareCreate(namespace, body, options)
    const ctx = this.context(options)
    const rv = await this.run(obj.metadata.namespace ?? '', obj.metadata.name, () => this.strategy.write(ctx, obj, undefined, 'create'))
    if (options.dryRun) return stripRv(obj) as unknown as T // created at no resourceVersion, as Kubernetes answers a dry run
    return this.written(withRv(obj, rv))
  }

  /**
   * The object a create of `body` would write: decoded, defaulted, validated and stamped,
   * its fields owned by the write's field manager (unless an apply already said who owns what).
   */
  prepareCreate(namespace: string, body: unknown, options: WriteOptions = {}, applied = false): T {
    const input = this.decode(body)
    const metadata = metaForCreate(input.metadata, this.kind.namespaced ? namespace : undefined, this.ctx.clock)
    let obj = this.strategy.create(input, metadata, this.ctx.clock)
    this.checkCounts(obj, obj.metadata.name)
    this.strategy.validate(obj, undefined, this.ctx)
    if (!applied) obj = this.owned(undefined, obj, options, 'all')
    this.stamp(obj)
    checkObjectSize(this.kind.kind, obj.metadata.name, storedForm(obj))
    return obj
  }

  replace(namespace: string, name: string, body: unknown, scope: Scope = 'all', options: WriteOptions = {}): Promise<T> {
    return this.update(namespace, name, () => body, scope, options)
  }

  /**
   * A patched object carries the stored resourceVersion; only a patch that sets another
   * one makes the write conditional (as in Kubernetes), so a plain patch retries on a
   * concurrent change instead of failing with 409.
   */
  patch(namespace: string, name: string, type: PatchType, patch: unknown, scope: Scope = 'all', options: WriteOptions = {}): Promise<T> {
    if (type === 'apply') return this.apply(namespace, name, patch, scope, options).then((r) => r.object)
    if (type !== 'json') this.checkCounts(patch, name)
    return this.update(namespace, name, (old) => withoutStoredRv(applyPatch(type, old, patch, this.kind.schema!), old), scope, options)
  }

  /**
   * Server-side apply (managed-fields.ts): the configuration merged into the stored object
   * for its field manager, or the object created from it when there is none. Fields other
   * managers own with other values are a 409 naming them, unless `options.force`.
   */
  async apply(namespace: string, name: string, config: unknown, scope: Scope = 'all', options: WriteOptions = {}): Promise<{ object: T; created: boolean }> {
    const applied = this.configuration(config, name)
    this.checkCounts(applied, name)
    const o = this.ownership(options, scope)
    const force = options.force ?? false
    const update = () => this.update(namespace, name, (old) => withoutStoredRv(applyConfiguration(old as unknown as Record<string, unknown>, applied, o, force), old), scope, options, true)
    try {
      return { object: await update(), created: false }
    } catch (e) {
      if (!(e instanceof RegistryError && e.reason === 'NotFound' && scope === 'all')) throw e
    }
    if (options.createRefused) throw options.createRefused
    try {
      const obj = this.prepareCreate(namespace, applyConfiguration(undefined, applied, o, force), options, true)
      const rv = await this.run(obj.metadata.namespace ?? '', obj.metadata.name, () => this.strategy.write(this.context(options), obj, undefined, 'create'))
      return { object: options.dryRun ? (stripRv(obj) as unknown as T) : await this.written(withRv(obj, rv)), created: true }
    } catch (e) {
      // Created meanwhile by someone else: apply to that object.
      if (e instanceof RegistryError && e.reason === 'AlreadyExists') return { object: await update(), created: false }
      throw e
    }
  }

  /** An apply configuration: an object naming its apiVersion and kind, and this object (or no name). */
  private configuration(config: unknown, name: string): Record<string, unknown> {
    if (typeof config !== 'object' || config === null || Array.isArray(config)) throw badRequest('an apply configuration must be an object')
    const c = config as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown } | null }
    if (typeof c.apiVersion !== 'string' || c.apiVersion === '') throw badRequest('apiVersion must be set in an apply configuration')
    if (typeof c.kind !== 'string' || c.kind === '') throw badRequest('kind must be set in an apply configuration')
    if (c.metadata !== undefined && c.metadata !== null && (typeof c.metadata !== 'object' || Array.isArray(c.metadata))) throw badRequest('metadata must be an object in an apply configuration')
    const named = c.metadata?.name
    if (named !== undefined && named !== null && named !== name) throw badRequest(`the name of the object (${String(named)}) does not match the name on the URL (${name})`)
    return { ...(config as Record<string, unknown>), metadata: { ...(c.metadata ?? {}), name } }
  }

  /**
   * Deletes an object. With a grace period (the kind's strategy decides from DeleteOptions,
   * the query and the object) the object is first marked terminating
   * (`metadata.deletionTimestamp` = now + grace) and removed when the period ends or on a
   * DELETE with a zero grace period. A dry run (DeleteOptions' or the query's `dryRun`)
   * answers the same object and deletes or marks nothing.
   */
  async delete(namespace: string, name: string, options?: unknown, query?: DeleteQuery): Promise<T> {
    const pre = deleteOptions(options, query)
    const write = { dryRun: pre.dryRun ?? false }
    this.strategy.checkDelete?.(name)
    const obj = await this.get(namespace, name)
    checkUid(obj, pre.uid, this.resource)
    const grace = this.strategy.gracePeriod?.(obj, pre.grace) ?? 0
    if (grace > 0) {
      return this.compute(namespace, name, (current) => {
        checkUid(current, pre.uid, this.resource)
        precondition(pre.rv, current, this.resource) // a stale precondition is a 409 even on an object already terminating
        if (current.metadata.deletionTimestamp) return undefined
        const at = deletionAt(this.ctx.clock.now(), grace)
        current.metadata.deletionTimestamp = at.deletionTimestamp
        current.metadata.deletionGracePeriodSeconds = at.grace
        return { object: current, rv: pre.rv }
      }, write, false)
    }
    const ctx = this.context(write)
    const rv = await this.run(namespace, name, () => this.strategy.remove(ctx, namespace, name, precondition(pre.rv, obj, this.resource)))
    const gone = this.strategy.deleted?.(obj) ?? obj
    return write.dryRun ? gone : withRv(gone, rv)
  }

  /** A replace, patch or apply; `applied`: the body already says who owns what (an apply). */
  private update(namespace: string, name: string, bodyFrom: (old: T) => unknown, scope: Scope, options: WriteOptions, applied = false): Promise<T> {
    return this.compute(namespace, name, (old) => {
      const input = this.decode(bodyFrom(old))
      let obj: T
      if (scope === 'status') {
        if (!this.strategy.updateStatus) throw new Error(`${this.kind.kind} has no status subresource`)
        // A status update keeps the stored metadata (the strategy builds it from `old`): the body's is only checked.
        checkUpdateMeta(input.metadata, old.metadata, name)
        obj = this.strategy.updateStatus(input, old, this.ctx.clock)
      } else {
        if (!this.strategy.update) throw new Error(`${this.kind.kind} has no update`)
        obj = this.strategy.update(input, metaForUpdate(input.metadata, old.metadata, name), old, this.ctx.clock)
      }
      if (this.strategy.generation !== false) bumpGeneration(obj, old)
      this.checkCounts(obj, name)
      this.strategy.validate(obj, old, this.ctx)
      if (scope === 'status' && applied) obj = withManagedFieldsOf(obj, input)
      else if (!applied) obj = this.owned(old, obj, options, scope)
      return { object: obj, rv: input.metadata?.resourceVersion ?? undefined }
    }, options)
  }

  /**
   * Read, compute, write-if-unchanged. A resourceVersion from the caller makes the write
   * conditional on it (409 when stale); without one the write is unconditional and a
   * concurrent change only makes it compute again from the newer object. `compute` gets a
   * copy of the stored object and answers `undefined` when there is nothing to write.
   * `sized`: the object's size is checked (marking an object for deletion is not: it adds
   * a few bytes, and an object stored before the limit can still be deleted).
   */
  private compute(
    namespace: string,
    name: string,
    compute: (old: T) => { object: T; rv: string | undefined } | undefined,
    options: WriteOptions,
    sized = true,
  ): Promise<T> {
    const ctx = this.context(options)
    // Only a write that a concurrent change made fail is tried again, and only when the caller named no resourceVersion.
    let concurrent = false
    return retryAfterConflicts(
      this.ctx.clock,
      async () => {
        concurrent = false
        const old = await this.get(namespace, name)
        const next = compute(copyJson(old))
        if (!next) return old
        const { object, rv: wanted } = next
        if (wanted && wanted !== old.metadata.resourceVersion) throw conflict(this.resource, name)
        // A no-op update writes nothing and keeps the resourceVersion, as in Kubernetes
        // (the acting token is recorded first, so the same caller repeating itself is a no-op).
        this.stamp(object)
        // The stored form is made once: the size check, the comparison and the write share it.
        const stored = storedForm(object)
        if (sized) checkObjectSize(this.kind.kind, name, stored)
        if (sameJson(stored, stripRv(old))) return old
        try {
          const recordBefore = !judgedAlike(this.kind, old, object)
          const rv = await this.run(namespace, name, () => this.strategy.write(ctx, object, old, { rv: Number(old.metadata.resourceVersion) }, recordBefore))
          // A dry run leaves the object at the stored resourceVersion.
          return options.dryRun ? withRv(object, Number(old.metadata.resourceVersion)) : await this.written(withRv(object, rv))
        } catch (e) {
          concurrent = !wanted && e instanceof RegistryError && e.reason === 'Conflict'
          throw e
        }
      },
      () => concurrent,
    )
  }

  private decode(body: unknown): { metadata?: Parameters<typeof metaForCreate>[0] } {
    const input = decode(this.kind.schema!, body, this.kind.kind) as { apiVersion?: string | null; kind?: string | null; metadata?: Parameters<typeof metaForCreate>[0] }
    checkTypeMeta(input, apiVersionOf(this.kind), this.kind.kind)
    return input
  }

  /** How a write's field manager comes to own what it set (managed-fields.ts). */
  private ownership(options: WriteOptions, scope: Scope): Ownership {
    return {
      manager: options.fieldManager ?? '',
      apiVersion: apiVersionOf(this.kind),
      subresource: scope === 'status' ? 'status' : '',
      now: timestamp(this.ctx.clock.now()),
      lists: listTypesOf(this.kind.schema!),
    }
  }

  /** `next` with its managed fields after an update of `old` (undefined: a create) by the write's field manager. */
  private owned(old: T | undefined, next: T, options: WriteOptions, scope: Scope): T {
    const o = this.ownership(options, scope)
    return recordUpdate(old as unknown as Record<string, unknown> | undefined, next as unknown as Record<string, unknown>, o) as unknown as T
  }

  /** The context a write runs in: the dry-run one for a dry run. */
  private context(options: WriteOptions): WriteContext {
    return options.dryRun ? this.dryCtx : this.ctx
  }

  private async written(obj: T): Promise<T> {
    if (this.afterWrite) await this.afterWrite(obj)
    return obj
  }

  /** Records the acting token on an object about to be written. */
  private stamp(obj: RegistryObject): void {
    const actor = this.ctx.store.actor
    if (actor) obj.metadata.annotations = { ...obj.metadata.annotations, [MODIFIED_BY]: actor }
  }

  /** Refuses a body, patch or object whose counted lists (limits.ts `LIST_COUNT_LIMITS`) are too long: a 422 naming each. */
  private checkCounts(value: unknown, name: string): void {
    const causes: FieldError[] = []
    for (const limit of LIST_COUNT_LIMITS[this.kind.kind] ?? []) {
      let v: unknown = value
      for (const key of limit.path) v = v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>)[key] : undefined
      if (Array.isArray(v) && v.length > limit.max) causes.push(fieldError.tooMany(limit.field, limit.max, v.length))
    }
    if (causes.length) throw invalid(this.kindName, name, causes)
  }

  /** Runs a store write, turning a failed precondition into its Status. */
  private run(namespace: string, name: string, write: () => Promise<number>): Promise<number> {
    return guarded(this.resource, namespace, name, write)
  }
}

/** A patched body without the stored resourceVersion it inherited (see `patch`). */
function withoutStoredRv(body: unknown, old: RegistryObject): unknown {
  if (!body || typeof body !== 'object' || Array.isArray(body)) return body
  const meta = (body as { metadata?: unknown }).metadata
  if (!meta || typeof meta !== 'object' || Array.isArray(meta)) return body
  if ((meta as { resourceVersion?: unknown }).resourceVersion !== old.metadata.resourceVersion) return body
  // A merge patch copies only the top level: copy metadata rather than edit the stored object's.
  const { resourceVersion: _stored, ...rest } = meta as Record<string, unknown>
  return { ...body, metadata: rest }
}

function bumpGeneration(next: RegistryObject, old: RegistryObject): void {
  const same = sameJson(next.spec, old.spec)
  if (same && old.metadata.generation === undefined) delete next.metadata.generation
  else next.metadata.generation = (old.metadata.generation ?? 1) + (same ? 0 : 1)
}

/** `obj` with the managed fields an apply computed (a status update otherwise keeps the stored metadata). */
function withManagedFieldsOf<T extends RegistryObject>(obj: T, input: { metadata?: { managedFields?: unknown } | null }): T {
  const managedFields = input.metadata?.managedFields as T['metadata']['managedFields'] | undefined
  const metadata = { ...obj.metadata }
  if (managedFields?.length) metadata.managedFields = managedFields
  else delete metadata.managedFields
  return { ...obj, metadata }
}
