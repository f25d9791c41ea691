/**
 * A write's stored form (worker/registry/meta.ts): made once for the size check and taken
 * by the write that stores it, so the text measured is the text stored; never handed to a
 * later write of the same object.
 */
import { describe, expect, it } from 'vitest'
import { bodyText } from '../../worker/db/batch'
import { checkObjectSize } from '../../worker/registry/limits'
import { dropStoredForm, objectWrite, storedForm } from '../../worker/registry/meta'
import type { RegistryObject } from '../../worker/registry/types'

const object = (value: string) =>
  ({ apiVersion: 'v1', kind: 'ConfigLike', metadata: { name: 'a', namespace: 'n', uid: 'u', resourceVersion: '7', labels: { k: 'v' } }, data: { value } }) as unknown as RegistryObject

describe('stored forms', () => {
  it('are what the write stores: the object without its resourceVersion, serialized once for the size check and the row', () => {
    const obj = object('x')
    const form = storedForm(obj)
    checkObjectSize('ConfigLike', 'a', form)
    const w = objectWrite(obj)
    expect(w.body).toBe(form)
    expect(bodyText(w.body)).toBe(JSON.stringify({ apiVersion: 'v1', kind: 'ConfigLike', metadata: { name: 'a', namespace: 'n', uid: 'u', labels: { k: 'v' } }, data: { value: 'x' } }))
  })

  it('are taken by one write: a later write of the same object, changed meanwhile, stores it as it is then', () => {
    const obj = object('x')
    storedForm(obj)
    objectWrite(obj)
    ;(obj as unknown as { data: { value: string } }).data = { value: 'y' }
    expect(bodyText(objectWrite(obj).body)).toContain('"value":"y"')
  })

  it('are made anew when asked for again, and dropped for a write that stores a copy', () => {
    const obj = object('x')
    const first = storedForm(obj)
    ;(obj as unknown as { data: { value: string } }).data = { value: 'y' }
    const second = storedForm(obj)
    expect(second).not.toBe(first)
    expect(bodyText(objectWrite(obj).body)).toContain('"value":"y"')
    storedForm(obj)
    dropStoredForm(obj)
    const w = objectWrite(obj)
    expect(w.body).not.toBe(second)
    expect(w.body).toEqual(second)
  })
})
