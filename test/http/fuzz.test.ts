/**
 * Malformed and random request bodies against every write route. Each generated body is
 * invalid by construction (garbage bytes, JSON of the wrong type, a valid body with one
 * field made invalid, a wrong content type, a JSON patch that cannot apply), and each must
 * be answered with a 4xx Kubernetes Status while the database stays exactly as it was.
 */
import fc from 'fast-check'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { z } from 'zod'
import { DeleteOptions, Namespace, Pod, Service } from '../../worker/registry/schemas'
import { testApp, type TestApp } from '../support/app'
import { dumpTables } from '../support/db'

/** Random bodies per route; one case per listed invalid value, content type and shape comes on top. */
const RUNS = 1000
const SEED = 0x5eed
const MiB = 1024 * 1024

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type Path = (string | number)[]
type Scope = 'create' | 'update' | 'status' | 'delete'
type BodyKind = 'object' | 'patch' | 'delete'

/** One request: a label naming the defect, the exact bytes, and the content type (null: no header). */
interface Case {
  label: string
  body: string | Uint8Array
  contentType: string | null
}

interface Route {
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  path: string
  scope: Scope
  body: BodyKind
  /** A valid body for this route (a valid merge patch for PATCH). */
  template: Json
  /** Field values that are invalid for this route, each set alone on the template. */
  mutations: Mutation[]
  /** Where a JSON patch can insert out of range: an array of the stored object. */
  arrayPath?: string
}

interface Mutation {
  path: Path
  values: Json[]
  /** The scopes in which each value is invalid. */
  on: Scope[]
}

// ---------------------------------------------------------------------------------------------
// The seeded database

const WEIGHT = 'switchboard.dev/weight'

const WEB_PORTS: Json = [{ name: 'http', protocol: 'TCP', port: 80, targetPort: 'http' }]
const WEB_CONTAINERS: Json = [{ name: 'app', image: 'web:1', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }]

interface Seeded {
  t: TestApp
  before: string
}

/** A fresh database holding a second namespace, two services and two pods, and its dump. */
async function seeded(): Promise<Seeded> {
  const t = await testApp()
  const create = async (path: string, body: Json) => {
    const res = await t.json('POST', path, body)
    expect(res.status, JSON.stringify(res.body)).toBe(201)
    // A stale resourceVersion of '1' must really be stale for every seeded object.
    expect(res.body.metadata.resourceVersion).not.toBe('1')
  }
  await create('/api/v1/namespaces', { metadata: { name: 'team-a', labels: { team: 'a' } } })
  await create('/api/v1/namespaces/default/services', {
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: { selector: { app: 'web' }, ports: WEB_PORTS },
  })
  await create('/api/v1/namespaces/default/services', {
    metadata: { name: 'edge' },
    spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort: 30080 }] },
  })
  await create('/api/v1/namespaces/default/pods', {
    metadata: { name: 'web-1', labels: { app: 'web', 'topology.kubernetes.io/zone': 'zone-a' }, annotations: { [WEIGHT]: '3' } },
    spec: { nodeName: 'node-a', containers: WEB_CONTAINERS },
    status: { phase: 'Running', podIP: '10.1.0.5', conditions: [{ type: 'Ready', status: 'True' }] },
  })
  await create('/api/v1/namespaces/team-a/pods', {
    metadata: { name: 'api-1', labels: { app: 'api' } },
    status: { podIP: '10.1.0.6', conditions: [{ type: 'Ready', status: 'True' }] },
  })
  return { t, before: await dumpTables(t.client) }
}

// ---------------------------------------------------------------------------------------------
// Invalid field values, by kind

const EVERY: Scope[] = ['create', 'update', 'status']
const WRITES: Scope[] = ['create', 'update']
const CREATE: Scope[] = ['create']
const UPDATE: Scope[] = ['update', 'status']

/** An object with an own `__proto__` key, as JSON.parse builds it. */
const protoKey = (value: Json): Json => JSON.parse(`{"__proto__":${JSON.stringify(value)}}`)

const BAD_LABELS: Json[] = [
  { 'bad key!': 'v' },
  { '-a': 'v' },
  { 'a/b/c': 'v' },
  { 'Example.com/x': 'v' },
  { '': 'v' },
  { ['k'.repeat(64)]: 'v' },
  { app: 'bad value!' },
  { app: 'v'.repeat(64) },
  { app: '-web' },
  protoKey('v'),
]

/** Metadata and type meta, shared by namespaces, services and pods. */
function metaMutations(kind: string, otherKind: string, names: { create: Json[]; existing: string }): Mutation[] {
  return [
    { path: ['kind'], values: ['Other', otherKind, kind.toLowerCase(), 5, [kind], { kind }], on: EVERY },
    { path: ['apiVersion'], values: ['v2', 'apps/v1', 'V1', 1, ['v1']], on: EVERY },
    { path: ['metadata'], values: ['x', 5, [], true], on: EVERY },
    { path: ['metadata', 'name'], values: [123, true, [names.existing], { a: 'b' }], on: EVERY },
    { path: ['metadata', 'name'], values: names.create, on: CREATE },
    { path: ['metadata', 'name'], values: ['other', 'UPPER', 'a'.repeat(300), `${names.existing}-2`], on: UPDATE },
    { path: ['metadata', 'generateName'], values: [5, ['x']], on: EVERY },
    { path: ['metadata', 'namespace'], values: [5, { a: 'b' }], on: EVERY },
    { path: ['metadata', 'labels'], values: ['x', ['x'], { app: 5 }, { app: ['web'] }, { app: { a: 'b' } }, { app: true }], on: EVERY },
    { path: ['metadata', 'labels'], values: BAD_LABELS, on: WRITES },
    { path: ['metadata', 'annotations'], values: ['x', [1], { note: 5 }, { note: { a: 'b' } }], on: EVERY },
    { path: ['metadata', 'annotations'], values: [{ 'bad key!': 'v' }, { '-a': 'v' }, protoKey('v'), { big: 'x'.repeat(256 * 1024) }], on: WRITES },
    { path: ['metadata', 'resourceVersion'], values: [5, ['1'], { rv: '1' }], on: EVERY },
    // Create: a resourceVersion may not be set. Update: it is stale.
    { path: ['metadata', 'resourceVersion'], values: ['1'], on: EVERY },
    { path: ['metadata', 'uid'], values: [5, {}], on: EVERY },
    { path: ['metadata', 'generation'], values: ['x', 1.5, []], on: EVERY },
    { path: ['metadata', 'creationTimestamp'], values: [5, []], on: EVERY },
    { path: ['metadata', 'deletionGracePeriodSeconds'], values: ['x', 0.5], on: EVERY },
    { path: ['metadata', 'ownerReferences'], values: ['x', [{}], [{ kind: 'X' }], [5], [{ apiVersion: 'v1', kind: 'X', name: 'x', uid: 5 }]], on: EVERY },
    { path: ['metadata', 'finalizers'], values: ['x', [1], [['a']]], on: EVERY },
  ]
}

