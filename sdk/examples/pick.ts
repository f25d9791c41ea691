/**
 * A client that picks an endpoint of a service for each call, by weight, and would call
 * it. Run: SWITCHBOARD_URL=... SWITCHBOARD_TOKEN=<read token> node --import tsx sdk/examples/pick.ts
 */
import { ServiceUnavailableError, Switchboard } from '../src/index.js'

const token = process.env.SWITCHBOARD_TOKEN
const sb = new Switchboard({ baseUrl: process.env.SWITCHBOARD_URL ?? 'http://127.0.0.1:8787', ...(token ? { token } : {}) })
const service = process.env.SERVICE ?? 'checkout'
const calls = Number(process.env.CALLS ?? 6)

const counts = new Map<string, number>()
for (let i = 0; i < calls; i++) {
  try {
    const target = await sb.services.pick(service, { port: 'http' })
    // A real client would now call `http://${target.address}:${target.port}/...`.
    counts.set(target.pod ?? target.address, (counts.get(target.pod ?? target.address) ?? 0) + 1)
  } catch (e) {
    if (e instanceof ServiceUnavailableError) {
      console.log('no ready endpoint; try again later')
      break
    }
    throw e
  }
}
for (const [pod, n] of [...counts].sort()) console.log(`${pod} ${n}`)
