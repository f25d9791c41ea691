/**
 * A strategy: what is special about one kind, as Kubernetes' RESTCreateStrategy and
 * RESTUpdateStrategy are for its API server. The generic store (generic-store.ts) does
 * what is the same for every kind — decoding, metadata, resourceVersion and
 * preconditions, conflict retries, graceful deletion, lists — and asks the strategy only
 * for defaults, validation, what the status subresource may change, how the object
 * maps to rows, and the columns `kubectl get` prints.
 */
import type { Precondition, Store } from '../db/store'
import type { AllocationConfig } from './allocate'
import type { Columns } from './columns'
import type { Clock } from './meta'
import type { AddressPolicy } from './endpoint-address'
import type { ObjectMetaOut, RegistryObject } from './types'

/** What a strategy's writes may use. */
export interface WriteContext {
  store: Store
  clock: Clock
  allocation: AllocationConfig
  /** Which pod and endpoint addresses writes accept (endpoint-address.ts). */
  addresses: AddressPolicy
}

export interface Strategy<T extends RegistryObject = RegistryObject, I = unknown> {
  /** A new object from a decoded body and the server-set metadata, with the kind's defaults. */
  create(input: I, metadata: ObjectMetaOut, clock: Clock): T
  /**
   * Absent: the kind is not updated (no `update` or `patch` verb). The object a replace stores, from a decoded body, the metadata for the update and the
   * stored object (what an update keeps from the stored object is decided here).
   */
  update?(input: I, metadata: ObjectMetaOut, old: T, clock: Clock): T
  /** The status subresource: the stored object with only its status from the body. Absent: no status subresource. */
  updateStatus?(input: I, old: T, clock: Clock): T
  /** False: the kind keeps no `metadata.generation` (Leases); otherwise a spec change bumps it. */
  generation?: false
  /** Throws an Invalid error naming every wrong field; on update `old` is the stored object. */
  validate(obj: T, old: T | undefined, ctx: WriteContext): void
  /**
   * Writes the object and its rows in one guarded batch; resolves to the resourceVersion it
   * committed at. `recordBefore` false: the change log's event may leave out the object
   * before (event-before.ts; a kind may record it anyway).
   */
  write(ctx: WriteContext, obj: T, old: T | undefined, pre: Precondition, recordBefore?: boolean): Promise<number>
  /** Deletes the object (and whatever it owns) in one guarded batch. */
  remove(ctx: WriteContext, namespace: string, name: string, pre?: Precondition): Promise<number>
  /** Refuses the deletion of an object that may not be deleted, before anything is read. */
  checkDelete?(name: string): void
  /**
   * The grace period of a deletion, from the one requested (DeleteOptions or the query)
   * and the object; 0 deletes at once. Absent: deletions are immediate.
   */
  gracePeriod?(obj: T, requested: number | undefined): number
  /** The object as a delete answers it (a namespace reads as Terminating). */
  deleted?(obj: T): T
  /** The columns of the kind's Table (see columns.ts). */
  columns: Columns<T>
}