const NAMESPACE_MUTATIONS: Mutation[] = [
  ...metaMutations('Namespace', 'Service', {
    create: ['UPPER', '-a', 'a-', 'a.b', 'a_b', 'a'.repeat(64), 'a'.repeat(300), '', 'default', 'team-a'],
    existing: 'team-a',
  }),
  { path: ['spec'], values: ['x', 5, []], on: EVERY },
  { path: ['spec', 'finalizers'], values: ['x', [1], [{}]], on: EVERY },
  { path: ['status'], values: ['x', 5, []], on: EVERY },
  { path: ['status', 'phase'], values: [5, ['Active']], on: EVERY },
]

const SERVICE_MUTATIONS: Mutation[] = [
  ...metaMutations('Service', 'Pod', {
    create: ['UPPER', '-a', '1abc', 'a.b', 'a_b', 'a'.repeat(64), 'a'.repeat(300), '', 'web', 'edge'],
    existing: 'web',
  }),
  { path: ['metadata', 'namespace'], values: ['other', 'team-a', 'Default'], on: EVERY },
  { path: ['spec'], values: ['x', 5, [], true], on: EVERY },
  { path: ['spec', 'type'], values: [5, ['ClusterIP'], { t: 'x' }], on: EVERY },
  { path: ['spec', 'type'], values: ['Bogus', 'clusterip', 'ExternalName'], on: WRITES },
  { path: ['spec', 'ports'], values: ['x', 5, [{}], [1], [{ port: '80' }]], on: EVERY },
  { path: ['spec', 'ports'], values: [[], [{ port: 80 }, { port: 81 }], [{ name: 'a', port: 80 }, { name: 'a', port: 81 }], [{ name: 'a', port: 80 }, { name: 'b', port: 80 }]], on: WRITES },
  { path: ['spec', 'ports', 0, 'port'], values: ['x', [], {}, true, 1.5, '80'], on: EVERY },
  { path: ['spec', 'ports', 0, 'port'], values: [0, -1, 65536, 70000], on: WRITES },
  { path: ['spec', 'ports', 0, 'targetPort'], values: [1.5, true, [], {}], on: EVERY },
  { path: ['spec', 'ports', 0, 'targetPort'], values: ['Bad_Name', '-http', 'http-', 'a--b', 'a'.repeat(16), '123', 70000, -1], on: WRITES },
  { path: ['spec', 'ports', 0, 'protocol'], values: [5, ['TCP']], on: EVERY },
  { path: ['spec', 'ports', 0, 'protocol'], values: ['HTTP', 'tcp', 'ICMP'], on: WRITES },
  { path: ['spec', 'ports', 0, 'name'], values: [5, ['http']], on: EVERY },
  { path: ['spec', 'ports', 0, 'name'], values: ['UPPER', 'a_b', '-a', 'a'.repeat(64)], on: WRITES },
  { path: ['spec', 'ports', 0, 'nodePort'], values: ['x', 1.5], on: EVERY },
  // A NodePort on a ClusterIP service.
  { path: ['spec', 'ports', 0, 'nodePort'], values: [30081, 30080, 70000], on: WRITES },
  { path: ['spec', 'ports', 0, 'appProtocol'], values: [5, []], on: EVERY },
  { path: ['spec', 'externalName'], values: ['example.com', 'x'], on: WRITES },
  { path: ['spec', 'externalName'], values: [5], on: EVERY },
  { path: ['spec', 'clusterIP'], values: ['not-an-ip', '10.0.0.999', '01.2.3.4', '::g', 'fe80::1%eth0'], on: WRITES },
  { path: ['spec', 'clusterIP'], values: [5, ['10.0.0.1']], on: EVERY },
  { path: ['spec', 'clusterIPs'], values: [['not-an-ip'], ['10.0.0.1', '10.0.0.2', '10.0.0.3']], on: WRITES },
  { path: ['spec', 'clusterIPs'], values: ['10.0.0.1', [5]], on: EVERY },
  { path: ['spec', 'selector'], values: ['x', ['x'], { app: 5 }], on: EVERY },
  { path: ['spec', 'selector'], values: BAD_LABELS, on: WRITES },
  { path: ['spec', 'sessionAffinity'], values: ['Sticky', 'none'], on: WRITES },
  { path: ['spec', 'externalTrafficPolicy'], values: ['Cluster', 'Local', 'Bogus'], on: WRITES },
  { path: ['spec', 'internalTrafficPolicy'], values: ['Bogus', 'local'], on: WRITES },
  { path: ['spec', 'ipFamilyPolicy'], values: ['Bogus'], on: WRITES },
  { path: ['spec', 'ipFamilies'], values: [['IPv5'], ['ipv4']], on: WRITES },
  { path: ['spec', 'ipFamilies'], values: ['IPv4', [4]], on: EVERY },
  { path: ['spec', 'externalIPs'], values: [['not-an-ip'], ['1.2.3']], on: WRITES },
  { path: ['spec', 'loadBalancerIP'], values: ['1.2.3', 'x'], on: WRITES },
  { path: ['spec', 'publishNotReadyAddresses'], values: ['yes', 1], on: EVERY },
]

