/**
 * Log lines on Node, written a turn of the event loop at a time. Node writes to a pipe or
 * a file synchronously (a `console.log` is a system call, and it blocks while the reader
 * of a full pipe falls behind); with an audit line per write, a burst of writes committed
 * together made as many calls, each on the event loop. Lines written in one turn go out
 * together in one write after it (`setImmediate`), in order; an error or warning first
 * writes out the lines before it, then itself at once. Whatever is pending when the
 * process exits is written before it does.
 */
import type { LineWriter } from './log'

interface Sink {
  write(text: string): unknown
}

export function bufferedLines(out: Sink = process.stdout, err: Sink = process.stderr): LineWriter {
  let pending: string[] = []
  let scheduled = false
  const flush = () => {
    scheduled = false
    if (pending.length === 0) return
    const text = pending.join('\n') + '\n'
    pending = []
    out.write(text)
  }
  process.on('exit', flush)
  return (level, line) => {
    if (level === 'error' || level === 'warn') {
      flush()
      err.write(line + '\n')
      return
    }
    pending.push(line)
    if (!scheduled) {
      scheduled = true
      setImmediate(flush)
    }
  }
}
