/**
 * Watch events of the stored kinds, from the feed's events: the generic kinds (namespaces,
 * services, pods) carry the object as written, and user-written Endpoints likewise; tokens
 * carry their public object (read when the event is sent; never the secret or its hash).
 * Selectors apply to the object and to the object before, as Kubernetes' cacher applies
 * them: an object that stops matching arrives as DELETED (with its previous content),
 * one that starts matching as ADDED.
 */
import type { ChangeEvent } from './change-feed'
import { RegistryError } from './errors'
import type { Registry } from './registry'
import type { WatchObject, WatchScope } from './watch-scope'

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR'

export interface WatchEvent {
  type: WatchEventType
  object: Record<string, unknown>
}

/** The events of a generic kind among `events`. */
export function objectEvents(scope: WatchScope, events: ChangeEvent[]): WatchEvent[] {
  const out: WatchEvent[] = []
  for (const e of events) {
    if (e.kind !== scope.kind.kind || !e.object || !scope.reaches(e.namespace, e.name)) continue
    const now = e.object as WatchObject
    const passes = scope.matches(now)
    if (e.type !== 'MODIFIED') {
      if (passes) out.push({ type: e.type, object: scope.stamp(now, e.rv) })
      continue
    }
    const passed = e.oldObject ? scope.matches(e.oldObject as WatchObject) : passes
    if (passes) out.push({ type: passed ? 'MODIFIED' : 'ADDED', object: scope.stamp(now, e.rv) })
    else if (passed) out.push({ type: 'DELETED', object: scope.stamp(e.oldObject as WatchObject, e.rv) })
  }
  return out
}

/** The events of tokens among `events`: the public token, read now; a deletion (or a token gone since) carries only the name. */
export async function tokenEvents(registry: Registry, scope: WatchScope, events: ChangeEvent[]): Promise<WatchEvent[]> {
  const out: WatchEvent[] = []
  for (const e of events) {
    if (e.kind !== 'Token' || !scope.reaches('', e.name)) continue
    let obj: WatchObject = { metadata: { name: e.name } }
    if (e.type !== 'DELETED') {
      try {
        obj = (await registry.tokens.get(e.name)) as unknown as WatchObject
      } catch (err) {
        // Revoked since: the name alone (its DELETED follows).
        if (!(err instanceof RegistryError && err.reason === 'NotFound')) throw err
      }
    }
    if (scope.matches(obj)) out.push({ type: e.type, object: scope.stamp(obj, e.rv) })
  }
  return out
}

/** A BOOKMARK: the kind, apiVersion and resourceVersion only (and, after the initial events, their end). */
export function bookmark(scope: WatchScope, rv: number, initialEventsEnd = false): WatchEvent {
  const object = scope.stamp({ metadata: {} }, rv)
  if (initialEventsEnd) (object.metadata as Record<string, unknown>).annotations = { 'k8s.io/initial-events-end': 'true' }
  return { type: 'BOOKMARK', object }
}
