import { describe, expect, it } from 'vitest'
import { microTime, normalTime, parseRfc3339 } from '../../worker/registry/rfc3339'

describe('RFC 3339 times', () => {
  it('read offsets, fractions and lower-case separators, and write UTC in one fixed-width form', () => {
    expect(normalTime('2031-02-28T23:30:00.5+01:00')).toBe('2031-02-28T22:30:00Z')
    expect(normalTime('2024-02-29t00:00:00z')).toBe('2024-02-29T00:00:00Z')
    expect(microTime('2026-12-01T10:00:00.1234567-02:30')).toBe('2026-12-01T12:30:00.123456Z')
    expect(normalTime('0000-01-01T00:00:00Z')).toBe('0000-01-01T00:00:00Z')
    expect(normalTime('9999-12-31T23:59:59Z')).toBe('9999-12-31T23:59:59Z')
  })

  it('refuse what is not a real instant with a four-digit year in UTC', () => {
    for (const bad of [
      'garbage', '1', '2031-02-30T00:00:00Z', '2023-02-29T00:00:00Z', '2031-13-01T00:00:00Z', '2031-02-28T24:00:00Z',
      '2031-02-28T23:60:00Z', '2031-02-28T23:59:60Z', '99999-01-01T00:00:00Z', '2031-02-28', '2031-02-28T23:59:59',
      '2031-02-28T23:59:59+24:00', '9999-12-31T23:59:59-00:01', '0000-01-01T00:00:00+00:01', ' 2031-02-28T23:59:59Z',
    ]) {
      expect(parseRfc3339(bad), bad).toBeNull()
    }
  })

  it('answer a time read again as the first time, past the times it keeps and for text too long to be a time', () => {
    const first = parseRfc3339('2026-12-01T10:00:00.25+01:00')
    expect(first).toEqual({ ms: Date.UTC(2026, 11, 1, 9, 0, 0), fraction: '25' })
    for (let i = 0; i < 1000; i++) parseRfc3339(`2026-12-01T10:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z`)
    expect(parseRfc3339('2026-12-01T10:00:00.25+01:00')).toEqual(first)
    expect(Object.isFrozen(first)).toBe(true)
    expect(parseRfc3339('2031-02-30T00:00:00Z')).toBeNull()
    expect(parseRfc3339('2031-02-30T00:00:00Z')).toBeNull()
    expect(parseRfc3339(`2026-12-01T10:00:00.${'1'.repeat(9)}+01:00`)).toEqual({ ms: Date.UTC(2026, 11, 1, 9, 0, 0), fraction: '111111111' })
    expect(parseRfc3339(`2026-12-01T10:00:00.${'1'.repeat(10)}Z`)).toBeNull()
  })
})
