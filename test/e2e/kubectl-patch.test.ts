/**
 * kubectl and @kubernetes/client-node, unmodified, change objects on the real server
 * (`npm start`, access control off, loopback) with strategic merge patches and create
 * objects with protobuf bodies: `kubectl apply -f` again after ports and containers were
 * added, removed and reordered, `kubectl patch` without --type, `kubectl edit`, `kubectl
 * label`/`annotate`, `kubectl create service|namespace`, and KubernetesObjectApi's
 * create and default patch. Each test checks the objects the server then holds. kubectl
 * runs with its default validation (the applied file is a `kind: List`, which kubectl
 * validates itself against /openapi/v2 in protobuf).
 *
 * Needs kubectl ($KUBECTL, or `kubectl` on the PATH) for its kubectl tests; without it
 * they are skipped, and the run says so. The client-node test always runs.
 */
import type { KubernetesObject } from '@kubernetes/client-node'
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { objectApi } from '../support/client-node'
import { KUBECTL_INSTALL_HINT, complaints, findKubectl, kubectlFor, type Kubectl } from '../support/kubectl'
import { useServer } from '../support/server'
import { OPEN_ACCESS, serverApi, type ServerApi } from '../support/server-api'

const KUBECTL = findKubectl()
if (!KUBECTL) {
  const why = process.env.KUBECTL ? `KUBECTL=${process.env.KUBECTL} is not an executable` : 'kubectl is not on the PATH'
  console.log(`kubectl patch tests skipped: ${why}; ${KUBECTL_INSTALL_HINT}`)
}

const NS = '/api/v1/namespaces/default'

/** A manifest of a service and a pod; the second apply changes both. */
function manifest(ports: [string, number, number][], containers: { name: string; image: string; ports?: [string, number][] }[]): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: [
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: ports.map(([name, port, targetPort]) => ({ name, port, targetPort })) } },
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'web-1', labels: { app: 'web' } },
        spec: { containers: containers.map((c) => ({ name: c.name, image: c.image, ...(c.ports ? { ports: c.ports.map(([name, containerPort]) => ({ name, containerPort })) } : {}) })) },
      },
    ],
  })
}

const server = useServer({ env: OPEN_ACCESS })
let api: ServerApi
let dir: string

beforeAll(() => {
  api = serverApi(server.url)
  dir = mkdtempSync(join(tmpdir(), 'switchboard-kubectl-patch-'))
})

