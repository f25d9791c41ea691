/**
 * What a parsed selector is. Label selectors and field selectors are parsed here
 * (worker/selectors/), matched in memory here and in SQL by worker/db/filters.ts, so these
 * types belong to neither the registry nor the store.
 */

export type Operator = 'exists' | 'doesNotExist' | 'equals' | 'notEquals' | 'in' | 'notIn' | 'gt' | 'lt'

/** One condition on one label; a selector is the AND of its requirements. */
export interface Requirement {
  key: string
  operator: Operator
  /** Empty for exists/doesNotExist, one value for equals/notEquals/gt/lt, sorted and unique for in/notIn. */
  values: string[]
}

/** One condition on one field; a field selector is the AND of its requirements. */
export interface FieldRequirement {
  field: string
  operator: 'equals' | 'notEquals'
  value: string
}

/** A selector (label or field) that cannot be parsed; the API answers it with 400 BadRequest. */
export class SelectorError extends Error {
  /** Offset in the input where the problem was found, when known. */
  readonly position: number | undefined
  constructor(message: string, position?: number) {
    super(message)
    this.name = 'SelectorError'
    this.position = position
  }
}
