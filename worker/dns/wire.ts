/**
 * DNS wire format (RFC 1035, EDNS(0) per RFC 6891, unknown types per RFC 3597) for DNS-over-HTTPS.
 * Web-platform types only (Uint8Array), so it runs unchanged in Workers and Node.
 *
 * Decoding is strict and safe on hostile input: any defect (truncation, counts beyond the data,
 * compression pointers that do not point strictly backwards, reserved label types, oversized
 * names, rdata length mismatches, octets after the last record) throws `WireError`, nothing else is
 * thrown, and work and memory stay proportional to the message (≤ 65535 octets).
 *
 * Names are presentation-form strings without a trailing dot (`''` is the root), case as on the
 * wire; label octets outside `!`–`~`, and `.` and `\`, are escaped (`\DDD`, `\.`, `\\`) so every
 * name round-trips. Encoding compresses names (RFC 1035 §4.1.4) and preserves their case.
 *
 * Why one file of this size: the decoder and the encoder share the record-type table, the
 * name codec and the RDATA layouts, and each RDATA layout is read and written side by side
 * so that the two cannot drift; split apart, every record type would live in two places.
 */
import { escapeLabel, fqdn, MAX_LABEL_OCTETS, splitLabels, unescapeLabel } from './names'
import { formatIPv6, parseIPv4, parseIPv6 } from '../registry/ip-address'

/** A malformed DNS message, or a message that cannot be encoded. */
export class WireError extends Error {
  override name = 'WireError'
}

/** A message that would not fit in the octets it may have. */
class OverflowError extends WireError {}

/** Resource record types by mnemonic (IANA "Resource Record (RR) TYPEs"). */
export const TYPE = {
  A: 1,
  NS: 2,
  MD: 3,
  MF: 4,
  CNAME: 5,
  SOA: 6,
  MB: 7,
  MG: 8,
  MR: 9,
  NULL: 10,
  WKS: 11,
  PTR: 12,
  HINFO: 13,
  MINFO: 14,
  MX: 15,
  TXT: 16,
  RP: 17,
  AFSDB: 18,
  RT: 21,
  SIG: 24,
  KEY: 25,
  PX: 26,
  AAAA: 28,
  LOC: 29,
  NXT: 30,
  SRV: 33,
  NAPTR: 35,
  KX: 36,
  CERT: 37,
  DNAME: 39,
  OPT: 41,
  APL: 42,
  DS: 43,
  SSHFP: 44,
  IPSECKEY: 45,
  RRSIG: 46,
  NSEC: 47,
  DNSKEY: 48,
  DHCID: 49,
  NSEC3: 50,
  NSEC3PARAM: 51,
  TLSA: 52,
  SMIMEA: 53,
  HIP: 55,
  CDS: 59,
  CDNSKEY: 60,
  OPENPGPKEY: 61,
  CSYNC: 62,
  ZONEMD: 63,
  SVCB: 64,
  HTTPS: 65,
  SPF: 99,
  TKEY: 249,
  TSIG: 250,
  IXFR: 251,
  AXFR: 252,
  MAILB: 253,
  MAILA: 254,
  ANY: 255,
  URI: 256,
  CAA: 257,
} as const

/** Response codes (4-bit header RCODE; values above 15 need the EDNS(0) extended RCODE). */
export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  YXDOMAIN: 6,
  YXRRSET: 7,
  NXRRSET: 8,
  NOTAUTH: 9,
  NOTZONE: 10,
  BADVERS: 16,
} as const

/** Header opcodes. */
export const OPCODE = { QUERY: 0, IQUERY: 1, STATUS: 2, NOTIFY: 4, UPDATE: 5 } as const

/** The Internet class. */
export const CLASS_IN = 1

/** Largest DNS message: the 16-bit limit of TCP framing, and RFC 8484's limit for DoH. */
export const MAX_MESSAGE_OCTETS = 65535

const TYPE_NAMES = new Map<number, string>(Object.entries(TYPE).map(([k, v]) => [v, k]))

/** The mnemonic of a type (`28` → `AAAA`), or the RFC 3597 generic form (`TYPE4321`) if it has none. */
export function typeName(n: number): string {
  return TYPE_NAMES.get(n) ?? `TYPE${n}`
}

