/**
 * kubectl, unmodified, prints the registry's server-side Tables and runs server dry runs:
 * the real server (`npm start`, access control off, loopback) and the real kubectl
 * binary. Each test asserts on what kubectl prints.
 *
 * Needs kubectl ($KUBECTL, or `kubectl` on the PATH; Debian: `apt-get install
 * kubernetes-client`, which .ci/run does when it is missing). Without it every test here
 * is skipped, and the run says so.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { useServer } from '../support/server'
import { OPEN_ACCESS, serverApi, type ServerApi } from '../support/server-api'
import { KUBECTL_INSTALL_HINT, complaints, findKubectl, kubectlFor, type Kubectl } from '../support/kubectl'

const KUBECTL = findKubectl()
if (!KUBECTL) {
  const why = process.env.KUBECTL ? `KUBECTL=${process.env.KUBECTL} is not an executable` : 'kubectl is not on the PATH'
  console.log(`kubectl Table and dry-run tests skipped: ${why}; ${KUBECTL_INSTALL_HINT}`)
}

const NS = '/api/v1/namespaces/default'

function pod(name: string, ip: string, ready: boolean, annotations: Record<string, string> = {}) {
  return {
    metadata: { name, labels: { app: 'tbl' }, annotations },
    spec: { nodeName: 'node-1', containers: [{ name: 'main', ports: [{ name: 'http', containerPort: 8080 }] }] },
    status: { podIPs: [{ ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  }
}

/** The header row and the rows of one table kubectl printed (the first table after `from`), as whitespace-separated cells. */
function section(stdout: string, header: RegExp): { header: string; rows: string[][] } {
  const lines = stdout.split('\n')
  const start = lines.findIndex((l) => header.test(l))
  if (start < 0) throw new Error(`no header ${header} in:\n${stdout}`)
  const rows: string[][] = []
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '' || /^NAME\s/.test(line)) break
    rows.push(line.trim().split(/\s{2,}/))
  }
  return { header: lines[start]!, rows }
}

