/**
 * The environment the tests and benchmarks run wrangler with: no banner (printing it makes
 * wrangler ask the npm registry for a newer version), no usage metrics, no colours, CI
 * mode (no prompts). Tests send traffic to loopback only, and this keeps wrangler's own
 * requests off the network too.
 */
export function wranglerEnv(extra: NodeJS.ProcessEnv = {}, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return {
    ...base,
    WRANGLER_HIDE_BANNER: 'true',
    WRANGLER_SEND_METRICS: 'false',
    CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    NO_COLOR: '1',
    FORCE_COLOR: '0',
    CI: 'true',
    ...extra,
  }
}
