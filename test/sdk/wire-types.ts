/**
 * The SDK's wire types are its own (sdk/src/types.ts: the package ships no server code);
 * this file holds them equal to the server's, so that neither drifts silently. It has no
 * runtime part: `npx tsc --noEmit` checks it, and a difference is a type error here naming
 * the type.
 *
 * `Same<A, B>` is TypeScript's identity of types (not just assignability both ways, which
 * lets an optional field present on one side only pass).
 */
import type * as Sdk from '../../sdk/src/types'
import type { ListObject, LeaseObject, NamespaceObject, PodObject, ServiceObject } from '../../worker/registry/types'
import type { EndpointSlice, EndpointsObject, EndpointPort } from '../../worker/registry/endpoint-views'
import type { ExclusionReason, PickResult } from '../../worker/registry/pick'
import type { Role, TokenObject, TokenSpec } from '../../worker/registry/tokens'
import type { Status } from '../../worker/api/status'
import type { CauseReason, ErrorDetails, FieldError, StatusReason } from '../../worker/registry/errors'
import type { ManagedFieldsEntry } from '../../worker/registry/managed-fields'
import type { EndpointsInput, LeaseInput, NamespaceInput, PodInput, ServiceInput } from '../../worker/registry/schemas'

type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
type Assert<T extends true> = T

export type WireTypes = [
  // What the server answers with.
  Assert<Same<Sdk.Pod, PodObject>>,
  Assert<Same<Sdk.Service, ServiceObject>>,
  Assert<Same<Sdk.EndpointSlice, EndpointSlice>>,
  Assert<Same<Sdk.Lease, LeaseObject>>,
  Assert<Same<Sdk.PickResult, PickResult>>,
  Assert<Same<Sdk.Namespace, NamespaceObject>>,
  Assert<Same<Sdk.Endpoints, EndpointsObject>>,
  Assert<Same<Sdk.EndpointPort, EndpointPort>>,
  Assert<Same<Sdk.Token, TokenObject>>,
  Assert<Same<Sdk.Role, Role>>,
  Assert<Same<Sdk.ListObject<Sdk.Pod>, ListObject<PodObject>>>,
  Assert<Same<Sdk.ExclusionReason, ExclusionReason>>,
  Assert<Same<Sdk.ManagedFieldsEntry, ManagedFieldsEntry>>,
  Assert<Same<Sdk.Status, Status>>,
  Assert<Same<Sdk.StatusReason, StatusReason>>,
  Assert<Same<Sdk.CauseReason, CauseReason>>,
  Assert<Same<Sdk.FieldError, FieldError>>,
  Assert<Same<Sdk.ErrorDetails, ErrorDetails>>,
  // What the server accepts: the zod schemas' types.
  Assert<Same<Sdk.NamespaceInput, NamespaceInput>>,
  Assert<Same<Sdk.ServiceInput, ServiceInput>>,
  Assert<Same<Sdk.PodInput, PodInput>>,
  Assert<Same<Sdk.LeaseInput, LeaseInput>>,
  Assert<Same<Sdk.EndpointsInput, EndpointsInput>>,
  Assert<Same<Sdk.TokenInput, TokenSpec>>,
]