const POD_MUTATIONS: Mutation[] = [
  ...metaMutations('Pod', 'Service', {
    create: ['UPPER', '-a', 'a..b', 'a_b', 'a.', 'a'.repeat(254), 'a'.repeat(300), '', 'web-1'],
    existing: 'web-1',
  }),
  { path: ['metadata', 'namespace'], values: ['other', 'team-a', 'Default'], on: EVERY },
  { path: ['metadata', 'annotations'], values: [{ [WEIGHT]: 5 }], on: EVERY },
  { path: ['metadata', 'annotations'], values: ['-1', 'abc', '70000', '65536', '1.5', '', ' 1', '0x10', '1e3'].map((w) => ({ [WEIGHT]: w })), on: WRITES },
  { path: ['spec'], values: ['x', 5, []], on: EVERY },
  { path: ['spec', 'nodeName'], values: ['UPPER', 'a_b', '-a'], on: WRITES },
  { path: ['spec', 'nodeName'], values: [5, ['node-a']], on: EVERY },
  { path: ['spec', 'hostname'], values: ['a.b', 'UPPER'], on: WRITES },
  { path: ['spec', 'subdomain'], values: ['a.b', 'a_b'], on: WRITES },
  { path: ['spec', 'terminationGracePeriodSeconds'], values: [-1, -30], on: WRITES },
  { path: ['spec', 'terminationGracePeriodSeconds'], values: ['x', 1.5], on: EVERY },
  { path: ['spec', 'containers'], values: ['x', [5], [{ ports: 'x' }]], on: EVERY },
  { path: ['spec', 'containers'], values: [[{ name: 'app' }, { name: 'app' }]], on: WRITES },
  { path: ['spec', 'containers', 0, 'name'], values: ['UPPER', 'a_b', 'a.b'], on: WRITES },
  { path: ['spec', 'containers', 0, 'name'], values: [5], on: EVERY },
  { path: ['spec', 'containers', 0, 'ports', 0, 'containerPort'], values: [0, -1, 65536, 70000], on: WRITES },
  { path: ['spec', 'containers', 0, 'ports', 0, 'containerPort'], values: ['x', [], 1.5, '8080'], on: EVERY },
  { path: ['spec', 'containers', 0, 'ports', 0, 'hostPort'], values: [70000, -1], on: WRITES },
  { path: ['spec', 'containers', 0, 'ports', 0, 'hostPort'], values: ['x'], on: EVERY },
  { path: ['spec', 'containers', 0, 'ports', 0, 'protocol'], values: ['HTTP', 'tcp'], on: WRITES },
  { path: ['spec', 'containers', 0, 'ports', 0, 'name'], values: ['Bad_Name', 'a'.repeat(16), '123', '-a', 'a--b'], on: WRITES },
  {
    path: ['spec', 'containers', 0, 'ports'],
    values: [[{ name: 'http', containerPort: 8080 }, { name: 'http', containerPort: 8081 }]],
    on: WRITES,
  },
  { path: ['status'], values: ['x', 5, []], on: EVERY },
  { path: ['status', 'phase'], values: ['Bogus', 'running'], on: EVERY },
  { path: ['status', 'phase'], values: [5], on: EVERY },
  { path: ['status', 'podIP'], values: ['999.1.1.1', '01.2.3.4', '1.2.3', 'fe80::1%eth0', 'x', '10.1.0.5/32'], on: EVERY },
  { path: ['status', 'podIP'], values: [5, ['10.1.0.5']], on: EVERY },
  {
    path: ['status', 'podIPs'],
    values: [[{ ip: 'x' }], [{ ip: '10.1.0.1' }, { ip: '10.1.0.2' }], [{ ip: '10.1.0.7' }, { ip: 'fd00::7' }, { ip: '10.1.0.8' }], 'x', [{}], [{ ip: 5 }]],
    on: EVERY,
  },
  { path: ['status', 'hostIP'], values: ['x', '256.0.0.1'], on: EVERY },
  {
    path: ['status', 'conditions'],
    values: [
      [{ type: 'Ready', status: 'Maybe' }],
      [{ type: 'Ready', status: 'true' }],
      [{ type: '', status: 'True' }],
      [{ type: 'Ready', status: 'True' }, { type: 'Ready', status: 'False' }],
      [{ type: 'Ready' }],
      'x',
      [{ type: 'Ready', status: 1 }],
    ],
    on: EVERY,
  },
  { path: ['status', 'conditions', 0, 'status'], values: ['Maybe', 'yes', ''], on: EVERY },
]

const DELETE_MUTATIONS: Mutation[] = [
  { path: ['gracePeriodSeconds'], values: ['x', 1.5, true, [], {}], on: ['delete'] },
  { path: ['propagationPolicy'], values: [5, true, [], 'Bogus', 'background'], on: ['delete'] },
  { path: ['preconditions'], values: ['x', 5, [], { uid: 5 }, { resourceVersion: 5 }], on: ['delete'] },
  { path: ['preconditions', 'uid'], values: ['not-the-uid', '00000000-0000-4000-8000-000000000000'], on: ['delete'] },
  { path: ['preconditions', 'resourceVersion'], values: ['1', '999999'], on: ['delete'] },
  { path: ['dryRun'], values: [['Server'], ['All', 'x'], 'All', [5]], on: ['delete'] },
  { path: ['kind'], values: ['Other', 'Pod', 5], on: ['delete'] },
  { path: ['apiVersion'], values: ['v2', 'apps/v1', 5], on: ['delete'] },
]

// ---------------------------------------------------------------------------------------------
// The write routes and their templates

const POD_TEMPLATE = (name: string, ip: string): Json => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', labels: { app: 'web', tier: 'front' }, annotations: { [WEIGHT]: '2' } },
  spec: {
    nodeName: 'node-a',
    hostname: name,
    subdomain: 'web',
    terminationGracePeriodSeconds: 30,
    containers: [{ name: 'app', image: 'web:1', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP', hostPort: 18080 }] }],
  },
  status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], hostIP: '192.168.0.1', conditions: [{ type: 'Ready', status: 'True' }] },
})

const DELETE_TEMPLATE: Json = { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, propagationPolicy: 'Background', preconditions: {} }

const SVC = '/api/v1/namespaces/default/services'
const PODS = '/api/v1/namespaces/default/pods'

