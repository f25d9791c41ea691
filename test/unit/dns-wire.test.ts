import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import {
  CLASS_IN,
  decodeMessage,
  encodeMessage,
  encodeResponse,
  MAX_MESSAGE_OCTETS,
  optRecord,
  presentation,
  RCODE,
  TYPE,
  typeFromName,
  typeName,
  WireError,
  type Header,
  type Message,
  type RData,
  type ResourceRecord,
} from '../../worker/dns/wire'
import {
  dashedIP,
  escapeLabel,
  fqdn,
  normalizeName,
  parseReverse,
  reverseName,
  splitLabels,
  unescapeLabel,
  validateQueryName,
} from '../../worker/dns/names'
import { formatIPv4, formatIPv6 } from '../../worker/registry/ip-address'

function b64url(s: string): Uint8Array {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/')
  return Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0))
}

function toB64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')
}

function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '')
  return Uint8Array.from(clean.match(/../g) ?? [], (h) => parseInt(h, 16))
}

function toHex(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')
}

/** Wire form of a dotted ASCII name. */
function wireName(name: string): string {
  if (name === '') return '00'
  const label = (l: string) => l.length.toString(16).padStart(2, '0') + toHex(new TextEncoder().encode(l))
  return name.split('.').map(label).join('') + '00'
}

/** A 12-octet header with the given counts (id 0, RD set) followed by `body`. */
function packet(counts: [number, number, number, number], body: string): Uint8Array {
  const c = counts.map((n) => n.toString(16).padStart(4, '0')).join('')
  return hex(`0000 0100 ${c} ${body}`)
}

const HEADER: Header = {
  id: 0,
  qr: false,
  opcode: 0,
  aa: false,
  tc: false,
  rd: true,
  ra: false,
  ad: false,
  cd: false,
  rcode: 0,
}

function message(parts: Partial<Message>): Message {
  return { header: HEADER, questions: [], answers: [], authorities: [], additionals: [], ...parts }
}

function rr(name: string, data: RData, ttl = 300): ResourceRecord {
  const type = data.kind === 'raw' ? TYPE.CAA : TYPE[data.kind]
  return { name, type, class: CLASS_IN, ttl, data }
}

function decodeError(bytes: Uint8Array): WireError {
  try {
    decodeMessage(bytes)
  } catch (e) {
    if (e instanceof WireError) return e
    throw e
  }
  throw new Error('decodeMessage accepted a malformed message')
}

describe('RFC 8484 vectors', () => {
  it('decodes the GET example, a query for www.example.com A, and re-encodes it byte for byte', () => {
    const bytes = b64url('AAABAAABAAAAAAAAA3d3dwdleGFtcGxlA2NvbQAAAQAB')
    const m = decodeMessage(bytes)
    expect(m).toEqual(message({ questions: [{ name: 'www.example.com', type: TYPE.A, class: CLASS_IN }] }))
    expect(toB64url(encodeMessage(m))).toBe('AAABAAABAAAAAAAAA3d3dwdleGFtcGxlA2NvbQAAAQAB')
  })

  it('decodes the 94-octet example whose base64url has a "-" and no padding', () => {
    const vector =
      'AAABAAABAAAAAAAAAWE-NjJjaGFyYWN0ZXJsYWJl' +
      'bC1tYWtlcy1iYXNlNjR1cmwtZGlzdGluY3QtZnJvbS1z' +
      'dGFuZGFyZC1iYXNlNjQHZXhhbXBsZQNjb20AAAEAAQ'
    const bytes = b64url(vector)
    expect(bytes.length).toBe(94)
    const m = decodeMessage(bytes)
    const label = '62characterlabel-makes-base64url-distinct-from-standard-base64'
    expect(label.length).toBe(62)
    expect(m.questions).toEqual([{ name: `a.${label}.example.com`, type: TYPE.A, class: CLASS_IN }])
    expect(toB64url(encodeMessage(m))).toBe(vector)
  })

  it('decodes the example response, whose answer owner is the pointer c0 0c', () => {
    const bytes = hex(`
      00 00 81 80 00 01 00 01 00 00 00 00 03 77 77 77
      07 65 78 61 6d 70 6c 65 03 63 6f 6d 00 00 1c 00
      01 c0 0c 00 1c 00 01 00 00 0e 7d 00 10 20 01 0d
      b8 ab cd 00 12 00 01 00 02 00 03 00 04`)
    expect(bytes.length).toBe(61)
    const m = decodeMessage(bytes)
    expect(m.header).toEqual({ ...HEADER, qr: true, ra: true })
    expect(m.questions).toEqual([{ name: 'www.example.com', type: TYPE.AAAA, class: CLASS_IN }])
    expect(m.answers).toEqual([
      {
        name: 'www.example.com',
        type: TYPE.AAAA,
        class: CLASS_IN,
        ttl: 3709,
        data: { kind: 'AAAA', address: '2001:db8:abcd:12:1:2:3:4' },
      },
    ])
    // The encoder makes the same choice of pointer.
    expect(encodeMessage(m)).toEqual(bytes)
  })
})