describe.skipIf(!KUBECTL)(`kubectl (${KUBECTL ?? 'not installed'}) prints server-side Tables and runs server dry runs`, () => {
  const server = useServer({ env: OPEN_ACCESS })
  let api: ServerApi
  let kubectl: Kubectl

  beforeAll(async () => {
    api = serverApi(server.url)
    kubectl = kubectlFor(server.url, KUBECTL!)
    const renewTime = `${new Date().toISOString().slice(0, 23)}000Z`
    await api('POST', '/apis/coordination.k8s.io/v1/namespaces/default/leases', { metadata: { name: 'host-a' }, spec: { holderIdentity: 'agent-a', leaseDurationSeconds: 300, renewTime } })
    await api('POST', `${NS}/services`, { metadata: { name: 'web' }, spec: { clusterIP: '10.96.0.20', selector: { app: 'tbl' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } })
    await api('POST', `${NS}/pods`, pod('web-1', '10.7.0.1', true, { 'switchboard.dev/weight': '5', 'switchboard.dev/lease': 'host-a' }))
    await api('POST', `${NS}/pods`, pod('web-2', '10.7.0.2', false))
  }, 60_000)


  it('kubectl get svc,pods,ep,endpointslices,leases,ns prints each kind with its columns', async () => {
    const { code, stdout, stderr } = await kubectl.run(['get', 'svc,pods,ep,endpointslices,leases,ns'])
    expect(code, stderr).toBe(0)
    const svc = section(stdout, /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\s*$/)
    expect(svc.rows.map((r) => r.slice(0, 5))).toEqual([['service/web', 'ClusterIP', '10.96.0.20', '<none>', '80/TCP']])
    const pods = section(stdout, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s*$/)
    expect(pods.rows.map((r) => r.slice(0, 4))).toEqual([
      ['pod/web-1', '1/1', 'Running', '0'],
      ['pod/web-2', '0/1', 'Running', '0'],
    ])
    const eps = section(stdout, /^NAME\s+ENDPOINTS\s+AGE\s*$/)
    expect(eps.rows.map((r) => r.slice(0, 2))).toEqual([['endpoints/web', '10.7.0.1:8080']])
    const slices = section(stdout, /^NAME\s+ADDRESSTYPE\s+PORTS\s+ENDPOINTS\s+AGE\s*$/)
    expect(slices.rows.map((r) => r.slice(1, 4))).toEqual([['IPv4', '8080', '10.7.0.1,10.7.0.2']])
    const leases = section(stdout, /^NAME\s+HOLDER\s+AGE\s*$/)
    expect(leases.rows.map((r) => r.slice(0, 2))).toEqual([['lease.coordination.k8s.io/host-a', 'agent-a']])
    const ns = section(stdout, /^NAME\s+STATUS\s+AGE\s*$/)
    expect(ns.rows.map((r) => r.slice(0, 2))).toContainEqual(['namespace/default', 'Active'])
    expect(complaints(stderr).filter((l) => !l.includes('Endpoints is deprecated')), stderr).toEqual([])
  }, 60_000)

  it('kubectl get -o wide adds the wide columns: Selector; IP, Node, Weight and Lease', async () => {
    const svc = await kubectl.run(['get', 'svc', '-o', 'wide'])
    expect(svc.code, svc.stderr).toBe(0)
    const s = section(svc.stdout, /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\s+SELECTOR\s*$/)
    expect(s.rows[0]![0]).toBe('web')
    expect(s.rows[0]![6]).toBe('app=tbl')
    const pods = await kubectl.run(['get', 'pods', '-o', 'wide'])
    expect(pods.code, pods.stderr).toBe(0)
    const p = section(pods.stdout, /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+WEIGHT\s+LEASE\s*$/)
    expect(p.rows.map((r) => [r[0], ...r.slice(5)])).toEqual([
      ['web-1', '10.7.0.1', 'node-1', '5', 'host-a'],
      ['web-2', '10.7.0.2', 'node-1', '1', '<none>'],
    ])
  }, 60_000)

  it('kubectl create, apply and delete with --dry-run=server, and diff of a new object, store nothing', async () => {
    const file = join(kubectl.dir, 'dry.json')
    writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'dry', namespace: 'default' }, spec: { ports: [{ port: 80 }] } }))
    const created = await kubectl.run(['create', '-f', file, '--dry-run=server', '-o', 'json'])
    expect(created.code, created.stderr).toBe(0)
    const shown = JSON.parse(created.stdout)
    expect(shown.metadata.name).toBe('dry')
    expect(shown.metadata.resourceVersion).toBeUndefined()
    expect(shown.spec.clusterIP).toBe('10.96.0.0') // no address kept: the range's network address, as Kubernetes shows it
    const applied = await kubectl.run(['apply', '-f', file, '--dry-run=server'])
    expect(applied.code, applied.stderr).toBe(0)
    expect(applied.stdout.trim()).toBe('service/dry created (server dry run)')
    // kubectl diff of a new object dry-runs its create: exit code 1 means "differences found".
    const diff = await kubectl.run(['diff', '-f', file])
    expect(diff.code, diff.stderr).toBe(1)
    expect(diff.stdout).toMatch(/^\+  name: dry$/m)
    await expect(api('GET', `${NS}/services/dry`)).rejects.toThrow(/404/)

    const deleted = await kubectl.run(['delete', 'pod', 'web-2', '--dry-run=server'])
    expect(deleted.code, deleted.stderr).toBe(0)
    expect(deleted.stdout.trim()).toBe('pod "web-2" deleted (server dry run)')
    expect((await api('GET', `${NS}/pods/web-2`)).metadata.deletionTimestamp).toBeUndefined()
  }, 60_000)

  it('kubectl get pods -w prints the columns, and one row per change', async () => {
    const watch = kubectl.start(['get', 'pods', '-w'])
    await watch.until(({ stdout }) => /^web-2\s/m.test(stdout), 20_000, 'the listed pods')
    await api('POST', `${NS}/pods`, pod('web-3', '10.7.0.3', true))
    await watch.until(({ stdout }) => /^web-3\s/m.test(stdout), 15_000, 'a row for the new pod')
    const { stdout, stderr } = await watch.stop()
    expect(stdout.split('\n')[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s*$/)
    expect(stdout.split('\n').filter((l) => /^NAME\s/.test(l))).toHaveLength(1) // the header once
    expect(stdout).toMatch(/^web-3\s+1\/1\s+Running\s+0\s+\d+s\s*$/m)
    expect(complaints(stderr), stderr).toEqual([])
  }, 60_000)
})