const ROUTES: Route[] = [
  {
    method: 'POST',
    path: '/api/v1/namespaces',
    scope: 'create',
    body: 'object',
    template: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fuzz', labels: { team: 'fuzz' }, annotations: { note: 'x' } }, spec: { finalizers: ['kubernetes'] } },
    mutations: NAMESPACE_MUTATIONS,
  },
  { method: 'DELETE', path: '/api/v1/namespaces/team-a', scope: 'delete', body: 'delete', template: DELETE_TEMPLATE, mutations: DELETE_MUTATIONS },
  {
    method: 'POST',
    path: SVC,
    scope: 'create',
    body: 'object',
    template: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'fuzz', namespace: 'default', labels: { app: 'fuzz' }, annotations: { note: 'x' } },
      spec: { type: 'ClusterIP', selector: { app: 'fuzz' }, ports: [{ name: 'http', protocol: 'TCP', port: 81, targetPort: 'http' }] },
    },
    mutations: SERVICE_MUTATIONS,
  },
  {
    method: 'PUT',
    path: `${SVC}/web`,
    scope: 'update',
    body: 'object',
    template: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default', labels: { app: 'web', tier: 'front' } },
      spec: { type: 'ClusterIP', selector: { app: 'web' }, ports: WEB_PORTS },
    },
    mutations: SERVICE_MUTATIONS,
  },
  {
    method: 'PATCH',
    path: `${SVC}/web`,
    scope: 'update',
    body: 'patch',
    template: { metadata: { labels: { tier: 'front' } }, spec: { ports: WEB_PORTS } },
    mutations: SERVICE_MUTATIONS,
    arrayPath: '/spec/ports',
  },
  { method: 'DELETE', path: `${SVC}/web`, scope: 'delete', body: 'delete', template: DELETE_TEMPLATE, mutations: DELETE_MUTATIONS },
  { method: 'POST', path: PODS, scope: 'create', body: 'object', template: POD_TEMPLATE('fuzz-1', '10.1.0.9'), mutations: POD_MUTATIONS },
  { method: 'PUT', path: `${PODS}/web-1`, scope: 'update', body: 'object', template: POD_TEMPLATE('web-1', '10.1.0.5'), mutations: POD_MUTATIONS },
  {
    method: 'PATCH',
    path: `${PODS}/web-1`,
    scope: 'update',
    body: 'patch',
    template: {
      metadata: { labels: { tier: 'front' } },
      spec: { containers: WEB_CONTAINERS },
      status: { podIP: '10.1.0.5', podIPs: [{ ip: '10.1.0.5' }], conditions: [{ type: 'Ready', status: 'True' }] },
    },
    mutations: POD_MUTATIONS,
    arrayPath: '/spec/containers',
  },
  {
    method: 'PUT',
    path: `${PODS}/web-1/status`,
    scope: 'status',
    body: 'object',
    template: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web-1', namespace: 'default' },
      spec: { containers: WEB_CONTAINERS },
      status: { phase: 'Running', podIP: '10.1.0.5', podIPs: [{ ip: '10.1.0.5' }], conditions: [{ type: 'Ready', status: 'False' }] },
    },
    mutations: POD_MUTATIONS,
  },
  {
    method: 'PATCH',
    path: `${PODS}/web-1/status`,
    scope: 'status',
    body: 'patch',
    template: { metadata: { name: 'web-1' }, spec: { containers: WEB_CONTAINERS }, status: { conditions: [{ type: 'Ready', status: 'False' }] } },
    mutations: POD_MUTATIONS,
    arrayPath: '/spec/containers',
  },
  { method: 'DELETE', path: `${PODS}/web-1`, scope: 'delete', body: 'delete', template: DELETE_TEMPLATE, mutations: DELETE_MUTATIONS },
]

// ---------------------------------------------------------------------------------------------
// Building bodies

/** Every field name the schemas know, at any depth: unknown keys are chosen outside this set. */
const KNOWN_KEYS: ReadonlySet<string> = (() => {
  const keys = new Set<string>(['op', 'path', 'value', 'from'])
  const walk = (schema: unknown): void => {
    if (schema instanceof z.ZodObject) {
      for (const [key, field] of Object.entries(schema.shape as Record<string, unknown>)) {
        keys.add(key)
        walk(field)
      }
    } else if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable) {
      walk(schema.unwrap())
    } else if (schema instanceof z.ZodArray) {
      walk(schema.element)
    } else if (schema instanceof z.ZodUnion) {
      for (const option of schema.options) walk(option)
    }
  }
  for (const schema of [Namespace, Service, Pod, DeleteOptions]) walk(schema)
  return keys
})()

const clone = <T extends Json>(value: T): T => JSON.parse(JSON.stringify(value))

/** Sets an own property, so that a key such as `__proto__` stays data. */
function setOwn(obj: Json[] | { [key: string]: Json }, key: string | number, value: Json): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true })
}

function isRecord(value: unknown): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function getIn(doc: Json, path: Path): Json | undefined {
  let cur: Json | undefined = doc
  for (const key of path) {
    if (Array.isArray(cur) && typeof key === 'number') cur = cur[key]
    else if (isRecord(cur) && typeof key === 'string' && Object.hasOwn(cur, key)) cur = cur[key]
    else return undefined
  }
  return cur
}

/** Sets `path` in `doc`, creating the objects and arrays on the way. */
function setIn(doc: Json, path: Path, value: Json): void {
  let cur = doc
  path.forEach((key, i) => {
    if (!Array.isArray(cur) && !isRecord(cur)) throw new Error(`cannot set ${path.join('.')}`)
    if (i === path.length - 1) return setOwn(cur, key, value)
    const next = (cur as Record<string | number, Json>)[key]
    if (Array.isArray(next) || isRecord(next)) cur = next
    else {
      const fresh: Json = typeof path[i + 1] === 'number' ? [] : {}
      setOwn(cur, key, fresh)
      cur = fresh
    }
  })
}

