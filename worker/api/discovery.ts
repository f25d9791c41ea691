/**
 * Health, version and the Kubernetes discovery documents (`/api`, `/api/v1`, `/apis`)
 * that kubectl and client libraries read before they talk to a resource.
 */
import type { Hono } from 'hono'
import { RegistryError } from '../registry/errors'
import { route } from './route'
import type { AppEnv } from '../http/env'

const CORE_RESOURCES = [
  { name: 'namespaces', singularName: 'namespace', namespaced: false, kind: 'Namespace', verbs: ['create', 'delete', 'get', 'list'], shortNames: ['ns'] },
  { name: 'services', singularName: 'service', namespaced: true, kind: 'Service', verbs: ['create', 'delete', 'get', 'list', 'patch', 'update'], shortNames: ['svc'] },
  { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['create', 'delete', 'get', 'list', 'patch', 'update'], shortNames: ['po'] },
  { name: 'pods/status', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get', 'patch', 'update'] },
  { name: 'endpoints', singularName: 'endpoints', namespaced: true, kind: 'Endpoints', verbs: ['create', 'delete', 'get', 'list', 'update'], shortNames: ['ep'] },
]

const DISCOVERY_RESOURCES = [
  { name: 'endpointslices', singularName: 'endpointslice', namespaced: true, kind: 'EndpointSlice', verbs: ['get', 'list'] },
]

const DISCOVERY_GROUP = {
  name: 'discovery.k8s.io',
  versions: [{ groupVersion: 'discovery.k8s.io/v1', version: 'v1' }],
  preferredVersion: { groupVersion: 'discovery.k8s.io/v1', version: 'v1' },
}

export function mountDiscovery(app: Hono<AppEnv>, options: { version: string; ready: () => Promise<boolean> }): void {
  route(app, '/healthz', {
    get: async (c) => {
      if (!(await options.ready())) throw new RegistryError('ServiceUnavailable', 'the database is not usable yet')
      return c.text('ok')
    },
  })
  route(app, '/version', {
    get: (c) => {
      const [major = '0', minor = '0'] = options.version.split('.')
      return c.json({ version: options.version, gitVersion: `v${options.version}`, major, minor, platform: 'switchboard' })
    },
  })
  route(app, '/api', { get: (c) => c.json({ kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] }) })
  route(app, '/api/v1', {
    get: (c) => c.json({ kind: 'APIResourceList', groupVersion: 'v1', resources: CORE_RESOURCES }),
  })
  route(app, '/apis', { get: (c) => c.json({ kind: 'APIGroupList', apiVersion: 'v1', groups: [DISCOVERY_GROUP] }) })
  route(app, '/apis/discovery.k8s.io', { get: (c) => c.json({ kind: 'APIGroup', apiVersion: 'v1', ...DISCOVERY_GROUP }) })
  route(app, '/apis/discovery.k8s.io/v1', {
    get: (c) => c.json({ kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'discovery.k8s.io/v1', resources: DISCOVERY_RESOURCES }),
  })
}