describe('decodeMessage', () => {
  it('follows chained pointers inside record data', () => {
    // question web.default.svc (12); answer CNAME → api + pointer to "default.svc" (16);
    // additional owner is a pointer to the CNAME target, whose own tail is a pointer.
    const q = wireName('web.default.svc')
    const target = `03617069 c010`
    const bytes = packet(
      [1, 1, 0, 1],
      `${q} 0001 0001  c00c 0005 0001 0000003c 0006 ${target}  c02d 0001 0001 0000003c 0004 0a000001`,
    )
    const m = decodeMessage(bytes)
    expect(m.answers[0]?.data).toEqual({ kind: 'CNAME', target: 'api.default.svc' })
    expect(m.additionals[0]).toEqual({
      name: 'api.default.svc',
      type: TYPE.A,
      class: CLASS_IN,
      ttl: 60,
      data: { kind: 'A', address: '10.0.0.1' },
    })
  })

  it('escapes label octets that are not printable ASCII, "." or "\\"', () => {
    const label = '2e 5c 20 00 ff 41 7e'
    const bytes = packet([1, 0, 0, 0], `07 ${label} 03616263 00 0001 0001`)
    const m = decodeMessage(bytes)
    expect(m.questions[0]?.name).toBe('\\.\\\\\\032\\000\\255A~.abc')
    expect(encodeMessage(m)).toEqual(bytes)
  })

  it('decodes header flags and codes', () => {
    const bytes = hex('abcd ae b3 0000 0000 0000 0000')
    expect(decodeMessage(bytes).header).toEqual({
      id: 0xabcd,
      qr: true,
      opcode: 5,
      aa: true,
      tc: true,
      rd: false,
      ra: true,
      ad: true,
      cd: true,
      rcode: 3,
    })
  })

  it('expands compressed names inside MX data, which it returns raw', () => {
    const q = wireName('example.com')
    const bytes = packet([1, 1, 0, 0], `${q} 000f 0001  c00c 000f 0001 00000e10 0007 000a 026d78 c00c`)
    const m = decodeMessage(bytes)
    expect(m.answers[0]?.data).toEqual({ kind: 'raw', bytes: hex(`000a 026d78 ${wireName('example.com')}`) })
    expect(decodeMessage(encodeMessage(m))).toEqual(m)
  })

  it('decodes an OPT record, ignoring the Z bits', () => {
    const bytes = packet([0, 0, 0, 1], '00 0029 04d0 01 00 80 7f 000c 000a 0008 0102030405060708')
    const [opt] = decodeMessage(bytes).additionals
    expect(opt).toEqual(
      optRecord({
        udpSize: 1232,
        extendedRcode: 1,
        do: true,
        options: [{ code: 10, data: hex('0102030405060708') }],
      }),
    )
    expect(opt?.ttl).toBe(0x01008000)
  })

  it('accepts a name of exactly 255 octets', () => {
    const long = ['a'.repeat(63), 'b'.repeat(63), 'c'.repeat(63), 'd'.repeat(61)].join('.')
    const bytes = packet([1, 0, 0, 0], `${wireName(long)} 0001 0001`)
    expect(decodeMessage(bytes).questions[0]?.name).toBe(long)
    expect(encodeMessage(decodeMessage(bytes))).toEqual(bytes)
  })

  const q = `${wireName('a.example')} 0001 0001`
  const malformed: [string, Uint8Array, RegExp][] = [
    ['an empty message', new Uint8Array(), /truncated header/],
    ['a truncated header', hex('0000 0100 0001'), /truncated header/],
    ['a question count larger than the data', packet([0xffff, 0, 0, 0], q), /header counts/],
    ['one question too many', packet([2, 0, 0, 0], `${q} ${q}`.slice(0, -2)), /truncated/],
    ['a record count larger than the data', packet([1, 5, 0, 0], q), /header counts/],
    ['a pointer at offset 12 to itself', packet([1, 0, 0, 0], 'c00c 0001 0001'), /strictly backwards/],
    ['a two-step pointer loop', packet([1, 0, 0, 0], '0161 c00c 0001 0001'), /strictly backwards/],
    ['a forward pointer', packet([1, 0, 0, 0], 'c012 0001 0001 016100'), /strictly backwards/],
    ['a pointer into the header', packet([1, 0, 0, 0], 'c004 0001 0001'), /into the header/],
    ['a truncated pointer', packet([1, 0, 0, 0], '03616263 0161 c0'), /truncated compression pointer/],
    [
      'a label of 64 octets',
      packet([1, 0, 0, 0], `40 ${'61'.repeat(64)} 00 0001 0001`),
      /reserved label type 0x40/,
    ],
    ['the reserved 0x80 label type', packet([1, 0, 0, 0], `80 00 0001 0001`), /reserved label type 0x80/],
    [
      'a name over 255 octets',
      packet([1, 0, 0, 0], `${`3f${'61'.repeat(63)}`.repeat(4)} 00 0001 0001`),
      /longer than 255/,
    ],
    ['a label running past the end', packet([1, 0, 0, 0], '0161 0162 05 6162'), /truncated label/],
    [
      'a name with no terminating root',
      packet([1, 0, 0, 0], '0161 0162 0163 0164'),
      /truncated question name/,
    ],
    ['a question missing its class', packet([1, 0, 0, 0], `${wireName('a')} 0001`), /truncated question/],
    [
      'an rdlength past the end',
      packet([1, 1, 0, 0], `${q} c00c 0001 0001 0000003c 000a 0a000001`),
      /rdlength 10 .* overruns/,
    ],
    ['A data of 5 octets', packet([1, 1, 0, 0], `${q} c00c 0001 0001 0000003c 0005 0a00000101`), /4 octets/],
    [
      'AAAA data of 4 octets',
      packet([1, 1, 0, 0], `${q} c00c 001c 0001 0000003c 0004 0a000001`),
      /16 octets/,
    ],
    [
      'a CNAME target shorter than its rdlength',
      packet([1, 1, 0, 0], `${q} c00c 0005 0001 0000003c 0005 c00c 000000`),
      /shorter than its rdlength 5/,
    ],
    [
      'a CNAME target running past its rdlength',
      packet([1, 1, 0, 0], `${q} c00c 0005 0001 0000003c 0002 0161 00 ${q}`),
      /truncated/,
    ],
    [
      'a TXT string past its rdlength',
      packet([1, 1, 0, 0], `${q} c00c 0010 0001 0000003c 0003 05 6162 ${q}`),
      /truncated TXT string/,
    ],
    [
      'an EDNS option past its rdlength',
      packet([0, 0, 0, 1], '00 0029 1000 00000000 0006 000a 0008 0102'),
      /truncated EDNS option data/,
    ],
    [
      'SOA data cut short',
      packet([1, 1, 0, 0], `${q} c00c 0006 0001 0000003c 0008 c00c c00c 00000001`),
      /truncated SOA rdata/,
    ],
    ['trailing octets', packet([1, 0, 0, 0], `${q} 00`), /1 trailing octets/],
    ['more than 65535 octets', new Uint8Array(65536), /more than 65535/],
  ]
  for (const [what, bytes, message] of malformed) {
    it(`rejects ${what} with a WireError`, () => {
      expect(decodeError(bytes).message).toMatch(message)
    })
  }

  /**
   * A question for "a" at 12; an answer whose opaque rdata is `chain` pointers, each aiming at
   * the one before and the first at "a"; then as many answers as fit, each owned by a pointer to
   * the top of the chain, so every owner name takes `chain + 1` jumps.
   */
  function pointerChains(chain: number): Uint8Array {
    const pointer = (to: number) => (0xc000 | to).toString(16)
    const rdata = Array.from({ length: chain }, (_, i) => pointer(i === 0 ? 12 : 30 + 2 * (i - 1))).join('')
    const rdlength = (2 * chain).toString(16).padStart(4, '0')
    const head = hex(`016100 0001 0001  00 ff00 0001 00000000 ${rdlength} ${rdata}`)
    const answer = hex(`${pointer(12 + head.length - 2)} ff00 0001 00000000 0000`)
    const count = Math.floor((65535 - 12 - head.length) / answer.length)
    const bytes = new Uint8Array(12 + head.length + count * answer.length)
    bytes.set(hex(`0000 0100 0001 ${(count + 1).toString(16).padStart(4, '0')} 0000 0000`))
    bytes.set(head, 12)
    for (let i = 0; i < count; i++) bytes.set(answer, 12 + head.length + i * answer.length)
    return bytes
  }

  it('caps pointer chains at 127 jumps per name', () => {
    expect(decodeError(pointerChains(127)).message).toMatch(/too many compression pointers/)
  })

  it('decodes a maximal message of maximal pointer chains quickly', () => {
    const bytes = pointerChains(126)
    const started = performance.now()
    const m = decodeMessage(bytes)
    expect(performance.now() - started).toBeLessThan(1000)
    expect(m.answers.length).toBeGreaterThan(5000)
    expect(m.answers.slice(1).every((a) => a.name === 'a')).toBe(true)
  })
})

