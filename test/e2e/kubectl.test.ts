/**
 * kubectl, unmodified, follows the registry's watches: the real server (`npm start`,
 * access control off, loopback) and the real kubectl binary, with a kubeconfig pointing
 * at the server's http:// URL and a fresh discovery cache. Each test asserts on what
 * kubectl prints, not only on its exit code.
 *
 * Needs kubectl ($KUBECTL, or `kubectl` on the PATH; Debian: `apt-get install
 * kubernetes-client`, which .ci/run does when it is missing). Without it every test here
 * is skipped, and the run says so.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { useServer } from '../support/server'
import { OPEN_ACCESS, serverApi, type ServerApi } from '../support/server-api'
import { KUBECTL_INSTALL_HINT, complaints, findKubectl, kubectlFor, watchOpened, type Kubectl } from '../support/kubectl'

const KUBECTL = findKubectl()
if (!KUBECTL) {
  const why = process.env.KUBECTL ? `KUBECTL=${process.env.KUBECTL} is not an executable` : 'kubectl is not on the PATH'
  console.log(`kubectl tests skipped: ${why}; ${KUBECTL_INSTALL_HINT}`)
}

const NS = '/api/v1/namespaces/default'
const MERGE = 'application/merge-patch+json'

/** A pod on a node (so a deletion with a grace period is graceful), Ready or not. */
function pod(name: string, ready: boolean, labels: Record<string, string> = {}) {
  return {
    metadata: { name, labels: { app: 'kubectl-e2e', ...labels } },
    spec: { nodeName: 'node-1', containers: [{ name: 'main', ports: [{ containerPort: 8080 }] }] },
    status: { podIPs: [{ ip: '10.7.0.1' }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  }
}

const readiness = (ready: boolean) => ({ status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } })

/** The rows kubectl printed, as whitespace-separated cells, without the header row. */
function rows(stdout: string): string[][] {
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((cells) => cells[0] !== '' && cells[0] !== 'NAME' && cells[0] !== 'EVENT')
}

describe.skipIf(!KUBECTL)(`kubectl (${KUBECTL ?? 'not installed'}) against the real server`, () => {
  const server = useServer({ env: OPEN_ACCESS })
  let api: ServerApi
  let kubectl: Kubectl

  beforeAll(async () => {
    api = serverApi(server.url)
    kubectl = kubectlFor(server.url, KUBECTL!)
    await api('POST', '/api/v1/namespaces', { metadata: { name: 'elsewhere' } })
  }, 60_000)


  it('kubectl get pods -w lists the pods, then prints one event per change of this namespace until stopped', async () => {
    await api('POST', `${NS}/pods`, pod('before', true))
    const watch = kubectl.start(['get', 'pods', '-w', '--output-watch-events'])
    await watch.until(({ stdout }) => rows(stdout).some(([, name]) => name === 'before'), 20_000, 'row for the existing pod')

    await api('POST', `${NS}/pods`, pod('a', false))
    await api('POST', '/api/v1/namespaces/elsewhere/pods', pod('a-elsewhere', true))
    await api('PATCH', `${NS}/pods/a`, { metadata: { labels: { tier: 'web' } } }, MERGE)
    await api('PATCH', `${NS}/pods/a/status`, readiness(true), MERGE)
    await api('DELETE', `${NS}/pods/a?gracePeriodSeconds=0`)
    await watch.until(({ stdout }) => rows(stdout).some(([event, name]) => event === 'DELETED' && name === 'a'), 15_000, 'DELETED row for pod a')
    const { stdout, stderr } = await watch.stop()

    const events = (name: string) => rows(stdout).filter((cells) => cells[1] === name).map(([event]) => event)
    expect(events('before'), stdout).toEqual(['ADDED'])
    expect(events('a'), stdout).toEqual(['ADDED', 'MODIFIED', 'MODIFIED', 'DELETED'])
    expect(events('a-elsewhere'), stdout).toEqual([])
    expect(stdout.split('\n')[0]).toMatch(/^EVENT\s+NAME\s/)
    expect(complaints(stderr), stderr).toEqual([])
  }, 60_000)

  it('kubectl get svc -w --watch-only prints only the services created or changed after it started', async () => {
    await api('POST', `${NS}/services`, { metadata: { name: 'old' }, spec: { ports: [{ port: 80 }] } })
    const watch = kubectl.start(['get', 'svc', '-w', '--watch-only', '-v=6'])
    await watch.until(({ stderr }) => watchOpened(stderr, `${NS}/services?`), 20_000, 'watch request for services')

    await api('POST', `${NS}/services`, { metadata: { name: 'new' }, spec: { ports: [{ port: 80 }] } })
    await api('PATCH', `${NS}/services/new`, { metadata: { labels: { tier: 'web' } } }, MERGE)
    await api('PATCH', `${NS}/services/old`, { metadata: { labels: { tier: 'db' } } }, MERGE)
    await watch.until(({ stdout }) => rows(stdout).filter(([name]) => name === 'old').length >= 1, 15_000, 'row for the changed service old')
    const { stdout, stderr } = await watch.stop()

    const named = (name: string) => rows(stdout).filter(([n]) => n === name)
    expect(named('new'), stdout).toHaveLength(2) // created, then relabelled
    expect(named('old'), stdout).toHaveLength(1) // not listed at the start: only its change
    expect(rows(stdout).map(([name]) => name), stdout).toEqual(['new', 'new', 'old'])
    expect(complaints(stderr), stderr).toEqual([])
  }, 60_000)

  it('kubectl wait --for=condition=Ready returns when the pod turns Ready after the wait started', async () => {
    await api('POST', `${NS}/pods`, pod('x', false))
    const wait = kubectl.start(['wait', '--for=condition=Ready', 'pod/x', '--timeout=20s', '-v=6'])
    await wait.until(({ stderr }) => watchOpened(stderr, `${NS}/pods?`), 20_000, 'watch request for pods')
    expect(wait.stdout()).toBe('') // still waiting: the pod is not Ready
    await api('PATCH', `${NS}/pods/x/status`, readiness(true), MERGE)

    const { code, stdout, stderr, ms } = await wait.exited
    expect(code, stderr).toBe(0)
    expect(stdout.trim()).toBe('pod/x condition met')
    expect(ms).toBeLessThan(20_000)
    expect(complaints(stderr), stderr).toEqual([])
  }, 60_000)

  it('kubectl delete pod x --grace-period=5 returns once the pod is gone, printing no watch errors', async () => {
    const before = await kubectl.run(['get', 'pod', 'x'])
    expect(before.stdout).toMatch(/^NAME\s[\s\S]*\nx\s/)

    const result = await kubectl.run(['delete', 'pod', 'x', '--grace-period=5'], 40_000)
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout.trim()).toBe('pod "x" deleted')
    expect(result.stderr).toBe('')
    // The server removes the pod when its grace period ends; kubectl waited for that.
    expect(result.ms).toBeGreaterThanOrEqual(4_000)
    const res = await fetch(`${server.url}${NS}/pods/x`)
    expect(res.status).toBe(404)

    const after = await kubectl.run(['get', 'pod', 'x'])
    expect(after.code).not.toBe(0)
    expect(after.stderr).toContain('pods "x" not found')
  }, 60_000)

  it('kubectl get leases lists the leases, and -o json shows their spec as written', async () => {
    const renewTime = '2026-06-01T12:00:00.000000Z'
    const created = await api('POST', '/apis/coordination.k8s.io/v1/namespaces/default/leases', {
      metadata: { name: 'host-a' },
      spec: { holderIdentity: 'agent-a', leaseDurationSeconds: 10, renewTime },
    })
    expect(created.kind).toBe('Lease')
    const list = await kubectl.run(['get', 'leases'])
    expect(list.code, list.stderr).toBe(0)
    expect(list.stdout).toMatch(/^NAME\s+/)
    expect(rows(list.stdout).map((cells) => cells[0])).toEqual(['host-a'])
    const one = await kubectl.run(['get', 'lease', 'host-a', '-o', 'json'])
    expect(one.code, one.stderr).toBe(0)
    expect(JSON.parse(one.stdout).spec).toEqual({ holderIdentity: 'agent-a', leaseDurationSeconds: 10, renewTime })
    expect(complaints(list.stderr + one.stderr)).toEqual([])
  }, 60_000)
})
