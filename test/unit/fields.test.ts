import { describe, it, expect } from 'vitest'
import {
  escapeFieldValue,
  formatFieldSelector,
  matchesFields,
  parseFieldSelector,
} from '../../worker/selectors/fields'
import { SelectorError } from '../../worker/selectors/types'

const POD_FIELDS = ['metadata.name', 'metadata.namespace', 'spec.nodeName', 'status.phase', 'status.podIP'] as const

function parseError(input: string): SelectorError {
  try {
    parseFieldSelector(input, POD_FIELDS)
  } catch (e) {
    expect(e).toBeInstanceOf(SelectorError)
    return e as SelectorError
  }
  throw new Error(`expected ${JSON.stringify(input)} to be rejected`)
}

describe('parseFieldSelector', () => {
  it('parses nothing from the empty selector', () => {
    expect(parseFieldSelector('', POD_FIELDS)).toEqual([])
    expect(parseFieldSelector(',', POD_FIELDS)).toEqual([])
  })

  it('parses =, == and !=', () => {
    expect(parseFieldSelector('metadata.name=web-0', POD_FIELDS)).toEqual([
      { field: 'metadata.name', operator: 'equals', value: 'web-0' },
    ])
    expect(parseFieldSelector('status.phase==Running', POD_FIELDS)).toEqual([
      { field: 'status.phase', operator: 'equals', value: 'Running' },
    ])
    expect(parseFieldSelector('spec.nodeName!=', POD_FIELDS)).toEqual([
      { field: 'spec.nodeName', operator: 'notEquals', value: '' },
    ])
  })

  it('sorts terms by their text and skips empty ones', () => {
    expect(parseFieldSelector('status.phase!=Failed,,metadata.name=a,', POD_FIELDS)).toEqual([
      { field: 'metadata.name', operator: 'equals', value: 'a' },
      { field: 'status.phase', operator: 'notEquals', value: 'Failed' },
    ])
  })

  it('unescapes \\, \\= and \\\\ in values', () => {
    expect(parseFieldSelector('metadata.name=a\\,b\\=c\\\\d,status.phase=x', POD_FIELDS)).toEqual([
      { field: 'metadata.name', operator: 'equals', value: 'a,b=c\\d' },
      { field: 'status.phase', operator: 'equals', value: 'x' },
    ])
    expect(parseFieldSelector('metadata.name!=\\=', POD_FIELDS)).toEqual([
      { field: 'metadata.name', operator: 'notEquals', value: '=' },
    ])
  })

  it('takes the first operator as the split point', () => {
    expect(parseFieldSelector('metadata.name=!x', POD_FIELDS)).toEqual([
      { field: 'metadata.name', operator: 'equals', value: '!x' },
    ])
  })

  it('rejects unknown fields', () => {
    expect(parseError('spec.secret=x').message).toBe('field label not supported: spec.secret')
    expect(parseError('metadata.name=a,metadata.labels=b').message).toBe('field label not supported: metadata.labels')
    // Field names are matched exactly, spaces included.
    expect(parseError(' metadata.name=a').message).toBe('field label not supported:  metadata.name')
  })

  it('rejects malformed terms', () => {
    expect(parseError('metadata.name').message).toBe(
      'invalid field selector: "metadata.name" (at position 0) is not <field>=<value>, <field>==<value> or <field>!=<value>',
    )
    expect(parseError('status.phase=Running,metadata.name').position).toBe(21)
    expect(parseError('=x').message).toBe('invalid field selector: "=x" (at position 0) names no field')
    expect(parseError('metadata.name=a=b').message).toBe(
      'invalid field selector: unescaped \'=\' in the value of "metadata.name=a=b" (at position 15)',
    )
    expect(parseError('metadata.name=a\\nb').message).toBe(
      'invalid field selector: invalid escape sequence "\\\\n" in "metadata.name=a\\\\nb" (at position 15)',
    )
    expect(parseError('metadata.name=a\\').message).toMatch(/invalid escape sequence "\\\\"/)
  })

  it('reports syntax errors before unknown fields', () => {
    expect(parseError('nope=x,metadata.name').message).toMatch(/^invalid field selector/)
  })
})

describe('field selector helpers', () => {
  it('escapes and formats values so they parse back', () => {
    expect(escapeFieldValue('a,b=c\\d')).toBe('a\\,b\\=c\\\\d')
    const reqs = [
      { field: 'metadata.name', operator: 'equals' as const, value: 'a,b=c\\d' },
      { field: 'status.phase', operator: 'notEquals' as const, value: '' },
    ]
    const text = formatFieldSelector(reqs)
    expect(text).toBe('metadata.name=a\\,b\\=c\\\\d,status.phase!=')
    expect(parseFieldSelector(text, POD_FIELDS)).toEqual(reqs)
  })

  it('matches field values, a missing field reading as empty', () => {
    const reqs = parseFieldSelector('status.phase!=Failed,spec.nodeName=', POD_FIELDS)
    expect(matchesFields(reqs, { 'status.phase': 'Running' })).toBe(true)
    expect(matchesFields(reqs, { 'status.phase': 'Running', 'spec.nodeName': 'n1' })).toBe(false)
    expect(matchesFields(reqs, { 'status.phase': 'Failed' })).toBe(false)
    expect(matchesFields([], {})).toBe(true)
  })
})
