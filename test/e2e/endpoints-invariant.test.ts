/**
 * The endpoint invariant (test/support/endpoints-invariant.ts) against a real server
 * process started with `npm start`, over HTTP.
 */
import { describeEndpointInvariant } from '../support/endpoints-invariant'
import { urlFetcher } from '../support/recompute'
import { startServer } from '../support/server'

describeEndpointInvariant('endpoints under concurrent writes (real server)', {
  async start(maxPerSlice) {
    const server = await startServer({ env: { MAX_ENDPOINTS_PER_SLICE: String(maxPerSlice) } })
    return { fetcher: urlFetcher(server.url), stop: async () => void (await server.stop('SIGKILL')) }
  },
  timeoutMs: 120_000,
})
