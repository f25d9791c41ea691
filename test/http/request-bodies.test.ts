/**
 * Create and replace bodies in YAML and in Kubernetes protobuf, through the real app over a
 * real database: each is read into the object the JSON path gets, under the same limits,
 * and anything malformed is a 4xx Status that writes nothing. The protobuf fixtures are the
 * bytes kubectl 1.32 sends (`kubectl create namespace|service … -v=9`).
 */
import { describe, expect, it } from 'vitest'
import { decodeProtobuf } from '../../worker/http/protobuf'
import { testApp, type TestApp } from '../support/app'

const NS = '/api/v1/namespaces/default'
const YAML = { 'content-type': 'application/yaml' }
const PROTOBUF = { 'content-type': 'application/vnd.kubernetes.protobuf' }

const hex = (s: string) => Uint8Array.from(s.match(/../g)!.map((b) => parseInt(b, 16)))

/** kubectl create namespace pb-ns */
const KUBECTL_NAMESPACE = hex('6b3873000a0f0a02763112094e616d657370616365121d0a150a0570622d6e7312001a0022002a0032003800420012001a020a001a002200')
/** kubectl create service clusterip pb-x --tcp=80:8080 */
const KUBECTL_CLUSTERIP = hex(
  '6b3873000a0d0a027631120753657276696365126c0a210a0470622d7812001a0022002a003200380042005a0b0a03617070120470622d7812430a1b0a0738302d38303830120354435018502207080010903f1a002800120b0a03617070120470622d781a002209436c757374657249503a00420052005a00600068001a020a001a002200',
)
/** kubectl create service nodeport pb-np --tcp=5678:8080 --node-port=30081 */
const KUBECTL_NODEPORT = hex(
  '6b3873000a0d0a02763112075365727669636512730a230a0570622d6e7012001a0022002a003200380042005a0c0a03617070120570622d6e7012480a200a09353637382d38303830120354435018ae2c2207080010903f1a002881eb01120c0a03617070120570622d6e701a0022084e6f6465506f72743a00420052005a00600068001a020a001a002200',
)
/** kubectl create service externalname pb-en --external-name=example.com */
const KUBECTL_EXTERNALNAME = hex(
  '6b3873000a0d0a02763112075365727669636512600a230a0570622d656e12001a0022002a003200380042005a0c0a03617070120570622d656e1235120c0a03617070120570622d656e1a00220c45787465726e616c4e616d653a004200520b6578616d706c652e636f6d5a00600068001a020a001a002200',
)

/** A tiny protobuf writer for the malformed cases: fields are [number, wire type, payload]. */
const varint = (n: number): number[] => {
  const out: number[] = []
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80)
    n = Math.floor(n / 128)
  }
  return [...out, n]
}
const str = (s: string) => [...new TextEncoder().encode(s)]
const field = (n: number, payload: number[] | number): number[] =>
  typeof payload === 'number' ? [...varint(n * 8), ...varint(payload)] : [...varint(n * 8 + 2), ...varint(payload.length), ...payload]
const envelope = (kind: string, raw: number[], apiVersion = 'v1') =>
  Uint8Array.from([0x6b, 0x38, 0x73, 0x00, ...field(1, [...field(1, str(apiVersion)), ...field(2, str(kind))]), ...field(2, raw)])
const service = (spec: number[]) => envelope('Service', [...field(1, field(1, str('pb'))), ...field(2, spec)])

async function written(t: TestApp): Promise<string> {
  return (await t.json('GET', '/api/v1/namespaces?limit=1')).body.metadata.resourceVersion
}

