/**
 * What every kind shares: decoding a body against its schema, checking apiVersion and
 * kind, validating metadata, and filling the server-set metadata on create and update.
 */
import type { z } from 'zod'
import { badRequest, fieldError, type FieldError } from './errors'
import type { ObjectMeta } from './schemas'
import type { ObjectMetaOut, RegistryObject } from './types'
import { validateAnnotations, validateLabels, validateName } from './validation'
import { parseRfc3339, timeMessage, timestamp } from './rfc3339'
import { MAX_JSON_DEPTH, copyJson } from '../json'

export type NameRule = 'dns1123label' | 'dns1123subdomain' | 'dns1035label'

/** Server-side sources of time, randomness and identity (injected so tests are deterministic). */
export interface Clock {
  now: () => Date
  random: () => number
  uuid: () => string
}

/** Parses a body against a schema; a type mismatch is a 400 naming each wrong field. */
export function decode<S extends z.ZodType>(schema: S, body: unknown, kind: string): z.infer<S> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest(`the body of a ${kind} must be a JSON object`)
  }
  const proto = protoKeyPath(body, kind)
  if (proto) throw badRequest(`${kind} has a field named "__proto__", which is not allowed`, [fieldError.invalid(proto, '__proto__', 'not an allowed key')])
  const result = schema.safeParse(body)
  if (result.success) return result.data
  const causes: FieldError[] = result.error.issues.slice(0, 20).map((issue) =>
    fieldError.type(fieldPath(issue.path), issue.message),
  )
  throw badRequest(`${kind} in version "v1" cannot be handled as a ${kind}: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`, causes)
}

/**
 * The path of the first key `__proto__` anywhere in a parsed body. Such a key would be
 * dropped silently by object handling, so it is refused rather than lost.
 */
function protoKeyPath(body: unknown, kind: string): string | null {
  // Every value of every request body passes here: the walk builds a path only for the key it finds.
  // Request text is refused past MAX_JSON_DEPTH before it is parsed, but a JSON patch can nest
  // the object it patches deeper than its own text (adds at deep paths; copies and moves are
  // refused in patch.ts), and an apply adds the levels of managedFields: refused here too.
  const find = (value: unknown, depth: number): PropertyKey[] | null => {
    if (typeof value !== 'object' || value === null) return null
    if (depth > MAX_JSON_DEPTH) throw badRequest(`the ${kind} would be nested deeper than ${MAX_JSON_DEPTH} levels`)
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const below = find(value[i], depth + 1)
        if (below) return [i, ...below]
      }
      return null
    }
    if (Object.hasOwn(value, '__proto__')) return ['__proto__']
    for (const k in value) {
      if (!Object.hasOwn(value, k)) continue
      const below = find((value as Record<string, unknown>)[k], depth + 1)
      if (below) return [k, ...below]
    }
    return null
  }
  const path = find(body, 1)
  return path ? fieldPath(path) : null
}

/** `['spec', 'ports', 0, 'port']` → `spec.ports[0].port`, as Kubernetes names fields. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = ''
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`
    else if (typeof part === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(part)) out += out ? `.${part}` : part
    else out += `[${String(part)}]`
  }
  return out || '<body>'
}

/** Rejects a body whose apiVersion or kind names another type. */
export function checkTypeMeta(input: { apiVersion?: string | null; kind?: string | null }, apiVersion: string, kind: string) {
  if (input.kind && input.kind !== kind) {
    throw badRequest(`the kind in the data (${input.kind}) does not match the expected kind (${kind})`)
  }
  if (input.apiVersion && input.apiVersion !== apiVersion) {
    throw badRequest(`the API version in the data (${input.apiVersion}) does not match the expected API version (${apiVersion})`)
  }
}

