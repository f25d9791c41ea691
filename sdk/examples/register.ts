/**
 * A workload that serves HTTP, registers itself with a lease the SDK keeps renewing, turns
 * ready once warmed up, and on SIGTERM or SIGINT drains, waits for calls in flight, and
 * deregisters before it exits. If it dies without that, the lease lapses and the registry
 * stops sending it calls within LEASE_SECONDS. Run:
 *   SWITCHBOARD_URL=... SWITCHBOARD_TOKEN=<register token> POD_IP=<this machine's address> node --import tsx sdk/examples/register.ts
 * POD_IP defaults to 127.0.0.1, which a registry with access control on accepts only with
 * ALLOW_LOOPBACK_ADDRESSES=true.
 */
import { createServer } from 'node:http'
import { once } from 'node:events'
import { Switchboard } from '../src/index.js'

const token = process.env.SWITCHBOARD_TOKEN
const sb = new Switchboard({ baseUrl: process.env.SWITCHBOARD_URL ?? 'http://127.0.0.1:8787', ...(token ? { token } : {}) })
const name = process.env.POD_NAME ?? 'checkout-1'
const drainSeconds = Number(process.env.DRAIN_SECONDS ?? 5)

// The workload itself: it answers on a port of its own.
const server = createServer((_req, res) => res.end(`hello from ${name}\n`))
server.listen(Number(process.env.PORT ?? 0), process.env.POD_IP ?? '127.0.0.1')
await once(server, 'listening')
const { port } = server.address() as { port: number }

// Register, not ready until warmed up. The lease is renewed in the background; if it cannot
// be renewed in time, the registry has stopped sending calls here: exit, to be restarted.
const registration = await sb.register(
  { name, ip: process.env.POD_IP ?? '127.0.0.1', labels: { app: 'checkout' }, ports: { http: port }, ready: false, weight: 2 },
  {
    leaseDurationSeconds: Number(process.env.LEASE_SECONDS ?? 10),
    onLost: (error) => {
      console.error(error.message)
      process.exit(1)
    },
  },
)
console.log(`registered ${name} on port ${port}, lease ${registration.lease.metadata.name}`)

await registration.setReady(true)
console.log('ready')

// Shutting down: stop new calls first (drain), give calls in flight time, then leave.
let stopping = false
const shutdown = async (signal: string) => {
  if (stopping) return
  stopping = true
  console.log(`${signal}: draining for ${drainSeconds} s`)
  await registration.close({ drainSeconds })
  server.close()
  console.log('deregistered')
  process.exit(0)
}
process.once('SIGTERM', () => void shutdown('SIGTERM'))
process.once('SIGINT', () => void shutdown('SIGINT'))
