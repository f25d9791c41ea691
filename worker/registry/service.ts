/**
 * Services: Kubernetes' defaulting and validation (types, ports, port names, target
 * ports, node ports, ClusterIP rules, ExternalName rules, selectors), and what an update
 * keeps from the stored object (allocated ClusterIPs and NodePorts).
 */
import { fieldError, invalid, type FieldError } from './errors'
import { validateMeta } from './meta'
import type { ServiceInput } from './schemas'
import type { ObjectMetaOut, Protocol, ServiceObject, ServicePortOut, ServiceType } from './types'
import { IMMUTABLE, isDns1123Subdomain, isValidPort, mayNotChange, validateIanaSvcName, validateLabels, validateName } from './validation'
import { canonicalIP, ipFamily } from './ip-address'
import { MAX_SERVICE_PORTS } from './limits'

export const SERVICE_TYPES: readonly ServiceType[] = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName']
export const PROTOCOLS: readonly Protocol[] = ['TCP', 'UDP', 'SCTP']
const AFFINITIES = ['None', 'ClientIP'] as const
const TRAFFIC_POLICIES = ['Cluster', 'Local'] as const
const FAMILY_POLICIES = ['SingleStack', 'PreferDualStack', 'RequireDualStack'] as const

/** Whether a service type gets NodePorts. */
export function usesNodePorts(type: ServiceType): boolean {
  return type === 'NodePort' || type === 'LoadBalancer'
}

export function isHeadless(svc: ServiceObject): boolean {
  return svc.spec.clusterIP === 'None'
}

/**
 * Applies Kubernetes' defaults to a service body (type ClusterIP, protocol TCP,
 * targetPort = port, sessionAffinity None). Values that are not one of the allowed
 * strings are kept as sent so that validation can name them.
 */
export function buildService(input: ServiceInput, metadata: ObjectMetaOut): ServiceObject {
  const s = input.spec ?? {}
  const type = (s.type || 'ClusterIP') as ServiceType
  const ports = (s.ports ?? []).map((p): ServicePortOut => {
    const target = p.targetPort === undefined || p.targetPort === null || p.targetPort === 0 || p.targetPort === '' ? p.port : p.targetPort
    return {
      ...(p.name ? { name: p.name } : {}),
      protocol: (p.protocol || 'TCP') as Protocol,
      ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
      port: p.port,
      targetPort: target,
      ...(p.nodePort ? { nodePort: p.nodePort } : {}),
    }
  })
  const spec = { type } as ServiceObject['spec']
  if (s.selector && Object.keys(s.selector).length) spec.selector = { ...s.selector }
  if (ports.length) spec.ports = ports
  const clusterIPs = s.clusterIPs?.length ? [...s.clusterIPs] : s.clusterIP ? [s.clusterIP] : []
  const clusterIP = s.clusterIP || clusterIPs[0] || ''
  if (clusterIP) spec.clusterIP = clusterIP
  if (clusterIPs.length) spec.clusterIPs = clusterIPs
  if (s.ipFamilies?.length) spec.ipFamilies = [...s.ipFamilies] as ('IPv4' | 'IPv6')[]
  if (s.ipFamilyPolicy) spec.ipFamilyPolicy = s.ipFamilyPolicy as 'SingleStack'
  if (s.externalName) spec.externalName = s.externalName
  if (s.externalIPs?.length) spec.externalIPs = [...s.externalIPs]
  if (s.loadBalancerIP) spec.loadBalancerIP = s.loadBalancerIP
  spec.sessionAffinity = (s.sessionAffinity || 'None') as 'None'
  if (s.publishNotReadyAddresses) spec.publishNotReadyAddresses = true
  if (usesNodePorts(type)) spec.externalTrafficPolicy = (s.externalTrafficPolicy || 'Cluster') as 'Cluster'
  else if (s.externalTrafficPolicy) spec.externalTrafficPolicy = s.externalTrafficPolicy as 'Cluster'
  if (type !== 'ExternalName') spec.internalTrafficPolicy = (s.internalTrafficPolicy || 'Cluster') as 'Cluster'
  else if (s.internalTrafficPolicy) spec.internalTrafficPolicy = s.internalTrafficPolicy as 'Cluster'
  return { apiVersion: 'v1', kind: 'Service', metadata, spec, status: { loadBalancer: {} } }
}

/**
 * On update, a body that omits the ClusterIP or a NodePort keeps the allocated value,
 * so that resubmitting the same manifest succeeds (Kubernetes' patchAllocatedValues).
 */
