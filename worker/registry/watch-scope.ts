/**
 * What one watch may see: the namespace of its path, the namespaces its caller reaches,
 * and its label and field selectors, applied to each object an event carries (fields
 * from the kind's allow-list, read from the object as the list's columns hold them).
 */
import { apiVersionOf, type KindInfo } from './kind-info'
import { listOptions, type ListQuery } from './list-options'
import { matchesFields } from '../selectors/fields'
import { matchesLabels } from '../selectors/labels'
import type { FieldRequirement, Requirement } from '../selectors/types'

export type WatchObject = Record<string, unknown> & {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; resourceVersion?: string }
}

export class WatchScope {
  readonly labels: Requirement[]
  readonly fields: FieldRequirement[]

  constructor(
    readonly kind: KindInfo,
    /** The namespace of the path (namespaced kinds); undefined: every namespace. */
    readonly namespace: string | undefined,
    readonly query: ListQuery,
  ) {
    const options = listOptions(query, kind.fieldSelectors) // a bad selector is a 400 before the stream starts
    this.labels = options.labels
    this.fields = options.fields
  }

  /** Whether an object of this namespace and name is within the path and the caller's reach. */
  reaches(namespace: string, name: string): boolean {
    if (this.kind.namespaced && this.namespace !== undefined && namespace !== this.namespace) return false
    const reach = this.query.namespaces
    return reach === undefined || reach.includes(this.kind.namespaced ? namespace : name)
  }

  /** Whether an object passes the selectors. */
  matches(obj: WatchObject): boolean {
    return matchesLabels(this.labels, obj.metadata?.labels ?? {}) && matchesFields(this.fields, selectedFields(this.kind, obj))
  }

  /** The object as a watch event carries it: kind, apiVersion first, and the event's resourceVersion. */
  stamp(obj: WatchObject, rv: number): WatchObject {
    const { apiVersion: _a, kind: _k, metadata, ...rest } = obj
    return { apiVersion: apiVersionOf(this.kind), kind: this.kind.kind, metadata: { ...metadata, resourceVersion: String(rv) }, ...rest }
  }
}

/** The values of the fields the kind's field selectors read, as strings ('' when absent). */
export function selectedFields(kind: Pick<KindInfo, 'fieldSelectors'>, obj: unknown): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const field of kind.fieldSelectors) fields[field] = valueAt(obj, field)
  return fields
}

/** A field's value as a string ('' when absent), from its dotted path. */
function valueAt(obj: unknown, path: string): string {
  let at: unknown = obj
  for (const part of path.split('.')) at = at && typeof at === 'object' ? (at as Record<string, unknown>)[part] : undefined
  return at === undefined || at === null ? '' : String(at)
}
