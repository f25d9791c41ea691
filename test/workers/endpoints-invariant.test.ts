/**
 * The endpoint invariant (test/support/endpoints-invariant.ts) inside workerd: the app on
 * the D1 binding, with the same random sequences and bursts of 50–70 concurrent requests.
 */
import { testApp } from '../support/app'
import { E2E_TOKEN } from '../support/auth'
import { describeEndpointInvariant } from '../support/endpoints-invariant'

describeEndpointInvariant('endpoints under concurrent writes (workerd, D1)', {
  async start(maxPerSlice) {
    const t = await testApp({ env: { MAX_ENDPOINTS_PER_SLICE: String(maxPerSlice), SWITCHBOARD_ADMIN_TOKEN: E2E_TOKEN } })
    return { fetcher: async (path, init) => t.app.request(path, init) }
  },
  timeoutMs: 300_000,
})
