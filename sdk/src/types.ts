/**
 * The types of the API, taken from the server's own definitions (the zod schemas of
 * request bodies and the object shapes), so that a server change that breaks a client
 * breaks this package's build. Type-only: nothing of the server is bundled.
 */
export type { NamespaceObject as Namespace, ServiceObject as Service, PodObject as Pod, LeaseObject as Lease, ListObject } from '../../worker/registry/types'
export type { EndpointsObject as Endpoints, EndpointSlice, EndpointPort } from '../../worker/registry/endpoint-views'
export type { PickResult } from '../../worker/registry/pick'
export type { TokenObject as Token, TokenSpec as TokenInput, Role } from '../../worker/registry/tokens'
export type { Status } from '../../worker/api/status'
export type { NamespaceInput, ServiceInput, PodInput, EndpointsInput, LeaseInput } from '../../worker/registry/schemas'
