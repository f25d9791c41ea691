/**
 * `Symbol.asyncDispose` where the runtime lacks it: a fresh V8 context has none (Node 20
 * adds it to its own main context only), so the SDK's module is run in one.
 */
import { readFileSync } from 'node:fs'
import { runInContext, createContext } from 'node:vm'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { asyncDispose } from '../../sdk/src/dispose'

describe('Symbol.asyncDispose', () => {
  it('is the runtime’s own where it exists', () => {
    expect(asyncDispose).toBe(Symbol.asyncDispose)
  })

  it('is installed as Symbol.for("Symbol.asyncDispose") where it does not, as down-levelled `await using` expects', () => {
    const source = readFileSync(new URL('../../sdk/src/dispose.ts', import.meta.url), 'utf8')
    const js = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText
    const context = createContext({ exports: {} })
    expect(runInContext('typeof Symbol.asyncDispose', context)).toBe('undefined')
    runInContext(js, context)
    expect(runInContext('Symbol.asyncDispose === Symbol.for("Symbol.asyncDispose")', context)).toBe(true)
    expect(runInContext('exports.asyncDispose === Symbol.asyncDispose', context)).toBe(true)
  })
})
