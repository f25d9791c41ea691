/**
 * The SQL label filter (worker/db/filters.ts) against `matchesLabels` (worker/selectors/labels.ts)
 * on a real libSQL database: for any labels and any requirements, every operator included, the
 * objects the SQL selects are exactly those `matchesLabels` accepts. The label values go
 * straight into the `labels` table, so they include what validation would refuse (signs,
 * spaces, out-of-range numbers), and the rule must still agree.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { sql } from 'drizzle-orm'
import { listWhere } from '../../worker/db/filters'
import { INT64_MAX, INT64_MIN } from '../../worker/selectors/int64'
import { matchesLabels } from '../../worker/selectors/labels'
import type { Operator, Requirement } from '../../worker/selectors/types'
import { testDatabase, type TestDatabase } from '../support/db'

const EDGES = [INT64_MIN - 1n, INT64_MIN, INT64_MIN + 1n, -1n, 0n, 1n, 5n, INT64_MAX - 1n, INT64_MAX, INT64_MAX + 1n]

/** Decimal text of a number near the int64 bounds (or anywhere), with an optional `+` and leading zeros. */
const decimal = fc
  .record({
    n: fc.oneof(fc.constantFrom(...EDGES), fc.bigInt({ min: INT64_MIN - 100n, max: INT64_MAX + 100n }), fc.bigInt({ min: -20n, max: 20n })),
    plus: fc.boolean(),
    zeros: fc.nat({ max: 3 }),
  })
  .map(({ n, plus, zeros }) => `${n < 0n ? '-' : plus ? '+' : ''}${'0'.repeat(zeros)}${n < 0n ? -n : n}`)

/** Text that looks almost like an integer, and arbitrary short text. */
const notQuite = fc.oneof(
  fc.constantFrom('', '+', '-', '-0', '+0', '00', ' 5', '5 ', '1e3', '0x10', '1.0', '--5', '+-5', '5-', '٣', '５', '99999999999999999999', '-99999999999999999999'),
  fc.string({ unit: fc.constantFrom(...'0123456789+- ax'), maxLength: 5 }),
)

const value = fc.oneof({ arbitrary: decimal, weight: 3 }, { arbitrary: notQuite, weight: 1 })
const KEYS = ['a', 'b', 'c']
/** Keys a requirement may name: those objects have, and one none has. */
const REQUIREMENT_KEYS = [...KEYS, 'missing']
const OPERATORS: Operator[] = ['exists', 'doesNotExist', 'equals', 'notEquals', 'in', 'notIn', 'gt', 'lt']

/** Requirements on the keys objects have (and one none has), their values mostly among `pool`. */
function requirement(pool: string[]): fc.Arbitrary<Requirement> {
  const v = fc.oneof({ arbitrary: fc.constantFrom(...pool), weight: 3 }, { arbitrary: value, weight: 1 })
  return fc.record({
    key: fc.constantFrom(...REQUIREMENT_KEYS),
    // gt and lt twice as often: their rule is the one with the most ways to go wrong.
    operator: fc.constantFrom(...OPERATORS, 'gt', 'lt'),
    // Mostly the number of values the parser gives each operator, sometimes not: both sides must agree anyway.
    values: fc.oneof({ arbitrary: fc.array(v, { minLength: 1, maxLength: 1 }), weight: 4 }, { arbitrary: fc.array(v, { maxLength: 3 }), weight: 1 }),
  })
}

/** Objects' label maps and a selector, their values drawn from one small pool so that they meet. */
const scenario = fc.uniqueArray(value, { minLength: 1, maxLength: 5 }).chain((pool) =>
  fc.record({
    objects: fc.array(fc.dictionary(fc.constantFrom(...KEYS), fc.constantFrom(...pool), { maxKeys: 3 }), { minLength: 1, maxLength: 6 }),
    reqs: fc.array(requirement(pool), { minLength: 1, maxLength: 3 }),
  }),
)

let t: TestDatabase
beforeAll(async () => {
  t = await testDatabase()
})

let run = 0

