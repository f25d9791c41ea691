/**
 * The `?labelSelector=` grammar of apimachinery's `labels.Parse`: its lexer and a
 * recursive-descent parser that checks keys and values with the label rules.
 *
 *   selector    ::= requirement ( "," requirement )*
 *   requirement ::= ["!"] KEY [ ("in"|"notin") "(" VALUE ("," VALUE)* ")"
 *                             | ("="|"=="|"!=") VALUE | (">"|"<") INTEGER ]
 *
 * At most MAX_SELECTOR_REQUIREMENTS requirements, and MAX_SELECTOR_VALUES values in all
 * (registry/limits.ts). Callers use `parseLabelSelector` (labels.ts), which also puts
 * the result in canonical order.
 */
import { labelKeyProblems, labelValueProblems } from '../registry/validation'
import { MAX_SELECTOR_REQUIREMENTS, MAX_SELECTOR_VALUES } from '../registry/limits'
import { parseInt64 } from './int64'
import { SelectorError, type Requirement } from './types'

type Tok =
  | 'eos'
  | 'identifier'
  | 'in'
  | 'notin'
  | '('
  | ')'
  | ','
  | '!'
  | '='
  | '=='
  | '!='
  | '>'
  | '<'

interface Token {
  tok: Tok
  lit: string
  pos: number
}

const SPECIAL = new Set(['=', '!', '(', ')', ',', '>', '<'])
const WHITESPACE = new Set([' ', '\t', '\r', '\n'])
const BINARY_OPERATORS = 'in, notin, =, ==, !=, gt, lt'

/** Splits the input into tokens the way apimachinery's lexer does. */
function lex(input: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  for (;;) {
    while (i < input.length && WHITESPACE.has(input[i] ?? '')) i++
    if (i >= input.length) {
      tokens.push({ tok: 'eos', lit: '', pos: i })
      return tokens
    }
    const start = i
    const ch = input[i] ?? ''
    if (SPECIAL.has(ch)) {
      const two = input.slice(i, i + 2)
      if (two === '!=' || two === '==') {
        tokens.push({ tok: two, lit: two, pos: start })
        i += 2
      } else {
        tokens.push({ tok: ch as Tok, lit: ch, pos: start })
        i += 1
      }
      continue
    }
    while (i < input.length && !SPECIAL.has(input[i] ?? '') && !WHITESPACE.has(input[i] ?? '')) i++
    const lit = input.slice(start, i)
    tokens.push({ tok: lit === 'in' || lit === 'notin' ? lit : 'identifier', lit, pos: start })
  }
}

function describe(t: Token): string {
  return t.tok === 'eos' ? 'end of string' : `'${t.lit}'`
}

/**
 * Parses a label selector into its requirements in input order, `in`/`notin` values
 * deduplicated in the order they first appear. Throws SelectorError naming the problem and
 * its position.
 */
export function parseRequirements(input: string): Requirement[] {
  return new Parser(lex(input)).parse()
}

/** Recursive-descent parser over the token list; `in`/`notin` read as identifiers where values go. */
class Parser {
  private i = 0
  /** Values read so far, over all requirements. */
  private values = 0
  constructor(private readonly tokens: Token[]) {}

  /** Current token; in a value context the keywords are identifiers. */
  private peek(values = true): Token {
    const t = this.tokens[this.i] ?? this.tokens[this.tokens.length - 1]!
    return values && (t.tok === 'in' || t.tok === 'notin') ? { ...t, tok: 'identifier' } : t
  }

  private next(values = true): Token {
    const t = this.peek(values)
    if (this.i < this.tokens.length - 1) this.i++
    return t
  }

  private fail(detail: string, at: Token | number, inRequirement = true): never {
    const pos = typeof at === 'number' ? at : at.pos
    const prefix = inRequirement ? 'unable to parse requirement: ' : ''
    throw new SelectorError(`${prefix}${detail} (at position ${pos})`, pos)
  }

  parse(): Requirement[] {
    const reqs: Requirement[] = []
    for (;;) {
      const t = this.peek()
      if (t.tok === 'eos') return reqs
      if (t.tok !== 'identifier' && t.tok !== '!') {
        this.fail(`found ${describe(t)}, expected: !, identifier, or end of string`, t, false)
      }
      if (reqs.length === MAX_SELECTOR_REQUIREMENTS) {
        this.fail(`too many requirements: a selector may have at most ${MAX_SELECTOR_REQUIREMENTS}`, t, false)
      }
      reqs.push(this.requirement())
      const after = this.next()
      if (after.tok === 'eos') return reqs
      if (after.tok !== ',') this.fail(`found ${describe(after)}, expected: ',' or end of string`, after, false)
      const following = this.peek()
      if (following.tok !== 'identifier' && following.tok !== '!') {
        this.fail(`found ${describe(following)}, expected: identifier after ','`, following, false)
      }
    }
  }

