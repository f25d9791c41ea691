/**
 * Protobuf request bodies (`application/vnd.kubernetes.protobuf`), as kubectl's typed
 * commands send them (client-go sends built-in types as protobuf and has no fallback to
 * JSON on 415 for it): the `k8s\0` magic, then a runtime.Unknown envelope whose typeMeta
 * names the type and whose raw bytes are the object. The object becomes the JSON object
 * the JSON path gets: Go's protobuf encoding writes every non-pointer field, so empty
 * strings, zeros, false and empty messages are left out, as Go's JSON leaves them out
 * (`omitempty`). A field the message does not have, a field that holds a message the
 * registry does not decode, a wrong wire type or truncated bytes is a 400 naming the field;
 * a type other than those protobuf-types.ts lists is a 415. Answers stay JSON.
 */
import { setOwn } from '../json'
import { RegistryError, badRequest, fieldError } from '../registry/errors'
import { PROTOBUF_KINDS, Unknown, type Field, type Message } from './protobuf-types'

export const PROTOBUF = 'application/vnd.kubernetes.protobuf'

const MAGIC = [0x6b, 0x38, 0x73, 0x00] // "k8s\0"
const VARINT = 0
const LENGTH_DELIMITED = 2
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** The JSON object a protobuf body holds. */
export function decodeProtobuf(bytes: Uint8Array): Record<string, unknown> {
  if (bytes.length < MAGIC.length || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw badRequest('a protobuf body must start with the Kubernetes protobuf envelope ("k8s\\x00")')
  }
  let typeMeta: Record<string, unknown> = {}
  let raw: Uint8Array = new Uint8Array()
  const envelope = new Reader(bytes.subarray(MAGIC.length))
  while (!envelope.done()) {
    const { number, wire } = envelope.tag()
    if (number === 2) raw = envelope.bytes(wire, 'raw')
    else {
      const field = Unknown.fields[number]
      if (!field) throw unknownField(Unknown, number, '')
      const value = readField(envelope, wire, field, field.json)
      if (field.json === 'typeMeta') typeMeta = (value ?? {}) as Record<string, unknown>
      else if (value !== undefined) throw badRequest(`a protobuf body with ${field.json} "${String(value)}" is not supported`)
    }
  }
  const apiVersion = String(typeMeta.apiVersion ?? '')
  const kind = String(typeMeta.kind ?? '')
  const message = PROTOBUF_KINDS[`${apiVersion}/${kind}`]
  if (!message) {
    const accepted = Object.keys(PROTOBUF_KINDS).join(', ')
    throw new RegistryError('UnsupportedMediaType', `a protobuf body is accepted for ${accepted} only (got "${apiVersion}/${kind}"); send application/json`)
  }
  return { apiVersion, kind, ...decodeMessage(raw, message, '') }
}

/**
 * A message's fields as JSON. A message field that appears more than once merges, as
 * protobuf merges it: its occurrences are decoded as one message, the concatenation of
 * their bytes (in which the last scalar wins, messages merge and repeated fields append).
 */
function decodeMessage(bytes: Uint8Array, message: Message, path: string): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const pieces = new Map<Field, Uint8Array[]>()
  const reader = new Reader(bytes)
  while (!reader.done()) {
    const { number, wire } = reader.tag()
    const field = message.fields[number]
    if (!field) throw unknownField(message, number, path)
    const at = path ? `${path}.${field.json}` : field.json
    if (field.repeated) {
      const list = out[field.json] as unknown[] | undefined
      const value = readField(reader, wire, field, `${at}[${list?.length ?? 0}]`) ?? (typeof field.type === 'object' ? {} : undefined)
      if (value === undefined) continue
      if (list) list.push(value)
      else out[field.json] = [value]
    } else if (field.type === 'stringMap') {
      const [key, value] = readField(reader, wire, field, at) as [string, string]
      setOwn((out[field.json] ??= {}) as Record<string, unknown>, key, value)
    } else if (isMessage(field)) {
      const seen = pieces.get(field)
      const piece = reader.bytes(wire, at)
      if (seen) seen.push(piece)
      else {
        pieces.set(field, [piece])
        out[field.json] = undefined // keeps the field's place among the others
      }
    } else {
      const value = readField(reader, wire, field, at)
      if (value === undefined) delete out[field.json]
      else out[field.json] = value
    }
  }
  for (const [field, parts] of pieces) {
    const at = path ? `${path}.${field.json}` : field.json
    const value = messageValue(parts.length === 1 ? parts[0]! : concat(parts), field, at)
    if (value === undefined) delete out[field.json]
    else out[field.json] = value
  }
  return out
}

/** Whether a field holds a message on the wire (one the registry decodes into a JSON value). */
function isMessage(field: Field): boolean {
  return typeof field.type === 'object' || field.type === 'time' || field.type === 'intOrString'
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}

