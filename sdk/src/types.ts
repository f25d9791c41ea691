/**
 * The wire types of the Switchboard API: the objects it answers with (Kubernetes v1 JSON
 * shapes, plus each endpoint's `weight`) and the bodies it accepts. They are the SDK's
 * own, so the package declares nothing it does not ship; the repository's type test
 * (test/sdk/wire-types.ts) holds them equal to the server's definitions.
 *
 * Bodies accept `null` wherever the server does (Kubernetes clients send
 * `creationTimestamp: null`); unknown fields are dropped by the server.
 */

// ---- Objects, as the server answers with them

/** Who set which fields (server-side apply): a tree of field names, `{}` at the leaves. */
export type FieldsV1 = { [key: string]: FieldsV1 }

export interface ManagedFieldsEntry {
  manager: string
  operation: 'Apply' | 'Update'
  apiVersion: string
  time: string
  fieldsType: 'FieldsV1'
  fieldsV1: FieldsV1
  subresource?: string
}

export interface OwnerReference {
  apiVersion: string
  kind: string
  name: string
  uid: string
  controller?: boolean
  blockOwnerDeletion?: boolean
}

export interface ObjectMeta {
  name: string
  generateName?: string
  namespace?: string
  uid: string
  resourceVersion: string
  generation?: number
  creationTimestamp: string
  deletionTimestamp?: string
  deletionGracePeriodSeconds?: number
  labels?: Record<string, string>
  annotations?: Record<string, string>
  ownerReferences?: OwnerReference[]
  finalizers?: string[]
  managedFields?: ManagedFieldsEntry[]
}

export interface Namespace {
  apiVersion: 'v1'
  kind: 'Namespace'
  metadata: ObjectMeta
  spec: { finalizers?: string[] }
  status: { phase: 'Active' | 'Terminating' }
}

export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName'
export type Protocol = 'TCP' | 'UDP' | 'SCTP'

export interface ServicePort {
  name?: string
  protocol: Protocol
  appProtocol?: string
  port: number
  targetPort: number | string
  nodePort?: number
}

export interface Service {
  apiVersion: 'v1'
  kind: 'Service'
  metadata: ObjectMeta
  spec: {
    type: ServiceType
    selector?: Record<string, string>
    ports?: ServicePort[]
    clusterIP?: string
    clusterIPs?: string[]
    ipFamilies?: ('IPv4' | 'IPv6')[]
    ipFamilyPolicy?: 'SingleStack' | 'PreferDualStack' | 'RequireDualStack'
    externalName?: string
    externalIPs?: string[]
    loadBalancerIP?: string
    sessionAffinity: 'None' | 'ClientIP'
    publishNotReadyAddresses?: boolean
    externalTrafficPolicy?: 'Cluster' | 'Local'
    internalTrafficPolicy?: 'Cluster' | 'Local'
  }
  status: { loadBalancer: Record<string, never> }
}

export interface ContainerPort {
  name?: string
  containerPort: number
  protocol: Protocol
  hostPort?: number
}

