/**
 * Domain names in presentation form: label escaping (`\.`, `\\`, `\DDD`), comparison keys,
 * reverse-lookup names (in-addr.arpa, ip6.arpa), CoreDNS-style dashed endpoint hostnames, and
 * query-name validation for the JSON API. Names are written without a trailing dot; `''` is the root.
 * Pure functions on Web-platform types only.
 */
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../registry/ip-address'

/** Most octets in one label. */
export const MAX_LABEL_OCTETS = 63
/** Most characters in a query name as typed (no trailing dot, escapes counted as one). */
export const MAX_QUERY_NAME_CHARS = 253

const BACKSLASH = 0x5c
const DOT = 0x2e

/**
 * Presentation form of one label's octets: `.` and `\` are backslash-escaped, other printable
 * ASCII (`!`–`~`) is kept, and every other octet (space, controls, bytes ≥ 0x7f) becomes `\DDD`.
 */
export function escapeLabel(bytes: Uint8Array): string {
  let out = ''
  for (const b of bytes) {
    if (b === DOT || b === BACKSLASH) out += '\\' + String.fromCharCode(b)
    else if (b > 0x20 && b < 0x7f) out += String.fromCharCode(b)
    else out += '\\' + String(b).padStart(3, '0')
  }
  return out
}

const utf8 = new TextEncoder()

/**
 * The octets of one presentation-form label: `\DDD` is a decimal octet (≤ 255), `\X` (X not a
 * digit) is `X` itself, and characters outside ASCII become their UTF-8 octets. Null for a
 * dangling `\`, a `\` followed by fewer than three digits, or a `\DDD` above 255. Length is not
 * checked here.
 */
export function unescapeLabel(label: string): Uint8Array | null {
  const out: number[] = []
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i)
    if (c === BACKSLASH) {
      if (i + 1 >= label.length) return null
      const d = label.slice(i + 1, i + 4)
      if (/^[0-9]/.test(d)) {
        const v = Number(d)
        if (!/^[0-9]{3}$/.test(d) || v > 255) return null
        out.push(v)
        i += 3
        continue
      }
      i++
    }
    const cp = label.codePointAt(i) ?? 0
    if (cp < 0x80) out.push(cp)
    else {
      const ch = String.fromCodePoint(cp)
      for (const b of utf8.encode(ch)) out.push(b)
      i += ch.length - 1
    }
  }
  return Uint8Array.from(out)
}

/** True if `s` ends in a separator dot: `a.` and `a\\.` do; in `a\.` the dot belongs to the label. */
function endsWithUnescapedDot(s: string): boolean {
  if (!s.endsWith('.')) return false
  let slashes = 0
  for (let i = s.length - 2; i >= 0 && s.charCodeAt(i) === BACKSLASH; i--) slashes++
  return slashes % 2 === 0
}

/**
 * A presentation-form name as an FQDN, for presentation output: a trailing dot is added unless
 * one is already there, and the root is `.`.
 */
export function fqdn(name: string): string {
  if (name === '' || name === '.') return '.'
  return endsWithUnescapedDot(name) ? name : `${name}.`
}

/** `s` without one trailing unescaped dot (a dot escaped as `\.` belongs to its label). */
export function stripTrailingDot(s: string): string {
  return endsWithUnescapedDot(s) ? s.slice(0, -1) : s
}

/**
 * Splits a presentation-form name on unescaped dots, keeping escapes inside each label
 * (`a\.b.c` → `['a\.b', 'c']`). One trailing dot is dropped; `''` and `'.'` (the root) give `[]`.
 * Empty labels (`a..b`, `.a`) are returned as `''` for the caller to reject.
 */
export function splitLabels(name: string): string[] {
  const text = stripTrailingDot(name)
  if (text === '') return []
  const labels: string[] = []
  let cur = ''
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? ''
    if (c === '\\') {
      cur += c + (text[i + 1] ?? '')
      i++
    } else if (c === '.') {
      labels.push(cur)
      cur = ''
    } else cur += c
  }
  labels.push(cur)
  return labels
}

function asciiLower(bytes: Uint8Array): Uint8Array {
  return bytes.map((b) => (b >= 0x41 && b <= 0x5a ? b + 0x20 : b))
}

/**
 * A comparison key for a name: one trailing dot dropped, ASCII letters lower-cased (DNS names
 * compare case-insensitively, RFC 4343) and escapes rewritten canonically, so `Web.Example.`,
 * `web.example` and `w\101b.example` all give `web.example`. Names with broken escapes are only
 * trimmed and lower-cased.
 */