/** Name, labels, annotations and the times of managed fields: the metadata rules shared by every kind. */
export function validateMeta(meta: ObjectMetaOut, rule: NameRule): FieldError[] {
  const times: FieldError[] = []
  meta.managedFields?.forEach((entry, i) => {
    const time = (entry as { time?: unknown }).time
    if (typeof time === 'string' && parseRfc3339(time) === null) times.push(fieldError.invalid(`metadata.managedFields[${i}].time`, time, timeMessage()))
  })
  return [
    ...validateName(rule, meta.name, 'metadata.name'),
    ...validateLabels(meta.labels ?? {}, 'metadata.labels'),
    ...validateAnnotations(meta.annotations ?? {}, 'metadata.annotations'),
    ...times,
  ]
}

const NAME_SUFFIX = 'bcdfghjklmnpqrstvwxz2456789'

/**
 * Metadata of a new object. `name` may come from `generateName` plus five random
 * characters; the namespace in the body must match the one in the path.
 */
export function metaForCreate(input: ObjectMeta | null | undefined, namespace: string | undefined, clock: Clock): ObjectMetaOut {
  const m = input ?? {}
  if (m.resourceVersion) throw badRequest('resourceVersion should not be set on objects to be created')
  checkNamespace(m.namespace, namespace)
  let name = m.name ?? ''
  if (!name && m.generateName) {
    let suffix = ''
    for (let i = 0; i < 5; i++) suffix += NAME_SUFFIX[Math.floor(clock.random() * NAME_SUFFIX.length)]
    name = `${m.generateName}${suffix}`
  }
  return withUserFields(
    {
      name,
      ...(m.generateName ? { generateName: m.generateName } : {}),
      ...(namespace !== undefined ? { namespace } : {}),
      uid: clock.uuid(),
      resourceVersion: '',
      creationTimestamp: timestamp(clock.now()),
    },
    m,
  )
}

/** Metadata of a replacement: identity and timestamps stay as stored, user fields come from the body. */
export function metaForUpdate(input: ObjectMeta | null | undefined, old: ObjectMetaOut, urlName: string): ObjectMetaOut {
  const m = input ?? {}
  checkUpdateMeta(m, old, urlName)
  const out: ObjectMetaOut = {
    name: old.name,
    ...(old.generateName ? { generateName: old.generateName } : {}),
    ...(old.namespace !== undefined ? { namespace: old.namespace } : {}),
    uid: old.uid,
    resourceVersion: old.resourceVersion,
    ...(old.generation !== undefined ? { generation: old.generation } : {}),
    creationTimestamp: old.creationTimestamp,
    ...(old.deletionTimestamp ? { deletionTimestamp: old.deletionTimestamp } : {}),
    ...(old.deletionGracePeriodSeconds !== undefined ? { deletionGracePeriodSeconds: old.deletionGracePeriodSeconds } : {}),
  }
  // Managed fields a request leaves out stay as stored; an empty list clears them (as Kubernetes lets a client reset them).
  return withUserFields(out, m.managedFields === undefined || m.managedFields === null ? { ...m, managedFields: old.managedFields ?? null } : m)
}

/** Refuses an update whose body names another object than the URL and the stored object: another name or namespace. */
export function checkUpdateMeta(input: ObjectMeta | null | undefined, old: ObjectMetaOut, urlName: string): void {
  if (input?.name && input.name !== urlName) {
    throw badRequest(`the name of the object (${input.name}) does not match the name on the URL (${urlName})`)
  }
  checkNamespace(input?.namespace, old.namespace)
}

/** Copies the user-owned metadata fields (labels, annotations, owners, finalizers, managed fields). */
function withUserFields(out: ObjectMetaOut, m: Omit<ObjectMeta, 'managedFields'> & { managedFields?: ObjectMeta['managedFields'] | ObjectMetaOut['managedFields'] }): ObjectMetaOut {
  if (m.labels && Object.keys(m.labels).length) out.labels = { ...m.labels }
  if (m.annotations && Object.keys(m.annotations).length) out.annotations = { ...m.annotations }
  if (m.ownerReferences?.length) {
    out.ownerReferences = m.ownerReferences.map((o) => ({
      apiVersion: o.apiVersion,
      kind: o.kind,
      name: o.name,
      uid: o.uid,
      ...(o.controller != null ? { controller: o.controller } : {}),
      ...(o.blockOwnerDeletion != null ? { blockOwnerDeletion: o.blockOwnerDeletion } : {}),
    }))
  }
  if (m.finalizers?.length) out.finalizers = [...m.finalizers]
  if (m.managedFields?.length) out.managedFields = copyJson(m.managedFields) as ObjectMetaOut['managedFields']
  return out
}

