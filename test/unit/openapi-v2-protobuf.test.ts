/**
 * The OpenAPI v2 document in gnostic's protobuf: its bytes, read back with a decoder that
 * knows only gnostic's OpenAPIv2.proto and the wire format (test/support), are the JSON
 * document, less what proto3 cannot carry (an empty string, a zero, false); what kubectl
 * reads from it is there (each PATCH operation's fieldValidation parameter and its
 * x-kubernetes-group-version-kind, the definitions with theirs, properties in order); and
 * the protobuf writer writes the wire format's own examples.
 */
import { describe, expect, it } from 'vitest'
import { parse as parseYaml } from 'yaml'
import { openApiV2 } from '../../worker/api/openapi-documents'
import { MESSAGES } from '../../worker/api/openapi-v2-messages'
import { openApiV2Protobuf } from '../../worker/api/openapi-v2-protobuf'
import { ProtobufWriter } from '../../worker/http/protobuf-writer'
import { KINDS } from '../../worker/registry/kinds'
import { PROTO_MESSAGES, decodeMessage, decodeOpenApiV2 } from '../support/openapi-v2-decoder'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

/** Keys whose values an Any holds (as YAML), so zeros in them stay. */
const anyValued = (key: string) => key === 'default' || key === 'example' || key === 'enum' || key.startsWith('x-')

/**
 * The JSON document as proto3 carries it: empty strings, zeros, false and empty arrays
 * left out, except in Any values, in arrays and as `additionalProperties`.
 */
function proto3(value: unknown, key = ''): unknown {
  if (anyValued(key)) return value
  if (Array.isArray(value)) return value.map((v) => proto3(v))
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      if ((v === '' || v === 0 || v === false || (Array.isArray(v) && v.length === 0)) && k !== 'additionalProperties') continue
      out[k] = proto3(v, k)
    }
    return out
  }
  return value
}

describe('the protobuf writer', () => {
  it('writes the wire format as protobuf documents it', () => {
    expect(hex(new ProtobufWriter().int(1, 150).finish())).toBe('089601')
    expect(hex(new ProtobufWriter().string(2, 'testing').finish())).toBe('120774657374696e67')
    expect(hex(new ProtobufWriter().int(1, -1).finish())).toBe('08ffffffffffffffffff01')
    expect(hex(new ProtobufWriter().double(3, 1.5).finish())).toBe('19000000000000f83f')
    expect(hex(new ProtobufWriter().bool(4, false).bool(5, true).finish())).toBe('20002801')
    expect(hex(new ProtobufWriter().message(3, (m) => m.int(1, 150)).message(4, () => {}).finish())).toBe('1a0308960122' + '00')
    const long = 'x'.repeat(300)
    expect(hex(new ProtobufWriter().string(16, long).finish())).toBe(`8201ac02${Buffer.from(long).toString('hex')}`)
  })

  it('refuses what protobuf cannot carry', () => {
    expect(() => new ProtobufWriter().int(0, 1)).toThrow(/field number 0/)
    expect(() => new ProtobufWriter().int(1, 1.5)).toThrow(/1.5/)
  })
})

describe('the OpenAPI v2 document in protobuf', () => {
  const json = openApiV2(KINDS, { title: 'Switchboard', version: 'v1.32.0+switchboard.0.1.0' }) as any
  const bytes = openApiV2Protobuf(json)
  const decoded = decodeOpenApiV2(bytes) as any

  it('reads back as the JSON document', () => {
    expect(decoded).toEqual(proto3(JSON.parse(JSON.stringify(json))))
    expect(Object.keys(decoded.paths)).toEqual(Object.keys(json.paths))
    expect(Object.keys(decoded.definitions)).toEqual(Object.keys(json.definitions))
    const service = 'io.k8s.api.core.v1.Service'
    expect(Object.keys(decoded.definitions[service].properties.spec.properties)).toEqual(Object.keys(json.definitions[service].properties.spec.properties))
  })

  it('carries what kubectl reads: each PATCH with fieldValidation and its group-version-kind, as YAML', () => {
    const document = decodeMessage(bytes, 'Document') as any
    const patches = (document.paths.path as any[]).filter((p) => p.value.patch).map((p) => p.value.patch)
    expect(patches.length).toBeGreaterThan(0)
    const kinds = new Set<string>()
    for (const patch of patches) {
      const gvk = (patch.vendor_extension as any[]).find((e) => e.name === 'x-kubernetes-group-version-kind')
      const value = parseYaml(gvk.value.yaml, { version: '1.1' }) as Record<string, string>
      kinds.add(`${value.group}/${value.version}/${value.kind}`)
      const names = (patch.parameters as any[]).map((p) => p.parameter?.non_body_parameter?.query_parameter_sub_schema?.name).filter(Boolean)
      expect(names).toContain('fieldValidation')
    }
    expect(kinds).toContain('/v1/Service')
    expect(kinds).toContain('/v1/Namespace')
    expect(kinds).not.toContain('/v1/Endpoints')
  })

  it('tags each definition with its group-version-kind, as kubectl looks kinds up', () => {
    const document = decodeMessage(bytes, 'Document') as any
    const service = (document.definitions.additional_properties as any[]).find((d) => d.name === 'io.k8s.api.core.v1.Endpoints').value
    const gvk = service.vendor_extension.find((e: any) => e.name === 'x-kubernetes-group-version-kind')
    expect(parseYaml(gvk.value.yaml, { version: '1.1' })).toEqual([{ group: '', kind: 'Endpoints', version: 'v1' }])
    expect(service.type).toEqual({ value: ['object'] })
  })
})

