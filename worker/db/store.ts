/**
 * The store: every read and write of the registry's tables, in one place for the
 * registry to call. Each write is one guarded, atomic batch (see batch.ts); the SQL
 * lives in the modules this one delegates to: generic object reads (objects.ts), one
 * module per table family (rows/), and the reads behind the endpoint views, DNS and the
 * pick (endpoint-reads.ts).
 */
import type { Database } from './client'
import { Batch, type Precondition, type WriteListener } from './batch'
import { changesSince, compactChanges, type ChangesRead } from './change-log'
import * as endpointReads from './endpoint-reads'
import type { ListFilter } from './filters'
import { getObject, listObjects, resourceVersion, type ListResult, type StoredObject } from './objects'
import * as leases from './rows/leases'
import * as namespaces from './rows/namespaces'
import { heartbeat, type PresenceRow } from './presence'
import { probeWrite } from './probe'
import * as pods from './rows/pods'
import * as services from './rows/services'
import { batchReads, openReads, type ReadAll } from './snapshot'
import { storageStats, type StorageStats } from './stats'
import * as tokens from './rows/tokens'
import * as userEndpoints from './rows/user-endpoints'
import type { ObjectTable } from './tables'

export { DRY_RUN_RV, type Precondition } from './batch'
export type { ChangeRow, ChangesRead } from './change-log'
export type { ObjectTable } from './tables'
export type { ListResult, StoredObject } from './objects'
export type { StorageStats } from './stats'
export type { BoundPodRow, LeaseRow, LeaseWrite, Renewal } from './rows/leases'
export type { NamespaceWrite } from './rows/namespaces'
export type { PodPortRow, PodWrite } from './rows/pods'
export type { ServicePortRow, ServiceWrite } from './rows/services'
export type { TokenPage, TokenRow } from './rows/tokens'
export type { UserEndpointsWrite } from './rows/user-endpoints'

/**
 * The list reads of the store over one consistent view (see snapshot.ts): with
 * `snapshot`, every read sees the database as it was when the view was opened; without
 * (D1, `:memory:`), each read is a consistent batch of its own, so a list must be read in
 * one read to be one list. Closed by its reader.
 */
export interface StoreSnapshot {
  snapshot: boolean
  list(table: ObjectTable, filter: ListFilter): Promise<ListResult>
  endpointSources(scope: endpointReads.EndpointScope): Promise<endpointReads.EndpointSources>
  tokenPage(filter: Omit<ListFilter, 'namespace' | 'namespaces'>): Promise<tokens.TokenPage>
  close(): void
}

/** A lease a pod write depends on: it must still be at `rv` (null: still not exist). */
export interface LeaseAt {
  name: string
  rv: number | null
}

export class Store {
  private readonly batch: Batch
  /** Each read one batch. */
  private readonly read: ReadAll

  constructor(
    readonly db: Database,
    now: () => Date,
  ) {
    this.batch = new Batch(db, now)
    this.read = batchReads(db)
  }

  /** The token name recorded with each change this store writes. */
  get actor(): string {
    return this.batch.actor
  }

  /** This store, recording `actor` with every change it writes. */
  as(actor: string): Store {
    return Object.assign(Object.create(this), { batch: this.batch.as(actor) }) as Store
  }

  /**
   * This store with every write a dry run: checked by the same guards and constraints,
   * then rolled back (see batch.ts); writes resolve to DRY_RUN_RV.
   */
  dryRun(): Store {
    return Object.assign(Object.create(this), { batch: this.batch.dryRun() }) as Store
  }

  /** Whether this store's writes are dry runs. */
  get dry(): boolean {
    return this.batch.dry
  }

  /** Calls `listener` after every committed write of this store, with its resourceVersion and its batch's commit time in ms. */
  onWrite(listener: WriteListener): void {
    this.batch.onWrite(listener)
  }

  // ---- generic reads ----

  /** The change log's events after `after`, oldest first, at most `limit` (see change-log.ts). */
  changesSince(after: number, limit: number): Promise<ChangesRead> {
    return changesSince(this.db, after, limit)
  }