function checkNamespace(bodyNamespace: string | null | undefined, namespace: string | undefined) {
  if (bodyNamespace && namespace !== undefined && bodyNamespace !== namespace) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request')
  }
}

export { timestamp }

/** A UUID v4 from a random source. */
export function uuidFrom(random: () => number): string {
  const hex: string[] = []
  for (let i = 0; i < 32; i++) hex.push(Math.floor(random() * 16).toString(16))
  hex[12] = '4'
  hex[16] = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16)
  const h = hex.join('')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

/** What every object write carries: db/tables.ts ObjectWrite, and the namespace. */
interface CommonColumns {
  namespace: string
  name: string
  uid: string
  body: Record<string, unknown>
  labels: Record<string, string>
}

/**
 * What every object write carries for `obj`, followed by `fields`, the kind's own columns
 * (which may not reuse a common column's name). They are copied in last on purpose: on
 * Node 20, writing `{ ...objectWrite(pod), nodeName, … }` built a pod's ten columns in
 * 14 µs, this in 1.8 µs (each property added after a spread of an object took about 1 µs).
 */
export function objectWrite<F extends object = Record<never, never>>(obj: RegistryObject, fields?: F & { [K in keyof CommonColumns]?: never }): CommonColumns & F {
  return { namespace: obj.metadata.namespace ?? '', name: obj.metadata.name, uid: obj.metadata.uid, body: takeStoredForm(obj), labels: obj.metadata.labels ?? {}, ...(fields as F) }
}

/**
 * Stored forms made ahead of their write (see storedForm), each taken by the write that
 * stores it (objectWrite) or dropped by one that stores another object (dropStoredForm).
 * Their JSON text is cached by the form (db/batch.ts bodyText), so an object whose size
 * was checked is serialized once, not again when its write stores it.
 */
const storedForms = new WeakMap<RegistryObject, Record<string, unknown>>()

/**
 * `obj` as it will be stored (stripRv), made now and kept for the write that stores it
 * next. The form shares what is nested in `obj`, and its text is made once: nothing may
 * change `obj`, or anything in it, between this and that write. The write takes the form
 * (a later write of the same object makes its form anew).
 */
export function storedForm(obj: RegistryObject): Record<string, unknown> {
  const form = stripRv(obj)
  storedForms.set(obj, form)
  return form
}

/** Drops the form kept for `obj`: its write stores another object (a copy it changes first). */
export function dropStoredForm(obj: RegistryObject): void {
  storedForms.delete(obj)
}

function takeStoredForm(obj: RegistryObject): Record<string, unknown> {
  const form = storedForms.get(obj)
  if (!form) return stripRv(obj)
  storedForms.delete(obj)
  return form
}

/** The JSON to store: the object without its resourceVersion (kept in its own column). */
export function stripRv(obj: RegistryObject): Record<string, unknown> {
  const { resourceVersion: _rv, ...metadata } = obj.metadata
  return { ...obj, metadata } as unknown as Record<string, unknown>
}

/** The object with its resourceVersion, metadata in Kubernetes' field order. */
export function withRv<T extends RegistryObject>(obj: T, rv: number): T {
  const { name, generateName, namespace, uid, ...rest } = obj.metadata as ObjectMetaOut
  const metadata = {
    name,
    ...(generateName ? { generateName } : {}),
    ...(namespace !== undefined ? { namespace } : {}),
    uid,
    ...rest,
    resourceVersion: String(rv),
  }
  return { ...obj, metadata }
}
