/**
 * The Service strategy: Kubernetes' defaults and validation (service.ts), what an update
 * keeps (allocated ClusterIPs and NodePorts), and the write, which allocates the
 * ClusterIP and NodePorts and draws again when a concurrent write took them first.
 * A dry run checks the same allocation and keeps none: a dynamic ClusterIP reads as the
 * range's network address, as Kubernetes' dry-run allocator answers it.
 */
import { copyJson } from '../../json'
import { PreconditionFailed } from '../../db/errors'
import type { ServiceWrite } from '../../db/store'
import { allocate, taken, SMALL_RANGE, type Allocation } from '../allocate'
import { fieldError, invalid } from '../errors'
import { cidrSize, ipAt } from '../ipnet'
import { dropStoredForm, objectWrite } from '../meta'
import type { ServiceInput } from '../schemas'
import { buildService, keepAllocated, usesNodePorts, validateService } from '../service'
import type { Strategy, WriteContext } from '../strategy'
import type { ServiceObject } from '../types'
import { ageColumn, formatLabels, nameColumn, type Columns } from '../columns'

/** Draws of a dynamic ClusterIP or NodePort after a collision with a concurrent write. */
const ALLOCATION_RETRIES = 8

export const serviceStrategy: Strategy<ServiceObject, ServiceInput> = {
  create: (input, metadata) => buildService(input, { ...metadata, generation: 1 }),
  update: (input, metadata, old) => {
    const svc = buildService(input, metadata)
    keepAllocated(svc, old)
    return svc
  },
  validate: validateService,
  write: writeService,
  remove: ({ store }, namespace, name, pre) => store.deleteService(namespace, name, pre),
  columns: [
    nameColumn,
    { name: 'Type', type: 'string', description: 'type determines how the Service is exposed.', cell: (svc) => svc.spec.type },
    { name: 'Cluster-IP', type: 'string', description: 'clusterIP is the IP address of the service.', cell: (svc) => svc.spec.clusterIPs?.[0] ?? '<none>' },
    { name: 'External-IP', type: 'string', description: 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.', cell: externalIP },
    { name: 'Port(s)', type: 'string', description: 'The list of ports that are exposed by this service.', cell: (svc) => portsOf(svc) || '<none>' },
    ageColumn,
    { name: 'Selector', type: 'string', priority: 1, description: 'Route service traffic to pods with label keys and values matching this selector.', cell: (svc) => formatLabels(svc.spec.selector) },
  ] satisfies Columns<ServiceObject>,
}

/** The External-IP column, as Kubernetes prints it (no load balancer here, so a LoadBalancer without external IPs is pending). */
function externalIP(svc: ServiceObject): string {
  const external = svc.spec.externalIPs ?? []
  switch (svc.spec.type) {
    case 'ExternalName':
      return svc.spec.externalName ?? ''
    case 'LoadBalancer':
      return external.length ? external.join(',') : '<pending>'
    default:
      return external.length ? external.join(',') : '<none>'
  }
}

/** `80/TCP,443:30443/TCP`: each port, with its NodePort when it has one. */
function portsOf(svc: ServiceObject): string {
  return (svc.spec.ports ?? []).map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol}` : `${p.port}/${p.protocol}`)).join(',')
}

/** Allocates the service's IP and NodePorts and writes it, drawing again on a collision. */
async function writeService(ctx: WriteContext, svc: ServiceObject, old: ServiceObject | undefined, pre: Parameters<WriteContext['store']['putService']>[1]): Promise<number> {
  const { store, allocation, clock } = ctx
  const heldIPs = old?.spec.clusterIPs?.filter((ip) => ip !== 'None') ?? []
  const heldPorts = new Set((old?.spec.ports ?? []).map((p) => p.nodePort).filter((p): p is number => p !== undefined))
  const smallRange = cidrSize(allocation.range) <= SMALL_RANGE
  // What is stored is a copy with the allocation in it, not `svc` as its size was checked.
  dropStoredForm(svc)
  for (let attempt = 0; ; attempt++) {
    const candidate = copyJson(svc)
    const [ports, ips] = await Promise.all([
      usesNodePorts(candidate.spec.type) ? store.usedNodePorts() : Promise.resolve([]),
      smallRange && candidate.spec.type !== 'ExternalName' ? store.usedClusterIPs() : Promise.resolve(undefined),
    ])
    const alloc = allocate(candidate, allocation, clock.random, {
      ports: new Set(ports.filter((p) => !heldPorts.has(p))),
      ...(ips ? { ips: new Set(ips.filter((ip) => !heldIPs.includes(ip))) } : {}),
      held: heldIPs,
    })
    try {
      const rv = await store.putService(serviceWrite(candidate, alloc), pre)
      if (store.dry && alloc.dynamicIP) candidate.spec.clusterIPs = [(candidate.spec.clusterIP = ipAt(allocation.range, 0n))]
      Object.assign(svc, candidate)
      return rv
    } catch (e) {
      if (!(e instanceof PreconditionFailed)) throw e
      const retry = attempt < ALLOCATION_RETRIES
      if (e.code === 'ip_taken') {
        if (alloc.dynamicIP && retry) continue
        throw invalid('Service', svc.metadata.name, [taken(candidate, candidate.spec.clusterIP ?? '')])
      }
      if (e.code === 'port_taken') {
        if (retry) continue
        throw invalid('Service', svc.metadata.name, [fieldError.invalid('spec.ports', alloc.nodePorts, 'provided port is already allocated')])
      }
      throw e
    }
  }
}

/** A service as the store keeps it: its body, its allocations and the rows selectors and ports match from. */
function serviceWrite(svc: ServiceObject, alloc: Allocation): ServiceWrite {
  return objectWrite(svc, {
    type: svc.spec.type,
    clusterIP: svc.spec.clusterIP ?? null,
    allocatedIPs: alloc.ips,
    nodePorts: alloc.nodePorts,
    selector: svc.spec.type === 'ExternalName' ? {} : (svc.spec.selector ?? {}),
    publishNotReady: svc.spec.publishNotReadyAddresses ?? false,
    ports: (svc.spec.ports ?? []).map((p) => ({
      name: p.name ?? '',
      protocol: p.protocol,
      port: p.port,
      targetPort: typeof p.targetPort === 'number' ? p.targetPort : null,
      targetPortName: typeof p.targetPort === 'string' ? p.targetPort : null,
      appProtocol: p.appProtocol ?? null,
    })),
  })
}
