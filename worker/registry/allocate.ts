/**
 * ClusterIP and NodePort allocation. Dynamic ClusterIPs are drawn at random from the
 * upper band of the range (the lower band is kept for requested IPs, as Kubernetes
 * does); a requested IP must lie in the range. Uniqueness is enforced by the store,
 * inside the write batch; the registry retries a random draw that collided.
 */
import { fieldError, invalid, type FieldError } from './errors'
import { allocatableRange, cidrContains, ipAt, offsetOf, type CIDR } from './ipnet'
import { isHeadless, usesNodePorts } from './service'
import type { ServiceObject } from './types'
import { canonicalIP, ipFamily } from './ip-address'

export interface PortRange {
  base: number
  last: number
}

export interface AllocationConfig {
  range: CIDR
  cidrText: string
  nodePorts: PortRange
}

export interface Allocation {
  /** The IPs the service holds after the write. */
  ips: string[]
  /** True when the IP was drawn at random (a collision may be retried). */
  dynamicIP: boolean
  nodePorts: number[]
}

/** Ranges up to this size are allocated from the list of used IPs rather than by random draws. */
export const SMALL_RANGE = 4096n

/**
 * Fills `svc.spec.clusterIP(s)`, `ipFamilies` and the NodePorts, in place.
 * `used.ips` (only for small ranges) and `used.ports` exclude what this service holds itself;
 * `used.held` lists the IPs it holds already, which need no new allocation.
 */
export function allocate(
  svc: ServiceObject,
  cfg: AllocationConfig,
  random: () => number,
  used: { ips?: Set<string>; ports: Set<number>; held?: string[] },
): Allocation {
  const s = svc.spec
  const causes: FieldError[] = []
  let ips: string[] = []
  let dynamicIP = false
  if (s.type !== 'ExternalName') {
    const family = cfg.range.family
    if (s.ipFamilyPolicy === 'RequireDualStack') {
      causes.push(fieldError.invalid('spec.ipFamilyPolicy', s.ipFamilyPolicy, 'this registry is configured for a single IP family'))
    }
    if (s.ipFamilies?.some((f) => f !== family)) {
      causes.push(fieldError.invalid('spec.ipFamilies', s.ipFamilies, `this registry allocates ${family} addresses only`))
    }
    if (isHeadless(svc)) {
      s.clusterIPs = ['None']
    } else if (s.clusterIP) {
      const ip = canonicalIP(s.clusterIP)!
      if (used.held?.includes(ip)) {
        // kept from the stored service: already allocated to it
      } else if (!cidrContains(cfg.range, ip) || !inAllocatable(cfg.range, ip)) {
        causes.push(
          fieldError.invalid(
            'spec.clusterIPs',
            s.clusterIPs ?? [s.clusterIP],
            `failed to allocate IP ${s.clusterIP}: provided IP is not in the valid range. The range of valid IPs is ${cfg.cidrText}`,
          ),
        )
      } else if (used.ips?.has(ip)) {
        causes.push(taken(svc, ip))
      }
      if ((s.clusterIPs?.length ?? 0) > 1) {
        causes.push(fieldError.invalid('spec.clusterIPs[1]', s.clusterIPs![1], `no ${ipFamily(s.clusterIPs![1]!)} range is configured`))
      }
      s.clusterIP = ip
      s.clusterIPs = [ip]
      ips = [ip]
    } else {
      const ip = drawIP(cfg.range, random, used.ips)
      if (!ip) causes.push(fieldError.invalid('spec.clusterIPs', [], `failed to allocate IP: range ${cfg.cidrText} is full`))
      else {
        s.clusterIP = ip
        s.clusterIPs = [ip]
        ips = [ip]
        dynamicIP = true
      }
    }
    s.ipFamilies = [family]
    s.ipFamilyPolicy ??= 'SingleStack'
  }
  const nodePorts = allocateNodePorts(svc, cfg.nodePorts, random, used.ports, causes)
  if (causes.length) throw invalid('Service', svc.metadata.name, causes)
  return { ips, dynamicIP, nodePorts }
}

/** The 422 for a requested ClusterIP that another service holds. */
export function taken(svc: ServiceObject, ip: string): FieldError {
  return fieldError.invalid(
    'spec.clusterIPs',
    svc.spec.clusterIPs ?? [ip],
    `failed to allocate IP ${ip}: provided IP is already allocated`,
  )
}

function inAllocatable(range: CIDR, ip: string): boolean {
  const offset = offsetOf(range, ip)
  const { first, last } = allocatableRange(range)
  return offset !== null && offset >= first && offset <= last
}

/** A random free IP from the upper band of the range (or the whole range when the band is empty). */
function drawIP(range: CIDR, random: () => number, used?: Set<string>): string | null {
  const { first, last } = allocatableRange(range)
  if (last < first) return null
  const size = last - first + 1n
  const reserved = minBig(maxBig(16n, size / 16n), 256n)
  const low = size > reserved * 2n ? first + reserved : first
  const span = last - low + 1n
  if (used && size <= SMALL_RANGE) {
    const start = randomBig(span, random)
    for (let i = 0n; i < size; i++) {
      const ip = ipAt(range, first + ((low - first + start + i) % size))
      if (!used.has(ip)) return ip
    }
    return null
  }
  return ipAt(range, low + randomBig(span, random))
}

function allocateNodePorts(
  svc: ServiceObject,
  range: PortRange,
  random: () => number,
  used: Set<number>,
  causes: FieldError[],
): number[] {
  const ports = svc.spec.ports ?? []
  if (!usesNodePorts(svc.spec.type)) return []
  const held = new Set<number>()
  const text = `${range.base}-${range.last}`
  ports.forEach((p, i) => {
    if (p.nodePort === undefined) return
    if (p.nodePort < range.base || p.nodePort > range.last) {
      causes.push(
        fieldError.invalid(
          `spec.ports[${i}].nodePort`,
          p.nodePort,
          `provided port is not in the valid range. The range of valid ports is ${text}`,
        ),
      )
    } else if (used.has(p.nodePort) || (held.has(p.nodePort) && !sharedAcrossProtocols(ports, i))) {
      causes.push(fieldError.invalid(`spec.ports[${i}].nodePort`, p.nodePort, 'provided port is already allocated'))
    }
    held.add(p.nodePort)
  })
  const size = range.last - range.base + 1
  for (const p of ports) {
    if (p.nodePort !== undefined) continue
    const start = Math.floor(random() * size)
    let port: number | undefined
    for (let i = 0; i < size; i++) {
      const candidate = range.base + ((start + i) % size)
      if (!used.has(candidate) && !held.has(candidate)) {
        port = candidate
        break
      }
    }
    if (port === undefined) {
      causes.push(fieldError.invalid('spec.ports', ports.length, `failed to allocate a node port: range ${text} is full`))
      break
    }
    p.nodePort = port
    held.add(port)
  }
  return [...held]
}

/** One service may use the same NodePort for the same port number over two protocols. */
function sharedAcrossProtocols(ports: NonNullable<ServiceObject['spec']['ports']>, i: number): boolean {
  const p = ports[i]!
  return ports.some((q, j) => j < i && q.nodePort === p.nodePort && q.port === p.port && q.protocol !== p.protocol)
}

function randomBig(n: bigint, random: () => number): bigint {
  if (n <= 0n) return 0n
  if (n <= BigInt(Number.MAX_SAFE_INTEGER)) return BigInt(Math.floor(random() * Number(n)))
  let r = 0n
  for (let i = 0; i < 4; i++) r = (r << 32n) | BigInt(Math.floor(random() * 2 ** 32))
  return r % n
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b
}

function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b
}
