/**
 * Endpoints written by users for selectorless services: validation, and the endpoint
 * rows they stand for (served like computed ones, in Endpoints, EndpointSlices, DNS and
 * the pick).
 */
import type { ManualEndpoint } from '../db/endpoint-rows'
import type { EndpointsObject } from './endpoint-views'
import { fieldError, invalid, type FieldError } from './errors'
import { validateMeta } from './meta'
import type { EndpointsInput } from './schemas'
import { PROTOCOLS } from './service'
import type { ObjectMetaOut, Protocol } from './types'
import { isDns1123Label, isValidPort } from './validation'
import { canonicalIP, ipFamily } from './ip-address'
import { validateEndpointIP, type AddressPolicy } from './endpoint-address'
import { MAX_ENDPOINTS_ADDRESSES, MAX_SERVICE_PORTS, MAX_SUBSET_ADDRESSES, checkObjectSize } from './limits'

export function buildUserEndpoints(input: EndpointsInput, metadata: ObjectMetaOut, addresses: AddressPolicy): EndpointsObject {
  const address = (a: NonNullable<NonNullable<EndpointsInput['subsets']>[number]['addresses']>[number]) => ({
    ip: canonicalIP(a.ip) ?? a.ip,
    ...(a.hostname ? { hostname: a.hostname } : {}),
    ...(a.nodeName ? { nodeName: a.nodeName } : {}),
    weight: 1,
  })
  const ep: EndpointsObject = {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata,
    subsets: (input.subsets ?? []).map((s) => ({
      ...(s.addresses?.length ? { addresses: s.addresses.map(address) } : {}),
      ...(s.notReadyAddresses?.length ? { notReadyAddresses: s.notReadyAddresses.map(address) } : {}),
      ...(s.ports?.length
        ? {
            ports: s.ports.map((p) => ({
              ...(p.name ? { name: p.name } : {}),
              port: p.port,
              protocol: (p.protocol || 'TCP') as Protocol,
              ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
            })),
          }
        : {}),
    })),
  }
  const causes: FieldError[] = [...validateMeta(metadata, 'dns1123subdomain')]
  const total = ep.subsets.reduce((n, s) => n + (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0), 0)
  if (total > MAX_ENDPOINTS_ADDRESSES) throw invalid('Endpoints', metadata.name, [...causes, fieldError.tooMany('subsets[*].addresses', MAX_ENDPOINTS_ADDRESSES, total)])
  ep.subsets.forEach((s, i) => {
    // Past a count limit a list is refused whole, without an error per item.
    const count = (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0)
    if (count > MAX_SUBSET_ADDRESSES) causes.push(fieldError.tooMany(`subsets[${i}].addresses`, MAX_SUBSET_ADDRESSES, count))
    if ((s.ports?.length ?? 0) > MAX_SERVICE_PORTS) causes.push(fieldError.tooMany(`subsets[${i}].ports`, MAX_SERVICE_PORTS, s.ports!.length))
    if (count > MAX_SUBSET_ADDRESSES || (s.ports?.length ?? 0) > MAX_SERVICE_PORTS) return
    for (const list of ['addresses', 'notReadyAddresses'] as const) {
      s[list]?.forEach((a, j) => {
        const f = `subsets[${i}].${list}[${j}]`
        if (!ipFamily(a.ip)) causes.push(fieldError.invalid(`${f}.ip`, a.ip, 'must be a valid IP address'))
        causes.push(...validateEndpointIP(a.ip, `${f}.ip`, addresses))
        if (a.hostname && !isDns1123Label(a.hostname)) causes.push(fieldError.invalid(`${f}.hostname`, a.hostname, 'must be a lowercase RFC 1123 label'))
      })
    }
    const names = new Set<string>()
    s.ports?.forEach((p, j) => {
      const f = `subsets[${i}].ports[${j}]`
      if (!isValidPort(p.port)) causes.push(fieldError.invalid(`${f}.port`, p.port, 'must be between 1 and 65535, inclusive'))
      if (!PROTOCOLS.includes(p.protocol as Protocol)) causes.push(fieldError.notSupported(`${f}.protocol`, p.protocol, PROTOCOLS))
      if ((s.ports?.length ?? 0) > 1 && !p.name) causes.push(fieldError.required(`${f}.name`))
      if (p.name && !isDns1123Label(p.name)) causes.push(fieldError.invalid(`${f}.name`, p.name, 'must be a lowercase RFC 1123 label'))
      if (p.name && names.has(p.name)) causes.push(fieldError.duplicate(`${f}.name`, p.name))
      if (p.name) names.add(p.name)
    })
  })
  if (causes.length) throw invalid('Endpoints', metadata.name, causes)
  const { resourceVersion: _rv, ...stored } = metadata
  checkObjectSize('Endpoints', metadata.name, { ...ep, metadata: stored })
  return ep
}

/** The endpoint rows an Endpoints object stands for: one per address, per subset. */
export function userEndpointRows(ep: EndpointsObject): ManualEndpoint[] {
  return ep.subsets.flatMap((s) => {
    const ports = JSON.stringify(s.ports ?? [])
    const row = (ready: boolean) => (a: NonNullable<typeof s.addresses>[number]) => ({
      ip: a.ip,
      ready,
      hostname: a.hostname ?? null,
      nodeName: a.nodeName ?? null,
      ports,
    })
    return [...(s.addresses ?? []).map(row(true)), ...(s.notReadyAddresses ?? []).map(row(false))]
  })
}
