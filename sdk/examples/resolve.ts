/**
 * A resolver: looks up service names over the registry's DNS-over-HTTPS (JSON form).
 * Run: SWITCHBOARD_URL=... SWITCHBOARD_TOKEN=<read token> node --import tsx sdk/examples/resolve.ts <name> [type]
 */
import { Switchboard } from '../src/index.js'

const token = process.env.SWITCHBOARD_TOKEN
const sb = new Switchboard({ baseUrl: process.env.SWITCHBOARD_URL ?? 'http://127.0.0.1:8787', ...(token ? { token } : {}) })
const [name = 'checkout.default.svc.cluster.local', type = 'A'] = process.argv.slice(2)

const answer = await sb.resolve(name, type)
if (answer.status !== 0) console.log(`status ${answer.status}`)
for (const r of answer.answers) {
  switch (r.type) {
    case 'A':
    case 'AAAA':
      console.log(`${r.type} ${r.address}`)
      break
    case 'SRV':
      console.log(`SRV ${r.priority} ${r.weight} ${r.port} ${r.target}`)
      break
    case 'TXT':
      console.log(`TXT ${r.text.join(' ')}`)
      break
    case 'CNAME':
    case 'PTR':
    case 'NS':
      console.log(`${r.type} ${r.target}`)
      break
    default:
      console.log(`${r.type} ${r.data}`)
  }
}