const everyKind: ResourceRecord[] = [
  rr('web.default.svc.cluster.local', { kind: 'A', address: '10.96.0.10' }),
  rr('web.default.svc.cluster.local', { kind: 'AAAA', address: '2001:db8::1' }),
  rr('web.default.svc.cluster.local', { kind: 'AAAA', address: '::ffff:10.0.0.1' }),
  rr('alias.default.svc.cluster.local', { kind: 'CNAME', target: 'web.default.svc.cluster.local' }),
  rr('10.0.96.10.in-addr.arpa', { kind: 'PTR', target: 'web.default.svc.cluster.local' }),
  rr('cluster.local', { kind: 'NS', target: 'ns.dns.cluster.local' }),
  rr('_http._tcp.web.default.svc.cluster.local', {
    kind: 'SRV',
    priority: 0,
    weight: 100,
    port: 8080,
    target: '10-244-1-5.web.default.svc.cluster.local',
  }),
  rr('web.default.svc.cluster.local', { kind: 'TXT', strings: ['v=1', '', 'say "hi"\\', '\u0000\u00ff'] }),
  rr('web.default.svc.cluster.local', { kind: 'TXT', strings: [] }),
  rr('cluster.local', {
    kind: 'SOA',
    mname: 'ns.dns.cluster.local',
    rname: 'host\\.master.cluster.local',
    serial: 0xffffffff,
    refresh: 7200,
    retry: 1800,
    expire: 86400,
    minimum: 30,
  }),
  rr('web.default.svc.cluster.local', { kind: 'raw', bytes: hex('0005697373756563612e6f7267') }),
  { name: 'x.test', type: 65280, class: CLASS_IN, ttl: 0, data: { kind: 'raw', bytes: new Uint8Array() } },
  { ...rr('MiXeD.Case\\032name.test', { kind: 'A', address: '0.0.0.0' }, 1), class: 3 },
  optRecord({ udpSize: 1232, version: 0, do: true, options: [{ code: 10, data: hex('0102030405060708') }] }),
]