  /** Prunes the change log's events recorded before `before` (ISO time); returns how many. */
  compactChanges(before: string): Promise<number> {
    return compactChanges(this.db, before)
  }

  /** Records that the registry is up at `nowMs`; returns its latest absence (see presence.ts). */
  heartbeat(nowMs: number, absenceMs: number): Promise<PresenceRow> {
    return heartbeat(this.db, nowMs, absenceMs)
  }

  /** The database's size, the change log's length and the leases held and expired at `nowMs` (see stats.ts). */
  stats(nowMs: number): Promise<StorageStats> {
    return storageStats(this.db, nowMs)
  }

  /** The registry's current resourceVersion. */
  resourceVersion(): Promise<number> {
    return resourceVersion(this.db)
  }

  /** Commits a write that changes nothing, to learn whether the database can be written (see probe.ts). */
  probeWrite(): Promise<void> {
    return probeWrite(this.db)
  }

  get(table: ObjectTable, namespace: string, name: string): Promise<StoredObject | null> {
    return getObject(this.db, table, namespace, name)
  }

  /** A consistent page of objects and the resourceVersion it was read at. */
  list(table: ObjectTable, filter: ListFilter): Promise<ListResult> {
    return listObjects(this.read, table, filter)
  }

  /** The list reads over one snapshot of the database, when its driver offers one (see `StoreSnapshot`). */
  async snapshot(): Promise<StoreSnapshot> {
    const reads = await openReads(this.db)
    return {
      snapshot: reads.snapshot,
      list: (table, filter) => listObjects(reads.all, table, filter),
      endpointSources: (scope) => endpointReads.endpointSources(reads.all, scope),
      tokenPage: (filter) => tokens.tokenPage(reads.all, filter),
      close: () => reads.close(),
    }
  }

  // ---- namespaces, services, pods ----

  createNamespace(w: namespaces.NamespaceWrite): Promise<number> {
    return namespaces.createNamespace(this.batch, w)
  }

  updateNamespace(w: namespaces.NamespaceWrite, pre: Precondition, recordBefore = true): Promise<number> {
    return namespaces.updateNamespace(this.batch, w, pre, recordBefore)
  }

  /** Deletes a namespace and everything in it, in one batch. */
  deleteNamespace(name: string, pre?: Precondition): Promise<number> {
    return namespaces.deleteNamespace(this.batch, name, pre)
  }

  putService(w: services.ServiceWrite, pre: Precondition): Promise<number> {
    return services.putService(this.batch, w, pre)
  }

  deleteService(namespace: string, name: string, pre?: Precondition): Promise<number> {
    return services.deleteService(this.batch, namespace, name, pre)
  }

  usedNodePorts(): Promise<number[]> {
    return services.usedNodePorts(this.db)
  }

  usedClusterIPs(): Promise<string[]> {
    return services.usedClusterIPs(this.db)
  }

  /**
   * Writes a pod and its endpoints; given the pod as stored, rows that did not change are
   * left alone. With `lease`, only while that lease is still at that resourceVersion (null:
   * still missing).
   */
  putPod(w: pods.PodWrite, pre: Precondition, previous?: pods.PodWrite, options: { lease?: LeaseAt; recordBefore?: boolean | undefined } = {}): Promise<number> {
    const { lease, recordBefore = true } = options
    return pods.putPod(this.batch, w, pre, previous, lease ? [this.batch.leaseAt(w.namespace, lease.name, lease.rv)] : [], recordBefore)
  }

  /** Deletes a pod; with `lease`, only while that lease is still at that resourceVersion (null: still missing). */
  deletePod(namespace: string, name: string, pre?: Precondition, lease?: LeaseAt): Promise<number> {
    return pods.deletePod(this.batch, namespace, name, pre, lease ? [this.batch.leaseAt(namespace, lease.name, lease.rv)] : [])
  }

  /** Imports many new pods of one namespace in one batch; fails whole if the namespace is missing or any pod exists. */
  importPods(namespace: string, writes: pods.PodWrite[]): Promise<number> {
    return pods.importPods(this.batch, namespace, writes)
  }