/**
 * The number of a type mnemonic, case-insensitively (`aaaa` → 28), or of the RFC 3597 generic
 * form `TYPEn` with n in 0–65535. Null for anything else.
 */
export function typeFromName(s: string): number | null {
  const upper = s.toUpperCase()
  if (Object.hasOwn(TYPE, upper)) return TYPE[upper as keyof typeof TYPE]
  const m = /^TYPE(0|[1-9][0-9]{0,4})$/.exec(upper)
  if (m === null) return null
  const n = Number(m[1])
  return n <= 0xffff ? n : null
}

/** The fixed 12-octet header; counts are implied by the section arrays of `Message`. */
export interface Header {
  id: number
  qr: boolean
  opcode: number
  aa: boolean
  tc: boolean
  rd: boolean
  ra: boolean
  ad: boolean
  cd: boolean
  /** The low 4 bits of the response code. */
  rcode: number
}

/** One entry of the question section. */
export interface Question {
  name: string
  type: number
  class: number
}

/** One EDNS(0) option: code and raw value. */
export interface EdnsOption {
  code: number
  data: Uint8Array
}

/**
 * Record data by kind. `raw` carries the rdata of any other type as octets, with names inside
 * the well-known types that may be compressed (MX and the like) expanded, so the octets stand alone.
 */
export type RData =
  | { kind: 'A'; address: string }
  | { kind: 'AAAA'; address: string }
  | { kind: 'CNAME' | 'PTR' | 'NS'; target: string }
  | { kind: 'SRV'; priority: number; weight: number; port: number; target: string }
  | { kind: 'TXT'; strings: string[] }
  | {
      kind: 'SOA'
      mname: string
      rname: string
      serial: number
      refresh: number
      retry: number
      expire: number
      minimum: number
    }
  | {
      kind: 'OPT'
      udpSize: number
      extendedRcode: number
      version: number
      do: boolean
      options: EdnsOption[]
    }
  | { kind: 'raw'; bytes: Uint8Array }

/**
 * A resource record. TXT strings are binary strings: each character is one octet (U+0000–U+00FF).
 * For OPT, `class` is the UDP payload size and `ttl` the extended-RCODE/version/DO word (Z bits
 * cleared) as decoded; encoding takes both from `data` instead.
 */
export interface ResourceRecord {
  name: string
  type: number
  class: number
  ttl: number
  data: RData
}

/** A whole DNS message. */
export interface Message {
  header: Header
  questions: Question[]
  answers: ResourceRecord[]
  authorities: ResourceRecord[]
  additionals: ResourceRecord[]
}

/** Options for `optRecord`; omitted fields are zero, false or empty. */
export interface OptInit {
  udpSize: number
  extendedRcode?: number
  version?: number
  do?: boolean
  options?: EdnsOption[]
}

/**
 * An EDNS(0) OPT pseudo-record (root owner) whose `class` and `ttl` agree with its data, as
 * decoding yields it. Throws `WireError` if the extended RCODE or version is outside 0–255.
 */
export function optRecord(init: OptInit): ResourceRecord {
  const data: RData = {
    kind: 'OPT',
    udpSize: init.udpSize,
    extendedRcode: init.extendedRcode ?? 0,
    version: init.version ?? 0,
    do: init.do ?? false,
    options: init.options ?? [],
  }
  return { name: '', type: TYPE.OPT, class: data.udpSize, ttl: optTtl(data), data }
}

function optTtl(d: Extract<RData, { kind: 'OPT' }>): number {
  const ext = checkInt(d.extendedRcode, 0xff, 'OPT extended RCODE')
  const version = checkInt(d.version, 0xff, 'OPT version')
  return ext * 0x1000000 + version * 0x10000 + (d.do ? 0x8000 : 0)
}