describe('encodeMessage', () => {
  it('round-trips every kind of record data', () => {
    const m: Message = {
      header: { ...HEADER, id: 0xbeef, qr: true, aa: true, ra: true, rcode: RCODE.NXDOMAIN },
      questions: [{ name: 'web.default.svc.cluster.local', type: TYPE.ANY, class: CLASS_IN }],
      answers: everyKind.slice(0, 9),
      authorities: everyKind.slice(9, 10),
      additionals: everyKind.slice(10),
    }
    expect(decodeMessage(encodeMessage(m))).toEqual(m)
    for (const record of everyKind) {
      const one = message({ answers: [record] })
      expect(decodeMessage(encodeMessage(one))).toEqual(one)
    }
  })

  it('compresses repeated names', () => {
    const name = 'web.default.svc.cluster.local'
    const answers = Array.from({ length: 10 }, (_, i) => rr(name, { kind: 'A', address: `10.0.0.${i}` }))
    const m = message({ questions: [{ name, type: TYPE.A, class: CLASS_IN }], answers })
    const bytes = encodeMessage(m)
    const nameOctets = wireName(name).length / 2
    expect(nameOctets).toBe(31)
    const uncompressed = 12 + nameOctets + 4 + 10 * (nameOctets + 10 + 4)
    expect(bytes.length).toBe(12 + nameOctets + 4 + 10 * (2 + 10 + 4))
    expect(bytes.length).toBeLessThan(uncompressed)
    expect(toHex(bytes.subarray(47, 49))).toBe('c00c')
    expect(decodeMessage(bytes)).toEqual(m)

    // A shared suffix: "db" plus a pointer to "default.svc.cluster.local".
    const db = rr('db.default.svc.cluster.local', { kind: 'A', address: '10.0.0.1' })
    const more = message({ ...m, answers: [db] })
    expect(encodeMessage(more).length).toBe(12 + 35 + (3 + 2) + 14)
  })

  it('keeps case as given, so names differing in case share only the identical suffix', () => {
    const m = message({
      questions: [{ name: 'WWW.Example.com', type: TYPE.A, class: CLASS_IN }],
      answers: [rr('www.example.com', { kind: 'A', address: '192.0.2.1' })],
    })
    const bytes = encodeMessage(m)
    expect(decodeMessage(bytes)).toEqual(m)
    // "www" and "example" are spelled out again; only "com" is a pointer.
    expect(bytes.length).toBe(12 + 17 + 4 + (4 + 8 + 2) + 14)
  })

  it('does not compress SRV targets, but lets later names point into them', () => {
    const m = message({
      answers: [
        rr('_p._tcp.svc.test', { kind: 'SRV', priority: 1, weight: 2, port: 3, target: 'pod.svc.test' }),
        rr('pod.svc.test', { kind: 'A', address: '10.0.0.1' }),
      ],
    })
    const bytes = encodeMessage(m)
    const target = toHex(bytes).indexOf(wireName('pod.svc.test'))
    expect(target).toBeGreaterThan(0)
    const pointer = `c0${(target / 2).toString(16)}`
    expect(toHex(bytes).endsWith(`${pointer}00010001 0000012c 0004 0a000001`.replace(/ /g, ''))).toBe(true)
    expect(decodeMessage(bytes)).toEqual(m)
  })

  it('accepts names with a trailing dot and non-canonical escapes', () => {
    const m = message({ questions: [{ name: 'W\\069B.example.', type: TYPE.A, class: CLASS_IN }] })
    expect(decodeMessage(encodeMessage(m)).questions[0]?.name).toBe('WEB.example')
    const root = message({ questions: [{ name: '.', type: TYPE.NS, class: CLASS_IN }] })
    expect(decodeMessage(encodeMessage(root)).questions[0]?.name).toBe('')
  })

  const ask = (name: string) => message({ questions: [{ name, type: TYPE.A, class: CLASS_IN }] })
  const answer = (data: RData, ttl?: number) => message({ answers: [rr('a', data, ttl)] })
  const srv = { kind: 'SRV', priority: 0, weight: 0, port: 0, target: '' } as const
  const bad: [string, Message, RegExp][] = [
    ['a label of 64 octets', ask(`${'a'.repeat(64)}.test`), /64 octets/],
    ['a name over 255 octets', ask(Array(4).fill('a'.repeat(63)).join('.')), /longer than 255/],
    ['an empty label', ask('a..test'), /empty label/],
    ['a malformed escape', ask('a\\25'), /malformed escape/],
    ['an escape above 255', ask('a\\256'), /malformed escape/],
    ['a type not matching the data', message({ answers: [{ ...rr('a', srv), type: TYPE.AAAA }] }), /AAAA/],
    ['a bad IPv4 address', answer({ kind: 'A', address: '10.0.0.01' }), /dotted quad/],
    ['a bad IPv6 address', answer({ kind: 'AAAA', address: '1::2::3' }), /IPv6/],
    ['a TTL over 32 bits', answer({ kind: 'A', address: '1.2.3.4' }, 2 ** 32), /TTL/],
    ['a negative port', answer({ ...srv, port: -1 }), /port/],
    ['a fractional weight', answer({ ...srv, weight: 0.5 }), /weight/],
    ['a TXT string over 255', answer({ kind: 'TXT', strings: ['x'.repeat(256)] }), /255/],
    ['a TXT character over U+00FF', answer({ kind: 'TXT', strings: ['€'] }), /U\+00FF/],
    ['an id over 16 bits', { ...message({}), header: { ...HEADER, id: 65536 } }, /id/],
    ['an rcode over 4 bits', { ...message({}), header: { ...HEADER, rcode: 16 } }, /rcode/],
    [
      'more than 65535 octets',
      message({ answers: Array(300).fill(rr('a', { kind: 'raw', bytes: new Uint8Array(250) })) }),
      /65535/,
    ],
  ]
  for (const [what, m, re] of bad) {
    it(`rejects ${what} with a WireError`, () => {
      expect(() => encodeMessage(m)).toThrow(WireError)
      expect(() => encodeMessage(m)).toThrow(re)
    })
  }
})

