import { describe, it, expect } from 'vitest'
import {
  allocatableRange,
  cidrContains,
  cidrSize,
  formatCIDR,
  ipAt,
  offsetOf,
  parseCIDR,
  type CIDR,
} from '../../worker/registry/ipnet'
import { specialRange } from '../../worker/registry/ip-address'

function cidr(s: string): CIDR {
  const c = parseCIDR(s)
  if (!c) throw new Error(`bad test CIDR ${s}`)
  return c
}

describe('parseCIDR', () => {
  it('parses IPv4 and IPv6 ranges', () => {
    expect(parseCIDR('10.96.0.0/12')).toEqual({ family: 'IPv4', base: 0x0a600000n, prefix: 12, bits: 32 })
    expect(parseCIDR('fd00:10:96::/108')).toEqual({
      family: 'IPv6',
      base: 0xfd000010009600000000000000000000n,
      prefix: 108,
      bits: 128,
    })
    expect(parseCIDR('0.0.0.0/0')).toEqual({ family: 'IPv4', base: 0n, prefix: 0, bits: 32 })
    expect(parseCIDR('::/0')).toEqual({ family: 'IPv6', base: 0n, prefix: 0, bits: 128 })
  })

  it('masks off host bits, like net.ParseCIDR', () => {
    expect(formatCIDR(cidr('10.96.3.7/12'))).toBe('10.96.0.0/12')
    expect(formatCIDR(cidr('10.0.0.255/24'))).toBe('10.0.0.0/24')
    expect(formatCIDR(cidr('FD00::1234/112'))).toBe('fd00::/112')
    expect(formatCIDR(cidr('10.0.0.1/32'))).toBe('10.0.0.1/32')
  })

  it('treats IPv4-mapped text as IPv6', () => {
    expect(cidr('::ffff:10.0.0.0/120').family).toBe('IPv6')
  })

  it('rejects malformed ranges', () => {
    for (const bad of [
      '',
      '10.0.0.0',
      '10.0.0.0/',
      '10.0.0.0/33',
      '10.0.0.0/-1',
      '10.0.0.0/+8',
      '10.0.0.0/08',
      '10.0.0.0/8/8',
      '010.0.0.0/8',
      '10.0.0/8',
      'fd00::/129',
      'fd00::/ 64',
      'fe80::%eth0/64',
      '/24',
    ]) {
      expect(parseCIDR(bad), bad).toBeNull()
    }
  })
})

describe('addresses in a range', () => {
  it('sizes ranges', () => {
    expect(cidrSize(cidr('10.96.0.0/12'))).toBe(1048576n)
    expect(cidrSize(cidr('10.0.0.1/32'))).toBe(1n)
    expect(cidrSize(cidr('fd00::/64'))).toBe(1n << 64n)
    expect(cidrSize(cidr('::/0'))).toBe(1n << 128n)
  })

  it('tests membership', () => {
    const c = cidr('10.96.0.0/12')
    expect(cidrContains(c, '10.96.0.0')).toBe(true)
    expect(cidrContains(c, '10.111.255.255')).toBe(true)
    expect(cidrContains(c, '10.112.0.0')).toBe(false)
    expect(cidrContains(c, '10.95.255.255')).toBe(false)
    expect(cidrContains(c, 'fd00::1')).toBe(false)
    expect(cidrContains(c, '::ffff:10.96.0.1')).toBe(false)
    expect(cidrContains(c, 'not-an-ip')).toBe(false)
    const v6 = cidr('fd00::/112')
    expect(cidrContains(v6, 'FD00::ffff')).toBe(true)
    expect(cidrContains(v6, 'fd00::1:0')).toBe(false)
    expect(cidrContains(v6, '10.0.0.1')).toBe(false)
    expect(cidrContains(cidr('0.0.0.0/0'), '255.255.255.255')).toBe(true)
  })

  it('maps offsets to addresses and back', () => {
    const c = cidr('10.96.0.0/12')
    expect(ipAt(c, 0n)).toBe('10.96.0.0')
    expect(ipAt(c, 10n)).toBe('10.96.0.10')
    expect(ipAt(c, 256n)).toBe('10.96.1.0')
    expect(offsetOf(c, '10.96.0.10')).toBe(10n)
    expect(offsetOf(c, '10.97.0.0')).toBe(65536n)
    expect(offsetOf(c, '10.112.0.0')).toBeNull()
    expect(offsetOf(c, '10.96.0.010')).toBeNull()
    expect(() => ipAt(c, -1n)).toThrow(RangeError)
    expect(() => ipAt(c, 1n << 20n)).toThrow(RangeError)

    const v6 = cidr('fd00:10:96::/108')
    expect(ipAt(v6, 10n)).toBe('fd00:10:96::a')
    expect(offsetOf(v6, 'fd00:10:96:0:0:0:0:a')).toBe(10n)
    expect(ipAt(v6, 0xfffffn)).toBe('fd00:10:96::f:ffff')
  })
})

