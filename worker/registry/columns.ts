/**
 * Table columns: what `kubectl get` prints for a kind, as the API server's printers
 * (Kubernetes' pkg/printers/internalversion) define them. Each kind has one list of
 * columns — in its strategy for the generic kinds, in its own module for the computed
 * ones — and the API assembles the meta.k8s.io Table from it (api/table.ts).
 *
 * The server computes every column, wide ones included; `priority: 1` marks those kubectl
 * prints only with `-o wide`.
 */

export type Cell = string | number | boolean

export interface Column<T> {
  name: string
  /** The OpenAPI type of the cells: string, integer, number, boolean. */
  type: 'string' | 'integer' | 'number' | 'boolean'
  /** `name` marks the column holding the object's name. */
  format?: string
  description: string
  /** 0: always printed; 1: printed with `-o wide`. */
  priority?: number
  /** The cell of one object at `nowMs` (ages are relative to the server's clock). */
  cell(obj: T, nowMs: number): Cell
}

/** The columns of one kind. */
export type Columns<T = never> = readonly Column<T>[]

interface Meta {
  metadata: { name: string; creationTimestamp?: string }
}

export const nameColumn: Column<Meta> = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: 'Name must be unique within a namespace.',
  cell: (obj) => obj.metadata.name,
}

export const ageColumn: Column<Meta> = {
  name: 'Age',
  type: 'string',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
  cell: (obj, now) => age(obj.metadata.creationTimestamp, now),
}

/** How long ago `timestamp` was, as Kubernetes prints ages ("<unknown>" without one). */
export function age(timestamp: string | undefined, nowMs: number): string {
  const at = timestamp ? Date.parse(timestamp) : NaN
  if (Number.isNaN(at)) return '<unknown>'
  return humanDuration(nowMs - at)
}

/** Kubernetes' HumanDuration (apimachinery util/duration): 45s, 3m20s, 15m, 5h3m, 12h, 3d4h, 20d, 1y30d, 9y. */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000)
  if (seconds < -1) return '<invalid>'
  if (seconds < 0) return '0s'
  if (seconds < 60 * 2) return `${seconds}s`
  const minutes = Math.trunc(seconds / 60)
  if (minutes < 10) {
    const s = seconds % 60
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`
  }
  if (minutes < 60 * 3) return `${minutes}m`
  const hours = Math.trunc(minutes / 60)
  if (hours < 8) {
    const m = minutes % 60
    return m === 0 ? `${hours}h` : `${hours}h${m}m`
  }
  if (hours < 48) return `${hours}h`
  if (hours < 24 * 8) {
    const h = hours % 24
    return h === 0 ? `${Math.trunc(hours / 24)}d` : `${Math.trunc(hours / 24)}d${h}h`
  }
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24)}d`
  if (hours < 24 * 365 * 8) {
    const days = Math.trunc(hours / 24) % 365
    const years = Math.trunc(hours / 24 / 365)
    return days === 0 ? `${years}y` : `${years}y${days}d`
  }
  return `${Math.trunc(hours / 24 / 365)}y`
}

/** Labels or a selector as `a=b,c=d` in key order, `<none>` when empty (Kubernetes' labels.FormatLabels). */
export function formatLabels(labels: Record<string, string> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort()
  return keys.length ? keys.map((k) => `${k}=${labels![k]}`).join(',') : '<none>'
}

/**
 * At most `max` entries joined by commas, then ` + N more...` for the rest (of `count`
 * in all), as Kubernetes prints endpoints; `empty` when there are none.
 */
export function listWithMore(list: readonly string[], count: number, max: number, empty: string): string {
  const shown = list.slice(0, max).join(',')
  if (count > max) return `${shown} + ${count - max} more...`
  return shown === '' ? empty : shown
}

/** `ip:port`, with an IPv6 address in brackets (Go's net.JoinHostPort). */
export function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`
}
