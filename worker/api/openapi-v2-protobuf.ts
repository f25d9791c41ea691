/**
 * The OpenAPI v2 document in protobuf, as Kubernetes serves `/openapi/v2` to a client
 * that asks for it so (kubectl does, to validate files and to learn which kinds take
 * `fieldValidation`): the JSON document's objects encoded as gnostic's
 * openapi.v2.Document (openapi-v2-messages.ts), field by field as gnostic compiles a JSON
 * document: an `x-` key becomes a NamedAny holding its value as YAML text, and so do
 * `default`, `example` and each `enum` value. As Go writes proto3, empty strings, zeros,
 * false and empty arrays are left out, except the boolean of a oneof
 * (`additionalProperties: false`); an object that is there is written even when empty
 * (`properties: {}` is a fact a reader asks about). A key the message has no field for
 * is an error naming it, never a silent loss.
 */
import { stringify } from 'yaml'
import { ProtobufWriter } from '../http/protobuf-writer'
import { MESSAGES } from './openapi-v2-messages'

/**
 * The protobuf media type of `/openapi/v2`, as Kubernetes answers with it; clients ask
 * for it in this spelling or in the older one with `@` (kubectl's), which Go's MIME
 * parser cannot read back as a Content-Type.
 */
export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf'
export const OPENAPI_V2_PROTOBUF_OLD = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf'

/** The document (a swagger 2.0 JSON object) as the bytes of an openapi.v2.Document. */
export function openApiV2Protobuf(document: object): Uint8Array<ArrayBuffer> {
  const w = new ProtobufWriter()
  writeMessage(w, document, 'Document', '')
  return w.finish()
}

type Json = Record<string, unknown>

interface Field {
  number: number
  key: string
  type: string
  repeated: boolean
}

/** A message's fields, read from their `key:type` spelling once. */
const compiled = new Map<string, { fields: Field[]; keys: Set<string>; extensions: boolean }>()
function fieldsOf(name: string, spec: { fields: string[] }) {
  let out = compiled.get(name)
  if (!out) {
    const fields = spec.fields.map((f, i) => {
      const [key, type = 'string'] = f.split(':') as [string, string?]
      return { number: i + 1, key, type: type.replace(/\[\]$/, ''), repeated: type.endsWith('[]') }
    })
    out = { fields, keys: new Set(fields.map((f) => f.key)), extensions: spec.fields.includes('x-') }
    compiled.set(name, out)
  }
  return out
}

function writeMessage(w: ProtobufWriter, value: unknown, name: string, at: string): void {
  const spec = MESSAGES[name]
  if (!spec) throw new Error(`openapi.v2: no message ${name}`)
  if ('list' in spec) {
    for (const [i, item] of (Array.isArray(value) ? value : [value]).entries()) writeValue(w, 1, spec.list, item, Array.isArray(value) ? `${at}/${i}` : at, true)
    return
  }
  if ('oneOf' in spec) {
    const [number, type] = spec.oneOf(objectOrBool(value, name, at))
    writeValue(w, number, type, value, at, true)
    return
  }
  const object = objectAt(value, name, at)
  const { fields, keys, extensions } = fieldsOf(name, spec)
  const named = keys.has('*')
  for (const k of Object.keys(object)) {
    if (!keys.has(k) && !named && !(extensions && k.startsWith('x-'))) throw new Error(`${at || '/'}: openapi.v2.${name} has no field for ${k}`)
  }
  for (const { number, key, type, repeated } of fields) {
    if (key === 'x-') {
      for (const [k, v] of Object.entries(object)) if (k.startsWith('x-')) w.message(number, (entry) => entry.string(1, k).message(2, (any) => any.string(2, yamlText(v))))
    } else if (key === '*') {
      for (const [k, v] of Object.entries(object)) {
        if (extensions && k.startsWith('x-')) continue
        w.message(number, (entry) => writeValue(entry.string(1, k), 2, type, v, `${at}/${escape(k)}`))
      }
    } else if (object[key] !== undefined) {
      const v = object[key]
      if (!repeated) writeValue(w, number, type, v, `${at}/${key}`)
      else if (!Array.isArray(v)) throw new Error(`${at}/${key}: an array expected, for openapi.v2.${name}`)
      else v.forEach((item, j) => writeValue(w, number, type, item, `${at}/${key}/${j}`, true))
    }
  }
}

/** One field; a scalar's zero value is left out unless `always` (an element of a repeated field, a oneof's member). */
function writeValue(w: ProtobufWriter, number: number, type: string, value: unknown, at: string, always = false): void {
  switch (type) {
    case 'string':
      if (typeof value !== 'string') throw new Error(`${at}: a string expected`)
      if (value !== '' || always) w.string(number, value)
      return
    case 'bool':
      if (typeof value !== 'boolean') throw new Error(`${at}: a boolean expected`)
      if (value || always) w.bool(number, value)
      return
    case 'double':
      if (typeof value !== 'number' || !Number.isFinite(value)) throw new Error(`${at}: a number expected`)
      if (value !== 0 || always) w.double(number, value)
      return
    case 'int64':
      if (!Number.isSafeInteger(value)) throw new Error(`${at}: an integer expected`)
      if (value !== 0 || always) w.int(number, value as number)
      return
    case 'any':
      w.message(number, (any) => any.string(2, yamlText(value)))
      return
    default:
      w.message(number, (nested) => writeMessage(nested, value, type, at))
  }
}

/** A value as YAML text, as gnostic keeps it in an Any (YAML 1.1 quoting, as Go's YAML reads it). */
function yamlText(value: unknown): string {
  return stringify(value, { version: '1.1', lineWidth: 0 })
}

function objectAt(value: unknown, name: string, at: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${at || '/'}: an object expected, for openapi.v2.${name}`)
  return value as Json
}

function objectOrBool(value: unknown, name: string, at: string): Json | boolean {
  return typeof value === 'boolean' ? value : objectAt(value, name, at)
}

/** A key as a JSON pointer spells it. */
function escape(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1')
}