export const HEADER_OCTETS = 12
export const MAX_NAME_OCTETS = 255
/** Names that start at or past this offset cannot be pointed to. */
export const POINTER_LIMIT = 0x4000
/** A name of ≤ 255 octets has at most 127 labels, so an honest name never needs more jumps. */
const MAX_POINTER_JUMPS = 127
/** Smallest wire size of a question (root name, type, class) and of a record (root, 10 fixed octets). */
const MIN_QUESTION_OCTETS = 5
const MIN_RECORD_OCTETS = 11

const KIND_TYPES: Record<Exclude<RData['kind'], 'raw'>, number> = {
  A: TYPE.A,
  AAAA: TYPE.AAAA,
  CNAME: TYPE.CNAME,
  PTR: TYPE.PTR,
  NS: TYPE.NS,
  SRV: TYPE.SRV,
  TXT: TYPE.TXT,
  SOA: TYPE.SOA,
  OPT: TYPE.OPT,
}

/**
 * Layouts of raw types whose rdata embeds names that senders may compress (RFC 3597 §4):
 * a number is that many fixed octets, `n` is a name. Decoding expands these names.
 */
const NAME_LAYOUTS = new Map<number, readonly (number | 'n')[]>([
  [TYPE.MD, ['n']],
  [TYPE.MF, ['n']],
  [TYPE.MB, ['n']],
  [TYPE.MG, ['n']],
  [TYPE.MR, ['n']],
  [TYPE.MINFO, ['n', 'n']],
  [TYPE.MX, [2, 'n']],
  [TYPE.RP, ['n', 'n']],
  [TYPE.AFSDB, [2, 'n']],
  [TYPE.RT, [2, 'n']],
  [TYPE.PX, [2, 'n', 'n']],
  [TYPE.KX, [2, 'n']],
])

// ---------------------------------------------------------------------------------------------
// Decoding

class Reader {
  pos = HEADER_OCTETS

  constructor(readonly buf: Uint8Array) {}

  need(n: number, what: string, limit = this.buf.length): void {
    if (this.pos + n > limit) {
      const left = limit - this.pos
      throw new WireError(`truncated ${what} at offset ${this.pos}: need ${n} octets, ${left} left`)
    }
  }

  u8(what: string, limit?: number): number {
    this.need(1, what, limit)
    return this.buf[this.pos++] ?? 0
  }

  u16(what: string, limit?: number): number {
    this.need(2, what, limit)
    const v = ((this.buf[this.pos] ?? 0) << 8) | (this.buf[this.pos + 1] ?? 0)
    this.pos += 2
    return v
  }

  u32(what: string, limit?: number): number {
    this.need(4, what, limit)
    const hi = this.u16(what)
    return hi * 0x10000 + this.u16(what)
  }

  bytes(n: number, what: string, limit?: number): Uint8Array {
    this.need(n, what, limit)
    const out = this.buf.slice(this.pos, this.pos + n)
    this.pos += n
    return out
  }

  /**
   * Reads a possibly compressed name at `pos`, whose in-place octets must end by `limit`.
   * Each pointer must aim below the start of the label run that contains it, so jumps
   * strictly descend and cannot loop; their number is capped as well.
   */
  name(what: string, limit = this.buf.length): string {
    const buf = this.buf
    const labels: string[] = []
    let octets = 1
    let p = this.pos
    let runStart = p
    let end = -1
    let bound = limit
    let jumps = 0
    for (;;) {
      if (p >= bound) throw new WireError(`truncated ${what} at offset ${p}`)
      const len = buf[p] ?? 0
      const tag = len & 0xc0
      if (tag === 0xc0) {
        if (p + 1 >= bound) throw new WireError(`truncated compression pointer in ${what} at offset ${p}`)
        const target = ((len & 0x3f) << 8) | (buf[p + 1] ?? 0)
        if (end < 0) end = p + 2
        if (target >= runStart) {
          throw new WireError(
            `compression pointer in ${what} at offset ${p} to ${target} does not point strictly backwards`,
          )
        }
        if (target < HEADER_OCTETS) {
          throw new WireError(`compression pointer in ${what} at offset ${p} points into the header`)
        }
        if (++jumps > MAX_POINTER_JUMPS) throw new WireError(`too many compression pointers in ${what}`)
        p = runStart = target
        bound = buf.length
        continue
      }
      if (tag !== 0) {
        throw new WireError(`reserved label type 0x${tag.toString(16)} in ${what} at offset ${p}`)
      }
      if (len === 0) {
        if (end < 0) end = p + 1
        break
      }
      if (p + 1 + len > bound) throw new WireError(`truncated label in ${what} at offset ${p}`)
      octets += len + 1
      if (octets > MAX_NAME_OCTETS) throw new WireError(`${what} is longer than ${MAX_NAME_OCTETS} octets`)
      labels.push(escapeLabel(buf.subarray(p + 1, p + 1 + len)))
      p += 1 + len
    }
    this.pos = end
    return labels.join('.')
  }
}

