/**
 * Printable text as Go judges it (`unicode.IsPrint`), and strings and characters as Go's
 * `%q` and `%#U` write them, so that Kubernetes' checks and messages that rest on them
 * read the same here. The categories are the JavaScript engine's Unicode version, which
 * may be newer than Go's: a character assigned since is printable here and not there.
 */

/** Anything but a letter, mark, number, punctuation, symbol or the ASCII space. */
const NOT_PRINTABLE = /[^\p{L}\p{M}\p{N}\p{P}\p{S} ]/u

/** Whether every character of `text` is printable (`unicode.IsPrint`). */
export function isPrintable(text: string): boolean {
  return !NOT_PRINTABLE.test(text)
}

const ESCAPES: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '"': '\\"', '\\': '\\\\' }

/**
 * `text` in double quotes as `strconv.Quote` writes it: printable characters as they are,
 * others escaped (`\t`, `\x7f`, `\u00a0`, `\U000e0001`). A lone surrogate is U+FFFD, as
 * Go's JSON decoding makes it.
 */
export function goQuote(text: string): string {
  let out = '"'
  for (const raw of text) {
    const ch = raw.length === 1 && raw >= '\ud800' && raw <= '\udfff' ? '\ufffd' : raw
    const escape = ESCAPES[ch]
    if (escape !== undefined) out += escape
    else if (isPrintable(ch)) out += ch
    else {
      const code = ch.codePointAt(0)!
      out += code < 0x80 ? `\\x${hex(code, 2)}` : code < 0x10000 ? `\\u${hex(code, 4)}` : `\\U${hex(code, 8)}`
    }
  }
  return `${out}"`
}

/** A character as Go's `%#U` writes one that is not printable: `U+0009`, `U+E0001`. */
export function goCodePoint(ch: string): string {
  return `U+${hex(ch.codePointAt(0)!, 4).toUpperCase()}`
}

function hex(code: number, digits: number): string {
  return code.toString(16).padStart(digits, '0')
}
