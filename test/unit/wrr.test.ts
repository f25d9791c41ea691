import { describe, expect, it } from 'vitest'
import { seededClock } from '../../worker/wiring'
import { SmoothWRR, rendezvous, type Member } from '../../worker/registry/wrr'

const members = (weights: Record<string, number>): Member[] => Object.entries(weights).map(([key, weight]) => ({ key, weight }))
const zero = () => 0

function run(seq: SmoothWRR, n: number): string[] {
  return Array.from({ length: n }, () => seq.next()!.key)
}

describe('smooth weighted round robin', () => {
  it('spreads 5,1,1 as nginx does: a a b a c a a', () => {
    expect(run(new SmoothWRR(members({ a: 5, b: 1, c: 1 }), zero), 7).join(' ')).toBe('a a b a c a a')
  })

  it('holds every member exactly weight times in every window of W picks, from any start', () => {
    const weights = { a: 7, b: 3, c: 2, d: 1, e: 0 }
    const W = 13
    const rng = seededClock(9).random
    for (let trial = 0; trial < 20; trial++) {
      const picks = run(new SmoothWRR(members(weights), rng), W * 6)
      for (let start = 0; start + W <= picks.length; start++) {
        const window = picks.slice(start, start + W)
        for (const [key, w] of Object.entries(weights)) expect(window.filter((k) => k === key).length).toBe(w)
      }
    }
  })

  it('never picks weight 0, and picks nothing when every weight is 0', () => {
    expect(run(new SmoothWRR(members({ a: 0, b: 2 }), zero), 10).every((k) => k === 'b')).toBe(true)
    expect(new SmoothWRR(members({ a: 0 }), zero).next()).toBeNull()
  })

  it('starts each sequence at a random point, so that 20 instances together follow the weights within 2 points', () => {
    const weights = { a: 5, b: 3, c: 1, d: 1 }
    const rng = seededClock(20).random
    const instances = Array.from({ length: 20 }, () => new SmoothWRR(members(weights), rng))
    const counts: Record<string, number> = { a: 0, b: 0, c: 0, d: 0 }
    // 20,000 picks spread over the instances in an uneven, arbitrary order
    for (let i = 0; i < 20_000; i++) counts[instances[Math.floor(rng() * 20)]!.next()!.key]!++
    for (const [key, w] of Object.entries(weights)) expect(Math.abs(counts[key]! / 20_000 - w / 10)).toBeLessThan(0.02)
    // and they do not all start on the same member
    const firsts = new Set(Array.from({ length: 20 }, () => new SmoothWRR(members(weights), rng).next()!.key))
    expect(firsts.size).toBeGreaterThan(1)
  })

  it('keeps the survivors in place when members change, rather than starting again', () => {
    const seq = new SmoothWRR(members({ a: 5, b: 1, c: 1 }), zero)
    run(seq, 3)
    const before = seq.state()
    seq.update(members({ a: 5, b: 1, c: 1, d: 2 }))
    const after = seq.state()
    expect(after.d).toBe(0)
    expect(after.a! - before.a!).toBe(after.b! - before.b!)
    expect(after.b! - before.b!).toBe(after.c! - before.c!)
    seq.update(members({ a: 5, c: 1, d: 2 }))
    expect(Object.values(seq.state()).reduce((x, y) => x + y, 0)).toBe(0)
    const picks = run(seq, 8 * 4)
    expect(picks.filter((k) => k === 'a').length).toBe(20)
  })
})

describe('weighted rendezvous', () => {
  const weights = { a: 5, b: 3, c: 2 }

  it('sticks a key to the same member, and moves only the keys of a removed member', () => {
    const all = members({ ...weights, d: 2 })
    const before = new Map<string, string>()
    for (let i = 0; i < 10_000; i++) before.set(`client-${i}`, rendezvous(`client-${i}`, all)!.key)
    for (let i = 0; i < 100; i++) expect(rendezvous(`client-${i}`, all)!.key).toBe(before.get(`client-${i}`))
    const without = all.filter((m) => m.key !== 'd')
    let moved = 0
    for (const [key, was] of before) {
      const now = rendezvous(key, without)!.key
      if (was !== 'd') expect(now).toBe(was)
      else moved++
    }
    expect(moved).toBeGreaterThan(0)
  })

  it('spreads keys by weight within 3 points', () => {
    const counts: Record<string, number> = { a: 0, b: 0, c: 0 }
    for (let i = 0; i < 10_000; i++) counts[rendezvous(`user:${i}`, members(weights))!.key]!++
    for (const [key, w] of Object.entries(weights)) expect(Math.abs(counts[key]! / 10_000 - w / 10)).toBeLessThan(0.03)
  })
})
