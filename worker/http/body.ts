/**
 * Request bodies, for the API and DNS alike: the content type each verb takes, a size
 * limit enforced while reading (whatever Content-Length says; 1 MiB for objects), and
 * parsing: JSON, and for a create or replace also YAML (yaml.ts) and Kubernetes protobuf
 * (protobuf.ts), each read into the same JSON value. Every failure is a Status.
 */
import type { Context } from 'hono'
import { MAX_JSON_DEPTH } from '../json'
import { RegistryError, badRequest } from '../registry/errors'
import type { BodySource } from '../registry/field-validation'
import type { PatchType } from '../registry/patch'
import { PROTOBUF, decodeProtobuf } from './protobuf'
import { readBody } from './read-body'
import { parseYaml } from './yaml'

export const MAX_BODY_BYTES = 1024 * 1024

/** The most values a YAML body may hold once its aliases are expanded: as many as the largest JSON body can (`0,` each). */
export const MAX_YAML_VALUES = MAX_BODY_BYTES / 2

/** Server-side apply's body: an apply configuration in YAML (or JSON, which is YAML). */
const APPLY_PATCH = 'application/apply-patch+yaml'

const PATCH_TYPES: Record<string, PatchType> = {
  'application/merge-patch+json': 'merge',
  'application/json-patch+json': 'json',
  'application/strategic-merge-patch+json': 'strategic',
  [APPLY_PATCH]: 'apply',
}

const YAML = 'application/yaml'
const OBJECT_TYPES = ['application/json', YAML, PROTOBUF]

/** The body of a create or replace: JSON, YAML or protobuf, as the JSON value it holds. */
export async function readObject(c: Context): Promise<unknown> {
  const type = mediaType(c)
  if (type === 'application/json') return parse(await readText(c))
  if (type === YAML) return yaml(await readText(c))
  if (type === PROTOBUF) return decodeProtobuf(await readAll(c))
  throw unsupported(type, OBJECT_TYPES)
}

/** The body of a PATCH and how to apply it. */
export async function readPatch(c: Context): Promise<{ type: PatchType; patch: unknown }> {
  const media = mediaType(c)
  const type = PATCH_TYPES[media]
  if (!type) throw unsupported(media, Object.keys(PATCH_TYPES))
  if (type === 'apply') return { type, patch: yaml(await readText(c)) }
  return { type, patch: parse(await readText(c)) }
}

/** Whether a PATCH is a server-side apply (known from its content type before its body is read). */
export function isApplyPatch(c: Context): boolean {
  return mediaType(c) === APPLY_PATCH
}

/** The optional DeleteOptions body of a DELETE. */
export async function readDeleteOptions(c: Context): Promise<unknown> {
  const text = await readText(c)
  if (/^[ \t\n\r]*$/.test(text)) return undefined
  const type = mediaType(c)
  if (type && type !== 'application/json') throw unsupported(type, ['application/json'])
  return parse(text)
}

function mediaType(c: Context): string {
  return (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
}

function unsupported(type: string, supported: string[]): RegistryError {
  const got = type ? `"${type}"` : 'no content type'
  return new RegistryError(
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${supported.join(', ')} (got ${got})`,
  )
}

function tooLarge(): RegistryError {
  return new RegistryError('RequestEntityTooLarge', `the request body is larger than the limit of ${MAX_BODY_BYTES} bytes`)
}

async function readAll(c: Context): Promise<Uint8Array> {
  const bytes = await readBody(c, MAX_BODY_BYTES)
  if (!bytes) throw tooLarge()
  if (bytes.length === 0) throw badRequest('the request body is empty')
  return bytes
}

async function readText(c: Context): Promise<string> {
  const bytes = await readBody(c, MAX_BODY_BYTES)
  if (!bytes) throw tooLarge()
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes)
  } catch {
    throw badRequest('the request body is not valid UTF-8')
  }
}

function nonEmpty(text: string): string {
  if (/^[ \t\n\r]*$/.test(text)) throw badRequest('the request body is empty')
  return text
}

function parse(text: string): unknown {
  nonEmpty(text)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (e) {
    throw badRequest(`the request body is not valid JSON: ${(e as Error).message}`)
  }
  checkDepth(text)
  return remember(value, { json: text })
}

function yaml(text: string): unknown {
  const { value, duplicates } = parseYaml(nonEmpty(text), MAX_JSON_DEPTH, MAX_YAML_VALUES)
  return remember(value, { yamlDuplicates: duplicates })
}

/** What parsing each body hid (its JSON text, or the keys its YAML set twice), for fieldValidation. */
const sources = new WeakMap<object, BodySource>()

function remember(value: unknown, source: BodySource): unknown {
  if (typeof value === 'object' && value !== null) sources.set(value, source)
  return value
}

/** The source of a JSON or YAML body read here; undefined for protobuf or a scalar. */
export function bodySourceOf(body: unknown): BodySource | undefined {
  return typeof body === 'object' && body !== null ? sources.get(body) : undefined
}

/** Refuses JSON nested deeper than MAX_JSON_DEPTH (counted over the text, without recursion). */
function checkDepth(text: string): void {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i)
    if (inString) {
      if (ch === 0x5c) i++
      else if (ch === 0x22) inString = false
    } else if (ch === 0x22) inString = true
    else if (ch === 0x7b || ch === 0x5b) {
      if (++depth > MAX_JSON_DEPTH) throw badRequest(`the request body is nested deeper than ${MAX_JSON_DEPTH} levels`)
    } else if (ch === 0x7d || ch === 0x5d) depth--
  }
}
