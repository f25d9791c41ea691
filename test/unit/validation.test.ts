import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { isDns1035Label, isDns1123Label, isDns1123Subdomain, isIanaSvcName, validateAnnotations, validateIanaSvcName, validateLabelKey, validateLabels, validateLabelValue, validateName } from '../../worker/registry/validation'
import { canonicalIP, formatIPv4, formatIPv6, ipFamily, parseIPv4, parseIPv6 } from '../../worker/registry/ip-address'

const DNS1123_LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
const DNS1035_LABEL_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
const DNS1123_SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"

describe('DNS names', () => {
  it('accepts and rejects DNS-1123 labels', () => {
    for (const ok of ['a', '0', 'my-name', '123-abc', 'a'.repeat(63)]) expect(isDns1123Label(ok), ok).toBe(true)
    for (const bad of ['', '-a', 'a-', 'A', 'a.b', 'a_b', 'a'.repeat(64), 'a\n']) {
      expect(isDns1123Label(bad), bad).toBe(false)
    }
  })

  it('accepts and rejects DNS-1123 subdomains', () => {
    for (const ok of ['a', 'example.com', 'a.b-c.d', `${'a'.repeat(63)}.${'b'.repeat(63)}`]) {
      expect(isDns1123Subdomain(ok), ok).toBe(true)
    }
    const long = Array.from({ length: 4 }, () => 'a'.repeat(63)).join('.') // 255 characters
    for (const bad of ['', '.a', 'a.', 'a..b', 'A.com', 'a_b.com', long]) expect(isDns1123Subdomain(bad), bad).toBe(false)
    expect(isDns1123Subdomain(long.slice(0, 253))).toBe(true)
  })

  it('accepts and rejects DNS-1035 labels', () => {
    for (const ok of ['a', 'my-name', 'abc-123', 'a'.repeat(63)]) expect(isDns1035Label(ok), ok).toBe(true)
    for (const bad of ['', '1abc', '123', '-a', 'a-', 'Abc', 'a'.repeat(64)]) expect(isDns1035Label(bad), bad).toBe(false)
  })

  it('accepts and rejects IANA service names', () => {
    for (const ok of ['http', 'http-alt', 'h2c', 'a1', 'x'.repeat(15)]) expect(isIanaSvcName(ok), ok).toBe(true)
    for (const bad of ['', '80', '-http', 'http-', 'http--alt', 'HTTP', 'http_alt', 'x'.repeat(16)]) {
      expect(isIanaSvcName(bad), bad).toBe(false)
    }
    expect(validateIanaSvcName('http--x', 'spec.ports[0].targetPort')).toEqual([
      {
        reason: 'FieldValueInvalid',
        field: 'spec.ports[0].targetPort',
        message: 'Invalid value: "http--x": must not contain consecutive hyphens',
      },
    ])
  })
})

