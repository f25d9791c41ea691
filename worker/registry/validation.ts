/**
 * Kubernetes' string validation rules: DNS names, label keys and values, annotations,
 * IANA service names and ports (IP addresses: ip-address.ts).
 * Messages are worded as apimachinery words them. Pure functions, no platform APIs.
 */
import { fieldError, type FieldError } from './errors'
import { MAX_LABELS } from './limits'

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
 * Validates a label map (at most MAX_LABELS pairs). As in Kubernetes, every error names the
 * map itself (e.g. `metadata.labels`) as the field, with the bad key or value as the invalid value.
 */
export function validateLabels(labels: Record<string, string>, field: string): FieldError[] {
  const count = Object.keys(labels).length
  // Past the limit the map is refused whole: checking every key of a huge map would only repeat the one error.
  if (count > MAX_LABELS) return [fieldError.tooMany(field, MAX_LABELS, count)]
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

/**
 * How Kubernetes words a field that an update may not change: apimachinery's
 * ValidateImmutableField says `field is immutable`; the fields Kubernetes allows to be
 * set once and then only kept (a service's `clusterIPs`) say `may not change once set`.
 */
export const IMMUTABLE = { field: 'field is immutable', onceSet: 'may not change once set' } as const

/** The error for a field an update changed though it may not: `<field>: Invalid value: <value>: <wording>`. */
export function mayNotChange(field: string, value: unknown, wording: (typeof IMMUTABLE)[keyof typeof IMMUTABLE] = IMMUTABLE.field): FieldError {
  return fieldError.invalid(field, value, wording)
}

/** A TCP/UDP/SCTP port number: 1–65535. */
export function isValidPort(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535
}
