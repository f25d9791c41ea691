import { sql } from 'drizzle-orm'
import { SQLiteAsyncDialect } from 'drizzle-orm/sqlite-core'
import { describe, expect, it } from 'vitest'
import { compile } from '../../worker/db/compile'
import { RV } from '../../worker/db/batch'
import { pods } from '../../worker/db/schema'
import { sql as storeSql } from '../../worker/db/sql'

const dialect = new SQLiteAsyncDialect()
const drizzleText = (q: ReturnType<typeof sql>) => {
  const built = dialect.sqlToQuery(q)
  return { sql: built.sql, args: built.params }
}

describe('compile', () => {
  it('builds the text and arguments drizzle builds for every shape the store writes', () => {
    const where = sql`namespace = ${'ns'} AND name = ${'a'}`
    const sets = [sql`rv = ${RV}`, sql`body = ${'{"a":1}'}`, sql`${sql.raw('ready')} = ${1}`]
    const shapes = [
      sql`SELECT 1`,
      sql`INSERT INTO guard (code) SELECT ${'conflict'} WHERE NOT EXISTS (SELECT 1 FROM ${sql.raw('pods')} WHERE ${where} AND rv = ${7})`,
      sql`UPDATE pods SET ${sql.join(sets, sql`, `)} WHERE ${where}`,
      sql`INSERT INTO t (a, b, c, d, e) VALUES (${null}, ${2.5}, ${'x'}, ${12n}, ${true})`,
      sql`SELECT ${sql.raw('a')}${sql``}, ${sql.empty()} ${undefined} FROM t`,
      sql.join([sql`a = ${1}`, sql`b = ${2}`], sql` OR `),
    ]
    for (const q of shapes) {
      const fast = compile(q)
      expect(fast).not.toBeNull()
      expect(fast).toEqual(drizzleText(q))
    }
  })

  it('leaves to drizzle what it does not build: tables, columns, placeholders, encoded params, inlined params', () => {
    for (const q of [
      sql`SELECT * FROM ${pods}`,
      sql`SELECT ${pods.name} FROM pods`,
      sql`SELECT ${sql.placeholder('x')}`,
      sql`SELECT ${sql.param('a')}`,
      sql`SELECT ${'a'}`.inlineParams(),
      sql`SELECT * FROM t WHERE ${sql`a = ${'b'}`.inlineParams()}`,
    ]) {
      expect(compile(q)).toBeNull()
    }
  })

  it("the store's sql tag builds the statements drizzle's builds, for compile and for drizzle's own walk", () => {
    // The same shapes written with each tag (the store's skips drizzle's search for tables among the chunks).
    const shapes = (tag: typeof sql | typeof storeSql) => {
      const where = tag`namespace = ${'ns'} AND name = ${'a'}`
      const sets = [tag`rv = ${RV}`, tag`body = ${'{"a":1}'}`, tag`${tag.raw('ready')} = ${1}`]
      return [
        tag`SELECT 1`,
        tag``,
        tag`${'only a value'}`,
        tag`INSERT INTO guard (code) SELECT ${'conflict'} WHERE NOT EXISTS (SELECT 1 FROM ${tag.raw('pods')} WHERE ${where} AND rv = ${7})`,
        tag`UPDATE pods SET ${tag.join(sets, tag`, `)} WHERE ${where}`,
        tag`INSERT INTO t (a, b, c, d, e) VALUES (${null}, ${2.5}, ${'x'}, ${12n}, ${true})`,
        tag.join([tag`a = ${1}`, tag`b = ${2}`], tag` OR `),
        tag.join([tag`a`, tag`b`]),
        tag.join([]),
      ]
    }
    const theirs = shapes(sql)
    const ours = shapes(storeSql)
    // A template run again reuses its text chunks and still builds its own values.
    const again = shapes(storeSql)
    ours.forEach((q, i) => {
      expect(compile(q)).toEqual(drizzleText(theirs[i]!))
      expect(drizzleText(q)).toEqual(drizzleText(theirs[i]!))
      expect(compile(again[i]!)).toEqual(compile(q))
    })
    // One template (one call site) run twice before either is compiled: shared text, values of its own.
    const at = (v: unknown) => storeSql`a = ${v} AND b = ${storeSql`c = ${v}`}`
    const [one, two] = [at(1), at(2)]
    expect(compile(one)).toEqual({ sql: 'a = ? AND b = c = ?', args: [1, 1] })
    expect(compile(two)).toEqual({ sql: 'a = ? AND b = c = ?', args: [2, 2] })
    expect(one.queryChunks[0]).toBe(two.queryChunks[0])
    expect(one.queryChunks).not.toBe(two.queryChunks)
  })
})
