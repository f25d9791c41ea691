/**
 * The messages of gnostic's OpenAPI v2 protobuf (github.com/google/gnostic-models,
 * openapiv2/OpenAPIv2.proto, package openapi.v2), as the JSON document's keys map onto
 * them. Every message there numbers its fields 1, 2, 3, … in the order they are listed,
 * so a message here is the list of its fields in that order, each `jsonKey:type` (type
 * `string` when left out): a scalar (`bool`, `double`, `int64`), `any` (an Any, the value
 * as YAML text), another message by name, `[]` for a repeated field; `x-` is the
 * `vendor_extension` field (the object's `x-…` keys, each a NamedAny), and `*:T` the
 * field of Named entries (`name`, `value`) holding every other key of a JSON object.
 * A `list` is a message whose one repeated field 1 holds a JSON value or array of values
 * (TypeItem, ItemsItem, StringArray); a `oneOf` picks the field of a oneof by the value.
 */

export type MessageSpec = { fields: string[] } | { list: string } | { oneOf: (value: Record<string, unknown> | boolean) => [number, string] }

const VALIDATIONS = ['maximum:double', 'exclusiveMaximum:bool', 'minimum:double', 'exclusiveMinimum:bool', 'maxLength:int64', 'minLength:int64', 'pattern', 'maxItems:int64', 'minItems:int64', 'uniqueItems:bool', 'enum:any[]', 'multipleOf:double']
const PRIMITIVE = ['type', 'format', 'items:PrimitivesItems', 'collectionFormat', 'default:any', ...VALIDATIONS]
const NON_BODY = ['required:bool', 'in', 'description', 'name']
const NON_BODY_IN = ['header', 'formData', 'query', 'path']
const OAUTH2_FLOWS: Record<string, number> = { implicit: 3, password: 4, application: 5, accessCode: 6 }

const isRef = (v: unknown) => typeof v === 'object' && v !== null && '$ref' in v
const field = (v: unknown, key: string) => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined)

