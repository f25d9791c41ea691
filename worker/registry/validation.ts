/**
 * Kubernetes' string validation rules: DNS names, label keys and values, annotations,
 * IANA service names, and strict IP address parsing and canonical formatting.
 * Messages are worded as apimachinery words them. Pure functions, no platform APIs.
 */
import { fieldError, type FieldError } from './errors'

const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?'
const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`
const DNS1035_LABEL_FMT = '[a-z]([-a-z0-9]*[a-z0-9])?'
const QUALIFIED_NAME_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]'
const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`

const DNS1123_LABEL_RE = new RegExp(`^${DNS1123_LABEL_FMT}$`)
const DNS1123_SUBDOMAIN_RE = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`)
const DNS1035_LABEL_RE = new RegExp(`^${DNS1035_LABEL_FMT}$`)
const QUALIFIED_NAME_RE = new RegExp(`^${QUALIFIED_NAME_FMT}$`)
const LABEL_VALUE_RE = new RegExp(`^${LABEL_VALUE_FMT}$`)

/** Maximum length of a DNS-1123 or DNS-1035 label, and of a label name or value. */
export const LABEL_MAX_LENGTH = 63
/** Maximum length of a DNS-1123 subdomain. */
export const SUBDOMAIN_MAX_LENGTH = 253
/** Maximum total size of an object's annotations, keys plus values, in bytes. */
export const ANNOTATIONS_MAX_BYTES = 256 * 1024

/** `msg (e.g. 'a',  or 'b', regex used for validation is 're')`, as apimachinery's RegexError. */
function regexError(msg: string, re: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${re}')`
  const list = examples.map((e) => `'${e}', `).join(' or ')
  return `${msg} (e.g. ${list}regex used for validation is '${re}')`
}

function maxLenError(max: number): string {
  return `must be no more than ${max} characters`
}

const EMPTY_ERROR = 'must be non-empty'

const DNS1123_LABEL_MSG = regexError(
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
  DNS1123_LABEL_FMT,
  'my-name',
  '123-abc',
)
const DNS1123_SUBDOMAIN_MSG = regexError(
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
  DNS1123_SUBDOMAIN_FMT,
  'example.com',
)
const DNS1035_LABEL_MSG = regexError(
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
  DNS1035_LABEL_FMT,
  'my-name',
  'abc-123',
)
const QUALIFIED_NAME_MSG = regexError(
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
  QUALIFIED_NAME_FMT,
  'MyName',
  'my.name',
  '123-abc',
)
const LABEL_VALUE_MSG = regexError(
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
  LABEL_VALUE_FMT,
  'MyValue',
  'my_value',
  '12345',
)

/** Length of `s` in UTF-8 bytes, which is what Kubernetes' limits count. */
export function utf8Length(s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4
        i++
      } else n += 3
    } else n += 3
  }
  return n
}

function dns1123LabelErrors(s: string): string[] {
  const errs: string[] = []
  if (utf8Length(s) > LABEL_MAX_LENGTH) errs.push(maxLenError(LABEL_MAX_LENGTH))
  if (!DNS1123_LABEL_RE.test(s)) errs.push(DNS1123_LABEL_MSG)
  return errs
}

function dns1123SubdomainErrors(s: string): string[] {
  const errs: string[] = []
  if (utf8Length(s) > SUBDOMAIN_MAX_LENGTH) errs.push(maxLenError(SUBDOMAIN_MAX_LENGTH))
  if (!DNS1123_SUBDOMAIN_RE.test(s)) errs.push(DNS1123_SUBDOMAIN_MSG)
  return errs
}

function dns1035LabelErrors(s: string): string[] {
  const errs: string[] = []
  if (utf8Length(s) > LABEL_MAX_LENGTH) errs.push(maxLenError(LABEL_MAX_LENGTH))
  if (!DNS1035_LABEL_RE.test(s)) errs.push(DNS1035_LABEL_MSG)
  return errs
}

/** True if `s` is a DNS-1123 label: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters. */
export function isDns1123Label(s: string): boolean {
  return dns1123LabelErrors(s).length === 0
}

/** True if `s` is a DNS-1123 subdomain: dot-separated DNS-1123 labels, at most 253 characters. */
export function isDns1123Subdomain(s: string): boolean {
  return dns1123SubdomainErrors(s).length === 0
}

/** True if `s` is a DNS-1035 label: `[a-z]([-a-z0-9]*[a-z0-9])?`, at most 63 characters. */
export function isDns1035Label(s: string): boolean {
  return dns1035LabelErrors(s).length === 0
}

/**
 * Why `s` is not an IANA_SVC_NAME (RFC 6335), as apimachinery's IsValidPortName words it:
 * at most 15 characters of `[-a-z0-9]`, at least one letter, no `--`, no leading or trailing `-`.
 */
function ianaSvcNameErrors(s: string): string[] {
  const errs: string[] = []
  if (utf8Length(s) > 15) errs.push(maxLenError(15))
  if (!/^[-a-z0-9]+$/.test(s)) {
    errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)')
  }
  if (!/[a-z]/.test(s)) errs.push('must contain at least one letter (a-z)')
  if (s.includes('--')) errs.push('must not contain consecutive hyphens')
  if (s.startsWith('-') || s.endsWith('-')) errs.push('must not begin or end with a hyphen')
  return errs
}

/** True if `s` is an IANA service name, the form of container port names and named target ports. */
export function isIanaSvcName(s: string): boolean {
  return ianaSvcNameErrors(s).length === 0
}

