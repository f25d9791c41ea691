/**
 * Patches: JSON merge patch (RFC 7396), JSON patch (RFC 6902) and strategic merge patch
 * (strategic-merge.ts, driven by the kind's schema), applied to the stored object before
 * it goes through the same validation as a replace.
 */
import type { z } from 'zod'
import { MAX_JSON_DEPTH, copyJson, sameJson, setOwn } from '../json'
import { RegistryError, badRequest, fieldError } from './errors'
import { strategicMerge } from './strategic-merge'
import { patchSchemaOf } from './strategic-merge-schema'

/** `apply` is server-side apply, which the generic store does itself (managed-fields.ts): it needs the field manager. */
export type PatchType = 'merge' | 'json' | 'strategic' | 'apply'

/** Applies a patch to an object of the kind whose schema is `schema` (a strategic merge patch follows its patch strategies). */
export function applyPatch(type: PatchType, target: unknown, patch: unknown, schema: z.ZodType): unknown {
  switch (type) {
    case 'merge':
      return mergePatch(target, patch)
    case 'json':
      return jsonPatch(target, patch)
    case 'strategic':
      return strategicMerge(target, patch, patchSchemaOf(schema))
    case 'apply':
      // The generic store applies a server-side apply itself, with its field manager; a kind that reaches here does not serve it.
      throw new RegistryError('UnsupportedMediaType', 'server-side apply is not served for this resource')
  }
}

/** RFC 7396: objects merge recursively, `null` deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {}
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key]
    else setOwn(out, key, mergePatch(out[key], value))
  }
  return out
}

/** RFC 6902: a list of add, remove, replace, move, copy and test operations. */
export function jsonPatch(target: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw badRequest('a JSON patch must be an array of operations')
  let doc = copyJson(target)
  patch.forEach((op, i) => {
    if (!isObject(op) || typeof op.op !== 'string' || typeof op.path !== 'string') {
      throw badRequest(`JSON patch operation ${i} must be an object with "op" and "path"`)
    }
    const path = parsePointer(op.path, i)
    switch (op.op) {
      case 'add':
        doc = put(doc, path, requireValue(op, i), 'add', i)
        break
      case 'remove':
        doc = remove(doc, path, i)
        break
      case 'replace':
        get(doc, path, i)
        doc = put(doc, path, requireValue(op, i), 'replace', i)
        break
      case 'move': {
        const from = parsePointer(String(op.from ?? ''), i)
        const value = get(doc, from, i)
        checkNesting(path, value, i)
        doc = put(remove(doc, from, i), path, value, 'add', i)
        break
      }
      case 'copy': {
        const from = parsePointer(String(op.from ?? ''), i)
        const value = get(doc, from, i)
        checkNesting(path, value, i)
        doc = put(doc, path, copyJson(value), 'add', i)
        break
      }
      case 'test':
        if (!sameJson(get(doc, path, i), requireValue(op, i))) {
          throw new RegistryError('Invalid', `JSON patch test operation ${i} failed at ${op.path}`, {
            causes: [fieldError.invalid(pointerField(path), get(doc, path, i), 'does not equal the value the test operation expected')],
          })
        }
        break
      default:
        throw badRequest(`JSON patch operation ${i} has an unknown op "${op.op}"`)
    }
  })
  return doc
}

/**
 * Refuses a copy or move that would nest the document deeper than MAX_JSON_DEPTH. The
 * patch text is checked before it is parsed, but a copy of a subtree to its own end
 * doubles its depth while the text stays shallow (and the deep object would overflow the
 * stack of everything that walks it).
 */
function checkNesting(path: string[], value: unknown, i: number): void {
  if (path.length + depthOf(value, MAX_JSON_DEPTH - path.length) > MAX_JSON_DEPTH) {
    throw badRequest(`JSON patch operation ${i} would nest the object deeper than ${MAX_JSON_DEPTH} levels`)
  }
}

/** How many containers deep `value` nests (a scalar 0, `{}` 1), counted up to `limit` + 1 at most. */
function depthOf(value: unknown, limit: number): number {
  if (typeof value !== 'object' || value === null) return 0
  if (limit <= 0) return 1
  let deepest = 0
  for (const child of Array.isArray(value) ? value : Object.values(value)) deepest = Math.max(deepest, depthOf(child, limit - 1))
  return 1 + deepest
}

/** `/spec/ports/0/port` → `spec.ports[0].port`. */
function pointerField(path: string[]): string {
  return path.map((p, i) => (/^\d+$/.test(p) ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || '<root>'
}

function requireValue(op: Record<string, unknown>, i: number): unknown {
  if (!('value' in op)) throw badRequest(`JSON patch operation ${i} needs a "value"`)
  return copyJson(op.value)
}

function parsePointer(pointer: string, i: number): string[] {
  if (pointer === '') return []
  if (!pointer.startsWith('/')) throw badRequest(`JSON patch operation ${i} has an invalid path "${pointer}"`)
  return pointer
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
}

function get(doc: unknown, path: string[], i: number): unknown {
  let cur = doc
  for (const key of path) {
    if (Array.isArray(cur) && /^(0|[1-9]\d*)$/.test(key) && Number(key) < cur.length) cur = cur[Number(key)]
    else if (isObject(cur) && Object.hasOwn(cur, key)) cur = cur[key]
    else throw badRequest(`JSON patch operation ${i}: path /${path.join('/')} does not exist`)
  }
  return cur
}

function put(doc: unknown, path: string[], value: unknown, mode: 'add' | 'replace', i: number): unknown {
  if (path.length === 0) return value
  const parent = get(doc, path.slice(0, -1), i)
  const key = path[path.length - 1]!
  if (Array.isArray(parent)) {
    const index = key === '-' ? parent.length : /^(0|[1-9]\d*)$/.test(key) ? Number(key) : -1
    if (index < 0 || index > parent.length || (mode === 'replace' && index >= parent.length)) {
      throw badRequest(`JSON patch operation ${i}: index ${key} is out of range`)
    }
    if (mode === 'add') parent.splice(index, 0, value)
    else parent[index] = value
  } else if (isObject(parent)) {
    setOwn(parent, key, value)
  } else {
    throw badRequest(`JSON patch operation ${i}: cannot set a member of a non-container`)
  }
  return doc
}

function remove(doc: unknown, path: string[], i: number): unknown {
  if (path.length === 0) throw badRequest(`JSON patch operation ${i}: cannot remove the whole document`)
  const parent = get(doc, path.slice(0, -1), i)
  const key = path[path.length - 1]!
  get(doc, path, i)
  if (Array.isArray(parent)) parent.splice(Number(key), 1)
  else if (isObject(parent)) delete parent[key]
  return doc
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