describe('validateName', () => {
  it('requires a name', () => {
    for (const missing of [undefined, null, '']) {
      expect(validateName('dns1035label', missing, 'metadata.name')).toEqual([
        { reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value' },
      ])
    }
  })

  it('rejects a non-string name', () => {
    expect(validateName('dns1123label', 42, 'metadata.name')).toEqual([
      { reason: 'FieldValueTypeInvalid', field: 'metadata.name', message: 'Invalid value: must be a string' },
    ])
  })

  it('accepts valid names', () => {
    expect(validateName('dns1035label', 'my-svc', 'metadata.name')).toEqual([])
    expect(validateName('dns1123label', '123-abc', 'metadata.namespace')).toEqual([])
    expect(validateName('dns1123subdomain', 'web-0.cache', 'metadata.name')).toEqual([])
  })

  it('words errors as Kubernetes does', () => {
    expect(validateName('dns1123label', 'My_NS', 'metadata.namespace')).toEqual([
      {
        reason: 'FieldValueInvalid',
        field: 'metadata.namespace',
        message: `Invalid value: "My_NS": ${DNS1123_LABEL_MSG}`,
      },
    ])
    expect(validateName('dns1035label', '1svc', 'metadata.name')).toEqual([
      { reason: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: "1svc": ${DNS1035_LABEL_MSG}` },
    ])
    expect(validateName('dns1123subdomain', 'a..b', 'metadata.name')[0]?.message).toBe(
      `Invalid value: "a..b": ${DNS1123_SUBDOMAIN_MSG}`,
    )
  })

  it('reports length and format separately', () => {
    const tooLong = 'a'.repeat(64)
    expect(validateName('dns1035label', tooLong, 'metadata.name').map((e) => e.message)).toEqual([
      `Invalid value: "${tooLong}": must be no more than 63 characters`,
    ])
    const both = `${'a'.repeat(63)}-`
    expect(validateName('dns1123label', both, 'metadata.name').map((e) => e.message)).toEqual([
      `Invalid value: "${both}": must be no more than 63 characters`,
      `Invalid value: "${both}": ${DNS1123_LABEL_MSG}`,
    ])
    expect(validateName('dns1123subdomain', 'a'.repeat(254), 'metadata.name').map((e) => e.message)).toEqual([
      `Invalid value: "${'a'.repeat(254)}": must be no more than 253 characters`,
    ])
  })
})

describe('labels and annotations', () => {
  it('accepts valid label keys', () => {
    for (const key of ['app', 'App.Name_1', 'app.kubernetes.io/name', 'example.com/MyName', 'a'.repeat(63)]) {
      expect(validateLabelKey(key, 'metadata.labels'), key).toEqual([])
    }
    expect(validateLabelKey(`${'a'.repeat(253)}/x`, 'metadata.labels')).toEqual([])
  })

  it('rejects bad label keys with Kubernetes messages', () => {
    const msgs = (key: string) => validateLabelKey(key, 'metadata.labels').map((e) => e.message)
    const namePart =
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
    expect(msgs('-a')).toEqual([`Invalid value: "-a": ${namePart}`])
    expect(msgs('')).toEqual([`Invalid value: "": name part must be non-empty`, `Invalid value: "": ${namePart}`])
    expect(msgs('/a')).toEqual([`Invalid value: "/a": prefix part must be non-empty`])
    expect(msgs('a/')).toEqual([`Invalid value: "a/": name part must be non-empty`, `Invalid value: "a/": ${namePart}`])
    expect(msgs('Example.com/a')).toEqual([`Invalid value: "Example.com/a": prefix part ${DNS1123_SUBDOMAIN_MSG}`])
    expect(msgs('a/b/c')[0]).toMatch(/^Invalid value: "a\/b\/c": a qualified name must consist of/)
    expect(msgs('a'.repeat(64))).toEqual([`Invalid value: "${'a'.repeat(64)}": name part must be no more than 63 characters`])
    expect(msgs(`${'a'.repeat(254)}/x`)[0]).toMatch(/prefix part must be no more than 253 characters$/)
  })

  it('validates label values', () => {
    for (const v of ['', 'a', 'My_Value.1', 'a'.repeat(63)]) expect(validateLabelValue(v, 'metadata.labels'), v).toEqual([])
    expect(validateLabelValue('a'.repeat(64), 'metadata.labels').map((e) => e.message)).toEqual([
      `Invalid value: "${'a'.repeat(64)}": must be no more than 63 characters`,
    ])
    expect(validateLabelValue('-x', 'metadata.labels')[0]?.message).toBe(
      "Invalid value: \"-x\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    )
  })

  it('reports every label error on the map field', () => {
    const errs = validateLabels({ app: 'web', 'bad key': 'ok', tier: 'front end' }, 'metadata.labels')
    expect(errs.map((e) => [e.reason, e.field])).toEqual([
      ['FieldValueInvalid', 'metadata.labels'],
      ['FieldValueInvalid', 'metadata.labels'],
    ])
    expect(errs[0]?.message).toMatch(/^Invalid value: "bad key": name part/)
    expect(errs[1]?.message).toMatch(/^Invalid value: "front end": a valid label/)
    expect(validateLabels({}, 'metadata.labels')).toEqual([])
  })

  it('checks annotation keys case-insensitively', () => {
    expect(validateAnnotations({ 'Example.COM/Some-Key': 'anything at all: {"x": 1}' }, 'metadata.annotations')).toEqual([])
    expect(validateAnnotations({ 'bad key': 'v' }, 'metadata.annotations')[0]?.message).toMatch(
      /^Invalid value: "bad key": name part must consist/,
    )
  })

  it('limits annotations to 256 KiB in total', () => {
    const exact = { k: 'x'.repeat(262144 - 1) }
    expect(validateAnnotations(exact, 'metadata.annotations')).toEqual([])
    const over = { k: 'x'.repeat(262144 - 1), l: '' }
    expect(validateAnnotations(over, 'metadata.annotations')).toEqual([
      { reason: 'FieldValueTooLong', field: 'metadata.annotations', message: 'Too long: may not be more than 262144 bytes' },
    ])
    // Sizes are UTF-8 bytes: 'é' is two.
    expect(validateAnnotations({ k: 'é'.repeat(131072) }, 'metadata.annotations')).toHaveLength(1)
  })
})

describe('IPv4', () => {
  it('parses strict dotted quads', () => {
    expect(parseIPv4('0.0.0.0')).toBe(0)
    expect(parseIPv4('10.96.0.10')).toBe(0x0a60000a)
    expect(parseIPv4('255.255.255.255')).toBe(0xffffffff)
    const bad = ['', '1.2.3', '1.2.3.4.5', '01.2.3.4', '1.2.3.04', '256.0.0.1', '1.2.3.-4', '1..3.4']
    bad.push(' 1.2.3.4', '1.2.3.4 ', '0x1.2.3.4', '1.2.3.4/32', '+1.2.3.4', '1.2.3.4\n')
    for (const s of bad) expect(parseIPv4(s), s).toBeNull()
  })

  it('formats numbers', () => {
    expect(formatIPv4(0x0a60000a)).toBe('10.96.0.10')
    expect(formatIPv4(0xffffffff)).toBe('255.255.255.255')
    expect(() => formatIPv4(2 ** 32)).toThrow(RangeError)
  })
})

describe('IPv6', () => {
  it('parses the RFC 4291 text forms', () => {
    expect(parseIPv6('::')).toBe(0n)
    expect(parseIPv6('::1')).toBe(1n)
    expect(parseIPv6('1::')).toBe(1n << 112n)
    expect(parseIPv6('2001:DB8:0:0:8:800:200C:417A')).toBe(0x20010db80000000000080800200c417an)
    expect(parseIPv6('2001:db8::8:800:200c:417a')).toBe(0x20010db80000000000080800200c417an)
    expect(parseIPv6('FF01::101')).toBe(0xff010000000000000000000000000101n)
    expect(parseIPv6('0:0:0:0:0:0:13.1.68.3')).toBe(0x0d014403n)
    expect(parseIPv6('::13.1.68.3')).toBe(0x0d014403n)
    expect(parseIPv6('::ffff:129.144.52.38')).toBe(0xffff81903426n)
    expect(parseIPv6('1:2:3:4:5:6:7::')).toBe(0x00010002000300040005000600070000n)
    expect(parseIPv6('::2:3:4:5:6:7:8')).toBe(0x00000002000300040005000600070008n)
    expect(parseIPv6('1:2:3:4:5:6:1.2.3.4')).toBe(0x00010002000300040005000601020304n)
  })

  it('rejects malformed text', () => {
    const bad = [
      '',
      ':',
      ':::',
      '1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7:8::',
      '::1:2:3:4:5:6:7:8',
      '1::2::3',
      ':1::2',
      '1::2:',
      '12345::1',
      'g::1',
      'fe80::1%eth0',
      '::1.2.3',
      '::1.2.3.04',
      '1.2.3.4::',
      '::1.2.3.4:5',
      '1:2:3:4:5:6:7:1.2.3.4',
      '1.2.3.4',
      ' ::1',
      '[::1]',
    ]
    for (const s of bad) expect(parseIPv6(s), s).toBeNull()
  })

  it('formats canonically (RFC 5952)', () => {
    const f = (s: string) => formatIPv6(parseIPv6(s)!)
    // §4.1 no leading zeros; §4.3 lowercase
    expect(f('2001:0db8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1')
    expect(f('2001:DB8::AbCd')).toBe('2001:db8::abcd')
    // §4.2.1 shorten as much as possible
    expect(f('2001:db8:0:0:0:0:2:1')).toBe('2001:db8::2:1')
    // §4.2.2 a single 16-bit 0 field is not shortened
    expect(f('2001:db8:0:1:1:1:1:1')).toBe('2001:db8:0:1:1:1:1:1')
    expect(f('2001:db8::1:1:1:1:1')).toBe('2001:db8:0:1:1:1:1:1')
    // §4.2.3 the longest run is shortened; the first one on ties
    expect(f('2001:0:0:1:0:0:0:1')).toBe('2001:0:0:1::1')
    expect(f('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1')
    expect(f('0:0:1:0:0:1:0:0')).toBe('::1:0:0:1:0:0')
    expect(f('1:0:0:0:0:0:0:0')).toBe('1::')
    expect(f('0:0:0:0:0:0:0:0')).toBe('::')
    expect(f('0:0:0:0:0:0:0:1')).toBe('::1')
    expect(f('1:2:3:4:5:6:7:8')).toBe('1:2:3:4:5:6:7:8')
    // §5 IPv4-mapped addresses keep the dotted tail; other embedded forms do not
    expect(f('0:0:0:0:0:FFFF:c000:0201')).toBe('::ffff:192.0.2.1')
    expect(f('::192.0.2.1')).toBe('::c000:201')
    expect(() => formatIPv6(1n << 128n)).toThrow(RangeError)
  })

  it('round-trips every address through its canonical form', () => {
    const word = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff }))
    fc.assert(
      fc.property(fc.array(word, { minLength: 8, maxLength: 8 }), (words) => {
        const b = words.reduce((acc, w) => (acc << 16n) | BigInt(w), 0n)
        const text = formatIPv6(b)
        expect(parseIPv6(text)).toBe(b)
        expect(parseIPv6(words.map((w) => w.toString(16).toUpperCase()).join(':'))).toBe(b)
        expect(text).not.toMatch(/:0{1,3}[0-9a-f]|[A-F]|:::/)
      }),
    )
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => parseIPv4(formatIPv4(n)) === n))
  })

  it('detects families and canonicalises', () => {
    expect(ipFamily('10.0.0.1')).toBe('IPv4')
    expect(ipFamily('fd00::1')).toBe('IPv6')
    expect(ipFamily('::ffff:10.0.0.1')).toBe('IPv6')
    expect(ipFamily('010.0.0.1')).toBeNull()
    expect(ipFamily('None')).toBeNull()
    expect(canonicalIP('10.96.0.10')).toBe('10.96.0.10')
    expect(canonicalIP('FD00:0:0::0A')).toBe('fd00::a')
    expect(canonicalIP('::FFFF:10.0.0.1')).toBe('::ffff:10.0.0.1')
    expect(canonicalIP('10.96.0.010')).toBeNull()
    expect(canonicalIP('fe80::1%lo')).toBeNull()
  })

  it('canonicalises exactly the dotted quads parseIPv4 takes, as parseIPv4 and formatIPv4 would', () => {
    const octet = fc.oneof(fc.integer({ min: 0, max: 999 }).map(String), fc.constantFrom('00', '01', '007', '0x1', '1e2', '+1', '-1', ' 1', '1 ', '', '256', '１'))
    const text = fc.oneof(
      fc.tuple(octet, octet, octet, octet).map((p) => p.join('.')),
      fc.array(octet, { maxLength: 6 }).map((p) => p.join('.')),
      fc.tuple(octet, octet, octet, octet, fc.constantFrom('\n', ' ', '.', '%0')).map(([a, b, c, d, tail]) => `${a}.${b}.${c}.${d}${tail}`),
    )
    fc.assert(
      fc.property(text, (s) => {
        const v4 = parseIPv4(s)
        if (v4 !== null) expect(canonicalIP(s)).toBe(formatIPv4(v4))
        else expect(canonicalIP(s)).toBe(parseIPv6(s) === null ? null : formatIPv6(parseIPv6(s)!))
      }),
      { numRuns: 5000 },
    )
  })
})
