/**
 * YAML request bodies (`application/yaml`), read into the same JSON value the JSON path
 * gets, under the same limits. YAML 1.2's core schema, so `on`, `yes` and `no` stay
 * strings and a date stays a string; one document; no tags beyond the core schema's
 * (`!!binary` and custom tags are refused); anchors and aliases allowed, but an alias
 * count that would blow a small document up (a "billion laughs") is refused. Keys must be
 * scalars (numbers and booleans become their text, as JSON has only string keys); numbers
 * must be finite. Every failure is a 400.
 */
import { parseDocument } from 'yaml'
import { setOwn } from '../json'
import { RegistryError, badRequest } from '../registry/errors'

/** How many aliases one document may resolve (the yaml package weighs each by the size of what it copies). */
const MAX_ALIAS_COUNT = 100

/** Parses a YAML document into JSON values, refusing one nested deeper than `maxDepth`. */
export function parseYaml(text: string, maxDepth: number): unknown {
  let value: unknown
  try {
    const doc = parseDocument(text, { version: '1.2', schema: 'core', merge: false, uniqueKeys: false, prettyErrors: false })
    const problem = doc.errors[0] ?? doc.warnings[0]
    if (problem) throw badRequest(`the request body is not valid YAML: ${firstLine(problem.message)}`)
    value = doc.toJS({ mapAsMap: true, maxAliasCount: MAX_ALIAS_COUNT })
  } catch (e) {
    if (e instanceof RegistryError) throw e
    throw badRequest(`the request body is not valid YAML: ${firstLine(e instanceof Error ? e.message : String(e))}`)
  }
  return toJson(value, 0, maxDepth)
}

/** The parsed document as plain JSON values: maps become objects with string keys. */
function toJson(value: unknown, depth: number, maxDepth: number): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw badRequest(`the request body has a number JSON cannot hold (${value})`)
    return value
  }
  if (depth >= maxDepth) throw badRequest(`the request body is nested deeper than ${maxDepth} levels`)
  if (Array.isArray(value)) return value.map((v) => toJson(v, depth + 1, maxDepth))
  if (value instanceof Map) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of value) {
      if (typeof k !== 'string' && typeof k !== 'number' && typeof k !== 'boolean') {
        throw badRequest('the request body has a YAML key that is not a string, a number or a boolean')
      }
      setOwn(out, String(k), toJson(v, depth + 1, maxDepth))
    }
    return out
  }
  throw badRequest('the request body has a YAML value that JSON cannot hold (such as !!binary)')
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.slice(0, 200)
}