describe('allocatableRange', () => {
  const bounds = (s: string) => {
    const c = cidr(s)
    const { first, last } = allocatableRange(c)
    return last < first ? null : [ipAt(c, first), ipAt(c, last), last - first + 1n]
  }

  it('skips the network and broadcast addresses of IPv4 ranges', () => {
    expect(bounds('10.96.0.0/12')).toEqual(['10.96.0.1', '10.111.255.254', 1048574n])
    expect(bounds('10.0.0.0/24')).toEqual(['10.0.0.1', '10.0.0.254', 254n])
    expect(bounds('192.168.1.0/30')).toEqual(['192.168.1.1', '192.168.1.2', 2n])
    expect(allocatableRange(cidr('10.96.0.0/12'))).toEqual({ first: 1n, last: 1048574n })
  })

  it('allocates nothing from IPv4 /31 and /32', () => {
    // As Kubernetes' allocator: a /31 has only network and broadcast, a /32 only the network.
    expect(bounds('10.0.0.0/31')).toBeNull()
    expect(bounds('10.0.0.7/32')).toBeNull()
    expect(allocatableRange(cidr('10.0.0.0/31'))).toEqual({ first: 1n, last: 0n })
    expect(allocatableRange(cidr('10.0.0.7/32'))).toEqual({ first: 1n, last: 0n })
  })

  it('caps IPv6 ranges at 65536 addresses, network address included', () => {
    expect(bounds('fd00::/64')).toEqual(['fd00::1', 'fd00::ffff', 65535n])
    expect(bounds('fd00::/112')).toEqual(['fd00::1', 'fd00::ffff', 65535n])
    expect(bounds('::/0')).toEqual(['::1', '::ffff', 65535n])
    expect(bounds('fd00::/120')).toEqual(['fd00::1', 'fd00::ff', 255n])
  })

  it('has no broadcast address to skip in IPv6', () => {
    expect(bounds('fd00::/126')).toEqual(['fd00::1', 'fd00::3', 3n])
    expect(bounds('fd00::/127')).toEqual(['fd00::1', 'fd00::1', 1n])
    expect(bounds('fd00::5/128')).toBeNull()
  })
})

describe('special-purpose ranges (specialRange)', () => {
  it('places the edges of each range as Go and Kubernetes do', () => {
    const cases: [string, ReturnType<typeof specialRange>][] = [
      ['0.0.0.0', 'unspecified'],
      ['0.0.0.1', null],
      ['126.255.255.255', null],
      ['127.0.0.0', 'loopback'],
      ['127.255.255.255', 'loopback'],
      ['128.0.0.0', null],
      ['169.253.255.255', null],
      ['169.254.0.0', 'link-local'],
      ['169.254.255.255', 'link-local'],
      ['169.255.0.0', null],
      ['223.255.255.255', null],
      ['224.0.0.0', 'link-local-multicast'],
      ['224.0.0.255', 'link-local-multicast'],
      ['224.0.1.0', 'multicast'],
      ['239.255.255.255', 'multicast'],
      ['240.0.0.0', null],
      ['::', 'unspecified'],
      ['::1', 'loopback'],
      ['::2', null],
      ['fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff', null],
      ['fe80::', 'link-local'],
      ['febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'link-local'],
      ['fec0::', null],
      ['feff::1', null],
      ['ff00::', 'multicast'],
      ['ff02::1', 'link-local-multicast'],
      ['ff12::1', 'link-local-multicast'],
      ['ff05::1:3', 'multicast'],
      ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'multicast'],
      ['::ffff:0.0.0.0', 'unspecified'],
      ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:a9fe:a9fe', 'link-local'],
      ['::ffff:224.0.0.1', 'link-local-multicast'],
      ['::ffff:10.0.0.1', null],
      ['64:ff9b::7f00:1', 'loopback'],
      ['64:ff9b::a00:1', null],
      ['64:ff9b:1::a9fe:a9fe', null],
      ['::169.254.169.254', null],
      ['fd00::1', null],
      ['2001:db8::1', null],
      ['not an address', null],
      ['169.254.169.254/32', null],
    ]
    for (const [ip, range] of cases) expect([ip, specialRange(ip)]).toEqual([ip, range])
  })
})
