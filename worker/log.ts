/**
 * The registry's log lines: request lines (LOG_FORMAT=json only, one per request) and
 * audit lines (one per accepted write, in both formats), at or above LOG_LEVEL. JSON
 * lines are single-line objects with `time`, `level` and `msg` first; plain lines are
 * `switchboard <msg>: key=value …`. Errors and warnings go to stderr, the rest to stdout
 * (console, so Workers Logs and `wrangler tail` receive them too).
 */

export const LOG_FORMATS = ['plain', 'json'] as const
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const
export type LogFormat = (typeof LOG_FORMATS)[number]
export type LogLevel = (typeof LOG_LEVELS)[number]

export type LogFields = Record<string, string | number | boolean | undefined>

export interface Logger {
  readonly format: LogFormat
  /** Whether a line at `level` is written. */
  enabled(level: LogLevel): boolean
  /** Writes one line (`msg` and its fields) at `level`, if enabled. */
  log(level: LogLevel, msg: string, fields: LogFields): void
}

export type LineWriter = (level: LogLevel, line: string) => void

const consoleWriter: LineWriter = (level, line) => (level === 'error' || level === 'warn' ? console.error(line) : console.log(line))

export function createLogger(options: { format: LogFormat; level: LogLevel; write?: LineWriter; now?: () => Date }): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level)
  const write = options.write ?? consoleWriter
  const now = options.now ?? (() => new Date())
  const enabled = (level: LogLevel) => LOG_LEVELS.indexOf(level) <= threshold
  return {
    format: options.format,
    enabled,
    log(level, msg, fields) {
      if (!enabled(level)) return
      const defined = Object.entries(fields).filter(([, v]) => v !== undefined)
      if (options.format === 'json') {
        write(level, JSON.stringify({ time: now().toISOString(), level, msg, ...Object.fromEntries(defined) }))
      } else {
        write(level, `switchboard ${msg}: ${defined.map(([k, v]) => `${k}=${plainValue(v!)}`).join(' ')}`)
      }
    },
  }
}

/** A value as it appears in a plain line: bare when it has no space, quote or control character, else JSON-quoted. */
function plainValue(v: string | number | boolean): string {
  const s = String(v)
  return s !== '' && /^[\x21-\x7e]+$/.test(s) && !s.includes('"') ? s : JSON.stringify(s)
}