export function normalizeName(s: string): string {
  const labels = splitLabels(s)
  const out: string[] = []
  for (const label of labels) {
    const bytes = unescapeLabel(label)
    if (bytes === null) return stripTrailingDot(s).replace(/[A-Z]/g, (c) => c.toLowerCase())
    out.push(escapeLabel(asciiLower(bytes)))
  }
  return out.join('.')
}

const NIBBLES = 32

/**
 * The reverse-lookup name of an address, without a trailing dot: `10.3.0.1` →
 * `1.0.3.10.in-addr.arpa`, and any IPv6 text → 32 nibbles then `ip6.arpa`. Null if `ip` is not
 * an address.
 */
export function reverseName(ip: string): string | null {
  const v4 = parseIPv4(ip)
  if (v4 !== null) {
    const octets = [v4 >>> 24, (v4 >>> 16) & 255, (v4 >>> 8) & 255, v4 & 255]
    return `${octets.reverse().join('.')}.in-addr.arpa`
  }
  const v6 = parseIPv6(ip)
  if (v6 === null) return null
  const hex = v6.toString(16).padStart(NIBBLES, '0')
  return `${[...hex].reverse().join('.')}.ip6.arpa`
}

const V4_SUFFIX = '.in-addr.arpa'
const V6_SUFFIX = '.ip6.arpa'
const REVERSE_OCTET = /^(0|[1-9][0-9]{0,2})$/

/**
 * The address a reverse-lookup name stands for, in canonical text (`1.0.3.10.in-addr.arpa.` →
 * `10.3.0.1`). Case-insensitive, one trailing dot allowed. Null unless the name covers a whole
 * address: exactly 4 decimal octets (no leading zeros) or exactly 32 hex nibbles.
 */
export function parseReverse(name: string): string | null {
  const n = normalizeName(name)
  if (n.endsWith(V4_SUFFIX)) {
    const parts = n.slice(0, -V4_SUFFIX.length).split('.')
    if (parts.length !== 4) return null
    let v = 0
    for (const part of parts.reverse()) {
      if (!REVERSE_OCTET.test(part) || Number(part) > 255) return null
      v = v * 256 + Number(part)
    }
    return formatIPv4(v)
  }
  if (n.endsWith(V6_SUFFIX)) {
    const parts = n.slice(0, -V6_SUFFIX.length).split('.')
    if (parts.length !== NIBBLES || !parts.every((p) => /^[0-9a-f]$/.test(p))) return null
    return formatIPv6(BigInt(`0x${parts.reverse().join('')}`))
  }
  return null
}

/**
 * The hostname CoreDNS gives an endpoint that has none of its own: the canonical address with
 * separators turned into dashes. IPv4 `10.3.0.1` → `10-3-0-1`; IPv6 `5678:abcd::1` →
 * `5678-abcd--1`, and a result ending in `-` (`fd00::` → `fd00--0`) gets a `0` appended.
 * IPv4-mapped text (`::ffff:1.2.3.4`) has its dots dashed too. Null if `ip` is not an address.
 */
export function dashedIP(ip: string): string | null {
  const v4 = parseIPv4(ip)
  if (v4 !== null) return formatIPv4(v4).replaceAll('.', '-')
  const v6 = parseIPv6(ip)
  if (v6 === null) return null
  const dashed = formatIPv6(v6).replace(/[:.]/g, '-')
  return dashed.endsWith('-') ? `${dashed}0` : dashed
}

/**
 * Checks a `name` parameter of the JSON API. After one trailing dot is removed the name must be
 * 1–253 characters (escapes such as `\.` or `\065` count as one), every label 1–63 octets, no
 * empty labels, printable ASCII only (internationalized names go in as punycode), and escapes
 * well formed. Returns the reason it is invalid, or null if it is valid.
 */
export function validateQueryName(s: string): string | null {
  const labels = splitLabels(s)
  if (labels.length === 0) return 'name must not be empty'
  if (/[^\x21-\x7e]/.test(s)) {
    return (
      'name must be printable ASCII: escape other octets as \\DDD and write internationalized names ' +
      'as punycode'
    )
  }
  let total = labels.length - 1
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i] ?? ''
    if (label === '') {
      return i === 0 ? 'name must not start with a dot' : 'name must not contain empty labels'
    }
    const bytes = unescapeLabel(label)
    if (bytes === null) return `label '${label}' has a malformed escape`
    if (bytes.length > MAX_LABEL_OCTETS) return `label '${label}' is longer than ${MAX_LABEL_OCTETS} octets`
    total += bytes.length
  }
  if (total > MAX_QUERY_NAME_CHARS) return `name is longer than ${MAX_QUERY_NAME_CHARS} characters`
  return null
}