describe('YAML bodies', () => {
  it('create and replace a service from YAML 1.2: on, yes and no stay strings, anchors expand', async () => {
    const t = await testApp()
    const doc = [
      'apiVersion: v1',
      'kind: Service',
      'metadata:',
      '  name: web',
      '  labels: {switch: on, ok: yes, off: no}',
      'spec:',
      '  selector: &sel',
      '    app: web',
      '  ports:',
      '  - name: http',
      '    port: 80',
      '    targetPort: 0x1f90',
      '',
    ].join('\n')
    const created = await t.json('POST', `${NS}/services`, doc, YAML)
    expect(created.status).toBe(201)
    expect(created.body.metadata.labels).toEqual({ switch: 'on', ok: 'yes', off: 'no' })
    expect(created.body.spec.ports[0]).toMatchObject({ name: 'http', port: 80, targetPort: 8080 })
    const replaced = await t.json('PUT', `${NS}/services/web`, `${doc.replace('targetPort: 0x1f90', 'targetPort: http')}`, YAML)
    expect(replaced.status).toBe(200)
    expect(replaced.body.spec.ports[0].targetPort).toBe('http')
    expect(replaced.body.spec.clusterIP).toBe(created.body.spec.clusterIP)
  })

  it('refuses what JSON would refuse, and YAML that is no JSON document, with a 4xx Status that writes nothing', async () => {
    const t = await testApp()
    const before = await written(t)
    const deep = `metadata:\n  name: deep\n  labels: ${'['.repeat(70)}${']'.repeat(70)}\n`
    const indented = Array.from({ length: 70 }, (_, i) => `${'  '.repeat(i)}k${i}:`).join('\n') + ' x\n'
    const laughs = ['a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]', ...'bcdefghi'.split('').map((c, i) => `${c}: &${c} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(', ')}]`)].join('\n')
    const cases: [string, string, number, RegExp][] = [
      ['syntax', 'metadata: {name: [x', 400, /not valid YAML/],
      ['two documents', 'metadata: {name: a}\n---\nmetadata: {name: b}\n', 400, /not valid YAML/],
      ['!!binary', 'metadata: {name: a}\nspec: !!binary aGk=\n', 400, /JSON cannot hold/],
      ['a custom tag', 'metadata: {name: !thing a}\n', 400, /not valid YAML/],
      ['a collection as a key', 'metadata: {name: a}\n? [x]\n: y\n', 400, /key/],
      ['.inf', 'metadata: {name: a, generation: .inf}\n', 400, /number/],
      ['a billion laughs', laughs, 400, /not valid YAML/],
      // Each alias is within the yaml package's bound: 99 uses of a 300,000-item list would make 30 million values (630 MB).
      ['a large anchor used 99 times', `metadata: {name: wide}\nspec:\n  a: &A [${Array(300_000).fill('0').join(',')}]\n  b: [${Array(99).fill('*A').join(', ')}]\n`, 400, /aliases expand it past 524288 values/],
      ['70 flow levels', deep, 400, /nested deeper than 64 levels/],
      ['70 block levels', indented, 400, /nested deeper than 64 levels/],
      ['a list', '- a\n- b\n', 400, /must be a JSON object/],
      ['only a comment', '# nothing\n', 400, /must be a JSON object/],
      ['nothing', ' \n', 400, /empty/],
      ['a wrong type', 'metadata: {name: a}\nspec: {ports: [{port: eighty}]}\n', 400, /spec\.ports\[0\]\.port/],
    ]
    for (const [label, body, status, message] of cases) {
      const res = await t.json('POST', `${NS}/services`, body, YAML)
      expect([label, res.status, res.body.kind], JSON.stringify(res.body)).toEqual([label, status, 'Status'])
      expect(res.body.message, label).toMatch(message)
    }
    const big = `metadata: {name: big}\nspec: {selector: {a: "${'x'.repeat(1024 * 1024)}"}}\n`
    expect((await t.json('POST', `${NS}/services`, big, YAML)).status).toBe(413)
    expect(await written(t)).toBe(before)
  })

  it('refuses YAML nested 200,000 deep from its tokens, before anything recurses (no stack overflow to catch)', async () => {
    const t = await testApp()
    const n = 200_000
    const bodies = {
      'flow sequences': `metadata: {name: deep}\nspec: {selector: ${'['.repeat(n)}${']'.repeat(n)}}\n`,
      'flow maps': `metadata: {name: deep}\nspec: ${'{a: '.repeat(n / 2)}1${'}'.repeat(n / 2)}\n`,
      'block sequences on one line': `metadata: {name: deep}\nspec:\n  ports:\n  ${'- '.repeat(n)}x\n`,
    }
    for (const [label, body] of Object.entries(bodies)) {
      const res = await t.json('POST', `${NS}/services`, body, YAML)
      expect([label, res.status, res.body.message]).toEqual([label, 400, 'the request body is nested deeper than 64 levels'])
    }
    // 63 levels pass (a create leaves status alone)
    const ok = `metadata: {name: deep}\nspec: {ports: [{port: 80}]}\nstatus: {loadBalancer: {ingress: ${'['.repeat(60)}${']'.repeat(60)}}}\n`
    expect((await t.json('POST', `${NS}/services`, ok, YAML)).status).toBe(201)
  })

  it('is not a patch type: PATCH with YAML is a 415', async () => {
    const t = await testApp()
    await t.json('POST', `${NS}/services`, { metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } })
    const res = await t.json('PATCH', `${NS}/services/web`, 'spec: {selector: {a: b}}\n', YAML)
    expect(res.status).toBe(415)
    expect(res.body.message).toContain('application/strategic-merge-patch+json')
  })
})

