/**
 * The zod schemas of the API's objects: the single source of request validation
 * (structure and types) and of the TypeScript types. Semantic rules (names, ports,
 * allocation) live in the per-kind modules; these only say what shape a body has.
 *
 * Optional fields accept `null` as Kubernetes clients send it (`creationTimestamp: null`);
 * unknown fields are dropped, as Kubernetes drops them.
 */
import * as z from 'zod'

const str = z.string().nullish()
const int = z.number().int().nullish()
const StringMap = z.record(z.string(), z.string())

/**
 * A list that merges rather than being replaced whole: by `key` for lists of objects, as
 * a set for lists of primitives. The metadata names are OpenAPI's, from Kubernetes' core/v1
 * tags: `patchStrategy`/`patchMergeKey` for a strategic merge patch, and `listType` /
 * `listMapKey` for server-side apply, whose key may name more fields (`mapKeys`, e.g. a
 * port and its protocol). The strategic merge (strategic-merge-schema.ts), server-side
 * apply (list-types.ts) and the OpenAPI documents read them from here; a list without
 * them is replaced whole (atomic).
 */
const mergeList = <T extends z.ZodType>(item: T, key?: string, mapKeys: readonly string[] = key ? [key] : []) =>
  z
    .array(item)
    .nullish()
    .meta({
      'x-kubernetes-patch-strategy': 'merge',
      ...(key ? { 'x-kubernetes-patch-merge-key': key } : {}),
      'x-kubernetes-list-type': key ? 'map' : 'set',
      ...(key ? { 'x-kubernetes-list-map-keys': [...mapKeys] } : {}),
    })

/** A port's protocol: a key of its list for server-side apply, where an item without one counts as TCP (as defaulting makes it). */
const protocol = z.string().nullish().meta({ default: 'TCP' })

/** Who set which fields (server-side apply); see managed-fields.ts. */
export const ManagedFieldsEntry = z.object({
  manager: z.string().nullish(),
  operation: z.enum(['Apply', 'Update']),
  apiVersion: str,
  time: str,
  fieldsType: z.literal('FieldsV1'),
  fieldsV1: z.record(z.string(), z.unknown()),
  subresource: str,
})

export const OwnerReference = z.object({
  apiVersion: z.string(),
  kind: z.string(),
  name: z.string(),
  uid: z.string(),
  controller: z.boolean().nullish(),
  blockOwnerDeletion: z.boolean().nullish(),
})

export const ObjectMeta = z.object({
  name: str,
  generateName: str,
  namespace: str,
  uid: str,
  resourceVersion: str,
  generation: int,
  creationTimestamp: str,
  deletionTimestamp: str,
  deletionGracePeriodSeconds: int,
  labels: StringMap.nullish(),
  annotations: StringMap.nullish(),
  ownerReferences: mergeList(OwnerReference, 'uid'),
  finalizers: mergeList(z.string()),
  managedFields: z.array(ManagedFieldsEntry).nullish(),
})
export type ObjectMeta = z.infer<typeof ObjectMeta>

const TypeMeta = { apiVersion: str, kind: str }

export const Namespace = z.object({
  ...TypeMeta,
  metadata: ObjectMeta.nullish(),
  spec: z.object({ finalizers: z.array(z.string()).nullish() }).nullish(),
  status: z.object({ phase: str }).nullish(),
})
export type NamespaceInput = z.infer<typeof Namespace>

export const ServicePort = z.object({
  name: str,
  protocol,
  appProtocol: str,
  port: z.number().int(),
  targetPort: z.union([z.number().int(), z.string()]).nullish(),
  nodePort: int,
})

export const ServiceSpec = z.object({
  type: str,
  selector: StringMap.nullish(),
  ports: mergeList(ServicePort, 'port', ['port', 'protocol']),
  clusterIP: str,
  clusterIPs: z.array(z.string()).nullish(),
  ipFamilies: z.array(z.string()).nullish(),
  ipFamilyPolicy: str,
  externalName: str,
  externalIPs: z.array(z.string()).nullish(),
  loadBalancerIP: str,
  sessionAffinity: str,
  publishNotReadyAddresses: z.boolean().nullish(),
  externalTrafficPolicy: str,
  internalTrafficPolicy: str,
})

export const Service = z.object({
  ...TypeMeta,
  metadata: ObjectMeta.nullish(),
  spec: ServiceSpec.nullish(),
  status: z.unknown().optional(),
})
export type ServiceInput = z.infer<typeof Service>

export const ContainerPort = z.object({
  name: str,
  containerPort: z.number().int(),
  protocol,
  hostPort: int,
})

export const Container = z.object({
  name: str,
  image: str,
  ports: mergeList(ContainerPort, 'containerPort', ['containerPort', 'protocol']),
})

export const PodCondition = z.object({
  type: z.string(),
  status: z.string(),
  lastTransitionTime: str,
  lastProbeTime: str,
  reason: str,
  message: str,
})

export const PodStatus = z.object({
  phase: str,
  podIP: str,
  podIPs: mergeList(z.object({ ip: z.string() }), 'ip'),
  hostIP: str,
  conditions: mergeList(PodCondition, 'type'),
  message: str,
  reason: str,
})

export const PodSpec = z.object({
  nodeName: str,
  hostname: str,
  subdomain: str,
  containers: mergeList(Container, 'name'),
  terminationGracePeriodSeconds: int,
})

export const Pod = z.object({
  ...TypeMeta,
  metadata: ObjectMeta.nullish(),
  spec: PodSpec.nullish(),
  status: PodStatus.nullish(),
})
export type PodInput = z.infer<typeof Pod>

export const Lease = z.object({
  ...TypeMeta,
  metadata: ObjectMeta.nullish(),
  spec: z
    .object({
      holderIdentity: str,
      leaseDurationSeconds: int,
      acquireTime: str,
      renewTime: str,
      leaseTransitions: int,
      strategy: str,
      preferredHolder: str,
    })
    .nullish(),
})
export type LeaseInput = z.infer<typeof Lease>

/** `DeleteOptions`, as kubectl sends them in a DELETE body. */
export const DeleteOptions = z.object({
  ...TypeMeta,
  gracePeriodSeconds: int,
  propagationPolicy: str,
  preconditions: z.object({ uid: str, resourceVersion: str }).nullish(),
  dryRun: z.array(z.string()).nullish(),
})
export type DeleteOptionsInput = z.infer<typeof DeleteOptions>

const EndpointAddress = z.object({
  ip: z.string(),
  hostname: str,
  nodeName: str,
  targetRef: z.object({ kind: str, namespace: str, name: str, uid: str }).nullish(),
})

/** Endpoints that users write for selectorless services. */
export const Endpoints = z.object({
  ...TypeMeta,
  metadata: ObjectMeta.nullish(),
  subsets: z
    .array(
      z.object({
        addresses: z.array(EndpointAddress).nullish(),
        notReadyAddresses: z.array(EndpointAddress).nullish(),
        ports: z.array(z.object({ name: str, port: z.number().int(), protocol: str, appProtocol: str })).nullish(),
      }),
    )
    .nullish(),
})
export type EndpointsInput = z.infer<typeof Endpoints>
