/**
 * YAML request bodies (`application/yaml`), read into the same JSON value the JSON path
 * gets, under the same limits. YAML 1.2's core schema, so `on`, `yes` and `no` stay
 * strings and a date stays a string; one document; no tags beyond the core schema's
 * (`!!binary` and custom tags are refused); anchors and aliases allowed, but an alias
 * count that would blow a small document up (a "billion laughs"), or aliases that expand it
 * past the values a JSON body of the size limit could hold, are refused. Keys must be
 * scalars (numbers and booleans become their text, as JSON has only string keys); numbers
 * must be finite. The nesting is bounded before anything recurses: first on the tokens
 * (flow brackets, and block indicators on one line), then on the syntax tree.
 * A key that appears twice in one map keeps its last value, and is reported (line and key)
 * for fieldValidation, as apimachinery's YAML decoder reports it. Every failure is a 400.
 */
import { CST, Composer, Lexer, LineCounter, Parser, isMap, isScalar, isSeq, type Node } from 'yaml'
import { setOwn } from '../json'
import { RegistryError, badRequest } from '../registry/errors'
import type { YamlDuplicate } from '../registry/field-validation'

/** How many aliases one document may resolve (the yaml package weighs each by the size of what it copies). */
const MAX_ALIAS_COUNT = 100

/**
 * Parses a YAML document into JSON values, refusing one nested deeper than `maxDepth` or
 * holding more than `maxValues` values once its aliases are expanded; with the keys set twice.
 */
export function parseYaml(text: string, maxDepth: number, maxValues: number): { value: unknown; duplicates: YamlDuplicate[] } {
  let value: unknown
  const duplicates: YamlDuplicate[] = []
  try {
    boundNesting(text, maxDepth)
    const lines = new LineCounter()
    const tokens = [...new Parser(lines.addNewLine).parse(text)]
    checkDepth(tokens, maxDepth)
    const docs = new Composer({ version: '1.2', schema: 'core', merge: false, uniqueKeys: false }).compose(tokens, true, text.length)
    const doc = docs.next().value
    if (!doc) throw badRequest('the request body is empty')
    if (!docs.next().done) throw badRequest('the request body is not valid YAML: Source contains multiple documents; please use YAML.parseAllDocuments()')
    const problem = doc.errors[0] ?? doc.warnings[0]
    if (problem) throw badRequest(`the request body is not valid YAML: ${firstLine(problem.message)}`)
    findDuplicates(doc.contents, lines, duplicates)
    value = doc.toJS({ mapAsMap: true, maxAliasCount: MAX_ALIAS_COUNT })
  } catch (e) {
    if (e instanceof RegistryError) throw e
    throw badRequest(`the request body is not valid YAML: ${firstLine(e instanceof Error ? e.message : String(e))}`)
  }
  return { value: toJson(value, 0, maxDepth, { left: maxValues, max: maxValues }), duplicates }
}

/**
 * Refuses text whose tokens already nest deeper than `maxDepth`: open flow collections, or
 * block indicators (`- `, `? `) on one line, each of which opens a collection. Both count
 * levels the document surely has, so nothing valid is refused; the parser, which slows
 * down on very deep text, never sees such text.
 */
function boundNesting(text: string, maxDepth: number): void {
  let flow = 0
  let onLine = 0
  let scalar = false
  for (const token of new Lexer().lex(text)) {
    if (scalar) {
      scalar = false
      continue
    }
    switch (CST.tokenType(token)) {
      case 'scalar':
        scalar = true
        break
      case 'flow-map-start':
      case 'flow-seq-start':
        flow++
        break
      case 'flow-map-end':
      case 'flow-seq-end':
        flow--
        break
      case 'flow-error-end':
        flow = 0
        break
      case 'seq-item-ind':
      case 'explicit-key-ind':
        onLine++
        break
      case 'newline':
        onLine = 0
        break
    }
    if (flow > maxDepth || onLine > maxDepth) throw badRequest(`the request body is nested deeper than ${maxDepth} levels`)
  }
}

/** Refuses a syntax tree whose collections nest deeper than `maxDepth` (walked without recursion). */
function checkDepth(tokens: CST.Token[], maxDepth: number): void {
  const stack: [CST.Token | null | undefined, number][] = tokens.map((t) => [t, 0])
  while (stack.length) {
    const [token, depth] = stack.pop()!
    if (!token) continue
    if (token.type === 'document') stack.push([token.value, depth])
    else if ('items' in token) {
      if (depth >= maxDepth) throw badRequest(`the request body is nested deeper than ${maxDepth} levels`)
      for (const item of token.items) {
        if ('key' in item) stack.push([item.key, depth + 1])
        stack.push([item.value, depth + 1])
      }
    }
  }
}

/** The keys set twice in a map, with their lines, in the document's order (the tree is at most maxDepth deep). */
function findDuplicates(node: unknown, lines: LineCounter, out: YamlDuplicate[]): void {
  if (isSeq(node)) for (const item of node.items) findDuplicates(item, lines, out)
  if (!isMap(node)) return
  const seen = new Set<string>()
  for (const pair of node.items) {
    const key = pair.key
    if (isScalar(key) && (typeof key.value === 'string' || typeof key.value === 'number' || typeof key.value === 'boolean')) {
      const name = String(key.value)
      if (seen.has(name)) out.push({ line: lines.linePos((key as Node).range?.[0] ?? 0).line, key: key.value })
      seen.add(name)
    }
    findDuplicates(pair.value, lines, out)
  }
}

/**
 * The parsed document as plain JSON values: maps become objects with string keys. Every
 * alias is a copy here, so `budget` counts the values made: the yaml package bounds how
 * often each anchor is used, not what the uses add up to (a 600 KB list used 99 times
 * made 30 million values, 630 MB, in 2.7 s).
 */
function toJson(value: unknown, depth: number, maxDepth: number, budget: { left: number; max: number }): unknown {
  if (--budget.left < 0) throw badRequest(`the request body's aliases expand it past ${budget.max} values`)
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw badRequest(`the request body has a number JSON cannot hold (${value})`)
    return value
  }
  if (depth >= maxDepth) throw badRequest(`the request body is nested deeper than ${maxDepth} levels`)
  if (Array.isArray(value)) return value.map((v) => toJson(v, depth + 1, maxDepth, budget))
  if (value instanceof Map) {
    const out: Record<string, unknown> = {}
    for (const [k, v] of value) {
      if (typeof k !== 'string' && typeof k !== 'number' && typeof k !== 'boolean') {
        throw badRequest('the request body has a YAML key that is not a string, a number or a boolean')
      }
      setOwn(out, String(k), toJson(v, depth + 1, maxDepth, budget))
    }
    return out
  }
  throw badRequest('the request body has a YAML value that JSON cannot hold (such as !!binary)')
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.slice(0, 200)
}
