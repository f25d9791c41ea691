import { describe, expect, it } from 'vitest'
import { MAX_REQUEST_ID_LENGTH, isValidRequestId } from '../../worker/http/request-id'

// What a Fetch Headers object refuses to carry (CR, LF, NUL) cannot reach the app through
// app.request(); the rule itself must refuse it all the same.
describe('isValidRequestId', () => {
  it('takes printable ASCII without spaces, up to the limit', () => {
    expect(isValidRequestId('a')).toBe(true)
    expect(isValidRequestId('!~' + 'x'.repeat(MAX_REQUEST_ID_LENGTH - 2))).toBe(true)
  })

  it('refuses empty, overlong, whitespace, control and non-ASCII ids', () => {
    for (const id of ['', 'x'.repeat(MAX_REQUEST_ID_LENGTH + 1), 'a\r\nX-Injected: 1', 'a\nb', 'a\rb', 'a\0b', 'a b', 'a\tb', 'a\x7fb', 'é', 'a\u2028b', '\u{1f600}']) {
      expect(isValidRequestId(id), JSON.stringify(id)).toBe(false)
    }
  })
})