describe.skipIf(!KUBECTL)(`kubectl (${KUBECTL ?? 'not installed'}) patches and creates on the real server`, () => {
  let kubectl: Kubectl
  const run = async (args: string[]) => {
    const res = await kubectl.run(args)
    expect(res.code, `kubectl ${args.join(' ')}\n${res.stdout}\n${res.stderr}`).toBe(0)
    expect(complaints(res.stderr), res.stderr).toEqual([])
    return res.stdout
  }
  const apply = (name: string, text: string) => {
    writeFileSync(join(dir, name), text)
    return run(['apply', '-f', join(dir, name)])
  }

  beforeAll(() => {
    // kubectl edit runs $KUBE_EDITOR on a file: this one changes the log container's image.
    const editor = join(dir, 'editor.sh')
    writeFileSync(editor, '#!/bin/sh\nsed -i "s/image: log:1/image: log:2/" "$1"\n')
    chmodSync(editor, 0o755)
    process.env.KUBE_EDITOR = editor
    kubectl = kubectlFor(server.url, KUBECTL!)
  })

  it('kubectl apply -f again after ports and containers were added, removed and reordered', async () => {
    const first = manifest(
      [
        ['http', 80, 8080],
        ['https', 443, 8443],
      ],
      [
        { name: 'app', image: 'app:1', ports: [['http', 8080]] },
        { name: 'proxy', image: 'proxy:1', ports: [['https', 8443]] },
      ],
    )
    expect(await apply('first.json', first)).toMatch(/service\/web created[\s\S]*pod\/web-1 created/)
    const second = manifest(
      [
        ['metrics', 9100, 9100],
        ['https', 443, 8443],
      ],
      [
        { name: 'log', image: 'log:1' },
        { name: 'app', image: 'app:2', ports: [['metrics', 9100], ['http', 8080]] },
      ],
    )
    expect(await apply('second.json', second)).toMatch(/service\/web configured[\s\S]*pod\/web-1 configured/)
    const svc = await api('GET', `${NS}/services/web`)
    expect(svc.spec.ports.map((p: { name: string; port: number }) => `${p.name}:${p.port}`)).toEqual(['metrics:9100', 'https:443'])
    const pod = await api('GET', `${NS}/pods/web-1`)
    expect(pod.spec.containers.map((c: { name: string; image: string; ports?: { containerPort: number }[] }) => [c.name, c.image, (c.ports ?? []).map((p) => p.containerPort)])).toEqual([
      ['log', 'log:1', []],
      ['app', 'app:2', [9100, 8080]],
    ])
    expect(await apply('second.json', second)).toMatch(/service\/web unchanged[\s\S]*pod\/web-1 unchanged/)
    // Back to the first: the removed port and container return, in the first order.
    await apply('first.json', first)
    expect((await api('GET', `${NS}/services/web`)).spec.ports.map((p: { port: number }) => p.port)).toEqual([80, 443])
    expect((await api('GET', `${NS}/pods/web-1`)).spec.containers.map((c: { name: string }) => c.name)).toEqual(['app', 'proxy'])
  }, 60_000)

  it('kubectl patch without --type merges ports by port; kubectl edit changes one container', async () => {
    await api('POST', `${NS}/services`, { metadata: { name: 'edited' }, spec: { ports: [{ name: 'http', port: 80 }] } })
    await api('POST', `${NS}/pods`, { metadata: { name: 'edited-1' }, spec: { containers: [{ name: 'log', image: 'log:1' }, { name: 'app', image: 'app:1' }] } })
    await run(['patch', 'service', 'edited', '-p', '{"spec":{"ports":[{"name":"alt","port":8080}]}}'])
    expect((await api('GET', `${NS}/services/edited`)).spec.ports.map((p: { port: number }) => p.port)).toEqual([8080, 80])
    await run(['patch', 'pod', 'edited-1', '-p', '{"spec":{"containers":[{"name":"app","image":"app:2"}]}}'])
    expect(await run(['edit', 'pod', 'edited-1'])).toContain('pod/edited-1 edited')
    const pod = await api('GET', `${NS}/pods/edited-1`)
    expect(pod.spec.containers.map((c: { name: string; image: string }) => `${c.name}=${c.image}`)).toEqual(['log=log:2', 'app=app:2'])
  }, 60_000)

  it('kubectl label and annotate a pod, and remove a label', async () => {
    await api('POST', `${NS}/pods`, { metadata: { name: 'labelled', labels: { app: 'x' } } })
    await run(['label', 'pod', 'labelled', 'tier=fe'])
    await run(['annotate', 'pod', 'labelled', 'note=hello'])
    let pod = await api('GET', `${NS}/pods/labelled`)
    expect(pod.metadata.labels).toEqual({ app: 'x', tier: 'fe' })
    expect(pod.metadata.annotations.note).toBe('hello')
    await run(['label', 'pod', 'labelled', 'app-'])
    pod = await api('GET', `${NS}/pods/labelled`)
    expect(pod.metadata.labels).toEqual({ tier: 'fe' })
  }, 60_000)

  it('kubectl create service clusterip and create namespace (protobuf bodies)', async () => {
    expect(await run(['create', 'service', 'clusterip', 'x', '--tcp=80:8080'])).toContain('service/x created')
    expect(await run(['create', 'namespace', 'n'])).toContain('namespace/n created')
    const svc = await api('GET', `${NS}/services/x`)
    expect(svc.spec).toMatchObject({ type: 'ClusterIP', selector: { app: 'x' }, ports: [{ name: '80-8080', port: 80, targetPort: 8080, protocol: 'TCP' }] })
    expect((await api('GET', '/api/v1/namespaces/n')).metadata.name).toBe('n')
  }, 60_000)
})

describe('@kubernetes/client-node KubernetesObjectApi against the real server', () => {
  it('creates a pod, then patches it with its default patch type (strategic merge patch)', async () => {
    const client = objectApi(server.url)
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'sdk-1', namespace: 'default', labels: { app: 'sdk' } },
      spec: { containers: [{ name: 'app', image: 'app:1', ports: [{ name: 'http', containerPort: 8080 }] }, { name: 'side', image: 'side:1' }] },
    }
    const created = await client.create(pod as KubernetesObject)
    expect(created.metadata?.name).toBe('sdk-1')
    const patched = (await client.patch({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'sdk-1', namespace: 'default', labels: { tier: 'fe' } },
      spec: { containers: [{ name: 'app', image: 'app:2', ports: [{ name: 'metrics', containerPort: 9100 }] }] },
    } as KubernetesObject)) as KubernetesObject & { spec: { containers: { name: string; image: string; ports?: { containerPort: number }[] }[] } }
    expect(patched.metadata?.labels).toEqual({ app: 'sdk', tier: 'fe' })
    expect(patched.spec.containers.map((c) => [c.name, c.image, (c.ports ?? []).map((p) => p.containerPort)])).toEqual([
      ['app', 'app:2', [9100, 8080]],
      ['side', 'side:1', []],
    ])
  }, 30_000)
})
