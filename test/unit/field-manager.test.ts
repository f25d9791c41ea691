/** The default field manager a write is recorded under: the product its User-Agent names. */
import { describe, expect, it } from 'vitest'
import { RegistryError } from '../../worker/registry/errors'
import { FIELD_MANAGER_MAX_BYTES, managerFromUserAgent, writeOptions } from '../../worker/registry/write-options'

/** The 422 a named field manager gets: its message and how many causes it lists. */
function refusal(fieldManager: string): { message: string; causes: number } {
  try {
    writeOptions({ fieldManager }, 'PatchOptions')
  } catch (e) {
    expect(e).toBeInstanceOf(RegistryError)
    const error = e as RegistryError
    return { message: error.message, causes: error.details.causes?.length ?? 0 }
  }
  throw new Error(`${JSON.stringify(fieldManager)} was accepted`)
}

describe('managerFromUserAgent', () => {
  it('takes what comes before the first slash', () => {
    expect(managerFromUserAgent('kubectl/v1.32.0 (linux/amd64) kubernetes/abc')).toBe('kubectl')
    expect(managerFromUserAgent('node')).toBe('node')
    expect(managerFromUserAgent('')).toBe('')
    expect(managerFromUserAgent('my agent/1')).toBe('my agent')
  })

  it("drops what Go's unicode.IsPrint refuses and keeps other characters", () => {
    expect(managerFromUserAgent('a\tb\u007fc/1')).toBe('abc')
    expect(managerFromUserAgent('café/2')).toBe('café')
    expect(managerFromUserAgent('x\u200by/1')).toBe('xy') // a format character
    expect(managerFromUserAgent('no\u00a0break\u2028line\u3000space/1')).toBe('nobreaklinespace') // spaces other than ASCII's
    expect(managerFromUserAgent('a b~/1')).toBe('a b~')
  })

  it('cuts to the byte limit without splitting a character', () => {
    expect(managerFromUserAgent('a'.repeat(FIELD_MANAGER_MAX_BYTES))).toBe('a'.repeat(FIELD_MANAGER_MAX_BYTES))
    expect(managerFromUserAgent('a'.repeat(FIELD_MANAGER_MAX_BYTES + 1))).toBe('a'.repeat(FIELD_MANAGER_MAX_BYTES))
    expect(managerFromUserAgent('a'.repeat(FIELD_MANAGER_MAX_BYTES + 10))).toBe('a'.repeat(FIELD_MANAGER_MAX_BYTES))
    const cut = managerFromUserAgent('é'.repeat(FIELD_MANAGER_MAX_BYTES))
    expect(cut).toBe('é'.repeat(FIELD_MANAGER_MAX_BYTES / 2))
    expect(Buffer.byteLength(managerFromUserAgent(`a${'é'.repeat(FIELD_MANAGER_MAX_BYTES)}`))).toBe(FIELD_MANAGER_MAX_BYTES - 1)
  })

  it('refuses a named manager that is not printable, one error per character as Kubernetes words it', () => {
    expect(refusal('a\tb')).toEqual({ message: 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Invalid value: "a\\tb": invalid character U+0009 (at position 1)', causes: 1 })
    expect(refusal('é\u00a0b').message).toContain('invalid character U+00A0 (at position 2)')
    const two = refusal('x\u200by\u{e0001}')
    expect(two.causes).toBe(2)
    expect(two.message).toMatch(/^PatchOptions.meta.k8s.io "" is invalid: \[.*invalid character U\+200B \(at position 1\), .*invalid character U\+E0001 \(at position 5\)\]$/)
    // Too long and not printable: both, as Kubernetes reports them.
    const both = refusal(`\t${'a'.repeat(FIELD_MANAGER_MAX_BYTES)}`)
    expect(both).toEqual({
      message: `PatchOptions.meta.k8s.io "" is invalid: [fieldManager: Too long: may not be more than 128 bytes, fieldManager: Invalid value: "\\t${'a'.repeat(FIELD_MANAGER_MAX_BYTES)}": invalid character U+0009 (at position 0)]`,
      causes: 2,
    })
    expect(writeOptions({ fieldManager: 'a b é' }, 'PatchOptions').fieldManager).toBe('a b é')
  })

  it('is the manager of a write that names none', () => {
    expect(writeOptions({ userAgent: 'sdk/0.1' }, 'PatchOptions').fieldManager).toBe('sdk')
    expect(writeOptions({ userAgent: 'sdk/0.1', fieldManager: 'mine' }, 'PatchOptions').fieldManager).toBe('mine')
  })
})