describe('presentation', () => {
  it('formats every kind as DoH JSON data', () => {
    const cases: [RData, string][] = [
      [{ kind: 'A', address: '10.96.0.10' }, '10.96.0.10'],
      [{ kind: 'AAAA', address: '2001:DB8:0:0::1' }, '2001:db8::1'],
      [{ kind: 'CNAME', target: 'web.default.svc.cluster.local' }, 'web.default.svc.cluster.local.'],
      [{ kind: 'PTR', target: 'web.default.svc.cluster.local.' }, 'web.default.svc.cluster.local.'],
      [{ kind: 'NS', target: '' }, '.'],
      [{ kind: 'CNAME', target: 'odd\\.' }, 'odd\\..'],
      [
        { kind: 'SRV', priority: 10, weight: 60, port: 5060, target: 'sip.example' },
        '10 60 5060 sip.example.',
      ],
      [
        { kind: 'TXT', strings: ['v=spf1 -all', 'say "hi" \\ ok', '\u0000\u007f\u00e9'] },
        '"v=spf1 -all" "say \\"hi\\" \\\\ ok" "\\000\\127\\233"',
      ],
      [
        {
          kind: 'SOA',
          mname: 'ns.dns.cluster.local',
          rname: 'host\\.master.cluster.local',
          serial: 1,
          refresh: 7200,
          retry: 1800,
          expire: 86400,
          minimum: 30,
        },
        'ns.dns.cluster.local. host\\.master.cluster.local. 1 7200 1800 86400 30',
      ],
      [{ kind: 'raw', bytes: hex('00 05 69 73 73') }, '\\# 5 0005697373'],
      [{ kind: 'raw', bytes: new Uint8Array() }, '\\# 0'],
    ]
    for (const [data, text] of cases) expect(presentation(rr('x', data))).toBe(text)
    expect(presentation(optRecord({ udpSize: 1232 }))).toBe('\\# 0')
    expect(presentation(optRecord({ udpSize: 1232, options: [{ code: 12, data: hex('0000') }] }))).toBe(
      '\\# 6 000c00020000',
    )
  })
})

describe('types', () => {
  it('maps mnemonics and generic TYPEn forms both ways', () => {
    expect(typeName(TYPE.AAAA)).toBe('AAAA')
    expect(typeName(257)).toBe('CAA')
    expect(typeName(65280)).toBe('TYPE65280')
    expect(typeFromName('aaaa')).toBe(28)
    expect(typeFromName('Srv')).toBe(33)
    expect(typeFromName('TYPE123')).toBe(123)
    expect(typeFromName('type65535')).toBe(65535)
    expect(typeFromName('TYPE65536')).toBeNull()
    expect(typeFromName('TYPE01')).toBeNull()
    expect(typeFromName('NOPE')).toBeNull()
    expect(typeFromName('toString')).toBeNull()
    for (const [k, v] of Object.entries(TYPE)) {
      expect(typeName(v)).toBe(k)
      expect(typeFromName(k.toLowerCase())).toBe(v)
    }
  })
})

// ---------------------------------------------------------------------------------------------
// Property tests

const u16 = fc.integer({ min: 0, max: 0xffff })
const u32 = fc.tuple(u16, u16).map(([hi, lo]) => hi * 0x10000 + lo)
const u128 = fc.bigInt({ min: 0n, max: (1n << 128n) - 1n })
const label = fc.oneof(
  fc.uint8Array({ minLength: 1, maxLength: 12 }),
  fc.constantFrom('svc', 'default', 'cluster', 'local', 'Web').map((s) => new TextEncoder().encode(s)),
)
const nameArb = fc.array(label, { maxLength: 5 }).map((ls) => ls.map(escapeLabel).join('.'))
const byteString = fc.uint8Array({ maxLength: 40 }).map((b) => String.fromCharCode(...b))

const rdataArb: fc.Arbitrary<RData> = fc.oneof(
  u32.map((n) => ({ kind: 'A' as const, address: formatIPv4(n) })),
  u128.map((n) => ({ kind: 'AAAA' as const, address: formatIPv6(n) })),
  fc.record({ kind: fc.constantFrom('CNAME' as const, 'PTR' as const, 'NS' as const), target: nameArb }),
  fc.record({ kind: fc.constant('SRV' as const), priority: u16, weight: u16, port: u16, target: nameArb }),
  fc.record({ kind: fc.constant('TXT' as const), strings: fc.array(byteString, { maxLength: 3 }) }),
  fc.record({
    kind: fc.constant('SOA' as const),
    mname: nameArb,
    rname: nameArb,
    serial: u32,
    refresh: u32,
    retry: u32,
    expire: u32,
    minimum: u32,
  }),
  fc.uint8Array({ maxLength: 30 }).map((bytes) => ({ kind: 'raw' as const, bytes })),
)

const recordArb: fc.Arbitrary<ResourceRecord> = fc.oneof(
  { arbitrary: fc.record({ name: nameArb, data: rdataArb, class: u16, ttl: u32 }), weight: 9 },
  {
    arbitrary: fc.record({
      udpSize: u16,
      extendedRcode: fc.integer({ min: 0, max: 255 }),
      version: fc.integer({ min: 0, max: 255 }),
      do: fc.boolean(),
      options: fc.array(fc.record({ code: u16, data: fc.uint8Array({ maxLength: 10 }) }), { maxLength: 2 }),
    }),
    weight: 1,
  },
).map((r) => {
  if ('udpSize' in r) return optRecord(r)
  const type = r.data.kind === 'raw' ? TYPE.CAA : TYPE[r.data.kind]
  return { name: r.name, type, class: r.class, ttl: r.ttl, data: r.data }
})

