/**
 * Node only: the event loop's delay for /metrics, from perf_hooks'
 * monitorEventLoopDelay (sampled every 10 ms), over the time since the previous scrape:
 * its mean, 99th percentile and maximum. Workers have no such measure and leave it out.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { Collector } from './http/metrics'

export function eventLoopLag(): Collector {
  const histogram = monitorEventLoopDelay({ resolution: 10 })
  histogram.enable()
  return () => {
    const seconds = (ns: number) => (Number.isFinite(ns) ? ns / 1e9 : 0)
    const families = [
      { name: 'switchboard_event_loop_lag_seconds', help: 'Mean event loop delay since the previous scrape.', value: seconds(histogram.mean) },
      { name: 'switchboard_event_loop_lag_p99_seconds', help: '99th percentile of the event loop delay since the previous scrape.', value: seconds(histogram.percentile(99)) },
      { name: 'switchboard_event_loop_lag_max_seconds', help: 'Longest event loop delay since the previous scrape.', value: seconds(histogram.max) },
    ].map(({ name, help, value }) => ({ name, help, type: 'gauge' as const, samples: [{ value }] }))
    histogram.reset()
    return families
  }
}