  /** The pods whose graceful deletion is due. */
  expiredPods(now: string): Promise<{ namespace: string; name: string; rv: number }[]> {
    return pods.expiredPods(this.db, now)
  }

  // ---- leases ----

  /** Writes a lease (its row and labels; `sameLabels` leaves the label rows alone). */
  putLease(w: leases.LeaseWrite, pre: Precondition, sameLabels = false, recordBefore = true): Promise<number> {
    return leases.putLease(this.batch, w, pre, sameLabels, recordBefore)
  }

  /** Renews a lease in one write, when it applies (see rows/leases.ts renewLease); null otherwise. */
  renewLease(r: Omit<leases.Renewal, 'actor'>): Promise<{ rv: number; body: Record<string, unknown>; marked: boolean } | null> {
    return leases.renewLease(this.batch, { ...r, actor: this.batch.actor })
  }

  deleteLease(namespace: string, name: string, pre?: Precondition): Promise<number> {
    return leases.deleteLease(this.batch, namespace, name, pre)
  }

  /** Pods bound to leases nobody holds or whose own expiry is before `nowMs`. */
  podsOfLapsedLeases(nowMs: number): Promise<leases.BoundPodRow[]> {
    return leases.podsOfLapsedLeases(this.db, nowMs)
  }

  /** Pods that name a lease that does not exist. */
  podsOfMissingLeases(): Promise<leases.BoundPodRow[]> {
    return leases.podsOfMissingLeases(this.db)
  }

  /** The pods of a lease marked Ready=False for its lapse. */
  lapsedPodsOf(namespace: string, lease: string): Promise<{ name: string; rv: number }[]> {
    return leases.lapsedPodsOf(this.db, namespace, lease)
  }

  // ---- Endpoints users write ----

  /** Writes an Endpoints object for a selectorless service (`conflict` when the service has a selector). */
  putUserEndpoints(w: userEndpoints.UserEndpointsWrite, pre: Precondition): Promise<number> {
    return userEndpoints.putUserEndpoints(this.batch, w, pre)
  }

  deleteUserEndpoints(namespace: string, name: string, pre?: Precondition): Promise<number> {
    return userEndpoints.deleteUserEndpoints(this.batch, namespace, name, pre)
  }

  // ---- endpoint views, DNS and the pick ----

  /** The sources of the Endpoints and EndpointSlice views of a scope, in one consistent read. */
  endpointSources(scope: endpointReads.EndpointScope): Promise<endpointReads.EndpointSources> {
    return endpointReads.endpointSources(this.read, scope)
  }

  /** A service with its endpoint rows and whether its namespace exists, in one consistent read. */
  serviceWithEndpoints(namespace: string, name: string) {
    return endpointReads.serviceWithEndpoints(this.db, namespace, name)
  }

  /** Whether a namespace exists, and the registry's resourceVersion. */
  namespaceExists(namespace: string) {
    return endpointReads.namespaceExists(this.db, namespace)
  }

  /** The services whose ClusterIP is `ip`, and the endpoint rows with that address. */
  endpointsByAddress(ip: string) {
    return endpointReads.endpointsByAddress(this.db, ip)
  }

  // ---- tokens ----

  /** Stores a token bound to its namespaces' current uids; fails with `missing_namespace` when one does not exist. */
  createToken(t: Omit<tokens.TokenRow, 'rv' | 'bound'>): Promise<number> {
    return tokens.createToken(this.batch, t)
  }

  /** Which of `names` are not namespaces that exist. */
  missingNamespaces(names: string[]): Promise<string[]> {
    return tokens.missingNamespaces(this.db, names)
  }

  deleteToken(name: string): Promise<number> {
    return tokens.deleteToken(this.batch, name)
  }

  /** Tokens by name, or the one whose secret hashes to `hash`. */
  tokens(by: { name?: string; hash?: string } = {}): Promise<tokens.TokenRow[]> {
    return tokens.tokens(this.db, by)
  }

  /** A filtered page of tokens in name order. */
  tokenPage(filter: Omit<ListFilter, 'namespace' | 'namespaces'>): Promise<tokens.TokenPage> {
    return tokens.tokenPage(this.read, filter)
  }
}