describe('protobuf bodies', () => {
  it('decodes what kubectl create namespace and create service send into the JSON object kubectl would send', () => {
    expect(decodeProtobuf(KUBECTL_NAMESPACE)).toEqual({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'pb-ns' } })
    expect(decodeProtobuf(KUBECTL_CLUSTERIP)).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'pb-x', labels: { app: 'pb-x' } },
      spec: { ports: [{ name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 }], selector: { app: 'pb-x' }, type: 'ClusterIP' },
    })
    expect(decodeProtobuf(KUBECTL_NODEPORT)).toMatchObject({ spec: { type: 'NodePort', ports: [{ port: 5678, targetPort: 8080, nodePort: 30081 }] } })
    expect(decodeProtobuf(KUBECTL_EXTERNALNAME)).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'pb-en', labels: { app: 'pb-en' } },
      spec: { selector: { app: 'pb-en' }, type: 'ExternalName', externalName: 'example.com' },
    })
  })

  it('creates the namespace and services from those bytes, as from their JSON', async () => {
    const t = await testApp()
    const ns = await t.json('POST', '/api/v1/namespaces', KUBECTL_NAMESPACE, PROTOBUF)
    expect(ns.status).toBe(201)
    expect(ns.body.metadata.name).toBe('pb-ns')
    const viaProtobuf = await t.json('POST', `${NS}/services`, KUBECTL_CLUSTERIP, PROTOBUF)
    expect(viaProtobuf.status).toBe(201)
    const viaJson = await t.json('POST', `${NS}/services`, {
      metadata: { name: 'json-x', labels: { app: 'pb-x' } },
      spec: { ports: [{ name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 }], selector: { app: 'pb-x' }, type: 'ClusterIP' },
    })
    const spec = (s: Record<string, unknown>) => ({ ...s, clusterIP: undefined, clusterIPs: undefined })
    expect(spec(viaProtobuf.body.spec)).toEqual(spec(viaJson.body.spec))
    for (const bytes of [KUBECTL_NODEPORT, KUBECTL_EXTERNALNAME]) expect((await t.json('POST', `${NS}/services`, bytes, PROTOBUF)).status).toBe(201)
    expect((await t.json('GET', `${NS}/services/pb-np`)).body.spec.ports[0].nodePort).toBe(30081)
  })

  it('merges a message field that appears twice, as protobuf does: the last scalar wins, messages merge, repeated fields append', () => {
    const metadata = [...field(1, [...field(1, str('first')), ...field(11, [...field(1, str('a')), ...field(2, str('1'))])]), ...field(1, [...field(1, str('pb')), ...field(14, str('x/y'))])]
    const spec = [
      ...field(2, [...field(1, [...field(3, 80)]), ...field(4, str('NodePort')), ...field(2, [...field(1, str('app')), ...field(2, str('web'))])]),
      ...field(2, [...field(1, [...field(3, 81)]), ...field(4, str(''))]),
      ...field(2, [...field(1, [...field(3, 82)])]),
    ]
    expect(decodeProtobuf(envelope('Service', [...metadata, ...spec]))).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'pb', labels: { a: '1' }, finalizers: ['x/y'] },
      spec: { ports: [{ port: 80 }, { port: 81 }, { port: 82 }], selector: { app: 'web' } },
    })
  })

  it('reads a long repeated field in time linear in its length: 40,000 empty finalizers as fast as 40,000 names', () => {
    const n = 40_000
    const repeated = envelope('Namespace', field(1, Array.from({ length: n }, () => field(14, [])).flat()))
    const replaced = envelope('Namespace', field(1, Array.from({ length: n }, () => field(1, [])).flat()))
    expect(repeated.length).toBe(replaced.length)
    const fastest = (bytes: Uint8Array) =>
      Math.min(
        ...[0, 1, 2].map(() => {
          const start = performance.now()
          decodeProtobuf(bytes)
          return performance.now() - start
        }),
      )
    expect((decodeProtobuf(repeated).metadata as { finalizers: string[] }).finalizers).toHaveLength(n)
    const [list, names] = [fastest(repeated), fastest(replaced)]
    expect(list, `finalizers ${list.toFixed(1)} ms, names ${names.toFixed(1)} ms`).toBeLessThan(20 * names)
  }, 120_000)

  it('refuses unknown fields, fields it does not decode, bad wire data and other types, naming the field and writing nothing', async () => {
    const t = await testApp()
    const before = await written(t)
    const cases: [string, Uint8Array, number, string | null][] = [
      ['an unknown ServiceSpec field', service([...field(4, str('ClusterIP')), ...field(99, str('x'))]), 400, 'spec.<field 99>'],
      ['an unknown ServicePort field', service(field(1, [...field(3, 80), ...field(42, 1)])), 400, 'spec.ports[0].<field 42>'],
      ['sessionAffinityConfig', service(field(14, field(1, field(1, 30)))), 400, 'spec.sessionAffinityConfig'],
      ['a time out of range', envelope('Service', field(1, [...field(1, str('t')), ...field(8, field(1, 2 ** 52))])), 400, 'metadata.creationTimestamp'],
      ['a string sent as a varint', service(field(4, 7)), 400, 'spec.type'],
      ['truncated', KUBECTL_CLUSTERIP.subarray(0, 60), 400, null],
      ['no magic', KUBECTL_CLUSTERIP.subarray(4), 400, null],
      ['a Pod', envelope('Pod', field(1, field(1, str('p')))), 415, null],
      ['an encoded envelope', Uint8Array.from([...KUBECTL_NAMESPACE, ...field(3, str('gzip'))]), 400, null],
      ['an empty body', new Uint8Array(), 400, null],
    ]
    for (const [label, bytes, status, cause] of cases) {
      const res = await t.json('POST', `${NS}/services`, bytes, PROTOBUF)
      expect([label, res.status, res.body.kind], JSON.stringify(res.body)).toEqual([label, status, 'Status'])
      if (cause) expect(res.body.details?.causes?.[0]?.field, label).toBe(cause)
    }
    const pod = await t.json('POST', `${NS}/pods`, KUBECTL_NAMESPACE, PROTOBUF)
    expect(pod.status).toBe(400) // a Namespace sent to the pods collection: the kind does not match
    expect(await written(t)).toBe(before)
  })
})
