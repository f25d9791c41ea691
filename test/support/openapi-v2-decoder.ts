/**
 * Reads an openapi.v2.Document (gnostic's OpenAPI v2 protobuf) back into the swagger
 * JSON it stands for, driven by gnostic's own OpenAPIv2.proto (gnostic-openapiv2.proto
 * beside this file, copied unchanged from github.com/google/gnostic-models) and by the
 * wire format alone, not by the server's tables, so a field number, a wire type or a
 * message the encoder gets wrong shows up as a difference. The way back to JSON is the
 * one gnostic's compiler goes forward: Named entries (`name`, `value`) are an object's
 * keys, `vendor_extension` its `x-` keys, an Any its YAML text parsed, a oneof message its
 * one member, snake_case field names camelCase, `_ref` `$ref`; TypeItem and ItemsItem
 * hold one value where the JSON has one, and an array otherwise.
 */
import { parse as parseYaml } from 'yaml'
// The .proto's text, bundled by Vite (`?raw`) so that the decoder runs in workerd as well as on Node.
import PROTO from './gnostic-openapiv2.proto?raw'

interface ProtoField {
  name: string
  type: string
  number: number
  repeated: boolean
  oneof: boolean
}

/** The messages of the .proto: each field's name, type, number, whether repeated, whether in a oneof. */
export const PROTO_MESSAGES: Map<string, ProtoField[]> = (() => {
  const messages = new Map<string, ProtoField[]>()
  const text = PROTO.replace(/\/\/.*$/gm, '')
  for (const [, name, body] of text.matchAll(/message\s+(\w+)\s*\{((?:[^{}]|\{[^{}]*\})*)\}/g)) {
    const fields: ProtoField[] = []
    const oneofs = [...body!.matchAll(/oneof\s+\w+\s*\{([^{}]*)\}/g)].map((m) => m[1]!)
    for (const [, repeated, type, field, number] of body!.matchAll(/(repeated\s+)?([\w.]+)\s+(\w+)\s*=\s*(\d+)\s*;/g)) {
      fields.push({ name: field!, type: type!, number: Number(number), repeated: !!repeated, oneof: oneofs.some((o) => new RegExp(`\\b${field}\\s*=`).test(o)) })
    }
    messages.set(name!, fields)
  }
  return messages
})()

type Decoded = Record<string, unknown>

/** The fields of one message, by .proto field name (repeated ones as arrays); a message field set to an empty message is `{}`. */
export function decodeMessage(bytes: Uint8Array, message: string): Decoded {
  const fields = PROTO_MESSAGES.get(message)
  if (!fields) throw new Error(`no message ${message} in the .proto`)
  const out: Decoded = {}
  let pos = 0
  const varint = (): bigint => {
    let value = 0n
    for (let shift = 0n; ; shift += 7n) {
      if (pos >= bytes.length) throw new Error(`${message}: truncated varint`)
      const b = bytes[pos++]!
      value |= BigInt(b & 0x7f) << shift
      if (b < 0x80) return value
    }
  }
  while (pos < bytes.length) {
    const tag = varint()
    const number = Number(tag >> 3n)
    const wire = Number(tag & 7n)
    const field = fields.find((f) => f.number === number)
    if (!field) throw new Error(`${message} has no field ${number}`)
    let value: unknown
    if (wire === 0) {
      const v = varint()
      if (field.type === 'bool' && v <= 1n) value = v === 1n
      else if (field.type === 'int64') value = Number(BigInt.asIntN(64, v))
      else throw new Error(`${message}.${field.name} (${field.type}): a varint`)
    } else if (wire === 1) {
      if (field.type !== 'double') throw new Error(`${message}.${field.name} (${field.type}): a fixed64`)
      value = new DataView(bytes.buffer, bytes.byteOffset + pos, 8).getFloat64(0, true)
      pos += 8
    } else if (wire === 2) {
      const length = Number(varint())
      if (pos + length > bytes.length) throw new Error(`${message}.${field.name}: truncated`)
      const chunk = bytes.subarray(pos, pos + length)
      pos += length
      if (field.type === 'string') value = new TextDecoder('utf-8', { fatal: true }).decode(chunk)
      else if (PROTO_MESSAGES.has(field.type)) value = decodeMessage(chunk, field.type)
      else throw new Error(`${message}.${field.name} (${field.type}): length-delimited`)
    } else throw new Error(`${message}.${field.name}: wire type ${wire}`)
    if (field.repeated) out[field.name] = [...((out[field.name] as unknown[]) ?? []), value]
    else if (field.name in out) throw new Error(`${message}.${field.name} written twice`)
    else out[field.name] = value
  }
  if (fields.length && fields.every((f) => f.oneof) && Object.keys(out).length !== 1) throw new Error(`${message}: a oneof with ${Object.keys(out).length} members set`)
  return out
}

const ONE_OR_MANY = new Set(['TypeItem', 'ItemsItem'])
const camel = (name: string) => (name === '_ref' ? '$ref' : name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()))

/** A decoded message as the JSON it stands for. */
export function toJson(decoded: Decoded, message: string): unknown {
  const fields = PROTO_MESSAGES.get(message)!
  if (message === 'Any') return parseYaml(String(decoded.yaml ?? ''), { version: '1.1' })
  const valueOf = (field: ProtoField, v: unknown): unknown => (PROTO_MESSAGES.has(field.type) ? toJson(v as Decoded, field.type) : v)
  if (fields.every((f) => f.oneof)) {
    const field = fields.find((f) => f.name in decoded)!
    return valueOf(field, decoded[field.name])
  }
  if (ONE_OR_MANY.has(message) || message === 'StringArray') {
    const [field] = fields
    const values = ((decoded[field!.name] as unknown[]) ?? []).map((v) => valueOf(field!, v))
    return ONE_OR_MANY.has(message) && values.length === 1 ? values[0] : values
  }
  const out: Record<string, unknown> = {}
  for (const field of fields) {
    if (!(field.name in decoded)) continue
    const value = decoded[field.name]
    if (field.repeated && field.type.startsWith('Named')) {
      const valueField = PROTO_MESSAGES.get(field.type)!.find((f) => f.name === 'value')!
      for (const entry of value as Decoded[]) out[String(entry.name ?? '')] = entry.value === undefined ? zeroOf(valueField) : valueOf(valueField, entry.value)
    } else out[camel(field.name)] = field.repeated ? (value as unknown[]).map((v) => valueOf(field, v)) : valueOf(field, value)
  }
  return out
}

function zeroOf(field: ProtoField): unknown {
  if (field.type === 'string') return ''
  return PROTO_MESSAGES.has(field.type) ? toJson({}, field.type) : undefined
}

/** The swagger JSON document an openapi.v2.Document's bytes stand for. */
export function decodeOpenApiV2(bytes: Uint8Array): Record<string, unknown> {
  return toJson(decodeMessage(bytes, 'Document'), 'Document') as Record<string, unknown>
}