export function keepAllocated(next: ServiceObject, old: ServiceObject): void {
  const n = next.spec
  const o = old.spec
  if (n.type !== 'ExternalName' && o.type !== 'ExternalName' && !n.clusterIP && o.clusterIP) {
    n.clusterIP = o.clusterIP
    if (o.clusterIPs) n.clusterIPs = [...o.clusterIPs]
  }
  if (n.type !== 'ExternalName' && o.type !== 'ExternalName') {
    if (!n.ipFamilies && o.ipFamilies) n.ipFamilies = [...o.ipFamilies]
    if (!n.ipFamilyPolicy && o.ipFamilyPolicy) n.ipFamilyPolicy = o.ipFamilyPolicy
  }
  if (usesNodePorts(n.type) && usesNodePorts(o.type)) {
    for (const port of n.ports ?? []) {
      if (port.nodePort) continue
      const match = (o.ports ?? []).find((p) => p.port === port.port && p.protocol === port.protocol)
      if (match?.nodePort) port.nodePort = match.nodePort
    }
  }
}

/** Kubernetes' validation of a service (and, on update, of what may not change). */
export function validateService(svc: ServiceObject, old?: ServiceObject): void {
  const causes: FieldError[] = [...validateMeta(svc.metadata, 'dns1035label'), ...validateSpec(svc)]
  if (old) causes.push(...validateUpdate(svc, old))
  if (causes.length) throw invalid('Service', svc.metadata.name, causes)
}

function validateSpec(svc: ServiceObject): FieldError[] {
  const s = svc.spec
  const out: FieldError[] = []
  const type = s.type
  if (!SERVICE_TYPES.includes(type)) out.push(fieldError.notSupported('spec.type', type, SERVICE_TYPES))
  if (!AFFINITIES.includes(s.sessionAffinity)) out.push(fieldError.notSupported('spec.sessionAffinity', s.sessionAffinity, AFFINITIES))
  if (s.externalTrafficPolicy && !TRAFFIC_POLICIES.includes(s.externalTrafficPolicy)) {
    out.push(fieldError.notSupported('spec.externalTrafficPolicy', s.externalTrafficPolicy, TRAFFIC_POLICIES))
  }
  if (s.externalTrafficPolicy && !usesNodePorts(type)) {
    out.push(fieldError.forbidden('spec.externalTrafficPolicy', 'may only be set for NodePort and LoadBalancer services'))
  }
  if (s.internalTrafficPolicy && !TRAFFIC_POLICIES.includes(s.internalTrafficPolicy)) {
    out.push(fieldError.notSupported('spec.internalTrafficPolicy', s.internalTrafficPolicy, TRAFFIC_POLICIES))
  }
  if (s.ipFamilyPolicy && !FAMILY_POLICIES.includes(s.ipFamilyPolicy)) {
    out.push(fieldError.notSupported('spec.ipFamilyPolicy', s.ipFamilyPolicy, FAMILY_POLICIES))
  }
  s.ipFamilies?.forEach((f, i) => {
    if (f !== 'IPv4' && f !== 'IPv6') out.push(fieldError.notSupported(`spec.ipFamilies[${i}]`, f, ['IPv4', 'IPv6']))
  })
  if (s.selector) out.push(...validateLabels(s.selector, 'spec.selector'))
  s.externalIPs?.forEach((ip, i) => {
    if (!canonicalIP(ip)) out.push(fieldError.invalid(`spec.externalIPs[${i}]`, ip, 'must be a valid IP address'))
  })
  if (s.loadBalancerIP && !canonicalIP(s.loadBalancerIP)) {
    out.push(fieldError.invalid('spec.loadBalancerIP', s.loadBalancerIP, 'must be a valid IP address'))
  }
  if (type === 'ExternalName') out.push(...validateExternalName(svc))
  else out.push(...validateClusterIPs(svc))
  out.push(...validatePorts(svc))
  return out
}