const headerArb: fc.Arbitrary<Header> = fc.record({
  id: u16,
  qr: fc.boolean(),
  opcode: fc.integer({ min: 0, max: 15 }),
  aa: fc.boolean(),
  tc: fc.boolean(),
  rd: fc.boolean(),
  ra: fc.boolean(),
  ad: fc.boolean(),
  cd: fc.boolean(),
  rcode: fc.integer({ min: 0, max: 15 }),
})

const messageArb: fc.Arbitrary<Message> = fc.record({
  header: headerArb,
  questions: fc.array(fc.record({ name: nameArb, type: u16, class: u16 }), { maxLength: 2 }),
  answers: fc.array(recordArb, { maxLength: 4 }),
  authorities: fc.array(recordArb, { maxLength: 2 }),
  additionals: fc.array(recordArb, { maxLength: 2 }),
})

type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'truncate'; at: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; n: number }
  | { op: 'pointer'; at: number; target: number }

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    op: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 8 }) }),
  fc.record({
    op: fc.constant('pointer' as const),
    at: fc.nat(),
    target: fc.integer({ min: 0, max: 0x3fff }),
  }),
)

function mutate(bytes: Uint8Array, mutations: Mutation[]): Uint8Array {
  let b = bytes
  for (const m of mutations) {
    const at = b.length === 0 ? 0 : m.at % (b.length + (m.op === 'insert' ? 1 : 0))
    switch (m.op) {
      case 'flip':
        if (b.length > 0) {
          b = b.slice()
          b[at] = (b[at] ?? 0) ^ (1 << m.bit)
        }
        break
      case 'truncate':
        b = b.slice(0, at)
        break
      case 'insert':
        b = Uint8Array.from([...b.subarray(0, at), ...m.bytes, ...b.subarray(at)])
        break
      case 'delete':
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + m.n)])
        break
      case 'pointer':
        b = b.slice()
        b.set([0xc0 | (m.target >> 8), m.target & 0xff].slice(0, Math.max(0, b.length - at)), at)
        break
    }
  }
  return b
}

/** Decodes, asserting that the only possible failure is a WireError and that it is quick. */
function decodeSafely(bytes: Uint8Array, slowest: { ms: number }): Message | null {
  const started = performance.now()
  try {
    return decodeMessage(bytes)
  } catch (e) {
    if (!(e instanceof WireError)) throw e
    return null
  } finally {
    slowest.ms = Math.max(slowest.ms, performance.now() - started)
  }
}

/** A decoded message must re-encode (unless too large) to something that decodes the same. */
function checkStable(m: Message): void {
  let again: Uint8Array
  try {
    again = encodeMessage(m)
  } catch (e) {
    expect(e).toBeInstanceOf(WireError)
    expect((e as Error).message).toMatch(/65535/)
    return
  }
  expect(decodeMessage(again)).toEqual(m)
}

describe('properties', () => {
  it('round-trips random messages through encode and decode', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        expect(decodeMessage(encodeMessage(m))).toEqual(m)
      }),
      { numRuns: 2000 },
    )
  })

  it('never throws anything but WireError on random bytes', () => {
    const slowest = { ms: 0 }
    const counts = fc.tuple(
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 0, max: 3 }),
      fc.integer({ min: 0, max: 3 }),
    )
    const plausible = fc
      .tuple(u16, u16, counts, fc.uint8Array({ maxLength: 300 }))
      .map(([id, flags, c, body]) => {
        const head = [id >> 8, id & 255, flags >> 8, flags & 255, ...c.flatMap((n) => [0, n])]
        return Uint8Array.from([...head, ...body])
      })
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 600 }), plausible), (bytes) => {
        const m = decodeSafely(bytes, slowest)
        if (m !== null) checkStable(m)
      }),
      { numRuns: 10_000 },
    )
    expect(slowest.ms).toBeLessThan(100)
  }, 60_000)

  it('never throws anything but WireError on mutated valid messages', () => {
    const slowest = { ms: 0 }
    let decoded = 0
    fc.assert(
      fc.property(messageArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (m, mutations) => {
        const result = decodeSafely(mutate(encodeMessage(m), mutations), slowest)
        if (result !== null) {
          decoded++
          checkStable(result)
        }
      }),
      { numRuns: 10_000 },
    )
    expect(slowest.ms).toBeLessThan(100)
    // Some mutations (e.g. a flipped TTL bit) leave a valid message; those must survive too.
    expect(decoded).toBeGreaterThan(0)
  }, 60_000)
})

// ---------------------------------------------------------------------------------------------
// Names

