/**
 * An upper bound of a DNS message's encoded size, computed from its records without
 * encoding them. A message whose bound fits in 65,535 octets needs no truncation, so a
 * caller that only wants to know whether it would be truncated (the JSON form of DoH) may
 * skip encoding it; one that may not fit is encoded (wire.ts `encodeResponse`, the one
 * truncation rule).
 *
 * Each record counts its fixed fields and its data. A name counts as written out (its text's
 * length plus two octets for an ASCII name, whose escapes only shorten it; otherwise the most a
 * name may take, 255), except a question or owner name that repeats, character for character,
 * one of those written earlier within the first 16,384 octets: the encoder then writes a
 * 2-octet compression pointer (RFC 1035 §4.1.4), as it does for the owners of a service's
 * records, which all repeat the question. Every offset counted is at least the encoder's, so a
 * name counted as a pointer is one.
 */
import { HEADER_OCTETS, MAX_NAME_OCTETS, POINTER_LIMIT, type Message, type RData } from './wire'

/** Type and class of a question. */
const QUESTION_FIELDS = 4
/** Type, class, TTL and rdata length of a record. */
const RECORD_FIELDS = 10
const POINTER_OCTETS = 2

export function encodedSizeBound(msg: Message): number {
  const written = new Set<string>()
  let octets = HEADER_OCTETS
  /** A question or owner name: compressed to a pointer when it repeats one written before. */
  const compressible = (name: string) => {
    if (written.has(name)) return POINTER_OCTETS
    if (octets < POINTER_LIMIT) written.add(name)
    return nameBound(name)
  }
  for (const q of msg.questions) octets += compressible(q.name) + QUESTION_FIELDS
  for (const rr of [...msg.answers, ...msg.authorities, ...msg.additionals]) {
    octets += compressible(rr.name) + RECORD_FIELDS + rdataBound(rr.data)
  }
  return octets
}

function rdataBound(d: RData): number {
  switch (d.kind) {
    case 'A':
      return 4
    case 'AAAA':
      return 16
    case 'CNAME':
    case 'PTR':
    case 'NS':
      return nameBound(d.target)
    case 'SRV':
      return 6 + nameBound(d.target)
    case 'TXT':
      return d.strings.reduce((n, s) => n + 1 + s.length, 0)
    case 'SOA':
      return nameBound(d.mname) + nameBound(d.rname) + 20
    case 'OPT':
      return d.options.reduce((n, o) => n + 4 + o.data.length, 0)
    case 'raw':
      return d.bytes.length
  }
}

/** The most octets a name takes written out in full. */
function nameBound(name: string): number {
  return /^[\x00-\x7f]*$/.test(name) ? Math.min(name.length + 2, MAX_NAME_OCTETS) : MAX_NAME_OCTETS
}
