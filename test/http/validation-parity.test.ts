/**
 * Validation worded as Kubernetes words it: a container, when given, needs a name, and
 * a field an update may not change says so (Kubernetes 1.32 reports a changed ClusterIP
 * on `spec.clusterIPs[0]` with the whole new list as the value, "may not change once
 * set"; apimachinery's other immutable fields say "field is immutable").
 */
import { describe, expect, it } from 'vitest'
import { IMMUTABLE, mayNotChange } from '../../worker/registry/validation'
import { testApp } from '../support/app'

const PODS = '/api/v1/namespaces/default/pods'
const SERVICES = '/api/v1/namespaces/default/services'

describe('validation parity', () => {
  it('a container without a name is `spec.containers[i].name: Required value`; a pod with no containers needs none', async () => {
    const t = await testApp()
    const res = await t.json('POST', PODS, { metadata: { name: 'p' }, spec: { containers: [{ name: 'main' }, { ports: [{ containerPort: 80 }] }] } })
    expect(res.status).toBe(422)
    expect(res.body.message).toBe('Pod "p" is invalid: spec.containers[1].name: Required value')
    expect(res.body.details.causes).toEqual([{ reason: 'FieldValueRequired', field: 'spec.containers[1].name', message: 'Required value' }])
    expect((await t.json('POST', PODS, { metadata: { name: 'bare' } })).status).toBe(201)
  })

  it('a changed ClusterIP is reported on spec.clusterIPs[0] with the new list, as Kubernetes 1.32 does', async () => {
    const t = await testApp()
    const created = (await t.json('POST', SERVICES, { metadata: { name: 'web' }, spec: { clusterIP: '10.96.0.50', ports: [{ port: 80 }] } })).body
    const res = await t.json('PUT', `${SERVICES}/web`, { ...created, spec: { ...created.spec, clusterIP: '10.96.0.51', clusterIPs: ['10.96.0.51'] } })
    expect(res.status).toBe(422)
    expect(res.body.message).toBe('Service "web" is invalid: spec.clusterIPs[0]: Invalid value: ["10.96.0.51"]: may not change once set')
  })

  it("words apimachinery's immutable fields", () => {
    expect(mayNotChange('metadata.uid', 'x')).toEqual({ reason: 'FieldValueInvalid', field: 'metadata.uid', message: 'Invalid value: "x": field is immutable' })
    expect(mayNotChange('spec.clusterIPs[0]', ['10.0.0.5'], IMMUTABLE.onceSet).message).toBe('Invalid value: ["10.0.0.5"]: may not change once set')
  })
})
