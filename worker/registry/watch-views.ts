/**
 * Watch events of the computed kinds, Endpoints and EndpointSlices. Their objects are
 * built on read, and the log marks only which service's endpoints changed (kind
 * `Endpoints` without an object) or which service or user-written Endpoints was
 * written: so a watch rebuilds the views of each service an event names, from the current
 * rows, and compares them with what it has sent — a new view is ADDED, a changed one
 * MODIFIED, and one that is gone (a service deleted, a slice set changed, a selector no
 * longer matching) DELETED. Per watch it keeps, per service, the names it has sent with
 * a fingerprint of each, not the objects.
 */
import type { ChangeEvent } from './change-feed'
import { RegistryError } from './errors'
import { SERVICE_NAME_LABEL } from './endpoint-views'
import { ENDPOINTS } from './kinds'
import type { Registry } from './registry'
import { matchesFields } from '../selectors/fields'
import { matchesLabels } from '../selectors/labels'
import type { WatchEvent } from './watch-events'
import { unitHash } from './wrr'
import type { WatchObject, WatchScope } from './watch-scope'

interface Sent {
  fingerprint: string
  /** What a DELETED event carries: the object's metadata and type fields, without its endpoints. */
  skeleton: WatchObject
}

export class ViewWatch {
  /** Per service (`namespace/name`): the views sent, by name. */
  private readonly sent = new Map<string, Map<string, Sent>>()

  constructor(
    private readonly registry: Registry,
    private readonly scope: WatchScope,
  ) {}

  /** Records a view the client has (from the initial list, or the current state when a watch resumes). */
  listed(obj: WatchObject): void {
    const key = keyOf(obj.metadata?.namespace ?? '', serviceOf(obj))
    const views = this.sent.get(key) ?? new Map<string, Sent>()
    views.set(obj.metadata?.name ?? '', sentOf(obj))
    this.sent.set(key, views)
  }

  /**
   * The watch events of a run of feed events. Events at or before `replayedTo` happened
   * before the watch started and after the client's resourceVersion: their views are
   * sent as MODIFIED even when they equal the state this watch primed itself with.
   */
  async translate(events: ChangeEvent[], replayedTo = 0): Promise<WatchEvent[]> {
    const last = new Map<string, { namespace: string; name: string; rv: number }>()
    for (const e of events) {
      if (e.kind !== 'Service' && e.kind !== 'Endpoints') continue
      const key = keyOf(e.namespace, e.name)
      if (!this.scope.reaches(e.namespace, e.name) || (!this.mayMatch(e.namespace, e.name) && !this.sent.has(key))) continue
      last.delete(key) // keep the services in the order of their last event
      last.set(key, { namespace: e.namespace, name: e.name, rv: e.rv })
    }
    if (last.size === 0) return []
    const built = await this.build([...last.values()])
    const out: WatchEvent[] = []
    for (const [key, { rv }] of [...last].sort(([, a], [, b]) => a.rv - b.rv)) {
      const before = this.sent.get(key) ?? new Map<string, Sent>()
      const after = new Map<string, Sent>()
      for (const obj of built.get(key) ?? []) {
        if (!this.scope.matches(obj)) continue
        const name = obj.metadata?.name ?? ''
        const now = sentOf(obj)
        after.set(name, now)
        const was = before.get(name)
        if (!was) out.push({ type: 'ADDED', object: this.scope.stamp(obj, rv) })
        else if (was.fingerprint !== now.fingerprint || rv <= replayedTo) out.push({ type: 'MODIFIED', object: this.scope.stamp(obj, rv) })
      }
      for (const [name, was] of before) if (!after.has(name)) out.push({ type: 'DELETED', object: this.scope.stamp(was.skeleton, rv) })
      if (after.size) this.sent.set(key, after)
      else this.sent.delete(key)
    }
    return out
  }

  /**
   * Whether a view of this service could pass the selectors, judged before reading it:
   * an Endpoints object is named after its service; every slice carries its service's name as a label.
   */
  private mayMatch(namespace: string, service: string): boolean {
    if (this.scope.kind === ENDPOINTS) return matchesFields(this.scope.fields, { 'metadata.name': service, 'metadata.namespace': namespace })
    return matchesLabels(
      this.scope.labels.filter((r) => r.key === SERVICE_NAME_LABEL),
      { [SERVICE_NAME_LABEL]: service },
    )
  }

  /** The current views of each service, by `namespace/name`. */
  private async build(services: { namespace: string; name: string }[]): Promise<Map<string, WatchObject[]>> {
    const out = new Map<string, WatchObject[]>()
    if (this.scope.kind === ENDPOINTS) {
      for (const { namespace, name } of services) {
        try {
          out.set(keyOf(namespace, name), [(await this.registry.endpoints.getEndpoints(namespace, name)) as unknown as WatchObject])
        } catch (e) {
          if (!(e instanceof RegistryError && e.reason === 'NotFound')) throw e
        }
      }
      return out
    }
    // Slices: one read per namespace for the services of this run.
    const byNamespace = new Map<string, string[]>()
    for (const { namespace, name } of services) byNamespace.set(namespace, [...(byNamespace.get(namespace) ?? []), name])
    for (const [namespace, names] of byNamespace) {
      const list = await this.registry.endpoints.listEndpointSlices(namespace, { labelSelector: `${SERVICE_NAME_LABEL} in (${names.join(',')})` })
      for (const slice of list.items as unknown as WatchObject[]) {
        const key = keyOf(namespace, serviceOf(slice))
        out.set(key, [...(out.get(key) ?? []), slice])
      }
    }
    return out
  }
}

function keyOf(namespace: string, service: string): string {
  return `${namespace}/${service}`
}

/** The service a view belongs to: a slice's label, an Endpoints object's own name. */
function serviceOf(obj: WatchObject): string {
  return obj.metadata?.labels?.[SERVICE_NAME_LABEL] ?? (obj.kind === 'EndpointSlice' ? '' : (obj.metadata?.name ?? ''))
}

function sentOf(obj: WatchObject): Sent {
  const { resourceVersion: _rv, ...metadata } = (obj.metadata ?? {}) as Record<string, unknown>
  const { subsets: _s, endpoints: _e, ...rest } = obj
  const skeleton: WatchObject = { ...rest, metadata, ...('subsets' in obj ? { subsets: [] } : {}), ...('endpoints' in obj ? { endpoints: [] } : {}) }
  return { fingerprint: String(unitHash(JSON.stringify({ ...obj, metadata }))), skeleton }
}