function decodeHeader(buf: Uint8Array): Header {
  const b2 = buf[2] ?? 0
  const b3 = buf[3] ?? 0
  return {
    id: ((buf[0] ?? 0) << 8) | (buf[1] ?? 0),
    qr: (b2 & 0x80) !== 0,
    opcode: (b2 >> 3) & 0x0f,
    aa: (b2 & 0x04) !== 0,
    tc: (b2 & 0x02) !== 0,
    rd: (b2 & 0x01) !== 0,
    ra: (b3 & 0x80) !== 0,
    ad: (b3 & 0x20) !== 0,
    cd: (b3 & 0x10) !== 0,
    rcode: b3 & 0x0f,
  }
}

function decodeRData(r: Reader, type: number, klass: number, ttl: number, end: number): RData {
  const what = `${typeName(type)} rdata`
  switch (type) {
    case TYPE.A: {
      if (end - r.pos !== 4) throw new WireError(`A rdata must be 4 octets, not ${end - r.pos}`)
      const b = r.bytes(4, what, end)
      return { kind: 'A', address: [...b].join('.') }
    }
    case TYPE.AAAA: {
      if (end - r.pos !== 16) throw new WireError(`AAAA rdata must be 16 octets, not ${end - r.pos}`)
      let v = 0n
      for (const b of r.bytes(16, what, end)) v = (v << 8n) | BigInt(b)
      return { kind: 'AAAA', address: formatIPv6(v) }
    }
    case TYPE.CNAME:
    case TYPE.PTR:
    case TYPE.NS: {
      const kind = type === TYPE.CNAME ? 'CNAME' : type === TYPE.PTR ? 'PTR' : 'NS'
      return { kind, target: r.name(`${kind} target`, end) }
    }
    case TYPE.SRV: {
      const priority = r.u16(what, end)
      const weight = r.u16(what, end)
      const port = r.u16(what, end)
      return { kind: 'SRV', priority, weight, port, target: r.name('SRV target', end) }
    }
    case TYPE.TXT: {
      const strings: string[] = []
      while (r.pos < end) {
        const len = r.u8(what, end)
        strings.push(String.fromCharCode(...r.bytes(len, 'TXT string', end)))
      }
      return { kind: 'TXT', strings }
    }
    case TYPE.SOA: {
      const mname = r.name('SOA mname', end)
      const rname = r.name('SOA rname', end)
      const serial = r.u32(what, end)
      const refresh = r.u32(what, end)
      const retry = r.u32(what, end)
      const expire = r.u32(what, end)
      return { kind: 'SOA', mname, rname, serial, refresh, retry, expire, minimum: r.u32(what, end) }
    }
    case TYPE.OPT: {
      const options: EdnsOption[] = []
      while (r.pos < end) {
        const code = r.u16('EDNS option code', end)
        const len = r.u16('EDNS option length', end)
        options.push({ code, data: r.bytes(len, 'EDNS option data', end) })
      }
      return {
        kind: 'OPT',
        udpSize: klass,
        extendedRcode: Math.floor(ttl / 0x1000000),
        version: Math.floor(ttl / 0x10000) & 0xff,
        do: (ttl & 0x8000) !== 0,
        options,
      }
    }
    default: {
      const layout = NAME_LAYOUTS.get(type)
      if (layout === undefined) return { kind: 'raw', bytes: r.bytes(end - r.pos, what, end) }
      const w = new Writer()
      for (const field of layout) {
        if (field === 'n') w.name(r.name(`${typeName(type)} name`, end), null)
        else w.raw(r.bytes(field, what, end))
      }
      if (r.pos < end) w.raw(r.bytes(end - r.pos, what, end))
      return { kind: 'raw', bytes: w.finish() }
    }
  }
}

