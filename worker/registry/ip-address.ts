/**
 * IP addresses as Kubernetes validates them: strict parsing (dotted quads without leading
 * zeros, IPv6 with at most one `::`, no zones), canonical formatting (RFC 5952), and the
 * family of an address. Pure functions, no platform APIs.
 */
const DECIMAL_OCTET = /^(0|[1-9][0-9]{0,2})$/
/** The texts parseIPv4 takes, as one pattern: four decimal octets 0-255 without leading zeros. */
const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])'
const DOTTED_QUAD = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`)

/** Parses a strict dotted quad (no leading zeros, each part 0-255) into an unsigned 32-bit number. */
export function parseIPv4(s: string): number | null {
  const parts = s.split('.')
  if (parts.length !== 4) return null
  let n = 0
  for (const part of parts) {
    if (!DECIMAL_OCTET.test(part)) return null
    const v = Number(part)
    if (v > 255) return null
    n = n * 256 + v
  }
  return n
}

const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/

/**
 * Parses any RFC 4291 text form of an IPv6 address (`::` compression, embedded IPv4 tail
 * such as `::ffff:1.2.3.4`) into a 128-bit integer. Zone identifiers (`%eth0`) are rejected.
 */
export function parseIPv6(s: string): bigint | null {
  if (s.length === 0 || s.includes('%')) return null
  const halves = s.split('::')
  if (halves.length > 2) return null
  const head = halves[0] ?? ''
  const tail = halves.length === 2 ? (halves[1] ?? '') : null
  const headGroups = head === '' ? [] : head.split(':')
  const tailGroups = tail === null || tail === '' ? [] : tail.split(':')
  // Without '::' an empty text has no groups at all, which is not an address.
  if (tail === null && head === '') return null

  const words: number[] = []
  const parseGroups = (groups: string[], last: boolean): number[] | null => {
    const out: number[] = []
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i] ?? ''
      if (last && i === groups.length - 1 && g.includes('.')) {
        const v4 = parseIPv4(g)
        if (v4 === null) return null
        out.push(Math.floor(v4 / 65536), v4 % 65536)
      } else {
        if (!HEX_GROUP.test(g)) return null
        out.push(parseInt(g, 16))
      }
    }
    return out
  }

  const headWords = parseGroups(headGroups, tail === null)
  if (headWords === null) return null
  if (tail === null) {
    if (headWords.length !== 8) return null
    words.push(...headWords)
  } else {
    const tailWords = parseGroups(tailGroups, true)
    if (tailWords === null) return null
    // '::' stands for at least one group of zeros.
    const missing = 8 - headWords.length - tailWords.length
    if (missing < 1) return null
    words.push(...headWords, ...new Array<number>(missing).fill(0), ...tailWords)
  }

  let n = 0n
  for (const w of words) n = (n << 16n) | BigInt(w)
  return n
}

/** Formats an unsigned 32-bit number as a dotted quad. */
export function formatIPv4(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`not an IPv4 address: ${n}`)
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.')
}

/**
 * Formats a 128-bit integer in RFC 5952 canonical form: lowercase hex without leading zeros,
 * the longest run of two or more zero groups (the first one on ties) compressed to `::`.
 * IPv4-mapped addresses (`::ffff:0:0/96`) keep the dotted tail, as RFC 5952 §5 recommends.
 */
export function formatIPv6(b: bigint): string {
  if (b < 0n || b >> 128n !== 0n) throw new RangeError(`not an IPv6 address: ${b}`)
  if (b >> 32n === 0xffffn) return `::ffff:${formatIPv4(Number(b & 0xffffffffn))}`
  const groups: number[] = []
  for (let i = 7; i >= 0; i--) groups.push(Number((b >> BigInt(i * 16)) & 0xffffn))

  let bestStart = -1
  let bestLen = 0
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen) {
      bestStart = i
      bestLen = j - i
    }
    i = j
  }
  const hex = (gs: number[]) => gs.map((g) => g.toString(16)).join(':')
  if (bestLen < 2) return hex(groups)
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`
}

/** `IPv4` for a strict dotted quad, `IPv6` for any IPv6 text form (including IPv4-mapped), else null. */
export function ipFamily(s: string): 'IPv4' | 'IPv6' | null {
  if (parseIPv4(s) !== null) return 'IPv4'
  if (parseIPv6(s) !== null) return 'IPv6'
  return null
}

/** The canonical text of any valid IP address (e.g. `2001:DB8:0::1` → `2001:db8::1`), else null. */
export function canonicalIP(s: string): string | null {
  // A strict dotted quad (what parseIPv4 takes) is its own canonical text.
  if (DOTTED_QUAD.test(s)) return s
  const v6 = parseIPv6(s)
  if (v6 !== null) return formatIPv6(v6)
  return null
}

/**
 * The special-purpose range an address lies in, of those Kubernetes refuses for endpoint
 * addresses (`ValidateEndpointIP`: unspecified, loopback, link-local unicast, link-local
 * multicast), plus the rest of multicast; null for any other address and for text that is
 * not an address. An IPv6 address that stands for an IPv4 one — IPv4-mapped
 * (`::ffff:169.254.169.254`, which a dual-stack socket sends to 169.254.169.254) or in the
 * NAT64 well-known prefix (`64:ff9b::a9fe:a9fe`, RFC 6052) — is judged by its IPv4 address.
 * Link-local multicast is Go's `IsLinkLocalMulticast`: 224.0.0.0/24 and ffX2::/16.
 */
export type SpecialRange = 'unspecified' | 'loopback' | 'link-local' | 'link-local-multicast' | 'multicast'

const NAT64_PREFIX = 0x64ff9b0000000000000000n

export function specialRange(s: string): SpecialRange | null {
  const v4 = parseIPv4(s)
  if (v4 !== null) return specialRangeV4(v4)
  const v6 = parseIPv6(s)
  if (v6 === null) return null
  const high = v6 >> 32n
  if (high === 0xffffn || high === NAT64_PREFIX) return specialRangeV4(Number(v6 & 0xffffffffn))
  if (v6 === 0n) return 'unspecified'
  if (v6 === 1n) return 'loopback'
  if (v6 >> 118n === 0x3fan) return 'link-local' // fe80::/10
  if (v6 >> 120n === 0xffn) return ((v6 >> 112n) & 0xfn) === 2n ? 'link-local-multicast' : 'multicast'
  return null
}

function specialRangeV4(n: number): SpecialRange | null {
  if (n === 0) return 'unspecified'
  if (n >>> 24 === 127) return 'loopback'
  if (n >>> 16 === 0xa9fe) return 'link-local' // 169.254.0.0/16
  if (n >>> 8 === 0xe00000) return 'link-local-multicast' // 224.0.0.0/24
  if (n >>> 28 === 0xe) return 'multicast' // 224.0.0.0/4
  return null
}
