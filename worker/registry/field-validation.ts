/**
 * Server-side field validation (`?fieldValidation=Strict|Warn|Ignore`), as Kubernetes'
 * API server does it on create, update and patch: a body's unknown fields (what the
 * kind's schema would drop) and duplicate fields (what JSON.parse hides by keeping the
 * last) are an error under Strict, warnings under Warn (the default when the parameter
 * is absent, as in Kubernetes) and nothing under Ignore. Messages are worded as
 * apimachinery's strict decoding errors: `unknown field "spec.foo"`,
 * `duplicate field "metadata.name"`, and for YAML, as its YAML decoder words them:
 * `yaml: unmarshal errors:\n  line 3: key "name" already set in map` (one error listing
 * every duplicate key; under Warn, one warning per key).
 */
import { MAX_JSON_DEPTH } from '../json'
import { RegistryError, badRequest, fieldError, invalidOptions } from './errors'
import type { JsonSchema } from './json-schema'
import { fieldPath } from './meta'
import type { PatchType } from './patch'
import type { OptionsKind } from './write-options'

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore'

const DIRECTIVES: readonly string[] = ['Ignore', 'Strict', 'Warn']

/** The options a write's `fieldValidation` belongs to, as the 422 for a bad value names them. */
export type FieldValidationOptions = Exclude<OptionsKind, 'DeleteOptions'>

/**
 * The directive of a write: absent or empty is Kubernetes' default, Warn; any other
 * unknown value is a 422 naming `fieldValidation`, as write-options.ts answers for `dryRun`.
 */
export function fieldValidationOf(value: string | undefined, options: FieldValidationOptions): FieldValidation {
  if (value === undefined || value === '') return 'Warn'
  if (DIRECTIVES.includes(value)) return value as FieldValidation
  throw invalidOptions(options, [fieldError.notSupported('fieldValidation', value, ['', ...DIRECTIVES])])
}

/** A key set twice in one map of a YAML body: the line of its second setting. */
export interface YamlDuplicate {
  line: number
  key: string | number | boolean
}

/** What parsing a body hid: the JSON text it came from (scanned for duplicate keys), or the keys its YAML set twice. */
export type BodySource = { json: string } | { yamlDuplicates: YamlDuplicate[] }

const YAML_ERRORS = 'yaml: unmarshal errors:'

/** The duplicate fields of a body, as problems. */
function duplicates(source: BodySource | undefined): string[] {
  if (!source) return []
  if ('json' in source) return duplicateFields(source.json)
  if (!source.yamlDuplicates.length) return []
  const lines = source.yamlDuplicates.slice(0, MAX_PROBLEMS).map(({ line, key }) => `line ${line}: key ${typeof key === 'string' ? JSON.stringify(key) : String(key)} already set in map`)
  return [[YAML_ERRORS, ...lines].join('\n  ')]
}

/** The warnings a problem makes under Warn: one per line of a YAML decoding error (as apiserver splits it), else itself. */
export function warningsOf(problem: string): string[] {
  if (!problem.startsWith(`${YAML_ERRORS}\n`)) return [problem]
  return problem.slice(YAML_ERRORS.length + 1).split('\n').map((line) => line.trim())
}

/** The unknown and duplicate fields of an object's body (its parsed value and, when known, its source). */
export function objectProblems(schema: JsonSchema, body: unknown, source?: BodySource): string[] {
  return [...duplicates(source), ...unknownFields(schema, body, [], false)]
}

/**
 * The unknown and duplicate fields of a patch. A merge or strategic merge patch has the
 * object's shape (strategic-merge directives, keys starting with `$`, are not fields);
 * a JSON patch names its fields in each operation's path, and its values are checked
 * at that place in the schema.
 */
export function patchProblems(schema: JsonSchema, type: PatchType | string, patch: unknown, source?: BodySource): string[] {
  const duplicated = duplicates(source)
  if (type !== 'json') return [...duplicated, ...unknownFields(schema, patch, [], type !== 'merge')]
  if (!Array.isArray(patch)) return duplicated
  const unknown: string[] = []
  for (const op of patch as { path?: unknown; value?: unknown; op?: unknown }[]) {
    if (!op || typeof op !== 'object' || typeof op.path !== 'string' || op.op === 'remove') continue
    const path = op.path.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    const at = schemaAt(schema, path)
    if (at.unknown) unknown.push(unknownField(at.path))
    else if ('value' in op && at.schema) unknown.push(...unknownFields(at.schema, op.value, at.path, false))
  }
  return [...duplicated, ...unknown]
}

/** The body of a Strict write's 400, as Kubernetes words a strict decoding error. */
export function strictDecodingError(kind: string, version: string, problems: string[]): RegistryError {
  return badRequest(`${kind} in version "${version}" cannot be handled as a ${kind}: strict decoding error: ${problems.join(', ')}`)
}

/**
 * A problem as an HTTP `Warning` header value (warn-code 299), its text quoted as Go's
 * strconv.Quote does and client-go unquotes it, with every character outside ASCII
 * escaped (`\u00e9`, `\U0001f600`) so that the value is a valid header whatever the
 * field names hold.
 */