describe('names', () => {
  it('reverses IPv4 and IPv6 addresses and parses them back', () => {
    expect(reverseName('10.3.0.1')).toBe('1.0.3.10.in-addr.arpa')
    expect(parseReverse('1.0.3.10.in-addr.arpa')).toBe('10.3.0.1')
    expect(parseReverse('1.0.3.10.IN-ADDR.ARPA.')).toBe('10.3.0.1')
    expect(reverseName('2001:db8::567:89ab')).toBe(
      'b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa',
    )
    expect(parseReverse('b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.ip6.arpa.')).toBe(
      '2001:db8::567:89ab',
    )
    expect(reverseName('2001:DB8:0::1')).toBe(reverseName('2001:db8::1'))
    expect(reverseName('not-an-ip')).toBeNull()
    expect(reverseName('10.0.0.256')).toBeNull()
  })

  it('rejects reverse names that do not cover a whole address', () => {
    expect(parseReverse('0.10.in-addr.arpa')).toBeNull()
    expect(parseReverse('1.0.0.0.10.in-addr.arpa')).toBeNull()
    expect(parseReverse('01.0.3.10.in-addr.arpa')).toBeNull()
    expect(parseReverse('256.0.3.10.in-addr.arpa')).toBeNull()
    expect(parseReverse('8.b.d.0.1.0.0.2.ip6.arpa')).toBeNull()
    expect(parseReverse(`${Array(32).fill('g').join('.')}.ip6.arpa`)).toBeNull()
    expect(parseReverse(`${Array(32).fill('00').join('.')}.ip6.arpa`)).toBeNull()
    expect(parseReverse('in-addr.arpa')).toBeNull()
    expect(parseReverse('web.default.svc.cluster.local')).toBeNull()
  })

  it('round-trips every address through its reverse name', () => {
    fc.assert(
      fc.property(u32, (n) => {
        const ip = formatIPv4(n)
        expect(parseReverse(reverseName(ip) ?? '')).toBe(ip)
      }),
    )
    fc.assert(
      fc.property(u128, (n) => {
        const ip = formatIPv6(n)
        expect(parseReverse(reverseName(ip) ?? '')).toBe(ip)
      }),
    )
  })

  it('dashes addresses as CoreDNS names endpoints', () => {
    expect(dashedIP('10.3.0.1')).toBe('10-3-0-1')
    expect(dashedIP('5678:abcd::1')).toBe('5678-abcd--1')
    expect(dashedIP('5678:ABCD:0:0:0:0:0:1')).toBe('5678-abcd--1')
    expect(dashedIP('fd00::')).toBe('fd00--0')
    expect(dashedIP('2001:db8::1:0')).toBe('2001-db8--1-0')
    expect(dashedIP('::ffff:10.0.0.1')).toBe('--ffff-10-0-0-1')
    expect(dashedIP('10.3.0.01')).toBeNull()
  })

  it('splits on unescaped dots only', () => {
    expect(splitLabels('')).toEqual([])
    expect(splitLabels('.')).toEqual([])
    expect(splitLabels('a.b.c.')).toEqual(['a', 'b', 'c'])
    expect(splitLabels('a\\.b.c')).toEqual(['a\\.b', 'c'])
    expect(splitLabels('a\\\\.b')).toEqual(['a\\\\', 'b'])
    expect(splitLabels('a\\.')).toEqual(['a\\.'])
    expect(splitLabels('a..b')).toEqual(['a', '', 'b'])
    expect(splitLabels('.a')).toEqual(['', 'a'])
  })

  it('escapes and unescapes labels', () => {
    expect(escapeLabel(hex('2e5c2000ff417e'))).toBe('\\.\\\\\\032\\000\\255A~')
    expect(unescapeLabel('\\.\\\\\\032\\000\\255A~')).toEqual(hex('2e5c2000ff417e'))
    expect(unescapeLabel('\\a')).toEqual(hex('61'))
    expect(unescapeLabel('ü')).toEqual(hex('c3bc'))
    expect(unescapeLabel('a\\')).toBeNull()
    expect(unescapeLabel('\\25')).toBeNull()
    expect(unescapeLabel('\\256')).toBeNull()
    fc.assert(
      fc.property(fc.uint8Array(), (b) => {
        expect(unescapeLabel(escapeLabel(b))).toEqual(b)
      }),
    )
  })

  it('normalizes names for comparison', () => {
    expect(normalizeName('Web.Default.SVC.cluster.local.')).toBe('web.default.svc.cluster.local')
    expect(normalizeName('w\\069b.example')).toBe('web.example')
    expect(normalizeName('A\\.B.')).toBe('a\\.b')
    expect(normalizeName('.')).toBe('')
    expect(normalizeName('BAD\\')).toBe('bad\\')
    expect(fqdn('a.b')).toBe('a.b.')
    expect(fqdn('a.b.')).toBe('a.b.')
    expect(fqdn('')).toBe('.')
  })

  it('validates JSON API query names', () => {
    expect(validateQueryName('web.default.svc.cluster.local')).toBeNull()
    expect(validateQueryName('example.com.')).toBeNull()
    expect(validateQueryName('a')).toBeNull()
    expect(validateQueryName('_http._tcp.web')).toBeNull()
    expect(validateQueryName(`${'a'.repeat(63)}.com`)).toBeNull()
    const max = Array(4).fill('a'.repeat(62)).join('.') + '.b'
    expect(max.length).toBe(253)
    expect(validateQueryName(max)).toBeNull()
    expect(validateQueryName(`${max}.`)).toBeNull()
    expect(validateQueryName(`${max}c`)).toMatch(/253/)
    expect(validateQueryName('')).toMatch(/empty/)
    expect(validateQueryName('.')).toMatch(/empty/)
    expect(validateQueryName('.example.com')).toMatch(/start with a dot/)
    expect(validateQueryName('example..com')).toMatch(/empty labels/)
    expect(validateQueryName('example.com..')).toMatch(/empty labels/)
    expect(validateQueryName(`${'a'.repeat(64)}.com`)).toMatch(/63/)
    expect(validateQueryName('bücher.de')).toMatch(/ASCII/)
    expect(validateQueryName('a b')).toMatch(/ASCII/)
    expect(validateQueryName('a\\032b')).toBeNull()
    expect(validateQueryName('a\\')).toMatch(/escape/)
  })
})

