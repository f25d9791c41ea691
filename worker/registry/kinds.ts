/**
 * The table of kinds: every resource the registry serves, one entry each. Routes
 * (api/kind-routes.ts), discovery (api/discovery.ts), access control (api/auth.ts), the
 * field-selector allow-lists and the generic store (generic-store.ts) all come from here.
 *
 * Namespaces, services, pods and leases are generic kinds: a zod schema, a strategy
 * (strategies/*.ts) and a table (db/). Endpoints and EndpointSlices are views computed
 * from the endpoint rows, and tokens keep their secrets apart, so those three are served
 * by their own registries (registry.ts says which); the table still says how they are
 * named, routed, discovered and guarded. To add a kind, see the README ("How it is built").
 */
import { leaseTable, namespaceTable, podTable, serviceTable } from '../db/tables'
import type { KindInfo } from './kind-info'
import { Lease, Namespace, Pod, Service } from './schemas'
import { leaseStrategy } from './strategies/lease'
import { LEASE_GROUP } from './lease'
import { namespaceStrategy } from './strategies/namespace'
import { podStrategy } from './strategies/pod'
import { serviceStrategy } from './strategies/service'
import type { Strategy } from './strategy'
import type { RegistryObject } from './types'
import { endpointSliceColumns, endpointsColumns } from './endpoint-columns'
import { tokenColumns } from './token-columns'
import type { Columns } from './columns'

const computed = <T>(columns: Columns<T>) => columns as unknown as Columns<never>

const generic = <T extends RegistryObject, I>(strategy: Strategy<T, I>) => strategy as unknown as Strategy<RegistryObject, never>
const NAME_AND_NAMESPACE = ['metadata.name', 'metadata.namespace'] as const

export const NAMESPACES: KindInfo = {
  kind: 'Namespace',
  listKind: 'NamespaceList',
  resource: 'namespaces',
  singular: 'namespace',
  group: '',
  version: 'v1',
  namespaced: false,
  shortNames: ['ns'],
  categories: [],
  verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  subresources: [],
  access: { write: 'admin', everywhere: 'create' },
  fieldSelectors: ['metadata.name'],
  schema: Namespace,
  strategy: generic(namespaceStrategy),
  storage: namespaceTable,
}

export const SERVICES: KindInfo = {
  kind: 'Service',
  listKind: 'ServiceList',
  resource: 'services',
  singular: 'service',
  group: '',
  version: 'v1',
  namespaced: true,
  shortNames: ['svc'],
  categories: ['all'],
  verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  subresources: [],
  access: { write: 'admin' },
  fieldSelectors: [...NAME_AND_NAMESPACE, 'spec.type', 'spec.clusterIP'],
  schema: Service,
  strategy: generic(serviceStrategy),
  storage: serviceTable,
}

export const PODS: KindInfo = {
  kind: 'Pod',
  listKind: 'PodList',
  resource: 'pods',
  singular: 'pod',
  group: '',
  version: 'v1',
  namespaced: true,
  shortNames: ['po'],
  categories: ['all'],
  verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  subresources: ['status'],
  access: { write: 'register' },
  fieldSelectors: [...NAME_AND_NAMESPACE, 'spec.nodeName', 'status.phase', 'status.podIP'],
  schema: Pod,
  strategy: generic(podStrategy),
  storage: podTable,
}

/** Computed for services with a selector; written by users for selectorless ones. */
export const ENDPOINTS: KindInfo = {
  kind: 'Endpoints',
  listKind: 'EndpointsList',
  resource: 'endpoints',
  singular: 'endpoints',
  group: '',
  version: 'v1',
  namespaced: true,
  shortNames: ['ep'],
  categories: [],
  verbs: ['create', 'delete', 'get', 'list', 'update', 'watch'],
  subresources: [],
  access: { write: 'admin' },
  fieldSelectors: NAME_AND_NAMESPACE,
  columns: computed(endpointsColumns),
}

export const ENDPOINT_SLICES: KindInfo = {
  kind: 'EndpointSlice',
  listKind: 'EndpointSliceList',
  resource: 'endpointslices',
  singular: 'endpointslice',
  group: 'discovery.k8s.io',
  version: 'v1',
  namespaced: true,
  shortNames: [],
  categories: [],
  verbs: ['get', 'list', 'watch'],
  subresources: [],
  access: { write: 'admin' },
  fieldSelectors: NAME_AND_NAMESPACE,
  columns: computed(endpointSliceColumns),
}

/**
 * Leases (coordination.k8s.io/v1): liveness of pods that name one, and leader election.
 * Workloads renew their own, so a register token may write them.
 */
export const LEASES: KindInfo = {
  kind: 'Lease',
  listKind: 'LeaseList',
  resource: 'leases',
  singular: 'lease',
  group: LEASE_GROUP,
  version: 'v1',
  namespaced: true,
  shortNames: [],
  categories: [],
  verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  subresources: [],
  access: { write: 'register' },
  fieldSelectors: NAME_AND_NAMESPACE,
  schema: Lease,
  strategy: generic(leaseStrategy),
  storage: leaseTable,
}

/** Access tokens: admins of every namespace only; the secret is shown once, at creation. */
export const TOKENS: KindInfo = {
  kind: 'Token',
  listKind: 'TokenList',
  resource: 'tokens',
  singular: 'token',
  group: 'switchboard.dev',
  version: 'v1',
  namespaced: false,
  shortNames: [],
  categories: [],
  verbs: ['create', 'delete', 'get', 'list', 'watch'],
  subresources: [],
  access: { write: 'admin', everywhere: 'all' },
  fieldSelectors: ['metadata.name'],
  columns: computed(tokenColumns),
}

/** Every kind, in the order discovery lists them. */
export const KINDS: readonly KindInfo[] = [NAMESPACES, SERVICES, PODS, ENDPOINTS, ENDPOINT_SLICES, LEASES, TOKENS]

/** The kind served at `resource` in `group` (core: ''), if any. */
export function kindOf(group: string, resource: string): KindInfo | undefined {
  return KINDS.find((k) => k.group === group && k.resource === resource)
}