export const MESSAGES: Record<string, MessageSpec> = {
  Document: {
    fields: [
      'swagger', 'info:Info', 'host', 'basePath', 'schemes:string[]', 'consumes:string[]', 'produces:string[]', 'paths:Paths', 'definitions:Definitions',
      'parameters:ParameterDefinitions', 'responses:ResponseDefinitions', 'security:SecurityRequirement[]', 'securityDefinitions:SecurityDefinitions',
      'tags:Tag[]', 'externalDocs:ExternalDocs', 'x-',
    ],
  },
  Info: { fields: ['title', 'version', 'description', 'termsOfService', 'contact:Contact', 'license:License', 'x-'] },
  Contact: { fields: ['name', 'url', 'email', 'x-'] },
  License: { fields: ['name', 'url', 'x-'] },
  Tag: { fields: ['name', 'description', 'externalDocs:ExternalDocs', 'x-'] },
  ExternalDocs: { fields: ['description', 'url', 'x-'] },
  Paths: { fields: ['x-', '*:PathItem'] },
  PathItem: {
    fields: ['$ref', 'get:Operation', 'put:Operation', 'post:Operation', 'delete:Operation', 'options:Operation', 'head:Operation', 'patch:Operation', 'parameters:ParametersItem[]', 'x-'],
  },
  Operation: {
    fields: [
      'tags:string[]', 'summary', 'description', 'externalDocs:ExternalDocs', 'operationId', 'produces:string[]', 'consumes:string[]',
      'parameters:ParametersItem[]', 'responses:Responses', 'schemes:string[]', 'deprecated:bool', 'security:SecurityRequirement[]', 'x-',
    ],
  },
  ParametersItem: { oneOf: (v) => (isRef(v) ? [2, 'JsonReference'] : [1, 'Parameter']) },
  Parameter: { oneOf: (v) => (field(v, 'in') === 'body' ? [1, 'BodyParameter'] : [2, 'NonBodyParameter']) },
  NonBodyParameter: {
    oneOf: (v) => {
      const at = NON_BODY_IN.indexOf(String(field(v, 'in')))
      if (at < 0) throw new Error(`a parameter "in" ${JSON.stringify(field(v, 'in'))}: not one of body, ${NON_BODY_IN.join(', ')}`)
      return [at + 1, `${NON_BODY_IN[at]!.charAt(0).toUpperCase()}${NON_BODY_IN[at]!.slice(1)}ParameterSubSchema`]
    },
  },
  BodyParameter: { fields: ['description', 'name', 'in', 'required:bool', 'schema:Schema', 'x-'] },
  HeaderParameterSubSchema: { fields: [...NON_BODY, ...PRIMITIVE, 'x-'] },
  FormDataParameterSubSchema: { fields: [...NON_BODY, 'allowEmptyValue:bool', ...PRIMITIVE, 'x-'] },
  QueryParameterSubSchema: { fields: [...NON_BODY, 'allowEmptyValue:bool', ...PRIMITIVE, 'x-'] },
  PathParameterSubSchema: { fields: [...NON_BODY, ...PRIMITIVE, 'x-'] },
  PrimitivesItems: { fields: [...PRIMITIVE, 'x-'] },
  JsonReference: { fields: ['$ref', 'description'] },
  Responses: { fields: ['*:ResponseValue', 'x-'] },
  ResponseValue: { oneOf: (v) => (isRef(v) ? [2, 'JsonReference'] : [1, 'Response']) },
  Response: { fields: ['description', 'schema:SchemaItem', 'headers:Headers', 'examples:Examples', 'x-'] },
  SchemaItem: { oneOf: (v) => (field(v, 'type') === 'file' ? [2, 'FileSchema'] : [1, 'Schema']) },
  FileSchema: { fields: ['format', 'title', 'description', 'default:any', 'required:string[]', 'type', 'readOnly:bool', 'externalDocs:ExternalDocs', 'example:any', 'x-'] },
  Headers: { fields: ['*:Header'] },
  Header: { fields: [...PRIMITIVE, 'description', 'x-'] },
  Examples: { fields: ['*:any'] },
  Definitions: { fields: ['*:Schema'] },
  ParameterDefinitions: { fields: ['*:Parameter'] },
  ResponseDefinitions: { fields: ['*:Response'] },
  SecurityRequirement: { fields: ['*:StringArray'] },
  StringArray: { list: 'string' },
  SecurityDefinitions: { fields: ['*:SecurityDefinitionsItem'] },
  SecurityDefinitionsItem: {
    oneOf: (v) => {
      const type = field(v, 'type')
      if (type === 'basic') return [1, 'BasicAuthenticationSecurity']
      if (type === 'apiKey') return [2, 'ApiKeySecurity']
      const flow = String(field(v, 'flow'))
      if (type === 'oauth2' && OAUTH2_FLOWS[flow]) return [OAUTH2_FLOWS[flow]!, `Oauth2${flow.charAt(0).toUpperCase()}${flow.slice(1)}Security`]
      throw new Error(`a security definition of type ${JSON.stringify(type)}: not basic, apiKey or oauth2 with a known flow`)
    },
  },
  BasicAuthenticationSecurity: { fields: ['type', 'description', 'x-'] },
  ApiKeySecurity: { fields: ['type', 'name', 'in', 'description', 'x-'] },
  Oauth2ImplicitSecurity: { fields: ['type', 'flow', 'scopes:Oauth2Scopes', 'authorizationUrl', 'description', 'x-'] },
  Oauth2PasswordSecurity: { fields: ['type', 'flow', 'scopes:Oauth2Scopes', 'tokenUrl', 'description', 'x-'] },
  Oauth2ApplicationSecurity: { fields: ['type', 'flow', 'scopes:Oauth2Scopes', 'tokenUrl', 'description', 'x-'] },
  Oauth2AccessCodeSecurity: { fields: ['type', 'flow', 'scopes:Oauth2Scopes', 'authorizationUrl', 'tokenUrl', 'description', 'x-'] },
  Oauth2Scopes: { fields: ['*:string'] },
  Schema: {
    fields: [
      '$ref', 'format', 'title', 'description', 'default:any', 'multipleOf:double', 'maximum:double', 'exclusiveMaximum:bool', 'minimum:double',
      'exclusiveMinimum:bool', 'maxLength:int64', 'minLength:int64', 'pattern', 'maxItems:int64', 'minItems:int64', 'uniqueItems:bool',
      'maxProperties:int64', 'minProperties:int64', 'required:string[]', 'enum:any[]', 'additionalProperties:AdditionalPropertiesItem', 'type:TypeItem',
      'items:ItemsItem', 'allOf:Schema[]', 'properties:Properties', 'discriminator', 'readOnly:bool', 'xml:Xml', 'externalDocs:ExternalDocs', 'example:any', 'x-',
    ],
  },
  AdditionalPropertiesItem: { oneOf: (v) => (typeof v === 'boolean' ? [2, 'bool'] : [1, 'Schema']) },
  TypeItem: { list: 'string' },
  ItemsItem: { list: 'Schema' },
  Properties: { fields: ['*:Schema'] },
  Xml: { fields: ['name', 'namespace', 'prefix', 'attribute:bool', 'wrapped:bool', 'x-'] },
}