/** RFC 6901: `['metadata', 'annotations', 'a/b']` → `/metadata/annotations/a~1b`. */
const pointer = (path: Path) => path.map((p) => `/${String(p).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('')

/** Objects of a template where unknown keys may go (never inside label, selector or annotation maps). */
function objectPaths(template: Json): Path[] {
  const candidates: Path[] = [[], ['metadata'], ['spec'], ['status'], ['preconditions'], ['spec', 'ports', 0], ['spec', 'containers', 0], ['status', 'conditions', 0]]
  return candidates.filter((p) => isRecord(getIn(template, p)))
}

const JSON_TYPES = ['application/json', 'application/json; charset=utf-8', 'Application/JSON', 'application/json;charset=UTF-8']
const MERGE_TYPES = ['application/merge-patch+json', 'application/merge-patch+json; charset=utf-8']
/** Taken by PATCH routes only; not fuzzed there with invalid values, as it merges duplicate list items by key rather than refusing them. */
const STRATEGIC = 'application/strategic-merge-patch+json'
/** Taken for creates and replaces (a JSON body is YAML too). */
const YAML = 'application/yaml'
const JSON_PATCH = 'application/json-patch+json'

/** Content types that no route accepts for a body. */
const FOREIGN_TYPES = [
  'text/plain',
  'text/plain;charset=UTF-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/apply-patch+yaml',
  'application/jsonx',
  'text/json',
  'application/vnd.kubernetes.protobuf',
]

function validTypes(route: Route): string[] {
  return route.body === 'patch' ? MERGE_TYPES : JSON_TYPES
}

/**
 * Content types the route refuses for an otherwise valid body (`null`: no Content-Type at
 * all). A DELETE may leave its content type out; a merge patch sent as a JSON patch is not a list.
 */
function wrongTypes(route: Route): (string | null)[] {
  if (route.body === 'patch') return [...FOREIGN_TYPES, ...JSON_TYPES, YAML, JSON_PATCH, '', null]
  if (route.body === 'delete') return [...FOREIGN_TYPES, ...MERGE_TYPES, STRATEGIC, YAML, JSON_PATCH]
  return [...FOREIGN_TYPES, ...MERGE_TYPES, STRATEGIC, JSON_PATCH, '', null]
}

/** Whether the server would read these bytes as JSON (its decoder drops a leading BOM). */
function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text.replace(/^\ufeff/, ''))
    return true
  } catch {
    return false
  }
}

/** A DELETE body that is empty or JSON whitespace, which the server reads as no DeleteOptions. */
const noDeleteOptions = (text: string) => /^[ \t\r\n]*$/.test(text.replace(/^\ufeff/, ''))

/** Byte sequences that never occur in valid UTF-8. */
const INVALID_UTF8: number[][] = [
  [0xff],
  [0xfe],
  [0x80],
  [0xbf],
  [0xc0, 0xaf],
  [0xc1, 0xbf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xc3, 0x28],
  [0xe2, 0x82, 0x28],
]

const encoder = new TextEncoder()

const deepObject = (n: number) => '{"a":'.repeat(n) + '0' + '}'.repeat(n)
const deepArray = (n: number) => '['.repeat(n) + ']'.repeat(n)

/** An unknown key and a random JSON value, to sprinkle into a body. */
const unknownKey = fc
  .oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ unit: 'binary', minLength: 1, maxLength: 6 }), fc.constantFrom('__proto__', 'constructor', 'toString', 'x-extra'))
  .filter((k) => !KNOWN_KEYS.has(k))
const extras = (paths: Path[]) => fc.array(fc.tuple(fc.constantFrom(...paths), unknownKey, fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>), { maxLength: 4 })

function sprinkle(doc: Json, items: [Path, string, Json][]): void {
  for (const [path, key, value] of items) {
    const target = getIn(doc, path)
    if (isRecord(target)) setOwn(target, key, value)
  }
}

const short = (value: Json) => {
  const s = JSON.stringify(value)
  return s.length > 40 ? `${s.slice(0, 37)}...` : s
}

const fieldName = (path: Path) => path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').slice(1)

/** The template with one field set to an invalid value, as a document or (for PATCH) as a JSON patch. */
function mutationCase(route: Route, { path, value }: { path: Path; value: Json }, asJsonPatch: boolean): fc.Arbitrary<Case> {
  return fc.tuple(extras(objectPaths(route.template)), fc.constantFrom(...validTypes(route)), fc.boolean()).map(([extra, type, withValidOp]): Case => {
    if (asJsonPatch) {
      const ops: Json[] = [{ op: 'add', path: pointer(path), value }]
      if (withValidOp) ops.unshift(VALID_OP)
      const last = ops[ops.length - 1]
      for (const [, key, v] of extra) if (isRecord(last)) setOwn(last, key, v)
      return { label: `JSON patch ${fieldName(path)}=${short(value)}`, body: JSON.stringify(ops), contentType: JSON_PATCH }
    }
    const body = clone(route.template)
    sprinkle(body, extra)
    setIn(body, path, value)
    return { label: `${fieldName(path)}=${short(value)}`, body: JSON.stringify(body), contentType: type }
  })
}

/** A valid body in a content type the route does not take. */
function foreignCase(route: Route, type: string | null): fc.Arbitrary<Case> {
  return extras(objectPaths(route.template)).map((extra): Case => {
    const body = clone(route.template)
    sprinkle(body, extra)
    return { label: `content type ${type === null ? '(none)' : JSON.stringify(type)}`, body: JSON.stringify(body), contentType: type }
  })
}

const NESTINGS = ['unbalanced', 'top-level array', 'field object', 'field array', 'JSON patch value'] as const

/** A body nested `n` levels deep: unbalanced, a bare array, or under a field that must be a string. */
function nestedCase(route: Route, n: number, shape: (typeof NESTINGS)[number]): Case {
  const type = validTypes(route)[0]!
  const nested = shape === 'field array' ? deepArray(n) : deepObject(n)
  const inField = route.body === 'delete' ? `{"preconditions":{"uid":${nested}}}` : `{"metadata":{"labels":{"x":${nested}}}}`
  const label = `nesting: ${shape}, ${n >= 1000 ? '1000 levels or more' : 'under 1000 levels'}`
  switch (shape) {
    case 'unbalanced':
      return { label, body: n % 2 ? '['.repeat(n) : '{"a":'.repeat(n), contentType: type }
    case 'top-level array':
      return { label, body: deepArray(n), contentType: type }
    case 'JSON patch value':
      if (route.body !== 'patch') return { label, body: inField, contentType: type }
      return { label, body: `[{"op":"add","path":"/metadata/labels/x","value":${nested}}]`, contentType: JSON_PATCH }
    default:
      return { label, body: inField, contentType: type }
  }
}

function badUtf8Case(bytes: Uint8Array, bad: number[], at: number, type: string): Case {
  const i = at % (bytes.length + 1)
  const body = new Uint8Array(bytes.length + bad.length)
  body.set(bytes.subarray(0, i))
  body.set(bad, i)
  body.set(bytes.subarray(i), i + bad.length)
  return { label: `invalid UTF-8 ${bad.map((b) => b.toString(16)).join(' ')}`, body, contentType: type }
}

/** Whitespace that JSON does not allow (and a zero-width space, which is no whitespace at all). */
const ODD_WHITESPACE = ['\u00a0', '\u2028', '\u3000', '\u000b', '\u000c', '\u200b', '\ufeff\ufeff']

/** The mutations that are invalid for this route, one per (field, value). */
function invalidFields(route: Route): { path: Path; value: Json }[] {
  return route.mutations.filter((m) => m.on.includes(route.scope)).flatMap((m) => m.values.map((value) => ({ path: m.path, value })))
}

/**
 * One case of each kind for the route, so that every listed invalid value, content type,
 * bad JSON patch, invalid UTF-8 sequence and nesting shape is sent at least once.
 */
function systematicCases(route: Route): fc.Arbitrary<Case>[] {
  const type = validTypes(route)[0]!
  const isDelete = route.body === 'delete'
  const out: fc.Arbitrary<Case>[] = []
  for (const pair of invalidFields(route)) {
    out.push(mutationCase(route, pair, false))
    if (route.body === 'patch') out.push(mutationCase(route, pair, true))
  }
  for (const t of wrongTypes(route)) out.push(foreignCase(route, t))
  if (route.body === 'patch') for (const patch of badJsonPatches(route.arrayPath!)) out.push(fc.constant(patch))
  const bytes = encoder.encode(JSON.stringify(route.template))
  INVALID_UTF8.forEach((bad, i) => out.push(fc.constant(badUtf8Case(bytes, bad, i * 7, type))))
  for (const shape of NESTINGS) for (const n of [10, 10_000]) out.push(fc.constant(nestedCase(route, n, shape)))
  for (const ws of ODD_WHITESPACE) out.push(fc.constant<Case>({ label: `non-JSON whitespace ${codePoints(ws)}`, body: ws, contentType: type }))
  for (const v of [[], [{}], 0, -1.5, '', 'x', true, false, null] as Json[]) {
    out.push(fc.constant<Case>({ label: `JSON ${kindOf(v)}`, body: JSON.stringify(v), contentType: type }))
  }
  if (!isDelete) out.push(fc.constant<Case>({ label: 'empty body', body: '', contentType: type }))
  return out
}

const codePoints = (s: string) => [...s].map((c) => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`).join(' ')

