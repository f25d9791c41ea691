/**
 * CIDR ranges for cluster-IP allocation. Addresses are handled as bigint offsets from the
 * network address, so IPv4 and IPv6 ranges share one code path.
 */
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from './ip-address'

/** A parsed CIDR; `base` is the network address (host bits cleared). */
export interface CIDR {
  family: 'IPv4' | 'IPv6'
  base: bigint
  prefix: number
  bits: 32 | 128
}

/** Most addresses an IPv6 range hands out, as Kubernetes' bitmap allocator caps it. */
export const IPV6_RANGE_CAP = 65536n

const PREFIX_RE = /^(0|[1-9][0-9]{0,2})$/

function parseAddress(family: 'IPv4' | 'IPv6', s: string): bigint | null {
  if (family === 'IPv4') {
    const v = parseIPv4(s)
    return v === null ? null : BigInt(v)
  }
  return parseIPv6(s)
}

function hostBits(c: CIDR): bigint {
  return BigInt(c.bits - c.prefix)
}

/**
 * Parses `addr/prefix`. Like Go's net.ParseCIDR, host bits may be set and are masked off,
 * so `10.96.0.7/12` is the network 10.96.0.0/12. The family follows the address text: an
 * IPv4-mapped form such as `::ffff:10.0.0.0/104` is IPv6. The prefix length must be plain
 * decimal without leading zeros. Returns null for anything malformed.
 */
export function parseCIDR(s: string): CIDR | null {
  const slash = s.indexOf('/')
  if (slash < 0 || slash !== s.lastIndexOf('/')) return null
  const addr = s.slice(0, slash)
  const len = s.slice(slash + 1)
  if (!PREFIX_RE.test(len)) return null
  const prefix = Number(len)
  const v4 = parseIPv4(addr)
  const family = v4 !== null ? 'IPv4' : 'IPv6'
  const bits = family === 'IPv4' ? 32 : 128
  const ip = v4 !== null ? BigInt(v4) : parseIPv6(addr)
  if (ip === null || prefix > bits) return null
  const host = BigInt(bits - prefix)
  return { family, base: (ip >> host) << host, prefix, bits }
}

/** The CIDR's canonical text, e.g. `10.96.0.0/12` or `fd00::/108`. */
export function formatCIDR(c: CIDR): string {
  return `${ipAt(c, 0n)}/${c.prefix}`
}

/** Number of addresses in the range, network and broadcast included (2^(bits-prefix)). */
export function cidrSize(c: CIDR): bigint {
  return 1n << hostBits(c)
}

/** True if `ip` is a valid address of the CIDR's family that lies inside it. */
export function cidrContains(c: CIDR, ip: string): boolean {
  return offsetOf(c, ip) !== null
}

/** The address `offset` places after the network address; throws RangeError outside the CIDR. */
export function ipAt(c: CIDR, offset: bigint): string {
  if (offset < 0n || offset >= cidrSize(c)) {
    throw new RangeError(`offset ${offset} is outside ${c.family} /${c.prefix} range`)
  }
  const v = c.base + offset
  return c.family === 'IPv4' ? formatIPv4(Number(v)) : formatIPv6(v)
}

/** Offset of `ip` from the network address, or null if `ip` is invalid, another family, or outside. */
export function offsetOf(c: CIDR, ip: string): bigint | null {
  const v = parseAddress(c.family, ip)
  if (v === null) return null
  const host = hostBits(c)
  if (v >> host !== c.base >> host) return null
  return v - c.base
}

/**
 * The offsets (inclusive, relative to the network address, for use with `ipAt`) that may be
 * allocated, as Kubernetes' service IP allocator computes them: the network address is never
 * handed out, nor the IPv4 broadcast address, and an IPv6 range stops after its first 65536
 * addresses. The range is empty (`last < first`) for IPv4 /31 and /32 and for IPv6 /128:
 * Kubernetes also allocates nothing from those.
 */
export function allocatableRange(c: CIDR): { first: bigint; last: bigint } {
  let count = cidrSize(c)
  if (c.family === 'IPv6') {
    if (count > IPV6_RANGE_CAP) count = IPV6_RANGE_CAP
  } else {
    count -= 1n // broadcast
  }
  count -= 1n // network address
  if (count < 0n) count = 0n
  return { first: 1n, last: count }
}