function decodeRecord(r: Reader, section: string): ResourceRecord {
  const name = r.name(`${section} owner name`)
  const type = r.u16(`${section} record`)
  const klass = r.u16(`${section} record`)
  const ttl = r.u32(`${section} record`)
  const rdlength = r.u16(`${section} record`)
  const end = r.pos + rdlength
  if (end > r.buf.length) {
    throw new WireError(
      `${typeName(type)} record rdlength ${rdlength} at offset ${r.pos - 2} overruns the message ` +
        `by ${end - r.buf.length} octets`,
    )
  }
  const data = decodeRData(r, type, klass, ttl, end)
  if (r.pos !== end) {
    const short = end - r.pos
    throw new WireError(`${typeName(type)} rdata is ${short} octets shorter than its rdlength ${rdlength}`)
  }
  // The OPT TTL carries flags; unassigned Z bits are ignored (RFC 6891 §6.1.4).
  return { name, type, class: klass, ttl: data.kind === 'OPT' ? optTtl(data) : ttl, data }
}

/**
 * Decodes a DNS message. Throws `WireError`, and nothing else, on any malformation; octets after
 * the last record counted by the header are rejected too, since no valid message has them.
 * Names come back as escaped presentation text without a trailing dot, case preserved.
 */
export function decodeMessage(bytes: Uint8Array): Message {
  if (bytes.length < HEADER_OCTETS) throw new WireError(`truncated header: ${bytes.length} of 12 octets`)
  if (bytes.length > MAX_MESSAGE_OCTETS) {
    throw new WireError(`message is ${bytes.length} octets, more than ${MAX_MESSAGE_OCTETS}`)
  }
  const count = (i: number) => ((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)
  const [qd, an, ns, ar] = [count(4), count(6), count(8), count(10)]
  const needed = qd * MIN_QUESTION_OCTETS + (an + ns + ar) * MIN_RECORD_OCTETS
  if (needed > bytes.length - HEADER_OCTETS) {
    throw new WireError(
      `header counts (${qd} questions, ${an + ns + ar} records) need at least ${needed} octets, ` +
        `the message has ${bytes.length - HEADER_OCTETS} after the header`,
    )
  }
  const r = new Reader(bytes)
  const questions: Question[] = []
  for (let i = 0; i < qd; i++) {
    const name = r.name('question name')
    questions.push({ name, type: r.u16('question'), class: r.u16('question') })
  }
  const section = (n: number, label: string) => Array.from({ length: n }, () => decodeRecord(r, label))
  const answers = section(an, 'answer')
  const authorities = section(ns, 'authority')
  const additionals = section(ar, 'additional')
  if (r.pos !== bytes.length) {
    throw new WireError(`${bytes.length - r.pos} trailing octets after the last record at offset ${r.pos}`)
  }
  return { header: decodeHeader(bytes), questions, answers, authorities, additionals }
}

// ---------------------------------------------------------------------------------------------
// Encoding

function checkInt(v: number, max: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new WireError(`${what} must be an integer 0–${max}, not ${v}`)
  }
  return v
}

/** The octets of each label of a presentation-form name, validated against RFC 1035's limits. */
function nameToLabels(name: string): Uint8Array[] {
  const labels: Uint8Array[] = []
  let octets = 1
  for (const text of splitLabels(name)) {
    const label = unescapeLabel(text)
    if (label === null) throw new WireError(`name '${name}' has a malformed escape in label '${text}'`)
    if (label.length === 0) throw new WireError(`name '${name}' has an empty label`)
    if (label.length > MAX_LABEL_OCTETS) {
      const n = label.length
      throw new WireError(`name '${name}' has a label of ${n} octets, more than ${MAX_LABEL_OCTETS}`)
    }
    octets += label.length + 1
    if (octets > MAX_NAME_OCTETS) {
      throw new WireError(`name '${name}' is longer than ${MAX_NAME_OCTETS} octets`)
    }
    labels.push(label)
  }
  return labels
}

