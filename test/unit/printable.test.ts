/** Go's printable test and %q quoting, which Kubernetes' field checks and messages rest on. */
import { describe, expect, it } from 'vitest'
import { goQuote, isPrintable } from '../../worker/registry/printable'
import { fieldError } from '../../worker/registry/errors'

describe('isPrintable', () => {
  it('takes letters, marks, numbers, punctuation, symbols and the ASCII space', () => {
    expect(isPrintable('')).toBe(true)
    expect(isPrintable('kubectl-client-side-apply ~!@#$%^&*()_+')).toBe(true)
    expect(isPrintable('café ü 日本 ٣ ❤ 😀 e\u0301')).toBe(true)
  })

  it('refuses controls, format characters, other spaces, private use and unassigned code points', () => {
    for (const ch of ['\t', '\n', '\x7f', '\x85', '\u00a0', '\u00ad', '\u200b', '\u2028', '\u3000', '\ue000', '\u{e0001}', '\u{10ffff}', '\ud800']) {
      expect(isPrintable(`a${ch}b`), JSON.stringify(ch)).toBe(false)
    }
  })
})

describe('goQuote', () => {
  it('writes what strconv.Quote writes', () => {
    expect(goQuote('plain text')).toBe('"plain text"')
    expect(goQuote('say "hi" \\ bye')).toBe('"say \\"hi\\" \\\\ bye"')
    expect(goQuote('\x07\b\f\n\r\t\v')).toBe('"\\a\\b\\f\\n\\r\\t\\v"')
    expect(goQuote('\x00\x01\x1b\x7f')).toBe('"\\x00\\x01\\x1b\\x7f"')
    expect(goQuote('é\u00a0\u200b\u2028')).toBe('"é\\u00a0\\u200b\\u2028"')
    expect(goQuote('😀\u{e0001}')).toBe('"😀\\U000e0001"')
    expect(goQuote('\x85\ufffd')).toBe('"\\u0085\ufffd"')
    expect(goQuote('a\ud800b')).toBe('"a\ufffdb"') // a lone surrogate, as Go's JSON decoding reads it
  })

  it('is how a field error shows a string value', () => {
    expect(fieldError.invalid('metadata.name', 'a\tb\u00a0', 'bad').message).toBe('Invalid value: "a\\tb\\u00a0": bad')
    expect(fieldError.invalid('spec.ports', [1, 2], 'bad').message).toBe('Invalid value: [1,2]: bad')
  })
})
