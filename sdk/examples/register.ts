/**
 * A workload that registers itself, reports its readiness as it changes, and drains and
 * deregisters on shutdown. Run: SWITCHBOARD_URL=... SWITCHBOARD_TOKEN=<register token> \
 *   node --import tsx sdk/examples/register.ts
 */
import { Switchboard } from '../src/index.js'

const sb = new Switchboard({ baseUrl: process.env.SWITCHBOARD_URL ?? 'http://127.0.0.1:8787', token: process.env.SWITCHBOARD_TOKEN })
const name = process.env.POD_NAME ?? 'checkout-1'
const ticks = Number(process.env.TICKS ?? 3)

// Register (idempotent: safe to repeat on every start), not ready until warmed up.
await sb.pods.register({ name, ip: process.env.POD_IP ?? '10.20.0.1', labels: { app: 'checkout' }, ports: { http: 8080 }, ready: false, weight: 2 })
console.log(`registered ${name}`)

// Keep readiness in step with the workload's own health.
for (let i = 0; i < ticks; i++) {
  const healthy = i > 0
  await sb.pods.setReady(name, healthy)
  console.log(`ready=${healthy}`)
  await new Promise((r) => setTimeout(r, 50))
}

// Shutting down: stop new picks first, then leave.
await sb.pods.drain(name)
console.log('drained')
await sb.pods.delete(name)
console.log('deregistered')