class Writer {
  buf = new Uint8Array(512)
  len = 0
  /** Offsets of name suffixes already written, keyed by their exact (case-sensitive) wire form. */
  readonly names = new Map<string, number>()

  /** `limit`: the most octets the message may take (at most 65,535). */
  constructor(public limit = MAX_MESSAGE_OCTETS) {}

  reserve(n: number): void {
    if (this.len + n > this.limit) {
      throw new OverflowError(`message would exceed ${this.limit} octets`)
    }
    if (this.len + n <= this.buf.length) return
    const next = new Uint8Array(Math.min(Math.max(this.buf.length * 2, this.len + n), MAX_MESSAGE_OCTETS))
    next.set(this.buf.subarray(0, this.len))
    this.buf = next
  }

  u8(v: number): void {
    this.reserve(1)
    this.buf[this.len++] = v
  }

  u16(v: number, what: string): void {
    checkInt(v, 0xffff, what)
    this.reserve(2)
    this.buf[this.len++] = v >> 8
    this.buf[this.len++] = v & 0xff
  }

  u32(v: number, what: string): void {
    checkInt(v, 0xffffffff, what)
    this.u16(Math.floor(v / 0x10000), what)
    this.u16(v % 0x10000, what)
  }

  raw(bytes: Uint8Array): void {
    this.reserve(bytes.length)
    this.buf.set(bytes, this.len)
    this.len += bytes.length
  }

  /**
   * Writes a name. `compress` turns a suffix already in the message into a pointer and offers
   * the suffixes written here to later names; `plain` only offers them; `null` does neither
   * (for rdata built outside a message).
   */
  name(name: string, compress: 'compress' | 'plain' | null): void {
    const labels = nameToLabels(name)
    const keys = labels.map((l) => String.fromCharCode(l.length, ...l))
    for (let i = 0; i < labels.length; i++) {
      const key = keys.slice(i).join('')
      const seen = compress === 'compress' ? this.names.get(key) : undefined
      if (seen !== undefined) {
        this.u16(0xc000 | seen, 'compression pointer')
        return
      }
      if (compress !== null && this.len < POINTER_LIMIT && !this.names.has(key)) this.names.set(key, this.len)
      const label = labels[i] ?? new Uint8Array()
      this.u8(label.length)
      this.raw(label)
    }
    this.u8(0)
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len)
  }

  /** Forgets everything written from offset `len` on, compression targets included. */
  rewind(len: number): void {
    this.len = len
    for (const [key, at] of this.names) if (at >= len) this.names.delete(key)
  }
}

function checkKind(rr: ResourceRecord): void {
  if (rr.data.kind === 'raw') return
  const expected = KIND_TYPES[rr.data.kind]
  if (rr.type !== expected) {
    throw new WireError(`record '${rr.name}' has type ${typeName(rr.type)} but ${rr.data.kind} data`)
  }
}

function encodeRData(w: Writer, d: RData): void {
  switch (d.kind) {
    case 'A': {
      const v = parseIPv4(d.address)
      if (v === null) throw new WireError(`A address '${d.address}' is not a dotted quad`)
      w.u32(v, 'A address')
      return
    }
    case 'AAAA': {
      const v = parseIPv6(d.address)
      if (v === null) throw new WireError(`AAAA address '${d.address}' is not an IPv6 address`)
      for (let shift = 120n; shift >= 0n; shift -= 8n) w.u8(Number((v >> shift) & 0xffn))
      return
    }
    case 'CNAME':
    case 'PTR':
    case 'NS':
      w.name(d.target, 'compress')
      return
    case 'SRV':
      w.u16(d.priority, 'SRV priority')
      w.u16(d.weight, 'SRV weight')
      w.u16(d.port, 'SRV port')
      // RFC 2782: the target must not be compressed, though later names may point into it.
      w.name(d.target, 'plain')
      return
    case 'TXT':
      for (const s of d.strings) {
        if (s.length > 255) throw new WireError(`TXT string of ${s.length} octets is longer than 255`)
        w.u8(s.length)
        for (let i = 0; i < s.length; i++) {
          const c = s.charCodeAt(i)
          if (c > 0xff) throw new WireError('TXT strings hold octets: characters must be U+0000–U+00FF')
          w.u8(c)
        }
      }
      return
    case 'SOA':
      w.name(d.mname, 'compress')
      w.name(d.rname, 'compress')
      w.u32(d.serial, 'SOA serial')
      w.u32(d.refresh, 'SOA refresh')
      w.u32(d.retry, 'SOA retry')
      w.u32(d.expire, 'SOA expire')
      w.u32(d.minimum, 'SOA minimum')
      return
    case 'OPT':
      for (const o of d.options) {
        w.u16(o.code, 'EDNS option code')
        w.u16(o.data.length, 'EDNS option length')
        w.raw(o.data)
      }
      return
    case 'raw':
      w.raw(d.bytes)
      return
  }
}