describe('encoding a document', () => {
  const encode = (doc: object) => decodeOpenApiV2(openApiV2Protobuf(doc)) as any
  const schemaDoc = (schema: object) => ({ swagger: '2.0', info: { title: 't', version: '1' }, paths: {}, definitions: { s: schema } })

  it('writes an empty properties object and additionalProperties: false, which readers tell apart from none', () => {
    const doc = encode(schemaDoc({ type: 'object', properties: {}, additionalProperties: false }))
    expect(doc.definitions.s).toEqual({ type: 'object', properties: {}, additionalProperties: false })
    const raw = decodeMessage(openApiV2Protobuf(schemaDoc({ type: 'object' })), 'Document') as any
    expect(raw.definitions.additional_properties[0].value.properties).toBeUndefined()
  })

  it('keeps values YAML would read as another type, and numbers, as they are', () => {
    const schema = { type: 'string', enum: ['yes', 'on', '1.0', 'null', ''], default: 'no', minimum: -2.5, maxLength: 63, 'x-note': { a: ['b', true, 0] } }
    expect(encode(schemaDoc(schema)).definitions.s).toEqual(schema)
  })

  it('writes every kind of parameter and response, and $ref items', () => {
    const doc = {
      swagger: '2.0',
      info: { title: 't', version: '1' },
      paths: {
        '/x/{id}': {
          parameters: [{ $ref: '#/parameters/id' }],
          get: {
            parameters: [
              { name: 'h', in: 'header', type: 'string' },
              { name: 'f', in: 'formData', type: 'array', items: { type: 'integer' }, collectionFormat: 'csv' },
              { name: 'b', in: 'body', schema: { type: 'array', items: { $ref: '#/definitions/s' } } },
            ],
            responses: { '200': { description: 'OK', schema: { type: 'file' }, headers: { 'X-A': { type: 'string' } } }, default: { $ref: '#/responses/e' } },
          },
        },
      },
      parameters: { id: { name: 'id', in: 'path', required: true, type: 'string' } },
      responses: { e: { description: 'error' } },
      definitions: { s: { type: 'object', properties: { a: { type: ['string', 'null'] } } } },
      security: [{ key: [] }],
      securityDefinitions: { key: { type: 'apiKey', name: 'Authorization', in: 'header' } },
      tags: [{ name: 'x' }],
    }
    expect(encode(doc)).toEqual(doc)
  })

  it('names a key the protobuf has no field for, rather than dropping it', () => {
    expect(() => openApiV2Protobuf(schemaDoc({ type: 'string', nullable: true }))).toThrow('/definitions/s: openapi.v2.Schema has no field for nullable')
    expect(() => openApiV2Protobuf({ swagger: '2.0', paths: { '/a': { get: { parameters: [{ name: 'c', in: 'cookie' }] } } } })).toThrow(/cookie/)
  })

  it('the .proto it is read with is gnostic\'s', () => {
    expect(PROTO_MESSAGES.get('Schema')!.find((f) => f.name === 'vendor_extension')!.number).toBe(31)
    expect(PROTO_MESSAGES.get('NonBodyParameter')!.every((f) => f.oneof)).toBe(true)
  })
})

describe("the encoder's messages", () => {
  const camel = (name: string) => (name === '_ref' ? '$ref' : name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()))
  const typeOf = (proto: string) => (proto === 'Any' ? 'any' : proto)

  it("are gnostic's, field by field (number, name, type, repeated), also those no document of ours uses", () => {
    const unused = new Set(['Any', 'Default', 'VendorExtension'])
    for (const [name, fields] of PROTO_MESSAGES) {
      if (unused.has(name) || name.startsWith('Named')) continue
      const spec = MESSAGES[name]
      expect(spec, name).toBeDefined()
      if ('oneOf' in spec!) expect(fields.every((f) => f.oneof), name).toBe(true)
      else if ('list' in spec!) expect(fields.map((f) => [f.number, f.repeated, typeOf(f.type)]), name).toEqual([[1, true, spec.list]])
      else {
        const ours = spec!.fields.map((f, i) => {
          const [key, type = 'string'] = f.split(':') as [string, string?]
          return [i + 1, key, type]
        })
        const theirs = fields.map((f) => {
          if (f.name === 'vendor_extension') return [f.number, 'x-', 'string']
          if (f.repeated && f.type.startsWith('Named')) return [f.number, '*', typeOf(PROTO_MESSAGES.get(f.type)!.find((v) => v.name === 'value')!.type)]
          return [f.number, camel(f.name), `${typeOf(f.type)}${f.repeated ? '[]' : ''}`]
        })
        expect(ours, name).toEqual(theirs)
      }
    }
  })
})