const kindOf = (v: Json) => (Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v)

/** Random cases for the route; each is invalid by construction. */
function randomCases(route: Route): fc.Arbitrary<Case> {
  const json = JSON.stringify(route.template)
  const type = validTypes(route)[0]!
  const isDelete = route.body === 'delete'

  // (a) Raw garbage: text that is not JSON, truncated JSON, invalid UTF-8, huge nesting, nothing.
  const garbageText = fc
    .oneof(
      fc.string({ minLength: 1 }),
      fc.string({ unit: 'binary', minLength: 1 }),
      fc.string({ unit: 'grapheme', minLength: 1 }),
      fc.string({ unit: fc.constantFrom(...'{}[]":,0123456789.-+eEtrufalsn \\\t\n'.split('')), minLength: 1, maxLength: 40 }),
    )
    .filter((s) => !parsesAsJson(s) && !(isDelete && noDeleteOptions(s)))
    .map((s): Case => ({ label: 'garbage text', body: s, contentType: type }))
  const oddWhitespace = fc
    .array(fc.constantFrom(' ', '\t', '\n', ...ODD_WHITESPACE), { minLength: 1, maxLength: 6 })
    .map((cs) => cs.join(''))
    .filter((s) => !parsesAsJson(s) && !(isDelete && noDeleteOptions(s)))
    .map((s): Case => ({ label: 'non-JSON whitespace', body: s, contentType: type }))
  const truncated = fc
    .integer({ min: isDelete ? 1 : 0, max: json.length - 1 })
    .map((n): Case => ({ label: 'truncated JSON', body: json.slice(0, n), contentType: type }))
  const badUtf8 = fc
    .tuple(fc.oneof(fc.constant(encoder.encode(json)), fc.uint8Array({ maxLength: 64 })), fc.constantFrom(...INVALID_UTF8), fc.nat())
    .map(([bytes, bad, at]) => badUtf8Case(bytes, bad, at, type))
  const deep = fc
    .tuple(fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1000, max: 40_000 })), fc.constantFrom(...NESTINGS))
    .map(([n, shape]) => nestedCase(route, n, shape))
  const empty = fc.constantFrom<Case>(
    { label: 'empty body', body: '', contentType: type },
    { label: 'empty body', body: new Uint8Array(0), contentType: type },
    { label: 'whitespace body', body: ' \n\t', contentType: type },
  )

  // (b) JSON of the wrong top-level type: for a merge patch it replaces the document.
  const wrongType = fc
    .oneof(fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 5 }), fc.integer(), fc.double(), fc.string(), fc.boolean(), fc.constant(null))
    .map((v): Case => ({ label: `JSON ${kindOf(v as Json)}`, body: JSON.stringify(v), contentType: type }))

  // (c) A valid template with one field made invalid, plus unknown keys that change nothing.
  const mutated = fc
    .tuple(fc.constantFrom(...invalidFields(route)), fc.boolean())
    .chain(([pair, asJsonPatch]) => mutationCase(route, pair, route.body === 'patch' && asJsonPatch))

  // (d) A valid body in a content type the route does not take.
  const foreign = fc.constantFrom(...wrongTypes(route)).chain((t) => foreignCase(route, t))
  const form = fc.constant<Case>({ label: 'form body', body: 'metadata.name=fuzz&kind=Pod', contentType: 'application/x-www-form-urlencoded' })

  const arbs: fc.WeightedArbitrary<Case>[] = [
    { arbitrary: garbageText, weight: 12 },
    { arbitrary: oddWhitespace, weight: 3 },
    { arbitrary: truncated, weight: 8 },
    { arbitrary: badUtf8, weight: 7 },
    { arbitrary: deep, weight: 6 },
    { arbitrary: wrongType, weight: 10 },
    { arbitrary: mutated, weight: 40 },
    { arbitrary: foreign, weight: 8 },
    { arbitrary: form, weight: 1 },
  ]
  if (!isDelete) arbs.push({ arbitrary: empty, weight: 2 })
  if (route.body === 'patch') {
    const unknownOp = fc
      .tuple(fc.string({ maxLength: 10 }).filter((op) => !OPS.includes(op)), fc.boolean())
      .map(([op, withValidOp]): Case => {
        const ops: Json[] = [{ op, path: '/metadata/labels/x', value: 'y' }]
        if (withValidOp) ops.unshift(VALID_OP)
        return { label: 'JSON patch: unknown op', body: JSON.stringify(ops), contentType: JSON_PATCH }
      })
    arbs.push({ arbitrary: fc.oneof({ arbitrary: fc.constantFrom(...badJsonPatches(route.arrayPath!)), weight: 4 }, { arbitrary: unknownOp, weight: 1 }), weight: 10 })
  }
  return fc.oneof(...arbs)
}

const OPS = ['add', 'remove', 'replace', 'move', 'copy', 'test']
const VALID_OP: Json = { op: 'add', path: '/metadata/labels/tier', value: 'front' }

