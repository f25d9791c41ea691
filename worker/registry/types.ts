/**
 * The objects the registry serves, as Kubernetes shapes them (v1 JSON).
 */
import type { ManagedFieldsEntry } from './managed-fields'

export interface ObjectMetaOut {
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
  ownerReferences?: {
    apiVersion: string
    kind: string
    name: string
    uid: string
    controller?: boolean
    blockOwnerDeletion?: boolean
  }[]
  finalizers?: string[]
  /** Who set which fields (server-side apply; managed-fields.ts). */
  managedFields?: ManagedFieldsEntry[]
}

export interface NamespaceObject {
  apiVersion: 'v1'
  kind: 'Namespace'
  metadata: ObjectMetaOut
  spec: { finalizers?: string[] }
  status: { phase: 'Active' | 'Terminating' }
}

export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName'
export type Protocol = 'TCP' | 'UDP' | 'SCTP'

export interface ServicePortOut {
  name?: string
  protocol: Protocol
  appProtocol?: string
  port: number
  targetPort: number | string
  nodePort?: number
}

export interface ServiceObject {
  apiVersion: 'v1'
  kind: 'Service'
  metadata: ObjectMetaOut
  spec: {
    type: ServiceType
    selector?: Record<string, string>
    ports?: ServicePortOut[]
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

export interface ContainerPortOut {
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

export interface PodObject {
  apiVersion: 'v1'
  kind: 'Pod'
  metadata: ObjectMetaOut
  spec: {
    nodeName?: string
    hostname?: string
    subdomain?: string
    containers?: { name?: string; image?: string; ports?: ContainerPortOut[] }[]
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

export interface LeaseObject {
  apiVersion: 'coordination.k8s.io/v1'
  kind: 'Lease'
  metadata: ObjectMetaOut
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

export type RegistryObject = NamespaceObject | ServiceObject | PodObject | LeaseObject

export interface ListObject<T> {
  apiVersion: string
  kind: string
  metadata: { resourceVersion: string; continue?: string }
  items: T[]
}
