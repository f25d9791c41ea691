/**
 * Label selectors answer the same through every list: pods, services and namespaces filter
 * in SQL, Endpoints and EndpointSlices in memory. Here services (SQL) and their Endpoints
 * (memory, labelled with the service's labels) are listed with the same selectors.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { formatSelector } from '../../worker/selectors/labels'
import type { Operator, Requirement } from '../../worker/selectors/types'
import { testApp, type TestApp } from '../support/app'

const NS = '/api/v1/namespaces/default'

async function names(t: TestApp, path: string, selector: string): Promise<{ status: number; names: string[] }> {
  const res = await t.json('GET', `${path}?labelSelector=${encodeURIComponent(selector)}`)
  const items = (res.body.items ?? []) as { metadata: { name: string } }[]
  return { status: res.status, names: items.map((i) => i.metadata.name).sort() }
}

describe('integer comparisons (gt, lt)', () => {
  it('read label values as int64, as strconv.ParseInt does: out of range or not decimal never matches', async () => {
    const t = await testApp()
    const values = ['99999999999999999999', '9223372036854775807', '9223372036854775808', '6', '007', '5', '0', '00', 'abc', '5x', '']
    for (const [i, x] of values.entries()) {
      expect((await t.json('POST', `${NS}/pods`, { metadata: { name: `p${i}`, labels: { x } } })).status).toBe(201)
    }
    await t.json('POST', `${NS}/pods`, { metadata: { name: 'none', labels: {} } })
    const pods = (s: string) => names(t, `${NS}/pods`, s).then((r) => r.names.map((n) => values[Number(n.slice(1))]).sort())
    expect(await pods('x>5')).toEqual(['007', '6', '9223372036854775807'])
    expect(await pods('x<6')).toEqual(['0', '00', '5'])
    expect(await pods('x>9223372036854775806')).toEqual(['9223372036854775807'])
    expect(await pods('x<1')).toEqual(['0', '00'])
    expect(await pods('x>0005')).toEqual(['007', '6', '9223372036854775807'])
    expect((await names(t, `${NS}/pods`, 'x>9223372036854775808')).status).toBe(400)
  })
})

/** Label values around the edges of the rules: int64 bounds, leading zeros, not numbers, empty. */
const VALUES = ['', '0', '00', '5', '007', '6', '9223372036854775806', '9223372036854775807', '9223372036854775808', '99999999999999999999', 'x', '5x', '0x10', '1e3']
/** Selector bounds for gt/lt, valid and not (those must be refused alike by both lists). */
const BOUNDS = ['0', '5', '007', '6', '9223372036854775806', '9223372036854775807', '9223372036854775808', 'x']
const KEYS = ['a', 'b', 'example.com/c']
const OPERATORS: Operator[] = ['exists', 'doesNotExist', 'equals', 'notEquals', 'in', 'notIn', 'gt', 'lt']

const requirement: fc.Arbitrary<Requirement> = fc
  .record({
    key: fc.constantFrom(...KEYS),
    operator: fc.constantFrom(...OPERATORS),
    values: fc.uniqueArray(fc.constantFrom(...VALUES), { minLength: 1, maxLength: 3 }),
    bound: fc.constantFrom(...BOUNDS),
  })
  .map(({ key, operator, values, bound }) => {
    if (operator === 'exists' || operator === 'doesNotExist') return { key, operator, values: [] }
    if (operator === 'gt' || operator === 'lt') return { key, operator, values: [bound] }
    if (operator === 'equals' || operator === 'notEquals') return { key, operator, values: values.slice(0, 1) }
    return { key, operator, values: values.sort() }
  })

const SERVICES = 40
const labels = fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...VALUES), { maxKeys: 3 })

describe('the SQL lists and the in-memory lists', () => {
  let t: TestApp
  beforeAll(async () => {
    t = await testApp()
    for (const [i, l] of fc.sample(labels, { numRuns: SERVICES, seed: 7 }).entries()) {
      const svc = { metadata: { name: `s${i}`, labels: l }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } }
      expect((await t.json('POST', `${NS}/services`, svc)).status).toBe(201)
    }
  })

  it('select the same objects for every selector, and refuse the same selectors', async () => {
    let split = 0
    let refused = 0
    await fc.assert(
      fc.asyncProperty(fc.array(requirement, { minLength: 1, maxLength: 3 }), async (reqs) => {
        const selector = formatSelector(reqs)
        const services = await names(t, `${NS}/services`, selector)
        const endpoints = await names(t, `${NS}/endpoints`, selector)
        expect(endpoints.status).toBe(services.status)
        expect(endpoints.names).toEqual(services.names)
        if (services.status === 400) refused++
        else if (services.names.length > 0 && services.names.length < SERVICES) split++
      }),
      { numRuns: 150 },
    )
    // Worth something only if selectors often keep some services and drop others, and some are refused.
    expect(split).toBeGreaterThan(30)
    expect(refused).toBeGreaterThan(0)
  })
})
