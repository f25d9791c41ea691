/**
 * `Symbol.asyncDispose`, for `await using`: runtimes that lack it (Node before 20.4, older
 * browsers) get `Symbol.for('Symbol.asyncDispose')`, the symbol TypeScript's and esbuild's
 * down-levelled `await using` look for when the global one is missing.
 */
declare global {
  interface SymbolConstructor {
    /** The method `await using` calls (explicit resource management; declared as the ESNext.Disposable library and @types/node do). */
    readonly asyncDispose: unique symbol
  }
}

const symbols = Symbol as unknown as { asyncDispose?: symbol }
if (!symbols.asyncDispose) {
  Object.defineProperty(Symbol, 'asyncDispose', { value: Symbol.for('Symbol.asyncDispose'), configurable: true })
}

export const asyncDispose: typeof Symbol.asyncDispose = Symbol.asyncDispose