/** The names of the objects (one per label map) that the SQL filter selects. */
async function sqlSelects(objects: Record<string, string>[], reqs: Requirement[]): Promise<string[]> {
  const namespace = `run-${run++}`
  const names = objects.map((_, i) => `o${i}`)
  const rows = objects.flatMap((l, i) => Object.entries(l).map(([k, v]) => sql`('Test', ${namespace}, ${names[i]}, ${k}, ${v})`))
  if (rows.length) await t.db.run(sql`INSERT INTO labels (kind, namespace, name, key, value) VALUES ${sql.join(rows, sql`, `)}`)
  const where = listWhere('Test', { namespace: sql`${namespace}`, name: sql`o.value` }, { labels: reqs }, () => {
    throw new Error('no field selectors here')
  })
  const found = await t.db.all<{ name: string }>(sql`SELECT o.value AS name FROM json_each(${JSON.stringify(names)}) o WHERE ${where}`)
  return found.map((r) => r.name).sort()
}

describe('label selectors in SQL and in memory', () => {
  it('select the same objects for any labels and requirements', async () => {
    let split = 0
    await fc.assert(
      fc.asyncProperty(scenario, async ({ objects, reqs }) => {
        const expected = objects.flatMap((l, i) => (matchesLabels(reqs, l) ? [`o${i}`] : [])).sort()
        expect(await sqlSelects(objects, reqs)).toEqual(expected)
        if (expected.length > 0 && expected.length < objects.length) split++
      }),
      { numRuns: 400 },
    )
    // The property is only worth something if selectors often keep some objects and drop others.
    expect(split).toBeGreaterThan(40)
  })

  it('compare integers alike for gt and lt, whatever the text on either side', async () => {
    let matched = 0
    let missed = 0
    await fc.assert(
      fc.asyncProperty(fc.array(value, { minLength: 8, maxLength: 8 }), value, fc.constantFrom<Operator>('gt', 'lt'), async (values, bound, operator) => {
        const objects = values.map((a) => ({ a }))
        const reqs: Requirement[] = [{ key: 'a', operator, values: [bound] }]
        const expected = objects.flatMap((l, i) => (matchesLabels(reqs, l) ? [`o${i}`] : [])).sort()
        expect(await sqlSelects(objects, reqs)).toEqual(expected)
        matched += expected.length
        missed += objects.length - expected.length
      }),
      { numRuns: 300 },
    )
    expect(matched).toBeGreaterThan(300)
    expect(missed).toBeGreaterThan(300)
  })

  it('compare integers exactly at the int64 bounds, signs and leading zeros included', async () => {
    const cases: [string, Operator, string, boolean][] = [
      ['99999999999999999999', 'gt', '5', false],
      ['9223372036854775808', 'gt', '5', false],
      ['9223372036854775807', 'gt', '9223372036854775806', true],
      ['-9223372036854775808', 'lt', '-9223372036854775807', true],
      ['-9223372036854775809', 'lt', '0', false],
      ['+7', 'gt', '6', true],
      ['-5', 'lt', '-4', true],
      ['-5', 'gt', '-6', true],
      ['007', 'gt', '6', true],
      ['-0', 'lt', '1', true],
      ['00000000000000000000009223372036854775807', 'gt', '9223372036854775806', true],
      ['1e3', 'gt', '5', false],
      ['', 'lt', '5', false],
      ['5', 'gt', '+4', true],
      ['5', 'gt', '9223372036854775808', false],
    ]
    for (const [label, operator, bound, matches] of cases) {
      const reqs: Requirement[] = [{ key: 'a', operator, values: [bound] }]
      expect(matchesLabels(reqs, { a: label }), `${label} ${operator} ${bound}`).toBe(matches)
      expect(await sqlSelects([{ a: label }], reqs), `${label} ${operator} ${bound}`).toEqual(matches ? ['o0'] : [])
    }
  })

  it('treat a missing key alike: notin and != match it, in, =, gt and lt do not', async () => {
    for (const operator of OPERATORS) {
      const reqs: Requirement[] = [{ key: 'missing', operator, values: operator.startsWith('exists') || operator === 'doesNotExist' ? [] : ['5'] }]
      const expected = matchesLabels(reqs, { a: '5' })
      expect(expected).toBe(['doesNotExist', 'notEquals', 'notIn'].includes(operator))
      expect(await sqlSelects([{ a: '5' }], reqs)).toEqual(expected ? ['o0'] : [])
    }
  })
})
