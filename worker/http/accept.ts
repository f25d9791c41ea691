/**
 * Content negotiation: the media ranges of an Accept header, as Kubernetes reads them for
 * its negotiated answers (Tables, the OpenAPI v2 document).
 */

/** One media range: its type (lowercase), its parameters but `q`, and its quality. */
export interface MediaRange {
  type: string
  params: Record<string, string>
  q: number
}

/** The media ranges of an Accept header, most preferred first (q=0 ones dropped; equal q keeps the header's order). */
export function mediaRanges(header: string | undefined): MediaRange[] {
  const clauses: MediaRange[] = []
  for (const part of (header ?? '').split(',')) {
    const [type, ...rest] = part.split(';').map((s) => s.trim())
    if (!type) continue
    const params: Record<string, string> = Object.create(null)
    for (const p of rest) {
      const eq = p.indexOf('=')
      if (eq > 0) params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1')
    }
    const q = params.q === undefined ? 1 : Number(params.q)
    delete params.q
    if (!(q > 0)) continue
    clauses.push({ type: type.toLowerCase(), params, q })
  }
  return clauses.map((c, i) => ({ c, i })).sort((a, b) => b.c.q - a.c.q || a.i - b.i).map(({ c }) => c)
}
