/**
 * The size bound of a DNS message (worker/dns/size-bound.ts) is never below its encoded size,
 * for every kind of record the resolver answers, with and without names to compress; and it
 * stays close for the answers the JSON form of DoH checks (A, AAAA, SRV of a headless service).
 */
import { describe, expect, it } from 'vitest'
import { encodedSizeBound } from '../../worker/dns/size-bound'
import { CLASS_IN, TYPE, encodeMessage, optRecord, type Message, type ResourceRecord } from '../../worker/dns/wire'

const header = { id: 0, qr: true, opcode: 0, aa: true, tc: false, rd: true, ra: false, ad: false, cd: false, rcode: 0 }
const zone = 'svc.cluster.local'

function message(answers: ResourceRecord[], extra: Partial<Message> = {}): Message {
  return { header, questions: [{ name: `web.default.${zone}`, type: TYPE.A, class: CLASS_IN }], answers, authorities: [], additionals: [], ...extra }
}

const rr = (name: string, type: number, data: ResourceRecord['data']): ResourceRecord => ({ name, type, class: CLASS_IN, ttl: 5, data })

describe('the encoded size bound', () => {
  it('is at least the encoded size of each kind of record, compressed or not', () => {
    const records: ResourceRecord[] = [
      rr(`web.default.${zone}`, TYPE.A, { kind: 'A', address: '10.0.0.1' }),
      rr(`web.default.${zone}`, TYPE.AAAA, { kind: 'AAAA', address: 'fd00::1' }),
      rr(`_http._tcp.web.default.${zone}`, TYPE.SRV, { kind: 'SRV', priority: 0, weight: 100, port: 80, target: `10-0-0-1.web.default.${zone}` }),
      rr(`1.0.0.10.in-addr.arpa`, TYPE.PTR, { kind: 'PTR', target: `10-0-0-1.web.default.${zone}` }),
      rr(`ext.default.${zone}`, TYPE.CNAME, { kind: 'CNAME', target: 'example.com' }),
      rr(`web.default.${zone}`, TYPE.TXT, { kind: 'TXT', strings: ['a', 'x'.repeat(255)] }),
      rr('cluster.local', TYPE.SOA, { kind: 'SOA', mname: 'ns.dns.cluster.local', rname: 'hostmaster.cluster.local', serial: 1, refresh: 2, retry: 3, expire: 4, minimum: 5 }),
      rr('a\\.b.cluster.local', TYPE.A, { kind: 'A', address: '10.0.0.2' }),
      rr('unusual.example', 99, { kind: 'raw', bytes: new Uint8Array(17) }),
    ]
    for (const r of records) {
      const one = message([r])
      expect(encodedSizeBound(one)).toBeGreaterThanOrEqual(encodeMessage(one).length)
    }
    const all = message(records, { additionals: [optRecord({ udpSize: 1232 })] })
    expect(encodedSizeBound(all)).toBeGreaterThanOrEqual(encodeMessage(all).length)
  })

  it('is exact for the A and AAAA answers of a headless service answers, whose owners all point to the question, up to the 65,535-octet boundary', () => {
    for (const [type, per] of [[TYPE.A, 16], [TYPE.AAAA, 28]] as const) {
      const most = Math.floor((65535 - 12 - (`web.default.${zone}`.length + 2 + 4)) / per)
      for (const n of [1, 100, 3000, most - 1, most]) {
        if (type === TYPE.AAAA && n > most) continue
        const data = (i: number) => (type === TYPE.A ? { kind: 'A' as const, address: `10.0.${i >> 8}.${i & 255}` } : { kind: 'AAAA' as const, address: `fd00::${i.toString(16)}` })
        const answer = message(Array.from({ length: n }, (_, i) => rr(`web.default.${zone}`, type, data(i))))
        expect(encodedSizeBound(answer)).toBe(encodeMessage(answer).length)
      }
      // One record more no longer fits, by the bound as by the encoder.
      const over = message(Array.from({ length: most + 1 }, () => rr(`web.default.${zone}`, type, type === TYPE.A ? { kind: 'A', address: '10.0.0.1' } : { kind: 'AAAA', address: 'fd00::1' })))
      expect(encodedSizeBound(over)).toBeGreaterThan(65535)
      expect(() => encodeMessage(over)).toThrow()
    }
  })

  it('is at least the encoded size of SRV answers, whose targets are not compressed, and names past the pointer range', () => {
    for (const n of [1, 500, 1100]) {
      const srv = message(
        Array.from({ length: n }, (_, i) => rr(`_http._tcp.web.default.${zone}`, TYPE.SRV, { kind: 'SRV', priority: 0, weight: 100, port: 80, target: `10-0-${i >> 8}-${i & 255}.web.default.${zone}` })),
        { questions: [{ name: `_http._tcp.web.default.${zone}`, type: TYPE.SRV, class: CLASS_IN }] },
      )
      expect(encodedSizeBound(srv)).toBeGreaterThanOrEqual(encodeMessage(srv).length)
    }
    // Owners first seen past 16,384 octets cannot be pointed to: each is written out.
    const far = message(Array.from({ length: 1000 }, (_, i) => rr(`p${i % 600}.web.default.${zone}`, TYPE.A, { kind: 'A', address: '10.0.0.1' })))
    expect(encodedSizeBound(far)).toBeGreaterThanOrEqual(encodeMessage(far).length)
  })
})
