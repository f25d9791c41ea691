import { describe, it, expect } from 'vitest'
import { formatSelector, matchesLabels, parseLabelSelector, selectorFromMap } from '../../worker/selectors/labels'
import { SelectorError, type Requirement } from '../../worker/selectors/types'

function parseError(input: string): SelectorError {
  try {
    parseLabelSelector(input)
  } catch (e) {
    expect(e).toBeInstanceOf(SelectorError)
    return e as SelectorError
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected`)
}

describe('parseLabelSelector', () => {
  it('parses the empty selector as match-everything', () => {
    expect(parseLabelSelector('')).toEqual([])
    expect(parseLabelSelector('  \t')).toEqual([])
    expect(matchesLabels([], {})).toBe(true)
  })

  it('parses the reference example, sorted by key', () => {
    expect(parseLabelSelector('environment in (production,qa),tier notin (frontend),partition,!legacy')).toEqual([
      { key: 'environment', operator: 'in', values: ['production', 'qa'] },
      { key: 'legacy', operator: 'doesNotExist', values: [] },
      { key: 'partition', operator: 'exists', values: [] },
      { key: 'tier', operator: 'notIn', values: ['frontend'] },
    ])
  })

  it('parses every operator', () => {
    const one = (s: string) => parseLabelSelector(s)[0]
    expect(one('app=web')).toEqual({ key: 'app', operator: 'equals', values: ['web'] })
    expect(one('app==web')).toEqual({ key: 'app', operator: 'equals', values: ['web'] })
    expect(one('app!=web')).toEqual({ key: 'app', operator: 'notEquals', values: ['web'] })
    expect(one('app')).toEqual({ key: 'app', operator: 'exists', values: [] })
    expect(one('!app')).toEqual({ key: 'app', operator: 'doesNotExist', values: [] })
    expect(one('replicas>3')).toEqual({ key: 'replicas', operator: 'gt', values: ['3'] })
    expect(one('replicas<10')).toEqual({ key: 'replicas', operator: 'lt', values: ['10'] })
    expect(one('app.kubernetes.io/name in (web)')).toEqual({
      key: 'app.kubernetes.io/name',
      operator: 'in',
      values: ['web'],
    })
  })

  it('allows whitespace between tokens', () => {
    expect(parseLabelSelector(' a = b ,\tc != d ,\n! e , f  in  ( x , y ) ')).toEqual([
      { key: 'a', operator: 'equals', values: ['b'] },
      { key: 'c', operator: 'notEquals', values: ['d'] },
      { key: 'e', operator: 'doesNotExist', values: [] },
      { key: 'f', operator: 'in', values: ['x', 'y'] },
    ])
    expect(parseLabelSelector('a in(b)')).toEqual([{ key: 'a', operator: 'in', values: ['b'] }])
  })

  it('reads missing and empty values as the empty string', () => {
    const values = (s: string) => parseLabelSelector(s)[0]?.values
    expect(values('x in ()')).toEqual([''])
    expect(values('z notin ()')).toEqual([''])
    expect(values('x in (a,,b)')).toEqual(['', 'a', 'b'])
    expect(values('x in (,a)')).toEqual(['', 'a'])
    expect(values('x in (a,)')).toEqual(['', 'a'])
    expect(values('x in (,)')).toEqual([''])
    expect(values('x=')).toEqual([''])
    expect(values('x!=,y')).toEqual([''])
  })

  it('sorts and deduplicates set values', () => {
    expect(parseLabelSelector('x in (c,a,b,a)')[0]?.values).toEqual(['a', 'b', 'c'])
  })

  it('keeps requirements on the same key, in input order', () => {
    expect(parseLabelSelector('b=2,a=1,b=1')).toEqual([
      { key: 'a', operator: 'equals', values: ['1'] },
      { key: 'b', operator: 'equals', values: ['2'] },
      { key: 'b', operator: 'equals', values: ['1'] },
    ])
  })

  it('reads the keywords as plain words where a key or value goes', () => {
    expect(parseLabelSelector('in in (in,notin)')).toEqual([{ key: 'in', operator: 'in', values: ['in', 'notin'] }])
    expect(parseLabelSelector('notin=in')).toEqual([{ key: 'notin', operator: 'equals', values: ['in'] }])
  })

  it('rejects malformed selectors with the problem and its position', () => {
    expect(parseError('a in (b').message).toBe(
      "unable to parse requirement: found end of string, expected: ',' or ')' (at position 7)",
    )
    expect(parseError('a in (').message).toBe(
      "unable to parse requirement: found end of string, expected: ',', ')' or identifier (at position 6)",
    )
    expect(parseError('a=b=c').message).toBe("found '=', expected: ',' or end of string (at position 3)")
    expect(parseError('a in b').message).toBe("unable to parse requirement: found 'b', expected: '(' (at position 5)")
    expect(parseError('a in').message).toBe("unable to parse requirement: found end of string, expected: '(' (at position 4)")
    expect(parseError('a in (b c)').message).toBe("unable to parse requirement: found 'c', expected: ',' or ')' (at position 8)")
    expect(parseError('a b').message).toBe(
      "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt (at position 2)",
    )
    expect(parseError('(a)').message).toBe("found '(', expected: !, identifier, or end of string (at position 0)")
    expect(parseError(',a').message).toBe("found ',', expected: !, identifier, or end of string (at position 0)")
    expect(parseError('a,').message).toBe("found end of string, expected: identifier after ',' (at position 2)")
    expect(parseError('a,,b').message).toBe("found ',', expected: identifier after ',' (at position 2)")
    expect(parseError('!=a').message).toBe("found '!=', expected: !, identifier, or end of string (at position 0)")
    expect(parseError('!a=b').message).toBe("found '=', expected: ',' or end of string (at position 2)")
    expect(parseError('a=(b)').message).toBe("unable to parse requirement: found '(', expected: identifier (at position 2)")
    expect(parseError('a in (b,=)').message).toBe("unable to parse requirement: found '=', expected: ',' or identifier (at position 8)")
    expect(parseError('a=b c').position).toBe(4)
  })

  it('rejects the trailing ",," that apimachinery rejects', () => {
    expect(parseError('x in (a,,)').message).toBe(
      "unable to parse requirement: found ')', expected: ',' or identifier (at position 9)",
    )
  })

  it('validates keys', () => {
    const e = parseError('-a')
    expect(e.message).toMatch(/^unable to parse requirement: invalid label key "-a": name part must consist of/)
    expect(e.position).toBe(0)
    expect(parseError('x, a/b/c=d').message).toMatch(/invalid label key "a\/b\/c": a qualified name must consist/)
    expect(parseError('Example.com/a').message).toMatch(/invalid label key "Example\.com\/a": prefix part a lowercase RFC 1123/)
    expect(parseError(`${'k'.repeat(64)}=v`).message).toMatch(/name part must be no more than 63 characters/)
    expect(parseError('a"b=c').message).toMatch(/invalid label key "a\\"b"/)
  })

  it('validates values', () => {
    const long = 'v'.repeat(64)
    const e = parseError(`app=${long}`)
    expect(e.message).toBe(
      `unable to parse requirement: invalid label value: "${long}": must be no more than 63 characters (at position 4)`,
    )
    expect(e.position).toBe(4)
    expect(parseError(`app in (ok,${long})`).position).toBe(11)
    expect(parseError('app=-web').message).toMatch(/^unable to parse requirement: invalid label value: "-web": a valid label must be/)
    expect(parseLabelSelector(`app=${'v'.repeat(63)}`)[0]?.values).toEqual(['v'.repeat(63)])
  })

  it('needs an integer after > and <', () => {
    expect(parseError('a>b').message).toBe(
      'unable to parse requirement: for \'gt\', \'lt\' operators, the value must be an integer, found "b" (at position 2)',
    )
    expect(parseError('a>').message).toMatch(/the value must be an integer, found ""/)
    expect(parseError('a<1.5').message).toMatch(/must be an integer/)
    expect(parseError('a<99999999999999999999').message).toMatch(/must be an integer/)
    // A negative number is an integer but not a label value, so Kubernetes rejects it too.
    expect(parseError('a>-1').message).toMatch(/invalid label value: "-1"/)
  })
})

describe('matchesLabels', () => {
  const sel = (s: string) => parseLabelSelector(s)
  const labels = { environment: 'production', tier: 'backend', partition: 'p1', replicas: '5', empty: '' }

  it('matches the reference example', () => {
    const s = sel('environment in (production,qa),tier notin (frontend),partition,!legacy')
    expect(matchesLabels(s, labels)).toBe(true)
    expect(matchesLabels(s, { ...labels, legacy: 'true' })).toBe(false)
    expect(matchesLabels(s, { ...labels, tier: 'frontend' })).toBe(false)
    expect(matchesLabels(s, { ...labels, environment: 'dev' })).toBe(false)
    const { partition: _, ...noPartition } = labels
    expect(matchesLabels(s, noPartition)).toBe(false)
  })

  it('lets notin and != match objects without the key', () => {
    expect(matchesLabels(sel('zone!=a'), {})).toBe(true)
    expect(matchesLabels(sel('zone notin (a)'), {})).toBe(true)
    expect(matchesLabels(sel('zone!=a'), { zone: 'a' })).toBe(false)
    expect(matchesLabels(sel('zone!=a'), { zone: 'b' })).toBe(true)
    expect(matchesLabels(sel('zone=a'), {})).toBe(false)
    expect(matchesLabels(sel('zone in (a)'), {})).toBe(false)
  })

  it('tells an empty value from a missing key', () => {
    expect(matchesLabels(sel('empty='), labels)).toBe(true)
    expect(matchesLabels(sel('missing='), labels)).toBe(false)
    expect(matchesLabels(sel('empty in ()'), labels)).toBe(true)
    expect(matchesLabels(sel('empty'), labels)).toBe(true)
    expect(matchesLabels(sel('!empty'), labels)).toBe(false)
    expect(matchesLabels(sel('empty notin ()'), labels)).toBe(false)
    expect(matchesLabels(sel('missing notin ()'), labels)).toBe(true)
  })

  it('compares integers for > and <', () => {
    expect(matchesLabels(sel('replicas>4'), labels)).toBe(true)
    expect(matchesLabels(sel('replicas>5'), labels)).toBe(false)
    expect(matchesLabels(sel('replicas<10'), labels)).toBe(true)
    expect(matchesLabels(sel('replicas<5'), labels)).toBe(false)
    expect(matchesLabels(sel('replicas>05'), { replicas: '6' })).toBe(true)
    expect(matchesLabels(sel('replicas<1'), { replicas: '-3' })).toBe(true)
    expect(matchesLabels(sel('tier>1'), labels)).toBe(false)
    expect(matchesLabels(sel('missing<1'), labels)).toBe(false)
    expect(matchesLabels(sel('v>1'), { v: '99999999999999999999' })).toBe(false)
    expect(matchesLabels(sel('v>1'), { v: '9223372036854775807' })).toBe(true)
  })

  it('does not see inherited object properties as labels', () => {
    expect(matchesLabels(sel('constructor'), {})).toBe(false)
    expect(matchesLabels(sel('!toString'), {})).toBe(true)
  })
})

describe('selectorFromMap and formatSelector', () => {
  it('builds equality requirements sorted by key', () => {
    expect(selectorFromMap({ tier: 'web', app: 'shop' })).toEqual([
      { key: 'app', operator: 'equals', values: ['shop'] },
      { key: 'tier', operator: 'equals', values: ['web'] },
    ])
    expect(selectorFromMap({})).toEqual([])
    expect(matchesLabels(selectorFromMap({ app: 'shop' }), { app: 'shop', x: 'y' })).toBe(true)
  })

  it('formats canonically', () => {
    expect(formatSelector(selectorFromMap({ tier: 'web', app: 'shop' }))).toBe('app=shop,tier=web')
    expect(formatSelector(parseLabelSelector('tier notin (frontend), environment in (qa,production),partition,!legacy'))).toBe(
      'environment in (production,qa),!legacy,partition,tier notin (frontend)',
    )
    expect(formatSelector(parseLabelSelector('a==b,c!=d,e>1,f<2,g in (),h='))).toBe('a=b,c!=d,e>1,f<2,g in (),h=')
    expect(formatSelector([])).toBe('')
  })

  it('sorts keys and values of hand-built requirements', () => {
    const reqs: Requirement[] = [
      { key: 'b', operator: 'notIn', values: ['y', 'x'] },
      { key: 'a', operator: 'exists', values: [] },
    ]
    expect(formatSelector(reqs)).toBe('a,b notin (x,y)')
    expect(reqs[0]?.values).toEqual(['y', 'x'])
  })

  it('round-trips through the parser', () => {
    for (const s of ['a in (,x),!b,c=,d notin (p,q)', 'x.io/y>0,x.io/y<10', 'k', 'in in (in)']) {
      const reqs = parseLabelSelector(s)
      expect(parseLabelSelector(formatSelector(reqs))).toEqual(reqs)
    }
  })
})