export function warningHeader(problem: string): string {
  let quoted = ''
  for (const ch of JSON.stringify(problem)) {
    const code = ch.codePointAt(0)!
    if (code < 0x7f) quoted += ch
    else if (code >= 0xd800 && code <= 0xdfff) quoted += '\\ufffd' // a lone surrogate
    else if (code > 0xffff) quoted += `\\U${code.toString(16).padStart(8, '0')}`
    else quoted += `\\u${code.toString(16).padStart(4, '0')}`
  }
  return `299 - ${quoted}`
}

const unknownField = (path: PropertyKey[]) => `unknown field ${JSON.stringify(fieldPath(path))}`

/** At most this many problems are reported for one body. */
const MAX_PROBLEMS = 100

/** The schema of the object or array a value holds: the branch of a union that fits it. */
function branchFor(schema: JsonSchema, value: object): JsonSchema | undefined {
  const branches = schema.anyOf ?? schema.oneOf ?? schema.allOf
  if (!branches) return schema
  const wanted = Array.isArray(value) ? 'array' : 'object'
  return branches.find((b) => b.type === wanted || (wanted === 'object' && b.properties !== undefined))
}

function unknownFields(schema: JsonSchema, value: unknown, path: PropertyKey[], directives: boolean): string[] {
  const out: string[] = []
  // Depth first, in the body's order; a null schema marks an unknown field.
  const stack: [JsonSchema | null, unknown, PropertyKey[]][] = [[schema, value, path]]
  while (stack.length && out.length < MAX_PROBLEMS) {
    const [s0, v, p] = stack.pop()!
    if (s0 === null) {
      out.push(unknownField(p))
      continue
    }
    if (v === null || typeof v !== 'object' || p.length > MAX_JSON_DEPTH) continue
    const s = branchFor(s0, v)
    if (!s) continue
    if (Array.isArray(v)) {
      if (s.items) for (let i = v.length - 1; i >= 0; i--) stack.push([s.items, v[i], [...p, i]])
      continue
    }
    const keys = Object.keys(v)
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!
      if (directives && key.startsWith('$')) continue
      const child = (v as Record<string, unknown>)[key]
      const prop = s.properties && Object.hasOwn(s.properties, key) ? s.properties[key] : undefined
      if (prop) stack.push([prop, child, [...p, key]])
      else if (typeof s.additionalProperties === 'object') stack.push([s.additionalProperties, child, [...p, key]])
      else if (s.properties || s.additionalProperties === false) stack.push([null, child, [...p, key]])
    }
  }
  return out
}

/** Where a JSON pointer lands in a schema: the schema there, or that it names an unknown field. */
function schemaAt(schema: JsonSchema, pointer: string[]): { schema?: JsonSchema; path: PropertyKey[]; unknown: boolean } {
  let s: JsonSchema | undefined = schema
  const path: PropertyKey[] = []
  for (const part of pointer) {
    if (!s) return { path, unknown: false }
    const items: JsonSchema | undefined = branchFor(s, [])?.items
    const object: JsonSchema | undefined = branchFor(s, {})
    if (items && (/^\d+$/.test(part) || part === '-')) {
      path.push(part === '-' ? 0 : Number(part))
      s = items
    } else if (object?.properties && Object.hasOwn(object.properties, part)) {
      path.push(part)
      s = object.properties[part]
    } else if (object && typeof object.additionalProperties === 'object') {
      path.push(part)
      s = object.additionalProperties
    } else if (object?.properties) {
      return { path: [...path, part], unknown: true }
    } else return { path, unknown: false }
  }
  return { schema: s, path, unknown: false }
}

interface Frame {
  array: boolean
  path: PropertyKey[]
  keys: Set<string>
  key: string
  index: number
  expectKey: boolean
}

/**
 * The keys that appear twice in one object of a JSON text (which must be valid JSON),
 * scanned without recursion.
 */
export function duplicateFields(text: string): string[] {
  const out: string[] = []
  const stack: Frame[] = []
  const valuePath = (): PropertyKey[] => {
    const top = stack[stack.length - 1]
    if (!top) return []
    return top.array ? [...top.path, top.index] : [...top.path, top.key]
  }
  for (let i = 0; i < text.length && out.length < MAX_PROBLEMS; i++) {
    const ch = text[i]!
    if (ch === '{' || ch === '[') {
      if (stack.length >= MAX_JSON_DEPTH) return out
      stack.push({ array: ch === '[', path: valuePath(), keys: new Set(), key: '', index: 0, expectKey: ch === '{' })
    } else if (ch === '}' || ch === ']') stack.pop()
    else if (ch === ',') {
      const top = stack[stack.length - 1]
      if (top?.array) top.index++
      else if (top) top.expectKey = true
    } else if (ch === '"') {
      let j = i + 1
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1
      const top = stack[stack.length - 1]
      if (top && !top.array && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string
        if (top.keys.has(key)) out.push(`duplicate field ${JSON.stringify(fieldPath([...top.path, key]))}`)
        top.keys.add(key)
        top.key = key
        top.expectKey = false
      }
      i = j
    }
  }
  return out
}