export interface PodCondition {
  type: string
  status: 'True' | 'False' | 'Unknown'
  lastTransitionTime?: string
  lastProbeTime?: string
  reason?: string
  message?: string
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown'

export interface Pod {
  apiVersion: 'v1'
  kind: 'Pod'
  metadata: ObjectMeta
  spec: {
    nodeName?: string
    hostname?: string
    subdomain?: string
    containers?: { name?: string; image?: string; ports?: ContainerPort[] }[]
    terminationGracePeriodSeconds?: number
  }
  status: {
    phase: PodPhase
    podIP?: string
    podIPs?: { ip: string }[]
    hostIP?: string
    conditions?: PodCondition[]
    message?: string
    reason?: string
  }
}

export interface Lease {
  apiVersion: 'coordination.k8s.io/v1'
  kind: 'Lease'
  metadata: ObjectMeta
  spec: {
    holderIdentity?: string
    leaseDurationSeconds?: number
    acquireTime?: string
    renewTime?: string
    leaseTransitions?: number
    strategy?: string
    preferredHolder?: string
  }
}

export interface EndpointPort {
  name?: string
  port: number
  protocol: string
  appProtocol?: string
}

/** A reference from an endpoint to the pod behind it. */
export interface PodReference {
  kind: 'Pod'
  namespace: string
  name: string
  uid: string
}

export interface SliceEndpoint {
  addresses: string[]
  conditions: { ready: boolean; serving: boolean; terminating: boolean }
  hostname?: string
  targetRef?: PodReference
  nodeName?: string
  zone?: string
  /** The pod's weight; 0 is drained (never picked, left out of DNS). */
  weight: number
}

export interface EndpointSlice {
  apiVersion: 'discovery.k8s.io/v1'
  kind: 'EndpointSlice'
  metadata: ObjectMeta
  addressType: 'IPv4' | 'IPv6'
  endpoints: SliceEndpoint[]
  ports: EndpointPort[]
}

export interface EndpointAddress {
  ip: string
  hostname?: string
  nodeName?: string
  targetRef?: PodReference
  weight: number
}

export interface Endpoints {
  apiVersion: 'v1'
  kind: 'Endpoints'
  metadata: ObjectMeta
  subsets: { addresses?: EndpointAddress[]; notReadyAddresses?: EndpointAddress[]; ports?: EndpointPort[] }[]
}

export type Role = 'read' | 'register' | 'admin'

export interface Token {
  apiVersion: 'switchboard.dev/v1'
  kind: 'Token'
  metadata: { name: string; uid: string; creationTimestamp: string; resourceVersion: string; annotations?: Record<string, string> }
  spec: { role: Role; namespaces: string[]; expiresAt?: string }
  /** Only in the answer to a create: the secret, shown once. */
  status?: { secret: string }
}

export interface ListObject<T> {
  apiVersion: string
  kind: string
  metadata: { resourceVersion: string; continue?: string }
  items: T[]
}

/** Why an endpoint was not a candidate of a pick (with `explain`). */
export type ExclusionReason = 'NotReady' | 'Terminating' | 'Drained' | 'UnservableAddress' | 'OtherZone' | 'NoSuchPort'

export interface PickResult {
  kind: 'Pick'
  namespace: string
  service: string
  address: string
  port?: number
  ports?: EndpointPort[]
  pod?: string
  node?: string
  zone?: string
  weight?: number
  externalName?: string
  /** True when `zone` had no ready endpoint and the pick fell back to every zone. */
  zoneFallback?: boolean
  explain?: {
    algorithm: 'smooth-weighted-round-robin' | 'weighted-rendezvous'
    candidates: { address: string; pod?: string; zone?: string; weight: number }[]
    excluded: { address: string; pod?: string; zone?: string; weight: number; reason: ExclusionReason }[]
  }
}

// ---- Errors

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'MethodNotAllowed'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'Invalid'
  | 'TooManyRequests'
  | 'InternalError'
  | 'ServiceUnavailable'
  | 'NotAcceptable'
  /** Not one of Kubernetes' reasons: the database's disk is full (HTTP 507). */
  | 'InsufficientStorage'

/** The reason of one wrong field (`FieldValueRequired`, `FieldValueInvalid`, ...). */
export type CauseReason =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueDuplicate'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueTypeInvalid'
  /** Server-side apply: a field another manager owns with another value. */
  | 'FieldManagerConflict'

/** One wrong field, as in `details.causes[]`. */
export interface FieldError {
  reason: CauseReason
  field: string
  message: string
}

export interface ErrorDetails {
  name?: string
  kind?: string
  group?: string
  causes?: FieldError[]
  retryAfterSeconds?: number
}

/** Every error the API answers with. */
export interface Status {
  kind: 'Status'
  apiVersion: 'v1'
  metadata: Record<string, never>
  status: 'Failure'
  message: string
  reason: StatusReason
  details?: ErrorDetails
  code: number
}

// ---- Bodies, as the server accepts them

type Maybe<T> = T | null | undefined

export interface ObjectMetaInput {
  name?: Maybe<string>
  generateName?: Maybe<string>
  namespace?: Maybe<string>
  uid?: Maybe<string>
  resourceVersion?: Maybe<string>
  generation?: Maybe<number>
  creationTimestamp?: Maybe<string>
  deletionTimestamp?: Maybe<string>
  deletionGracePeriodSeconds?: Maybe<number>
  labels?: Maybe<Record<string, string>>
  annotations?: Maybe<Record<string, string>>
  ownerReferences?: Maybe<{ apiVersion: string; kind: string; name: string; uid: string; controller?: Maybe<boolean>; blockOwnerDeletion?: Maybe<boolean> }[]>
  finalizers?: Maybe<string[]>
  managedFields?: Maybe<
    {
      manager?: Maybe<string>
      operation: 'Apply' | 'Update'
      apiVersion?: Maybe<string>
      time?: Maybe<string>
      fieldsType: 'FieldsV1'
      fieldsV1: Record<string, unknown>
      subresource?: Maybe<string>
    }[]
  >
}

export interface NamespaceInput {
  apiVersion?: Maybe<string>
  kind?: Maybe<string>
  metadata?: Maybe<ObjectMetaInput>
  spec?: Maybe<{ finalizers?: Maybe<string[]> }>
  status?: Maybe<{ phase?: Maybe<string> }>
}

export interface ServicePortInput {
  name?: Maybe<string>
  protocol?: Maybe<string>
  appProtocol?: Maybe<string>
  port: number
  targetPort?: Maybe<number | string>
  nodePort?: Maybe<number>
}

export interface ServiceInput {
  apiVersion?: Maybe<string>
  kind?: Maybe<string>
  metadata?: Maybe<ObjectMetaInput>
  spec?: Maybe<{
    type?: Maybe<string>
    selector?: Maybe<Record<string, string>>
    ports?: Maybe<ServicePortInput[]>
    clusterIP?: Maybe<string>
    clusterIPs?: Maybe<string[]>
    ipFamilies?: Maybe<string[]>
    ipFamilyPolicy?: Maybe<string>
    externalName?: Maybe<string>
    externalIPs?: Maybe<string[]>
    loadBalancerIP?: Maybe<string>
    sessionAffinity?: Maybe<string>
    publishNotReadyAddresses?: Maybe<boolean>
    externalTrafficPolicy?: Maybe<string>
    internalTrafficPolicy?: Maybe<string>
  }>
  status?: unknown
}

export interface ContainerPortInput {
  name?: Maybe<string>
  containerPort: number
  protocol?: Maybe<string>
  hostPort?: Maybe<number>
}

export interface PodConditionInput {
  type: string
  status: string
  lastTransitionTime?: Maybe<string>
  lastProbeTime?: Maybe<string>
  reason?: Maybe<string>
  message?: Maybe<string>
}

export interface PodInput {
  apiVersion?: Maybe<string>
  kind?: Maybe<string>
  metadata?: Maybe<ObjectMetaInput>
  spec?: Maybe<{
    nodeName?: Maybe<string>
    hostname?: Maybe<string>
    subdomain?: Maybe<string>
    containers?: Maybe<{ name?: Maybe<string>; image?: Maybe<string>; ports?: Maybe<ContainerPortInput[]> }[]>
    terminationGracePeriodSeconds?: Maybe<number>
  }>
  status?: Maybe<{
    phase?: Maybe<string>
    podIP?: Maybe<string>
    podIPs?: Maybe<{ ip: string }[]>
    hostIP?: Maybe<string>
    conditions?: Maybe<PodConditionInput[]>
    message?: Maybe<string>
    reason?: Maybe<string>
  }>
}

export interface LeaseInput {
  apiVersion?: Maybe<string>
  kind?: Maybe<string>
  metadata?: Maybe<ObjectMetaInput>
  spec?: Maybe<{
    holderIdentity?: Maybe<string>
    leaseDurationSeconds?: Maybe<number>
    acquireTime?: Maybe<string>
    renewTime?: Maybe<string>
    leaseTransitions?: Maybe<number>
    strategy?: Maybe<string>
    preferredHolder?: Maybe<string>
  }>
}

export interface EndpointAddressInput {
  ip: string
  hostname?: Maybe<string>
  nodeName?: Maybe<string>
  targetRef?: Maybe<{ kind?: Maybe<string>; namespace?: Maybe<string>; name?: Maybe<string>; uid?: Maybe<string> }>
}

/** Endpoints written by hand, for a service without a selector. */
export interface EndpointsInput {
  apiVersion?: Maybe<string>
  kind?: Maybe<string>
  metadata?: Maybe<ObjectMetaInput>
  subsets?: Maybe<
    {
      addresses?: Maybe<EndpointAddressInput[]>
      notReadyAddresses?: Maybe<EndpointAddressInput[]>
      ports?: Maybe<{ name?: Maybe<string>; port: number; protocol?: Maybe<string>; appProtocol?: Maybe<string> }[]>
    }[]
  >
}

export interface TokenInput {
  apiVersion?: Maybe<string>
  kind?: Maybe<string>
  metadata?: Maybe<{ name?: Maybe<string> }>
  spec?: Maybe<{ role?: Maybe<string>; namespaces?: Maybe<string[]>; expiresAt?: Maybe<string> }>
}