/** Field errors for a named port (container port name, string targetPort) that is not an IANA_SVC_NAME. */
export function validateIanaSvcName(value: string, field: string): FieldError[] {
  return ianaSvcNameErrors(value).map((msg) => fieldError.invalid(field, value, msg))
}

/** Which DNS rule an object name must follow. */
export type NameKind = 'dns1123label' | 'dns1123subdomain' | 'dns1035label'

const NAME_RULES: Record<NameKind, (s: string) => string[]> = {
  dns1123label: dns1123LabelErrors,
  dns1123subdomain: dns1123SubdomainErrors,
  dns1035label: dns1035LabelErrors,
}

/**
 * Validates a name against one DNS rule. A missing or empty name is `Required value`;
 * a non-string is a type error; otherwise there is one `Invalid value` per broken rule.
 */
export function validateName(kind: NameKind, name: unknown, field: string): FieldError[] {
  if (name === undefined || name === null || name === '') return [fieldError.required(field)]
  if (typeof name !== 'string') return [fieldError.type(field, 'must be a string')]
  return NAME_RULES[kind](name).map((msg) => fieldError.invalid(field, name, msg))
}

/** apimachinery's IsQualifiedName: `[prefix/]name`, prefix a DNS-1123 subdomain, name ≤63. */
function qualifiedNameErrors(value: string): string[] {
  const errs: string[] = []
  const parts = value.split('/')
  let name: string
  if (parts.length === 1) {
    name = value
  } else if (parts.length === 2) {
    const prefix = parts[0] ?? ''
    name = parts[1] ?? ''
    if (prefix.length === 0) errs.push(`prefix part ${EMPTY_ERROR}`)
    else for (const msg of dns1123SubdomainErrors(prefix)) errs.push(`prefix part ${msg}`)
  } else {
    return [
      `a qualified name ${QUALIFIED_NAME_MSG} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
    ]
  }
  if (name.length === 0) errs.push(`name part ${EMPTY_ERROR}`)
  else if (utf8Length(name) > LABEL_MAX_LENGTH) errs.push(`name part ${maxLenError(LABEL_MAX_LENGTH)}`)
  if (!QUALIFIED_NAME_RE.test(name)) errs.push(`name part ${QUALIFIED_NAME_MSG}`)
  return errs
}

function labelValueErrors(value: string): string[] {
  const errs: string[] = []
  if (utf8Length(value) > LABEL_MAX_LENGTH) errs.push(maxLenError(LABEL_MAX_LENGTH))
  if (!LABEL_VALUE_RE.test(value)) errs.push(LABEL_VALUE_MSG)
  return errs
}

/** Reasons `key` is not a valid label key (empty if it is); used by the selector parser. */
export function labelKeyProblems(key: string): string[] {
  return qualifiedNameErrors(key)
}

/** Reasons `value` is not a valid label value (empty if it is); used by the selector parser. */
export function labelValueProblems(value: string): string[] {
  return labelValueErrors(value)
}

/** One `Invalid value` per broken rule of a label key (`[prefix/]name`). */
export function validateLabelKey(key: string, field: string): FieldError[] {
  return qualifiedNameErrors(key).map((msg) => fieldError.invalid(field, key, msg))
}

/** One `Invalid value` per broken rule of a label value (≤63, may be empty). */
export function validateLabelValue(value: string, field: string): FieldError[] {
  return labelValueErrors(value).map((msg) => fieldError.invalid(field, value, msg))
}

/**
 * Validates a label map. As in Kubernetes, every error names the map itself (e.g.
 * `metadata.labels`) as the field, with the bad key or value as the invalid value.
 */
export function validateLabels(labels: Record<string, string>, field: string): FieldError[] {
  const errs: FieldError[] = []
  for (const [key, value] of Object.entries(labels)) {
    errs.push(...validateLabelKey(key, field))
    if (typeof value === 'string') errs.push(...validateLabelValue(value, field))
    else errs.push(fieldError.type(field, `label ${JSON.stringify(key)} must be a string`))
  }
  return errs
}

/**
 * Validates an annotation map: keys follow the label-key rule checked case-insensitively
 * (as Kubernetes lowercases them first), and keys plus values may total at most 256 KiB.
 */
export function validateAnnotations(annotations: Record<string, string>, field: string): FieldError[] {
  const errs: FieldError[] = []
  let total = 0
  for (const [key, value] of Object.entries(annotations)) {
    for (const msg of qualifiedNameErrors(key.toLowerCase())) errs.push(fieldError.invalid(field, key, msg))
    if (typeof value !== 'string') {
      errs.push(fieldError.type(field, `annotation ${JSON.stringify(key)} must be a string`))
      continue
    }
    total += utf8Length(key) + utf8Length(value)
  }
  if (total > ANNOTATIONS_MAX_BYTES) errs.push(fieldError.tooLong(field, ANNOTATIONS_MAX_BYTES))
  return errs
}

// ---------------------------------------------------------------------------------------------
// IP addresses

const DECIMAL_OCTET = /^(0|[1-9][0-9]{0,2})$/

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
  const v4 = parseIPv4(s)
  if (v4 !== null) return formatIPv4(v4)
  const v6 = parseIPv6(s)
  if (v6 !== null) return formatIPv6(v6)
  return null
}

/** A TCP/UDP/SCTP port number: 1–65535. */
export function isValidPort(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535
}
