/**
 * The Kubernetes discovery documents (`/api`, `/api/v1`, `/apis`, `/apis/<group>` and
 * `/apis/<group>/<version>`) that kubectl and client libraries read before they talk to
 * a resource, built from the table of kinds.
 */
import type { Hono } from 'hono'
import { apiVersionOf, groupPath, type KindInfo } from '../registry/kind-info'
import { KINDS } from '../registry/kinds'
import type { AppEnv } from '../http/env'
import { verbs } from './verbs'

/** The APIResource entries of one kind: the resource, then its subresources. */
export function apiResources(kind: KindInfo) {
  const main = {
    name: kind.resource,
    singularName: kind.singular,
    namespaced: kind.namespaced,
    kind: kind.kind,
    verbs: [...kind.verbs].sort(),
    ...(kind.shortNames.length ? { shortNames: [...kind.shortNames] } : {}),
    ...(kind.categories.length ? { categories: [...kind.categories] } : {}),
  }
  const status = kind.subresources.map((sub) => ({
    name: `${kind.resource}/${sub}`,
    singularName: '',
    namespaced: kind.namespaced,
    kind: kind.kind,
    verbs: ['get', 'patch', 'update'],
  }))
  return [main, ...status]
}

/** The group/version documents of every kind the registry serves. */
function groupVersions(kinds: readonly KindInfo[]) {
  const byPath = new Map<string, { group: string; version: string; kinds: KindInfo[] }>()
  for (const kind of kinds) {
    const path = groupPath(kind)
    const entry = byPath.get(path) ?? { group: kind.group, version: kind.version, kinds: [] }
    entry.kinds.push(kind)
    byPath.set(path, entry)
  }
  return [...byPath].map(([path, { group, version, kinds }]) => ({ path, group, version, groupVersion: apiVersionOf(kinds[0]!), kinds }))
}

export function discoveryRoutes(app: Hono<AppEnv>, kinds: readonly KindInfo[] = KINDS): void {
  const versions = groupVersions(kinds)
  const groups = versions
    .filter((v) => v.group !== '')
    .map((v) => ({
      name: v.group,
      versions: [{ groupVersion: v.groupVersion, version: v.version }],
      preferredVersion: { groupVersion: v.groupVersion, version: v.version },
    }))
  const core = versions.filter((v) => v.group === '').map((v) => v.version)
  verbs(app, '/api', { get: (c) => c.json({ kind: 'APIVersions', versions: core, serverAddressByClientCIDRs: [] }) })
  verbs(app, '/apis', { get: (c) => c.json({ kind: 'APIGroupList', apiVersion: 'v1', groups }) })
  for (const group of groups) {
    verbs(app, `/apis/${group.name}`, { get: (c) => c.json({ kind: 'APIGroup', apiVersion: 'v1', ...group }) })
  }
  for (const v of versions) {
    const resources = v.kinds.flatMap(apiResources)
    verbs(app, v.path, {
      get: (c) =>
        c.json({ kind: 'APIResourceList', ...(v.group ? { apiVersion: 'v1' } : {}), groupVersion: v.groupVersion, resources }),
    })
  }
}