  private requirement(): Requirement {
    let t = this.next()
    const negated = t.tok === '!'
    if (negated) t = this.next()
    if (t.tok !== 'identifier') this.fail(`found ${describe(t)}, expected: identifier`, t)
    const key = t.lit
    const problems = labelKeyProblems(key)
    if (problems.length > 0) this.fail(`invalid label key ${JSON.stringify(key)}: ${problems.join('; ')}`, t)

    if (negated) return { key, operator: 'doesNotExist', values: [] }
    const la = this.peek()
    if (la.tok === 'eos' || la.tok === ',') return { key, operator: 'exists', values: [] }

    const op = this.next(false)
    switch (op.tok) {
      case 'in':
      case 'notin':
        return { key, operator: op.tok === 'in' ? 'in' : 'notIn', values: this.checkValues(this.valueSet()) }
      case '=':
      case '==':
      case '!=':
        return {
          key,
          operator: op.tok === '!=' ? 'notEquals' : 'equals',
          values: this.checkValues(this.exactValue()),
        }
      case '>':
      case '<': {
        const value = this.exactValue()
        const [v] = value.keys()
        if (v === undefined || parseInt64(v) === null) {
          const at = value.get(v ?? '') ?? op.pos
          this.fail(`for 'gt', 'lt' operators, the value must be an integer, found ${JSON.stringify(v)}`, at)
        }
        return { key, operator: op.tok === '>' ? 'gt' : 'lt', values: this.checkValues(value) }
      }
      default:
        return this.fail(`found ${describe(op)}, expected: ${BINARY_OPERATORS}`, op)
    }
  }

  /**
   * `( VALUE , ... )`, with empty values allowed where apimachinery allows them (`()`,
   * `(,a)`, `(a,)`, `(a,,b)`). Returns each distinct value with where it first appears.
   */
  private valueSet(): Map<string, number> {
    const open = this.next()
    if (open.tok !== '(') this.fail(`found ${describe(open)}, expected: '('`, open)
    const set = new Map<string, number>()
    const add = (v: string, pos: number) => {
      if (!set.has(v)) set.set(v, pos)
    }
    const first = this.peek()
    if (first.tok === ')') {
      this.next()
      add('', first.pos)
      return set
    }
    if (first.tok !== 'identifier' && first.tok !== ',') {
      this.fail(`found ${describe(first)}, expected: ',', ')' or identifier`, first)
    }
    for (;;) {
      const t = this.next()
      if (t.tok === 'identifier') {
        add(t.lit, t.pos)
        const la = this.peek()
        if (la.tok === ',') continue
        if (la.tok === ')') break
        this.fail(`found ${describe(la)}, expected: ',' or ')'`, la)
      } else if (t.tok === ',') {
        if (set.size === 0) add('', t.pos) // "(,"
        const la = this.peek()
        if (la.tok === ')') {
          add('', la.pos) // ",)"
          break
        }
        if (la.tok === ',') {
          this.next()
          add('', la.pos) // ",,"
        }
      } else {
        this.fail(`found ${describe(t)}, expected: ',' or identifier`, t)
      }
    }
    this.next() // ')'
    return set
  }

  /** The single value after `=`, `==`, `!=`, `>` or `<`; missing means the empty value. */
  private exactValue(): Map<string, number> {
    const la = this.peek()
    if (la.tok === 'eos' || la.tok === ',') return new Map([['', la.pos]])
    const t = this.next()
    if (t.tok !== 'identifier') this.fail(`found ${describe(t)}, expected: identifier`, t)
    return new Map([[t.lit, t.pos]])
  }

  /** Validates each value as a label value; returns them in the order they first appear. */
  private checkValues(values: Map<string, number>): string[] {
    this.values += values.size
    if (this.values > MAX_SELECTOR_VALUES) {
      this.fail(`too many values: a selector may have at most ${MAX_SELECTOR_VALUES} in all its requirements`, [...values.values()][0] ?? 0)
    }
    for (const [v, pos] of values) {
      const problems = labelValueProblems(v)
      if (problems.length > 0) {
        this.fail(`invalid label value: ${JSON.stringify(v)}: ${problems.join('; ')}`, pos)
      }
    }
    return [...values.keys()]
  }
}