function encodeRecord(w: Writer, rr: ResourceRecord): void {
  checkKind(rr)
  w.name(rr.name, 'compress')
  w.u16(rr.type, 'record type')
  if (rr.data.kind === 'OPT') {
    w.u16(rr.data.udpSize, 'OPT UDP payload size')
    w.u32(optTtl(rr.data), 'OPT flags')
  } else {
    w.u16(rr.class, 'record class')
    w.u32(rr.ttl, 'record TTL')
  }
  const at = w.len
  w.u16(0, 'rdlength')
  encodeRData(w, rr.data)
  const rdlength = w.len - at - 2
  w.buf[at] = rdlength >> 8
  w.buf[at + 1] = rdlength & 0xff
}

/**
 * Encodes a message, compressing owner names, question names and the names in CNAME, PTR, NS
 * and SOA data (SRV targets stay uncompressed, per RFC 2782). Name case is kept as given.
 * For OPT records the class and TTL are derived from the OPT data. Throws `WireError` for
 * invalid names or field values, mismatched type and data kind, or a result over 65535 octets.
 */
export function encodeMessage(msg: Message): Uint8Array {
  const w = new Writer()
  encodeHeader(w, msg.header, [msg.questions.length, msg.answers.length, msg.authorities.length, msg.additionals.length])
  for (const q of msg.questions) encodeQuestion(w, q)
  for (const rr of [...msg.answers, ...msg.authorities, ...msg.additionals]) encodeRecord(w, rr)
  return w.finish()
}

function encodeHeader(w: Writer, h: Header, counts: number[]): void {
  w.u16(h.id, 'header id')
  checkInt(h.opcode, 15, 'header opcode')
  checkInt(h.rcode, 15, 'header rcode')
  w.u8((h.qr ? 0x80 : 0) | (h.opcode << 3) | (h.aa ? 0x04 : 0) | (h.tc ? 0x02 : 0) | (h.rd ? 0x01 : 0))
  w.u8((h.ra ? 0x80 : 0) | (h.ad ? 0x20 : 0) | (h.cd ? 0x10 : 0) | h.rcode)
  const names = ['question count', 'answer count', 'authority count', 'additional count']
  counts.forEach((n, i) => w.u16(n, names[i]!))
}

function encodeQuestion(w: Writer, q: Question): void {
  w.name(q.name, 'compress')
  w.u16(q.type, 'question type')
  w.u16(q.class, 'question class')
}

/** A response as `encodeResponse` wrote it: its octets, and the message they hold. */
export interface EncodedResponse {
  bytes: Uint8Array
  /** The message as written: only the records that fit, TC set if answers or authorities were left out. */
  message: Message
}

/**
 * Encodes a response in at most `limit` octets, leaving out what does not fit, as a DNS server
 * truncates: the questions and records are written in order (answers, then authorities, then
 * additionals), and the first one that does not fit, whole, ends the message, so additional
 * records are given up before any answer. The OPT record is always kept (RFC 6891 §7). TC is set
 * when a question, an answer or an authority record was left out; additional records left out
 * do not set it (RFC 2181 §9). Throws `WireError` only for what `encodeMessage` cannot encode
 * whatever the room (invalid names or field values).
 */
