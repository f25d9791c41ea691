/** A 422's message, worded as apimachinery's NewInvalid and error aggregate word it. */
import { describe, expect, it } from 'vitest'
import { fieldError, invalid } from '../../worker/registry/errors'

describe('invalid', () => {
  const required = fieldError.required('spec.containers[0].name')
  const tooLong = fieldError.tooLong('metadata.name', 253)

  it('shows one cause bare, several in brackets, a repeated message once, and keeps every cause', () => {
    expect(invalid('Pod', 'p', [required]).message).toBe('Pod "p" is invalid: spec.containers[0].name: Required value')
    expect(invalid('Pod', 'p', [required, tooLong]).message).toBe(
      'Pod "p" is invalid: [spec.containers[0].name: Required value, metadata.name: Too long: may not be more than 253 bytes]',
    )
    const repeated = invalid('Pod', 'p', [required, required])
    expect(repeated.message).toBe('Pod "p" is invalid: spec.containers[0].name: Required value')
    expect(repeated.details.causes).toHaveLength(2)
    expect(invalid('Pod', 'p', []).message).toBe('Pod "p" is invalid')
  })
})
