/**
 * The protobuf messages a protobuf body may hold, with the field numbers of Kubernetes'
 * generated.proto (k8s.io/api/core/v1, k8s.io/apimachinery meta/v1, runtime, intstr):
 * Service and Namespace with ObjectMeta, which is what kubectl's typed commands send
 * (`kubectl create service clusterip|nodeport|loadbalancer|externalname`, `kubectl create
 * namespace`). Each field has its JSON name; a field whose message the registry does not
 * decode is `unsupported` (refused when it holds anything).
 */

export type Scalar = 'string' | 'int32' | 'int64' | 'bool' | 'time' | 'intOrString' | 'unsupported'

export interface Message {
  name: string
  fields: Record<number, Field>
}

export interface Field {
  json: string
  type: Scalar | Message | 'stringMap'
  repeated?: boolean
}

const TypeMeta: Message = { name: 'TypeMeta', fields: { 1: { json: 'apiVersion', type: 'string' }, 2: { json: 'kind', type: 'string' } } }

/** runtime.Unknown: the envelope after the `k8s\0` magic. */
export const Unknown: Message = {
  name: 'Unknown',
  fields: {
    1: { json: 'typeMeta', type: TypeMeta },
    2: { json: 'raw', type: 'unsupported' },
    3: { json: 'contentEncoding', type: 'string' },
    4: { json: 'contentType', type: 'string' },
  },
}

const OwnerReference: Message = {
  name: 'OwnerReference',
  fields: {
    1: { json: 'kind', type: 'string' },
    3: { json: 'name', type: 'string' },
    4: { json: 'uid', type: 'string' },
    5: { json: 'apiVersion', type: 'string' },
    6: { json: 'controller', type: 'bool' },
    7: { json: 'blockOwnerDeletion', type: 'bool' },
  },
}

const ObjectMeta: Message = {
  name: 'ObjectMeta',
  fields: {
    1: { json: 'name', type: 'string' },
    2: { json: 'generateName', type: 'string' },
    3: { json: 'namespace', type: 'string' },
    4: { json: 'selfLink', type: 'string' },
    5: { json: 'uid', type: 'string' },
    6: { json: 'resourceVersion', type: 'string' },
    7: { json: 'generation', type: 'int64' },
    8: { json: 'creationTimestamp', type: 'time' },
    9: { json: 'deletionTimestamp', type: 'time' },
    10: { json: 'deletionGracePeriodSeconds', type: 'int64' },
    11: { json: 'labels', type: 'stringMap' },
    12: { json: 'annotations', type: 'stringMap' },
    13: { json: 'ownerReferences', type: OwnerReference, repeated: true },
    14: { json: 'finalizers', type: 'string', repeated: true },
    17: { json: 'managedFields', type: 'unsupported', repeated: true },
  },
}

const ServicePort: Message = {
  name: 'ServicePort',
  fields: {
    1: { json: 'name', type: 'string' },
    2: { json: 'protocol', type: 'string' },
    3: { json: 'port', type: 'int32' },
    4: { json: 'targetPort', type: 'intOrString' },
    5: { json: 'nodePort', type: 'int32' },
    6: { json: 'appProtocol', type: 'string' },
  },
}

const ServiceSpec: Message = {
  name: 'ServiceSpec',
  fields: {
    1: { json: 'ports', type: ServicePort, repeated: true },
    2: { json: 'selector', type: 'stringMap' },
    3: { json: 'clusterIP', type: 'string' },
    4: { json: 'type', type: 'string' },
    5: { json: 'externalIPs', type: 'string', repeated: true },
    7: { json: 'sessionAffinity', type: 'string' },
    8: { json: 'loadBalancerIP', type: 'string' },
    9: { json: 'loadBalancerSourceRanges', type: 'string', repeated: true },
    10: { json: 'externalName', type: 'string' },
    11: { json: 'externalTrafficPolicy', type: 'string' },
    12: { json: 'healthCheckNodePort', type: 'int32' },
    13: { json: 'publishNotReadyAddresses', type: 'bool' },
    14: { json: 'sessionAffinityConfig', type: 'unsupported' },
    17: { json: 'ipFamilyPolicy', type: 'string' },
    18: { json: 'clusterIPs', type: 'string', repeated: true },
    19: { json: 'ipFamilies', type: 'string', repeated: true },
    20: { json: 'allocateLoadBalancerNodePorts', type: 'bool' },
    21: { json: 'loadBalancerClass', type: 'string' },
    22: { json: 'internalTrafficPolicy', type: 'string' },
    23: { json: 'trafficDistribution', type: 'string' },
  },
}

const ServiceStatus: Message = {
  name: 'ServiceStatus',
  fields: {
    1: { json: 'loadBalancer', type: { name: 'LoadBalancerStatus', fields: { 1: { json: 'ingress', type: 'unsupported', repeated: true } } } },
    2: { json: 'conditions', type: 'unsupported', repeated: true },
  },
}

const Service: Message = {
  name: 'Service',
  fields: { 1: { json: 'metadata', type: ObjectMeta }, 2: { json: 'spec', type: ServiceSpec }, 3: { json: 'status', type: ServiceStatus } },
}

const Namespace: Message = {
  name: 'Namespace',
  fields: {
    1: { json: 'metadata', type: ObjectMeta },
    2: { json: 'spec', type: { name: 'NamespaceSpec', fields: { 1: { json: 'finalizers', type: 'string', repeated: true } } } },
    3: {
      json: 'status',
      type: { name: 'NamespaceStatus', fields: { 1: { json: 'phase', type: 'string' }, 2: { json: 'conditions', type: 'unsupported', repeated: true } } },
    },
  },
}

/** The messages a protobuf body may be, by `apiVersion` and `kind` of its envelope. */
export const PROTOBUF_KINDS: Record<string, Message> = {
  'v1/Service': Service,
  'v1/Namespace': Namespace,
}