function validateExternalName(svc: ServiceObject): FieldError[] {
  const s = svc.spec
  const out: FieldError[] = []
  if (!s.externalName) out.push(fieldError.required('spec.externalName'))
  else {
    const name = s.externalName.endsWith('.') ? s.externalName.slice(0, -1) : s.externalName
    if (!isDns1123Subdomain(name)) {
      out.push(
        fieldError.invalid(
          'spec.externalName',
          s.externalName,
          "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        ),
      )
    }
  }
  if (s.clusterIP || s.clusterIPs?.length) {
    out.push(fieldError.forbidden('spec.clusterIPs', 'may not be set for ExternalName services'))
  }
  if (s.ipFamilies?.length) out.push(fieldError.forbidden('spec.ipFamilies', 'may not be set for ExternalName services'))
  if (s.ipFamilyPolicy) out.push(fieldError.forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services'))
  return out
}

function validateClusterIPs(svc: ServiceObject): FieldError[] {
  const s = svc.spec
  const out: FieldError[] = []
  if (s.externalName) out.push(fieldError.forbidden('spec.externalName', "may only be set when `type` is 'ExternalName'"))
  const ips = s.clusterIPs ?? []
  if (s.clusterIP && ips.length && ips[0] !== s.clusterIP) {
    out.push(fieldError.invalid('spec.clusterIPs', ips, 'element [0] must match clusterIP'))
  }
  if (ips.length > 2) out.push(fieldError.invalid('spec.clusterIPs', ips, 'may only hold up to 2 values'))
  ips.forEach((ip, i) => {
    if (ip === 'None') {
      if (ips.length > 1) out.push(fieldError.invalid(`spec.clusterIPs[${i}]`, ip, "'None' must be the first and only value"))
    } else if (!canonicalIP(ip)) {
      out.push(fieldError.invalid(`spec.clusterIPs[${i}]`, ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'))
    }
  })
  if (ips.length === 2 && ipFamily(ips[0]!) && ipFamily(ips[0]!) === ipFamily(ips[1]!)) {
    out.push(fieldError.invalid('spec.clusterIPs[1]', ips[1], 'expected an IP of the other family'))
  }
  if (s.clusterIP === 'None' && usesNodePorts(s.type)) {
    out.push(fieldError.invalid('spec.clusterIPs[0]', 'None', `may not be set to 'None' for ${s.type} services`))
  }
  if (s.clusterIP !== 'None' && !(s.ports?.length)) out.push(fieldError.required('spec.ports'))
  return out
}

function validatePorts(svc: ServiceObject): FieldError[] {
  const s = svc.spec
  const out: FieldError[] = []
  const ports = s.ports ?? []
  if (ports.length > MAX_SERVICE_PORTS) return [fieldError.tooMany('spec.ports', MAX_SERVICE_PORTS, ports.length)]
  const names = new Set<string>()
  const keys = new Set<string>()
  ports.forEach((p, i) => {
    const f = `spec.ports[${i}]`
    if (ports.length > 1 && !p.name) out.push(fieldError.required(`${f}.name`))
    if (p.name) {
      out.push(...validateName('dns1123label', p.name, `${f}.name`))
      if (names.has(p.name)) out.push(fieldError.duplicate(`${f}.name`, p.name))
      names.add(p.name)
    }
    if (!PROTOCOLS.includes(p.protocol)) out.push(fieldError.notSupported(`${f}.protocol`, p.protocol, PROTOCOLS))
    if (!isValidPort(p.port)) out.push(fieldError.invalid(`${f}.port`, p.port, 'must be between 1 and 65535, inclusive'))
    const key = `${p.protocol}/${p.port}`
    if (keys.has(key)) out.push(fieldError.duplicate(f, { port: p.port, protocol: p.protocol }))
    keys.add(key)
    if (typeof p.targetPort === 'number') {
      if (!isValidPort(p.targetPort)) {
        out.push(fieldError.invalid(`${f}.targetPort`, p.targetPort, 'must be between 1 and 65535, inclusive'))
      }
    } else {
      out.push(...validateIanaSvcName(p.targetPort, `${f}.targetPort`))
    }
    if (p.nodePort !== undefined) {
      if (!usesNodePorts(s.type)) {
        out.push(fieldError.forbidden(`${f}.nodePort`, `may not be used when \`type\` is '${s.type}'`))
      } else if (!isValidPort(p.nodePort)) {
        out.push(fieldError.invalid(`${f}.nodePort`, p.nodePort, 'must be between 1 and 65535, inclusive'))
      }
    }
  })
  return out
}

function validateUpdate(svc: ServiceObject, old: ServiceObject): FieldError[] {
  const n = svc.spec
  const o = old.spec
  if (n.type === 'ExternalName' || o.type === 'ExternalName') return []
  const out: FieldError[] = []
  const oldIPs = o.clusterIPs ?? (o.clusterIP ? [o.clusterIP] : [])
  const newIPs = n.clusterIPs ?? (n.clusterIP ? [n.clusterIP] : [])
  // As Kubernetes reports it, the value is the whole new list.
  if (oldIPs[0] && newIPs[0] !== oldIPs[0]) out.push(mayNotChange('spec.clusterIPs[0]', newIPs, IMMUTABLE.onceSet))
  if (oldIPs[1] && newIPs[1] !== undefined && newIPs[1] !== oldIPs[1]) out.push(mayNotChange('spec.clusterIPs[1]', newIPs, IMMUTABLE.onceSet))
  return out
}
