/**
 * kubectl, unmodified and with its default validation (Strict), against the real server
 * (`npm start`, access control off, loopback): it reads the OpenAPI documents, finds that
 * the server validates fields itself and sends `fieldValidation=Strict`, so `create -f`,
 * `apply -f` (a first apply creates), `replace -f` and `edit` get through, an unknown
 * field comes back as the server's strict decoding error, `explain` reads the generated
 * schemas, `get all` lists services and pods, `label ns` patches a namespace, and
 * `version` prints no version-skew warning. A `kind: List` file, and kinds with no PATCH
 * operation (Endpoints), kubectl validates itself against /openapi/v2 in protobuf: `apply
 * -f` of a List and `create -f` of a selectorless service's Endpoints get through, and an
 * unknown field in a List's item is refused by name.
 *
 * Needs kubectl ($KUBECTL, or `kubectl` on the PATH; Debian: `apt-get install
 * kubernetes-client`). Without it every test here is skipped, and the run says so.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import pkg from '../../package.json'
import { useServer } from '../support/server'
import { OPEN_ACCESS, serverApi, type ServerApi } from '../support/server-api'
import { KUBECTL_INSTALL_HINT, findKubectl, kubectlFor, type Kubectl } from '../support/kubectl'

const KUBECTL = findKubectl()
if (!KUBECTL) {
  const why = process.env.KUBECTL ? `KUBECTL=${process.env.KUBECTL} is not an executable` : 'kubectl is not on the PATH'
  console.log(`kubectl OpenAPI tests skipped: ${why}; ${KUBECTL_INSTALL_HINT}`)
}

const NS = '/api/v1/namespaces/default'

const service = (name: string, app: string, extra = '') => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  selector:
    app: ${app}
  ports:
  - port: 80
    targetPort: 8080${extra}
`

describe.skipIf(!KUBECTL)(`kubectl (${KUBECTL ?? 'not installed'}) with default validation against the real server`, () => {
  const server = useServer({ env: OPEN_ACCESS })
  let api: ServerApi
  let kubectl: Kubectl
  /** Writes a manifest beside the kubeconfig and returns its path. */
  const manifest = (name: string, text: string) => {
    const path = join(kubectl.dir, name)
    writeFileSync(path, text)
    return path
  }
  const ok = async (args: string[]) => {
    const r = await kubectl.run(args)
    expect(r.code, `kubectl ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(0)
    return r
  }

  beforeAll(async () => {
    api = serverApi(server.url)
    // `kubectl edit` runs $KUBE_EDITOR on the object's YAML: this one changes the selector.
    const editor = join(mkdtempSync(join(tmpdir(), 'switchboard-editor-')), 'editor.sh')
    writeFileSync(editor, "#!/bin/sh\nsed -i 's/app: before$/app: after/' \"$1\"\n", { mode: 0o755 })
    const before = process.env.KUBE_EDITOR
    process.env.KUBE_EDITOR = editor
    kubectl = kubectlFor(server.url, KUBECTL!)
    if (before === undefined) delete process.env.KUBE_EDITOR
    else process.env.KUBE_EDITOR = before
  })

  it('version: the server is Kubernetes 1.32 carrying the registry version, and no skew warning is printed', async () => {
    const r = await ok(['version'])
    expect(r.stdout).toContain(`Server Version: v1.32.0+switchboard.${pkg.version}`)
    expect(`${r.stdout}${r.stderr}`).not.toMatch(/WARNING|version difference/i)
  })

  it('create -f: validation is left to the server (fieldValidation=Strict), and the service is created', async () => {
    const r = await ok(['create', '-f', manifest('web.yaml', service('web', 'web')), '-v=6'])
    expect(r.stdout).toContain('service/web created')
    expect(r.stderr).toMatch(/GET \S+\/openapi\/v3\/api\/v1\?hash=\S+ 200 OK/)
    expect(r.stderr).toMatch(/POST \S+\/api\/v1\/namespaces\/default\/services\?\S*fieldValidation=Strict\S* 201 Created/)
    expect((await api('GET', `${NS}/services/web`)).spec.selector).toEqual({ app: 'web' })
  })

  it('create -f with an unknown field: the server refuses it, naming the field, and nothing is created', async () => {
    const r = await kubectl.run(['create', '-f', manifest('bad.yaml', service('bad', 'bad', '\n    bogus: 1'))])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain('Service in version "v1" cannot be handled as a Service: strict decoding error: unknown field "spec.ports[0].bogus"')
    await expect(api('GET', `${NS}/services/bad`)).rejects.toThrow(/404/)
  })

  it('apply -f of a List validates its items against /openapi/v2 in protobuf, and creates them', async () => {
    const list = { apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'listed' }, spec: { ports: [{ port: 80 }] } }] }
    const r = await ok(['apply', '-f', manifest('list.json', JSON.stringify(list)), '-v=6'])
    expect(r.stdout).toContain('service/listed created')
    expect(r.stderr).toMatch(/GET \S+\/openapi\/v2\S* 200 OK/)
    expect((await api('GET', `${NS}/services/listed`)).spec.ports[0].port).toBe(80)
  })

  it('apply -f of a List with an unknown field in an item: refused by kubectl, naming the field, and nothing is created', async () => {
    const list = { apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'listed-bad' }, spec: { ports: [{ port: 80, bogus: 1 }] } }] }
    const r = await kubectl.run(['apply', '-f', manifest('list-bad.json', JSON.stringify(list))])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/ValidationError\(Service\.spec\.ports\[0\]\): unknown field "bogus"/)
    await expect(api('GET', `${NS}/services/listed-bad`)).rejects.toThrow(/404/)
  })

  it("create -f of a selectorless service's Endpoints (a kind with no PATCH) validates and creates them", async () => {
    await ok(['create', '-f', manifest('external.yaml', 'apiVersion: v1\nkind: Service\nmetadata:\n  name: external\nspec:\n  ports:\n  - port: 80\n')])
    const endpoints = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'external' }, subsets: [{ addresses: [{ ip: '10.1.2.3' }], ports: [{ port: 80 }] }] }
    const r = await ok(['create', '-f', manifest('endpoints.json', JSON.stringify(endpoints))])
    expect(r.stdout).toContain('endpoints/external created')
    expect((await api('GET', `${NS}/endpoints/external`)).subsets[0].addresses[0].ip).toBe('10.1.2.3')
    const bad = { ...endpoints, metadata: { name: 'external-bad' }, subsets: [{ addresses: [{ ip: '10.1.2.4', bogus: 1 }] }] }
    const refused = await kubectl.run(['create', '-f', manifest('endpoints-bad.json', JSON.stringify(bad))])
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toMatch(/unknown field "bogus"/)
  })

  it('apply -f of a new object creates it, recording the last applied configuration', async () => {
    const r = await ok(['apply', '-f', manifest('applied.yaml', service('applied', 'applied'))])
    expect(r.stdout).toContain('service/applied created')
    const svc = await api('GET', `${NS}/services/applied`)
    expect(svc.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']).toContain('"applied"')
  })

  it('replace -f replaces the object', async () => {
    await ok(['create', '-f', manifest('replaced.yaml', service('replaced', 'before'))])
    const r = await ok(['replace', '-f', manifest('replaced.yaml', service('replaced', 'after'))])
    expect(r.stdout).toContain('service/replaced replaced')
    expect((await api('GET', `${NS}/services/replaced`)).spec.selector).toEqual({ app: 'after' })
  })

  it('edit: its strategic merge patch goes out with fieldValidation=Strict and changes the object', async () => {
    await ok(['create', '-f', manifest('edited.yaml', service('edited', 'before'))])
    const r = await ok(['edit', 'service', 'edited', '-v=6'])
    expect(r.stderr).toMatch(/PATCH \S+\/services\/edited\?\S*fieldValidation=Strict\S* 200 OK/)
    expect((await api('GET', `${NS}/services/edited`)).spec.selector).toEqual({ app: 'after' })
  })

  it('explain reads the generated schemas', async () => {
    const spec = await ok(['explain', 'service.spec'])
    expect(spec.stdout).toMatch(/FIELD: +spec <Object>/)
    for (const field of ['clusterIP', 'ports', 'selector', 'publishNotReadyAddresses']) expect(spec.stdout).toMatch(new RegExp(`^ +${field}\\s`, 'm'))
    const containers = await ok(['explain', 'pods.spec.containers'])
    expect(containers.stdout).toMatch(/FIELD: +containers <\[\]Object>/)
    for (const field of ['name', 'image', 'ports']) expect(containers.stdout).toMatch(new RegExp(`^ +${field}\\s`, 'm'))
  })

  it('get all lists the services and the pods', async () => {
    await api('POST', `${NS}/pods`, { metadata: { name: 'p1' }, spec: { containers: [{ name: 'main' }] } })
    const r = await ok(['get', 'all'])
    expect(r.stdout).toMatch(/^service\/web\s/m)
    expect(r.stdout).toMatch(/^pod\/p1\s/m)
  })

  it('label ns patches the namespace', async () => {
    await ok(['create', '-f', manifest('ns.yaml', 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n')])
    const r = await ok(['label', 'ns', 'team-a', 'tier=gold'])
    expect(r.stdout).toContain('namespace/team-a labeled')
    expect((await api('GET', '/api/v1/namespaces/team-a')).metadata.labels).toEqual({ 'kubernetes.io/metadata.name': 'team-a', tier: 'gold' })
  })
})
