/**
 * Weighted selection (DESIGN decision 7), the one implementation: the server's pick
 * (worker/registry/pick.ts) and the SDK's local pick (`sb.discover()`) both use it. It
 * imports nothing, so the server may import it and the SDK stays free of server code.
 *
 * - `SmoothWRR`: nginx's smooth weighted round robin. Every window of W consecutive
 *   picks (W = the sum of the weights) holds each member exactly as often as its weight,
 *   spread as evenly as possible (5,1,1 → a a b a c a a). A new sequence starts at a
 *   random point of its period, so that many processes together still follow the
 *   weights; when the members change, the survivors keep their place.
 * - `rendezvous`: weighted rendezvous (highest random weight) hashing of a key, for
 *   sticky picks: score = w / −ln(h(key, member)); removing a member moves only the keys
 *   that were on it.
 */

export interface Member {
  key: string
  weight: number
}

/** Pre-advancing a new sequence costs at most this many member visits. */
const MAX_WARMUP_WORK = 2_000_000

export class SmoothWRR {
  private members: Member[] = []
  private current: number[] = []
  private total = 0

  /** `random` places a new sequence at a random point of its period. */
  constructor(members: Member[], random: () => number) {
    this.update(members)
    const period = this.total
    const steps = Math.floor(random() * Math.min(period, Math.floor(MAX_WARMUP_WORK / Math.max(1, members.length))))
    for (let i = 0; i < steps; i++) this.next()
  }

  /** The next member, or null when no member has a positive weight. */
  next(): Member | null {
    let best = -1
    for (let i = 0; i < this.members.length; i++) {
      this.current[i]! += this.members[i]!.weight
      if (best < 0 || this.current[i]! > this.current[best]!) best = i
    }
    if (best < 0 || this.total <= 0) return null
    this.current[best]! -= this.total
    return this.members[best]!
  }

  /**
   * Changes the members. Survivors keep their current weight, shifted so that the sum
   * of current weights stays zero (the invariant of the algorithm); new members start
   * at zero.
   */
  update(members: Member[]): void {
    const previous = new Map(this.members.map((m, i) => [m.key, this.current[i]!]))
    const members_ = members.filter((m) => m.weight > 0)
    const current = members_.map((m) => previous.get(m.key) ?? 0)
    const sum = current.reduce((a, b) => a + b, 0)
    if (sum !== 0 && current.length) {
      const shift = Math.trunc(sum / current.length)
      let rest = sum - shift * current.length
      for (let i = 0; i < current.length; i++) {
        current[i]! -= shift
        if (rest !== 0) {
          current[i]! -= Math.sign(rest)
          rest -= Math.sign(rest)
        }
      }
    }
    this.members = members_
    this.current = current
    this.total = members_.reduce((a, m) => a + m.weight, 0)
  }

  /** Whether `members` are exactly this sequence's members, in weight. */
  sameMembers(members: Member[]): boolean {
    const live = members.filter((m) => m.weight > 0)
    return live.length === this.members.length && live.every((m, i) => m.key === this.members[i]!.key && m.weight === this.members[i]!.weight)
  }

  /** The current weights by member key (for tests and explanations). */
  state(): Record<string, number> {
    return Object.fromEntries(this.members.map((m, i) => [m.key, this.current[i]!]))
  }
}

/**
 * The sequences of a picker, one per id (a service and the query's zone and port): the
 * next candidate of an id's sequence, started on first use and updated in place when the
 * candidates change (the survivors keep their place). Beyond `max` ids, all start again.
 */
export class Sequences {
  private readonly byId = new Map<string, SmoothWRR>()

  constructor(
    private readonly random: () => number,
    private readonly max = Infinity,
  ) {}

  /** The next of `candidates` (not empty) in the sequence of `id`. */
  next<C extends Member>(id: string, candidates: C[]): C {
    let sequence = this.byId.get(id)
    if (!sequence) {
      if (this.byId.size >= this.max) this.byId.clear()
      sequence = new SmoothWRR(candidates, this.random)
      this.byId.set(id, sequence)
    } else if (!sequence.sameMembers(candidates)) {
      sequence.update(candidates)
    }
    const member = sequence.next()
    // The sequence may hold the members of an earlier update: answer with the current candidate.
    return candidates.find((c) => c.key === member?.key) ?? candidates[0]!
  }
}

/** The member that `key` sticks to: the highest weighted rendezvous score. */
export function rendezvous<T extends Member>(key: string, members: T[]): T | null {
  let best: T | null = null
  let bestScore = -Infinity
  for (const m of members) {
    if (m.weight <= 0) continue
    const h = unitHash(`${key}\u0000${m.key}`)
    const score = m.weight / -Math.log(h)
    if (score > bestScore) {
      best = m
      bestScore = score
    }
  }
  return best
}

/** A hash of a string into (0, 1), from 53 well-mixed bits (cyrb53). */
export function unitHash(s: string): number {
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i)
    h1 = Math.imul(h1 ^ ch, 2654435761)
    h2 = Math.imul(h2 ^ ch, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  const bits = 4294967296 * (2097151 & h2) + (h1 >>> 0)
  return (bits + 0.5) / 2 ** 53
}