describe('truncation (encodeResponse)', () => {
  const header: Header = { id: 7, qr: true, opcode: 0, aa: true, tc: false, rd: true, ra: false, ad: false, cd: false, rcode: 0 }
  const OWNER = 'h.default.svc.cluster.local'
  /** Octets of a name written in full: a length octet per label, the label, and the root. */
  const nameOctets = (name: string) => name.length + 2
  /** Header, and the question (name in full, type, class). */
  const HEAD = 12 + nameOctets(OWNER) + 4
  /** An A record owned by the question's name: a 2-octet pointer, type, class, TTL, rdlength, 4 octets of address. */
  const A_OCTETS = 2 + 10 + 4
  const aRecords = (n: number) => Array.from({ length: n }, (_, i) => rr(OWNER, { kind: 'A', address: formatIPv4(0x0a000000 + i) }))
  const response = (answers: ResourceRecord[], additionals: ResourceRecord[] = []): Message => ({
    header,
    questions: [{ name: OWNER, type: TYPE.A, class: CLASS_IN }],
    answers,
    authorities: [],
    additionals,
  })

  it('answers the largest set of records that fits whole, and one more with exactly those and TC set', () => {
    const fit = Math.floor((MAX_MESSAGE_OCTETS - HEAD) / A_OCTETS)
    const whole = encodeResponse(response(aRecords(fit)))
    expect(whole.bytes.length).toBe(HEAD + fit * A_OCTETS)
    expect(whole.bytes).toEqual(encodeMessage(response(aRecords(fit))))
    expect(whole.message.header.tc).toBe(false)

    // Without truncation one more record cannot be encoded at all.
    expect(() => encodeMessage(response(aRecords(fit + 1)))).toThrow(WireError)
    const cut = encodeResponse(response(aRecords(fit + 1)))
    const decoded = decodeMessage(cut.bytes)
    expect(decoded.header.tc).toBe(true)
    expect(decoded.answers).toEqual(aRecords(fit))
    expect(decoded).toEqual(cut.message)
  })

  it('gives up additional records first, without TC, and keeps the OPT record', () => {
    const opt = optRecord({ udpSize: 1232 })
    const OPT_OCTETS = 11
    const glue = aRecords(50).map((r, i) => ({ ...r, name: `t${i}.${OWNER}` }))
    const room = Math.floor((MAX_MESSAGE_OCTETS - HEAD - OPT_OCTETS) / A_OCTETS)
    // All answers fit with a few octets to spare: no additional record (at least 16 octets) fits beside them.
    const answers = aRecords(room)
    const full = encodeResponse(response(answers, [...glue, opt]))
    const decoded = decodeMessage(full.bytes)
    expect(decoded.header.tc).toBe(false)
    expect(decoded.answers).toEqual(answers)
    expect(decoded.additionals).toEqual([opt])
    expect(full.bytes.length).toBe(HEAD + room * A_OCTETS + OPT_OCTETS)

    // With room for some of them, the first ones are kept, in order.
    const some = encodeResponse(response(aRecords(room - 40), [...glue, opt]))
    const kept = decodeMessage(some.bytes)
    expect(kept.header.tc).toBe(false)
    expect(kept.additionals.length).toBeGreaterThan(1)
    expect(kept.additionals.slice(0, -1)).toEqual(glue.slice(0, kept.additionals.length - 1))
    expect(kept.additionals.at(-1)).toEqual(opt)

    // One answer too many: TC, and the OPT record still there.
    const over = decodeMessage(encodeResponse(response(aRecords(room + 1), [...glue, opt])).bytes)
    expect(over.header.tc).toBe(true)
    expect(over.answers).toEqual(aRecords(room))
    expect(over.additionals).toEqual([opt])
  })

  it('writes any message within any limit as a prefix of its sections that decodes to what it reports', () => {
    fc.assert(
      fc.property(messageArb, fc.double({ min: 0, max: 1, noNaN: true }), (m, share) => {
        const opts = m.additionals.filter((r) => r.type === TYPE.OPT)
        const least = encodeMessage({ header: m.header, questions: [], answers: [], authorities: [], additionals: opts }).length
        const all = encodeMessage(m).length
        const limit = Math.max(least, Math.floor(all * share))
        const { bytes, message } = encodeResponse(m, limit)
        expect(bytes.length).toBeLessThanOrEqual(limit)
        expect(decodeMessage(bytes)).toEqual(message)
        const prefix = <T>(part: T[], whole: T[]) => expect(whole.slice(0, part.length)).toEqual(part)
        prefix(message.questions, m.questions)
        prefix(message.answers, m.answers)
        prefix(message.authorities, m.authorities)
        prefix(message.additionals.filter((r) => r.type !== TYPE.OPT), m.additionals.filter((r) => r.type !== TYPE.OPT))
        expect(message.additionals.filter((r) => r.type === TYPE.OPT)).toEqual(opts)
        const lost = message.questions.length < m.questions.length || message.answers.length < m.answers.length || message.authorities.length < m.authorities.length
        expect(message.header.tc).toBe(m.header.tc || lost)
        if (limit >= all) expect(bytes.length).toBe(all)
      }),
      { numRuns: 2000 },
    )
  })
})