/** JSON patches that cannot be applied: bad ops, bad paths, missing members, failed tests. */
function badJsonPatches(arrayPath: string): Case[] {
  const ops: [string, Json][] = [
    ['missing path', { op: 'add', value: 1 }],
    ['path not a string', { op: 'add', path: 5, value: 1 }],
    ['missing op', { path: '/metadata/labels/x', value: 'y' }],
    ['op not a string', { op: 5, path: '/metadata/labels/x', value: 'y' }],
    ['op in capitals', { op: 'ADD', path: '/metadata/labels/x', value: 'y' }],
    ['path without a slash', { op: 'add', path: 'metadata/labels/x', value: 'y' }],
    ['add without value', { op: 'add', path: '/metadata/labels/x' }],
    ['replace a missing member', { op: 'replace', path: '/metadata/nope', value: 1 }],
    ['remove a missing member', { op: 'remove', path: '/metadata/nope' }],
    ['remove the document', { op: 'remove', path: '' }],
    ['add under a missing parent', { op: 'add', path: '/nope/deeper', value: 1 }],
    ['move from a missing member', { op: 'move', from: '/metadata/nope', path: '/metadata/x' }],
    ['move without from', { op: 'move', path: '/metadata/x' }],
    ['copy from a missing member', { op: 'copy', from: '/nope', path: '/x' }],
    ['test a missing member', { op: 'test', path: '/metadata/nope', value: 1 }],
    ['test that fails', { op: 'test', path: '/metadata/name', value: 'someone-else' }],
    ['add under a string', { op: 'add', path: '/metadata/name/x', value: 1 }],
    ['index out of range', { op: 'add', path: `${arrayPath}/5`, value: {} }],
    ['replace past the end', { op: 'replace', path: `${arrayPath}/1`, value: {} }],
    ['index with a leading zero', { op: 'add', path: `${arrayPath}/01`, value: {} }],
    ['negative index', { op: 'add', path: `${arrayPath}/-1`, value: {} }],
    ['operation not an object', 5],
    ['operation not an object', 'add'],
    ['operation not an object', null],
    ['operation not an object', []],
    ['empty operation', {}],
  ]
  const cases: Case[] = []
  for (const [label, op] of ops) {
    cases.push({ label: `JSON patch: ${label}`, body: JSON.stringify([op]), contentType: JSON_PATCH })
    cases.push({ label: `JSON patch: ${label}`, body: JSON.stringify([VALID_OP, op, VALID_OP]), contentType: JSON_PATCH })
  }
  for (const v of [{}, { op: 'add', path: '/metadata/labels/x', value: 'y' }, 'x', 5, null, true] as Json[]) {
    cases.push({ label: 'JSON patch: not a list', body: JSON.stringify(v), contentType: JSON_PATCH })
  }
  return cases
}

// ---------------------------------------------------------------------------------------------
// Sending and checking

async function send(t: TestApp, method: string, path: string, c: Case, headers: Record<string, string> = {}): Promise<Response> {
  if (c.contentType === null) {
    const body = typeof c.body === 'string' ? encoder.encode(c.body) : c.body
    return t.app.request(path, { method, body: body as BodyInit, headers })
  }
  return t.req(method, path, c.body, { 'content-type': c.contentType, ...headers })
}

/** What is wrong with the response to an invalid body (nothing, for a proper 4xx Status), and a summary of it. */
async function check(res: Response): Promise<{ problems: string[]; summary: string }> {
  const text = await res.text()
  const problems: string[] = []
  if (res.status < 400 || res.status > 499) problems.push(`HTTP ${res.status}`)
  let status: unknown
  try {
    status = JSON.parse(text)
  } catch {
    problems.push('body is not JSON')
    return { problems, summary: `${res.status} ${text.slice(0, 120)}` }
  }
  if (!isRecord(status)) {
    problems.push('body is not an object')
  } else if (res.status >= 400 || status.kind === 'Status') {
    if (status.kind !== 'Status') problems.push(`kind ${JSON.stringify(status.kind)}`)
    if (status.apiVersion !== 'v1') problems.push(`apiVersion ${JSON.stringify(status.apiVersion)}`)
    if (status.status !== 'Failure') problems.push(`status ${JSON.stringify(status.status)}`)
    if (status.code !== res.status) problems.push(`code ${JSON.stringify(status.code)} is not the HTTP status`)
    if (typeof status.reason !== 'string' || status.reason === '') problems.push('no reason')
    if (typeof status.message !== 'string') problems.push('no message')
    if (res.status === 422) {
      const causes = isRecord(status.details) ? status.details.causes : undefined
      if (!Array.isArray(causes) || causes.length === 0) problems.push('422 without details.causes')
      else if (!causes.every((c) => isRecord(c) && typeof c.field === 'string' && c.field !== '')) problems.push('a cause without a field')
    }
  }
  const summary = isRecord(status) && status.kind === 'Status' ? `${res.status} ${status.reason}: ${String(status.message).slice(0, 100)}` : `${res.status} ${status === null ? '' : (status as { kind?: unknown }).kind ?? ''}`
  return { problems, summary }
}

/** The resourceVersion of the registry: every write moves it. */
async function currentRv(t: TestApp): Promise<string> {
  const list = await t.json('GET', '/api/v1/namespaces?limit=1')
  return list.body.metadata.resourceVersion
}

const preview = (c: Case) => {
  const text = typeof c.body === 'string' ? c.body : `<bytes ${Buffer.from(c.body.subarray(0, 48)).toString('hex')}>`
  const body = text.length > 160 ? `${text.slice(0, 160)}... (${text.length} chars)` : text
  return `${body} [${c.contentType ?? 'no content type'}]`
}

/** Unexpected errors the app logs; they are reported with the failure instead of printed. */
let logged: unknown[] = []
beforeEach(() => {
  logged = []
  vi.spyOn(console, 'error').mockImplementation((error: unknown) => void logged.push(error))
})
afterEach(() => {
  vi.restoreAllMocks()
})

/**
 * Sends every case and returns one line per kind of failure, with its count and first
 * example: a response that is not a proper 4xx Status, or a request after which the
 * registry's resourceVersion moved. After a change the database is seeded afresh, so that
 * later cases still meet the objects they target.
 */
async function fuzz(route: Route, all: Case[]): Promise<{ sent: number; failures: string[]; state: Seeded }> {
  const failures = new Map<string, { count: number; example: string }>()
  let state = await seeded()
  let rv = await currentRv(state.t)
  let sent = 0
  for (const c of all) {
    logged = []
    const res = await send(state.t, route.method, route.path, c)
    sent++
    const { problems, summary } = await check(res)
    const now = await currentRv(state.t)
    if (now !== rv) problems.push('database changed')
    if (problems.length) {
      const key = `${c.label} -> ${problems.join(', ')}`
      const seen = failures.get(key)
      const error = logged.length ? ` (logged ${String(logged[0]).split('\n')[0]})` : ''
      if (seen) seen.count++
      else failures.set(key, { count: 1, example: `${preview(c)} => ${summary}${error}` })
    }
    if (now !== rv) {
      state = await seeded()
      rv = await currentRv(state.t)
    }
  }
  return { sent, state, failures: [...failures].map(([key, { count, example }]) => `${key} (x${count}), e.g. ${example}`) }
}

// ---------------------------------------------------------------------------------------------