/** One field's value; undefined for Go's zero value (an empty string, 0, false, an empty message). */
function readField(reader: Reader, wire: number, field: Field, at: string): unknown {
  const type = field.type
  if (isMessage(field)) return messageValue(reader.bytes(wire, at), field, at)
  switch (type) {
    case 'string': {
      const value = text(reader.bytes(wire, at), at)
      return value === '' && !field.repeated ? undefined : value
    }
    case 'int32':
    case 'int64': {
      const value = reader.int(wire, type === 'int32' ? 32 : 64, at)
      return value === 0 ? undefined : value
    }
    case 'bool':
      return reader.int(wire, 64, at) !== 0 || undefined
    case 'stringMap': {
      const entry = decodeMessage(reader.bytes(wire, at), MAP_ENTRY, at)
      return [String(entry.key ?? ''), String(entry.value ?? '')]
    }
    case 'unsupported': {
      if (reader.bytes(wire, at).length === 0) return undefined
      throw badRequest(`${at}: this field is not supported in a protobuf body; send application/json`, [fieldError.invalid(at, '<protobuf>', 'not supported in a protobuf body')])
    }
  }
}

/** The JSON value of a message field's bytes; undefined for an empty message. */
function messageValue(bytes: Uint8Array, field: Field, at: string): unknown {
  const type = field.type
  if (typeof type === 'object') {
    const value = decodeMessage(bytes, type, at)
    return Object.keys(value).length ? value : undefined
  }
  if (type === 'time') {
    const { seconds, nanos } = decodeMessage(bytes, TIME, at) as { seconds?: number; nanos?: number }
    if (!seconds && !nanos) return undefined
    const time = new Date((seconds ?? 0) * 1000)
    if (Number.isNaN(time.getTime())) throw badRequest(`${at}: a time out of range`, [fieldError.invalid(at, seconds, 'a time out of range')])
    return time.toISOString().replace(/\.\d{3}Z$/, 'Z')
  }
  const { type: kind, intVal, strVal } = decodeMessage(bytes, INT_OR_STRING, at) as { type?: number; intVal?: number; strVal?: string }
  return kind === 1 ? strVal ?? '' : intVal
}

const MAP_ENTRY: Message = { name: 'MapEntry', fields: { 1: { json: 'key', type: 'string' }, 2: { json: 'value', type: 'string' } } }
const TIME: Message = { name: 'Time', fields: { 1: { json: 'seconds', type: 'int64' }, 2: { json: 'nanos', type: 'int32' } } }
const INT_OR_STRING: Message = {
  name: 'IntOrString',
  fields: { 1: { json: 'type', type: 'int64' }, 2: { json: 'intVal', type: 'int32' }, 3: { json: 'strVal', type: 'string' } },
}

function text(bytes: Uint8Array, at: string): string {
  try {
    return utf8.decode(bytes)
  } catch {
    throw badRequest(`${at || 'the protobuf body'}: a string that is not valid UTF-8`)
  }
}

function unknownField(message: Message, number: number, path: string): RegistryError {
  const at = `${path ? `${path}.` : ''}<field ${number}>`
  return badRequest(`${at}: unknown protobuf field ${number} in ${message.name}`, [fieldError.invalid(at, number, `${message.name} has no field ${number}`)])
}

/** The protobuf wire format: varints and length-delimited fields, bounds-checked. */
class Reader {
  private pos = 0
  constructor(private readonly buf: Uint8Array) {}

  done(): boolean {
    return this.pos >= this.buf.length
  }

  tag(): { number: number; wire: number } {
    const tag = this.varint('a field tag')
    const number = Number(tag >> 3n)
    if (number === 0 || number > 536_870_911) throw badRequest(`the protobuf body has an invalid field number ${number}`)
    return { number, wire: Number(tag & 7n) }
  }

  int(wire: number, bits: 32 | 64, at: string): number {
    this.expect(wire, VARINT, at)
    const value = BigInt.asIntN(bits, this.varint(at))
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) throw badRequest(`${at}: the number is too large`)
    return Number(value)
  }

  bytes(wire: number, at: string): Uint8Array {
    this.expect(wire, LENGTH_DELIMITED, at)
    const length = Number(this.varint(at))
    if (length > this.buf.length - this.pos) throw badRequest(`${at || 'the protobuf body'}: truncated (a length runs past the end of the body)`)
    const out = this.buf.subarray(this.pos, this.pos + length)
    this.pos += length
    return out
  }

  private varint(at: string): bigint {
    let value = 0n
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.buf.length) throw badRequest(`${at || 'the protobuf body'}: truncated (a number runs past the end of the body)`)
      const byte = this.buf[this.pos++]!
      value |= BigInt(byte & 0x7f) << shift
      if (byte < 0x80) return value
    }
    throw badRequest(`${at || 'the protobuf body'}: a number longer than 10 bytes`)
  }

  private expect(wire: number, want: number, at: string): void {
    if (wire !== want) throw badRequest(`${at}: protobuf wire type ${wire} where ${want} was expected`, [fieldError.invalid(at, wire, `wire type ${want} expected`)])
  }
}
