/**
 * Keyset pages: a page query asks for `limit + 1` rows; the extra row only tells that
 * more follow, and the page's last row is where the next page starts after.
 */

/** The first `limit` rows (all when `limit` is 0 or absent), and the last of them when more follow. */
export function pageOf<T>(rows: T[], limit: number | undefined): { page: T[]; last?: T } {
  if (!limit || limit < 0 || rows.length <= limit) return { page: rows }
  const page = rows.slice(0, limit)
  return { page, last: page[page.length - 1]! }
}
