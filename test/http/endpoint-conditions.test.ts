/**
 * "Ready" and "served" mean one thing on every path. For every combination of pod
 * readiness, termination, publishNotReadyAddresses and weight, reached by a create and by
 * updates of an existing pod, the stored endpoint row, the EndpointSlice conditions, the
 * legacy Endpoints subset, the DNS answers (A and PTR) and the pick agree with the rules
 * as Kubernetes states them:
 * - ready = publishNotReadyAddresses || (serving && !terminating), serving = pod Ready;
 * - legacy Endpoints: ready → addresses, else not terminating → notReadyAddresses, else left out;
 * - served (answered in DNS, picked) = ready && weight > 0.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { TYPE } from '../../worker/dns/wire'
import { testApp, type TestApp } from '../support/app'

const NS = '/api/v1/namespaces/default'
const ZONE = 'cluster.local'

interface Case {
  podReady: boolean
  terminating: boolean
  publishNotReady: boolean
  weight: number
  /** created in this state, or created in the opposite state and updated into it */
  via: 'create' | 'update'
}

const CASES: Case[] = []
for (const via of ['create', 'update'] as const)
  for (const publishNotReady of [false, true])
    for (const podReady of [false, true])
      for (const terminating of [false, true])
        for (const weight of [0, 3]) CASES.push({ podReady, terminating, publishNotReady, weight, via })

const serviceOf = (c: Case) => `${c.via}-${c.publishNotReady ? 'all' : 'ready'}`
const podOf = (c: Case) => `${serviceOf(c)}-${c.podReady ? 'r' : 'n'}-${c.terminating ? 't' : 'a'}-w${c.weight}`
const ipOf = (c: Case) => `10.${c.via === 'create' ? 1 : 2}.${c.publishNotReady ? 1 : 0}.${CASES.indexOf(c) + 1}`

function podBody(c: Case, ready: boolean, weight: number) {
  return {
    metadata: { name: podOf(c), labels: { app: serviceOf(c) }, annotations: { 'switchboard.dev/weight': String(weight) } },
    spec: { containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }] }] },
    status: { podIP: ipOf(c), conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  }
}

// The rules, stated independently of the code under test.
const expectedReady = (c: Case) => c.publishNotReady || (c.podReady && !c.terminating)
const expectedServed = (c: Case) => expectedReady(c) && c.weight > 0
const expectedSubset = (c: Case) => (expectedReady(c) ? 'addresses' : c.terminating ? 'none' : 'notReadyAddresses')

let t: TestApp

beforeAll(async () => {
  t = await testApp()
  for (const via of ['create', 'update'] as const) {
    for (const publishNotReady of [false, true]) {
      const name = serviceOf({ via, publishNotReady } as Case)
      const res = await t.json('POST', `${NS}/services`, {
        metadata: { name },
        spec: { clusterIP: 'None', publishNotReadyAddresses: publishNotReady, selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
      })
      expect(res.status).toBe(201)
    }
  }
  for (const c of CASES) {
    if (c.via === 'create') {
      expect((await t.json('POST', `${NS}/pods`, podBody(c, c.podReady, c.weight))).status).toBe(201)
      continue
    }
    // Created in the opposite readiness and weight, then brought to the case's state by updates
    // that leave the pod's matching alone (the in-place conditions path).
    expect((await t.json('POST', `${NS}/pods`, podBody(c, !c.podReady, c.weight === 0 ? 3 : 0))).status).toBe(201)
    const path = `${NS}/pods/${podOf(c)}`
    expect((await t.json('PATCH', `${path}/status`, { status: { conditions: [{ type: 'Ready', status: c.podReady ? 'True' : 'False' }] } })).status).toBe(200)
    expect((await t.json('PATCH', path, { metadata: { annotations: { 'switchboard.dev/weight': String(c.weight) } } })).status).toBe(200)
  }
  for (const c of CASES.filter((x) => x.terminating)) {
    const res = await t.json('DELETE', `${NS}/pods/${podOf(c)}`, { gracePeriodSeconds: 300 })
    expect(res.body.metadata.deletionTimestamp).toBeTruthy()
  }
})

const label = (c: Case) => `${c.via}: podReady=${c.podReady} terminating=${c.terminating} publishNotReady=${c.publishNotReady} weight=${c.weight}`

describe.each(CASES.map((c) => [label(c), c] as const))('%s', (_, c) => {
  it('the stored row and the EndpointSlice carry the same conditions', async () => {
    const rows = await t.client.execute(
      `SELECT ready, serving, terminating, weight FROM endpoints WHERE namespace = 'default' AND service = '${serviceOf(c)}' AND pod = '${podOf(c)}'`,
    )
    expect(rows.rows.map((r) => ({ ready: Number(r.ready), serving: Number(r.serving), terminating: Number(r.terminating), weight: Number(r.weight) }))).toEqual([
      { ready: expectedReady(c) ? 1 : 0, serving: c.podReady ? 1 : 0, terminating: c.terminating ? 1 : 0, weight: c.weight },
    ])
    const slices = await t.json('GET', `/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io/service-name%3D${serviceOf(c)}`)
    const endpoint = slices.body.items.flatMap((s: any) => s.endpoints).find((e: any) => e.targetRef.name === podOf(c))
    expect(endpoint.conditions).toEqual({ ready: expectedReady(c), serving: c.podReady, terminating: c.terminating })
  })

  it('the legacy Endpoints list it in the matching subset', async () => {
    const ep = (await t.json('GET', `${NS}/endpoints/${serviceOf(c)}`)).body
    const where = (list: string) => ep.subsets.some((s: any) => (s[list] ?? []).some((a: any) => a.targetRef.name === podOf(c)))
    const subset = where('addresses') ? 'addresses' : where('notReadyAddresses') ? 'notReadyAddresses' : 'none'
    expect(subset).toBe(expectedSubset(c))
  })

  it('DNS answers it (A and PTR) exactly when it is served', async () => {
    const a = await t.resolver.resolve(`${serviceOf(c)}.default.svc.${ZONE}`, TYPE.A)
    const addresses = a.answers.map((r) => (r.data.kind === 'A' ? r.data.address : ''))
    expect(addresses.includes(ipOf(c))).toBe(expectedServed(c))
    const reverse = `${ipOf(c).split('.').reverse().join('.')}.in-addr.arpa`
    const ptr = await t.resolver.resolve(reverse, TYPE.PTR)
    expect(ptr.answers.length > 0).toBe(expectedServed(c))
  })

  it('the pick takes it exactly when it is served', async () => {
    const res = await t.json('GET', `${NS}/services/${serviceOf(c)}/pick?explain=true`)
    const candidates = res.status === 200 ? res.body.explain.candidates.map((x: any) => x.pod) : []
    expect(candidates.includes(podOf(c))).toBe(expectedServed(c))
  })
})
