/**
 * Server-side apply from real clients against the real server (`npm start`, access
 * control off, loopback): `kubectl apply --server-side` twice with a change between,
 * a second field manager refused with the conflicting field named and then forcing it,
 * and @kubernetes/client-node's KubernetesObjectApi.patch with its ServerSideApply
 * strategy. Each test checks what the server then holds, and who owns it.
 *
 * Needs kubectl ($KUBECTL, or `kubectl` on the PATH) for its kubectl tests; without it
 * they are skipped, and the run says so. The client-node test always runs.
 */
import { PatchStrategy, type KubernetesObject } from '@kubernetes/client-node'
import { mkdtempSync, writeFileSync } from 'node:fs'
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
  console.log(`kubectl server-side apply tests skipped: ${why}; ${KUBECTL_INSTALL_HINT}`)
}

const NS = '/api/v1/namespaces/default'

const service = (name: string, ports: [string, number, number][], extra: Record<string, unknown> = {}) =>
  [
    'apiVersion: v1',
    'kind: Service',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    '  selector:',
    '    app: web',
    '  ports:',
    ...ports.flatMap(([portName, port, target]) => [`  - name: ${portName}`, `    port: ${port}`, `    targetPort: ${target}`]),
    ...Object.entries(extra).map(([k, v]) => `  ${k}: ${String(v)}`),
    '',
  ].join('\n')

/** Who owns what: `manager/operation` of each managedFields entry. */
const managers = (obj: any): string[] => (obj.metadata.managedFields ?? []).map((m: any) => `${m.manager}/${m.operation}`).sort()

const server = useServer({ env: OPEN_ACCESS })
let api: ServerApi
let dir: string

beforeAll(() => {
  api = serverApi(server.url)
  dir = mkdtempSync(join(tmpdir(), 'switchboard-kubectl-ssa-'))
})

describe.skipIf(!KUBECTL)(`kubectl (${KUBECTL ?? 'not installed'}) apply --server-side on the real server`, () => {
  let kubectl: Kubectl
  beforeAll(() => {
    kubectl = kubectlFor(server.url, KUBECTL!)
  })
  const file = (name: string, text: string) => {
    writeFileSync(join(dir, name), text)
    return join(dir, name)
  }

  it('applies twice (the second removes a port and changes another), owned by kubectl', async () => {
    const first = await kubectl.run(['apply', '--server-side', '-f', file('ssa-1.yaml', service('ssa', [['http', 80, 8080], ['https', 443, 8443]]))])
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toContain('service/ssa serverside-applied')
    expect(complaints(first.stderr), first.stderr).toEqual([])
    const second = await kubectl.run(['apply', '--server-side', '-f', file('ssa-2.yaml', service('ssa', [['http', 80, 9090]]))])
    expect(second.code, second.stderr).toBe(0)
    const svc = await api('GET', `${NS}/services/ssa`)
    expect(svc.spec.ports.map((p: any) => [p.name, p.port, p.targetPort])).toEqual([['http', 80, 9090]])
    expect(managers(svc)).toEqual(['kubectl/Apply'])
  })

  it('refuses a second manager changing a field kubectl owns, naming it, until --force-conflicts', async () => {
    await kubectl.run(['apply', '--server-side', '-f', file('ssa-3.yaml', service('shared', [['http', 80, 8080]]))])
    const path = file('ssa-4.yaml', service('shared', [['http', 80, 7070]], { sessionAffinity: 'ClientIP' }))
    const refused = await kubectl.run(['apply', '--server-side', '--field-manager=deployer', '-f', path])
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toContain('conflict with "kubectl"')
    expect(refused.stderr).toContain('.spec.ports[port=80,protocol="TCP"].targetPort')
    expect((await api('GET', `${NS}/services/shared`)).spec.ports[0].targetPort).toBe(8080)

    const forced = await kubectl.run(['apply', '--server-side', '--field-manager=deployer', '--force-conflicts', '-f', path])
    expect(forced.code, forced.stderr).toBe(0)
    const svc = await api('GET', `${NS}/services/shared`)
    expect(svc.spec.ports[0].targetPort).toBe(7070)
    expect(svc.spec.sessionAffinity).toBe('ClientIP')
    expect(managers(svc)).toEqual(['deployer/Apply', 'kubectl/Apply'])
  })
})

describe('@kubernetes/client-node server-side apply against the real server', () => {
  it('creates and then updates a service with PatchStrategy.ServerSideApply', async () => {
    const client = objectApi(server.url)
    const spec = (targetPort: number) =>
      ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'sdk-ssa', namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80, targetPort }] } }) as KubernetesObject
    const created = (await client.patch(spec(8080), undefined, undefined, 'sdk-deployer', undefined, PatchStrategy.ServerSideApply)) as any
    expect(created.spec.ports[0].targetPort).toBe(8080)
    const updated = (await client.patch(spec(8181), undefined, undefined, 'sdk-deployer', undefined, PatchStrategy.ServerSideApply)) as any
    expect(updated.spec.ports[0].targetPort).toBe(8181)
    expect(managers(await api('GET', `${NS}/services/sdk-ssa`))).toEqual(['sdk-deployer/Apply'])
  })
})