describe('every write route answers malformed bodies with a 4xx Status and changes nothing', () => {
  ROUTES.forEach((route, index) => {
    const name = `${route.method} ${route.path}${route.body === 'delete' ? ' with a DeleteOptions body' : ''}`
    it(name, { timeout: 60_000 }, async () => {
      const seed = SEED + index
      const [systematic] = fc.sample(fc.tuple(...systematicCases(route)), { numRuns: 1, seed })
      const random = fc.sample(randomCases(route), { numRuns: RUNS, seed })
      const { sent, failures, state } = await fuzz(route, [...systematic!, ...random])
      expect(sent).toBeGreaterThanOrEqual(1000)
      expect.soft(failures).toEqual([])
      expect(await dumpTables(state.t.client)).toBe(state.before)
    })
  })
})

describe('bodies over 1 MiB are refused with 413', () => {
  const big = (template: Json): string => {
    const body = clone(template)
    setIn(body, ['metadata', 'annotations', 'padding'], 'x'.repeat(MiB))
    return JSON.stringify(body)
  }
  const targets = [
    { method: 'POST', path: PODS, type: 'application/json', body: big(POD_TEMPLATE('big-1', '10.1.0.10')) },
    { method: 'PATCH', path: `${PODS}/web-1`, type: 'application/merge-patch+json', body: big({ metadata: { labels: { tier: 'front' } } }) },
  ]
  for (const target of targets) {
    it(`${target.method} ${target.path}, with and without Content-Length`, async () => {
      const { t, before } = await seeded()
      const bytes = encoder.encode(target.body)
      const headers = { 'content-type': target.type }
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < bytes.length; i += 64 * 1024) controller.enqueue(bytes.subarray(i, i + 64 * 1024))
          controller.close()
        },
      })
      const responses = {
        'no Content-Length': await t.req(target.method, target.path, target.body, headers),
        'true Content-Length': await t.req(target.method, target.path, target.body, { ...headers, 'content-length': String(bytes.byteLength) }),
        'understated Content-Length': await t.req(target.method, target.path, target.body, { ...headers, 'content-length': '100' }),
        'streamed in chunks': await t.app.request(target.path, { method: target.method, body: stream, headers, duplex: 'half' } as RequestInit),
        'declared over the limit': await t.req(target.method, target.path, '{}', { ...headers, 'content-length': String(MiB + 1) }),
      }
      for (const [how, res] of Object.entries(responses)) {
        expect(res.status, how).toBe(413)
        expect((await check(res)).problems, how).toEqual([])
      }
      expect(await dumpTables(t.client)).toBe(before)
    })
  }
})

/**
 * Minimal cases the fuzzer found that the server gets wrong. Each sends one invalid body and
 * expects what every malformed body must get: a 4xx Status and an unchanged database.
 */
describe('defects found by the fuzzer', () => {
  async function expectRefused(method: string, path: string, c: Case) {
    const { t, before } = await seeded()
    const res = await send(t, method, path, c)
    const { problems, summary } = await check(res)
    expect(problems, summary).toEqual([])
    expect(await dumpTables(t.client)).toBe(before)
  }
  const merge = (body: string): Case => ({ label: '', body, contentType: 'application/merge-patch+json' })
  const jsonBody = (body: string): Case => ({ label: '', body, contentType: 'application/json' })

  it('a merge patch nested 10,000 levels deep is a 400, not a 500', async () => {
    await expectRefused('PATCH', `${SVC}/web`, merge(`{"metadata":{"labels":{"x":${deepObject(10_000)}}}}`))
  })

  it('a JSON patch whose value is nested 10,000 levels deep is a 400, not a 500', async () => {
    const body = `[{"op":"add","path":"/metadata/labels/x","value":${deepObject(10_000)}}]`
    await expectRefused('PATCH', `${SVC}/web`, { label: '', body, contentType: JSON_PATCH })
  })

  it('a JSON patch whose copies nest the object 16,000 levels deep is a 400, not a 500', async () => {
    // The patch text is shallow: each copy puts the whole chain at its own end, so its length doubles (n → 2n + 1).
    const ops: object[] = [{ op: 'add', path: '/spec/deep', value: {} }]
    for (let n = 0; n < 10_000; n = 2 * n + 1) ops.push({ op: 'copy', from: '/spec/deep', path: `/spec/deep${'/a'.repeat(n)}/a` })
    await expectRefused('PATCH', `${SVC}/web`, { label: '', body: JSON.stringify(ops), contentType: JSON_PATCH })
  })

  it.each([
    ['a label', PODS, '{"metadata":{"name":"p","labels":{"__proto__":"v"}}}'],
    ['an annotation', PODS, '{"metadata":{"name":"p","annotations":{"__proto__":"v"}}}'],
    ['a selector', SVC, '{"metadata":{"name":"s"},"spec":{"selector":{"__proto__":"v"},"ports":[{"port":80}]}}'],
  ])('%s with the key "__proto__" is refused, not silently dropped', async (_, path, body) => {
    await expectRefused('POST', path, jsonBody(body))
  })

  it.each([
    ['apiVersion "v2"', '{"apiVersion":"v2"}'],
    ['kind "Other"', '{"kind":"Other"}'],
    ['propagationPolicy "Bogus"', '{"propagationPolicy":"Bogus"}'],
  ])('DELETE with DeleteOptions of %s is refused, not carried out', async (_, body) => {
    await expectRefused('DELETE', `${PODS}/web-1`, jsonBody(body))
  })

  it.each([
    ['U+000B (vertical tab)', '\u000b'],
    ['U+00A0 (no-break space)', '\u00a0'],
  ])('DELETE with a body of %s alone is a 400, not a delete', async (_, body) => {
    await expectRefused('DELETE', `${PODS}/web-1`, jsonBody(body))
  })

  it('PUT pods/{name}/status with a metadata.namespace other than the path is a 400', async () => {
    const body = { metadata: { name: 'web-1', namespace: 'other' }, status: { podIP: '10.1.0.5', conditions: [{ type: 'Ready', status: 'False' }] } }
    await expectRefused('PUT', `${PODS}/web-1/status`, jsonBody(JSON.stringify(body)))
  })

  it('PATCH pods/{name}/status with a metadata.namespace other than the path is a 400', async () => {
    await expectRefused('PATCH', `${PODS}/web-1/status`, merge('{"metadata":{"namespace":"other"}}'))
  })

  it('a JSON patch whose test operation fails is a 422 whose causes name a field', async () => {
    const body = '[{"op":"test","path":"/metadata/name","value":"someone-else"}]'
    await expectRefused('PATCH', `${SVC}/web`, { label: '', body, contentType: JSON_PATCH })
  })
})