export function encodeResponse(msg: Message, limit = MAX_MESSAGE_OCTETS): EncodedResponse {
  const opts = msg.additionals.filter((r) => r.type === TYPE.OPT)
  const optOctets = opts.reduce((n, rr) => {
    const alone = new Writer()
    encodeRecord(alone, rr)
    return n + alone.len
  }, 0)
  const w = new Writer(Math.min(limit, MAX_MESSAGE_OCTETS) - optOctets)
  encodeHeader(w, msg.header, [0, 0, 0, 0])
  const sections = [msg.questions, msg.answers, msg.authorities, msg.additionals.filter((r) => r.type !== TYPE.OPT)] as const
  const written = [0, 0, 0, 0]
  fill: for (const [i, items] of sections.entries()) {
    for (const item of items) {
      const at = w.len
      try {
        if (i === 0) encodeQuestion(w, item as Question)
        else encodeRecord(w, item as ResourceRecord)
        written[i]!++
      } catch (e) {
        if (!(e instanceof OverflowError)) throw e
        w.rewind(at)
        break fill
      }
    }
  }
  w.limit = MAX_MESSAGE_OCTETS
  for (const rr of opts) encodeRecord(w, rr)
  const [qd = 0, an = 0, ns = 0, ar = 0] = written
  const tc = msg.header.tc || qd < msg.questions.length || an < msg.answers.length || ns < msg.authorities.length
  const bytes = w.finish()
  if (tc) bytes[2]! |= 0x02
  const counts = [qd, an, ns, ar + opts.length]
  counts.forEach((n, i) => {
    bytes[4 + 2 * i] = n >> 8
    bytes[5 + 2 * i] = n & 0xff
  })
  const kept = sections[3].slice(0, ar)
  return {
    bytes,
    message: {
      header: { ...msg.header, tc },
      questions: msg.questions.slice(0, qd),
      answers: msg.answers.slice(0, an),
      authorities: msg.authorities.slice(0, ns),
      additionals: [...kept, ...opts],
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Presentation

const utf8 = new TextEncoder()
const ddd = (b: number) => '\\' + String(b).padStart(3, '0')

/** One TXT string quoted: `"` and `\` backslash-escaped, octets outside space–`~` as `\DDD`. */
function quoteTxt(s: string): string {
  let out = '"'
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0
    if (c === 0x22 || c === 0x5c) out += '\\' + ch
    else if (c >= 0x20 && c < 0x7f) out += ch
    else if (c <= 0xff) out += ddd(c)
    else for (const b of utf8.encode(ch)) out += ddd(b)
  }
  return `${out}"`
}

function generic(bytes: Uint8Array): string {
  if (bytes.length === 0) return '\\# 0'
  return `\\# ${bytes.length} ${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join('')}`
}

/**
 * The record's data in RFC 1035 presentation form, as the DoH JSON `data` field carries it:
 * A as a dotted quad, AAAA in RFC 5952 form, CNAME/PTR/NS as an FQDN with its trailing dot,
 * SRV as `priority weight port target.`, TXT as space-separated quoted strings (`"` and `\`
 * escaped, other non-printables as `\DDD`), SOA as `mname. rname. serial refresh retry expire
 * minimum`, and OPT and raw data in the RFC 3597 generic form `\# length hex`.
 */
export function presentation(rr: ResourceRecord): string {
  const d = rr.data
  switch (d.kind) {
    case 'A':
      return d.address
    case 'AAAA': {
      const v = parseIPv6(d.address)
      return v === null ? d.address : formatIPv6(v)
    }
    case 'CNAME':
    case 'PTR':
    case 'NS':
      return fqdn(d.target)
    case 'SRV':
      return `${d.priority} ${d.weight} ${d.port} ${fqdn(d.target)}`
    case 'TXT':
      return d.strings.map(quoteTxt).join(' ')
    case 'SOA':
      return `${fqdn(d.mname)} ${fqdn(d.rname)} ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`
    case 'OPT': {
      const w = new Writer()
      encodeRData(w, d)
      return generic(w.finish())
    }
    case 'raw':
      return generic(d.bytes)
  }
}
