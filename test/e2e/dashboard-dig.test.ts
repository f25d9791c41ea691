/**
 * The dashboard's DNS box prints an answer as `dig` does: for the same questions to the
 * real server (`npm start`), the text the box prints from `/resolve` (DoH JSON, through
 * worker/ui/client/dig.ts) carries the status, the question and every record of the
 * answer, authority and additional sections exactly as dig itself prints the server's
 * wire-format answer (RFC 8484) to the same question. dig speaks DoH only over HTTP/2, so
 * it asks over UDP on loopback, and a relay in this test posts each query, unchanged, to
 * the server's `/dns-query` and returns its answer, unchanged.
 *
 * Needs dig ($DIG, or `dig` on the PATH; Debian: `apt-get install bind9-dnsutils`). Without it
 * every test here is skipped, and the run says so.
 */
import { spawn } from 'node:child_process'
import { createSocket, type Socket } from 'node:dgram'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { formatDig, type DohJson } from '../../worker/ui/client/dig'
import { authHeaders } from '../support/auth'
import { outsideTool } from '../support/tools'
import { startServer, type ServerProcess } from '../support/server'
import { serverApi } from '../support/server-api'

const DIG = outsideTool('dashboard dig tests', 'dig', 'bind9-dnsutils')


const NS = '/api/v1/namespaces/default'

/** Runs a command without blocking the event loop (the relay answers on it). */
function run(command: string, args: string[]): Promise<{ status: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stdout += d))
    child.on('close', (status) => resolve({ status, stdout }))
  })
}

/** What both printings must agree on: the status line's status and each section's records, whitespace folded. */
function sections(text: string): Record<string, string[]> {
  const out: Record<string, string[]> = { status: [/status: ([A-Z0-9]+)/.exec(text)?.[1] ?? '?'] }
  let current: string | null = null
  for (const line of text.split('\n')) {
    const head = /^;; ([A-Z]+) SECTION:$/.exec(line)
    if (head) {
      current = head[1]!
      out[current] = []
    } else if (!line.trim() || (line.startsWith(';;') && current)) current = null
    else if (current) out[current]!.push(line.trim().split(/\s+/).join(' '))
  }
  return out
}

describe.skipIf(!DIG)('the DNS box prints what dig prints', () => {
  let server: ServerProcess
  let relay: Socket
  let relayPort: number
  beforeAll(async () => {
    server = await startServer()
    relay = createSocket('udp4')
    relay.on('message', (query, from) => {
      void fetch(`${server.url}/dns-query`, { method: 'POST', headers: authHeaders({ 'content-type': 'application/dns-message', accept: 'application/dns-message' }), body: query })
        .then(async (res) => relay.send(new Uint8Array(await res.arrayBuffer()), from.port, from.address))
        .catch(() => undefined)
    })
    await new Promise<void>((resolve) => relay.bind(0, '127.0.0.1', resolve))
    relayPort = relay.address().port
    const api = serverApi(server.url, authHeaders())
    await api('POST', `${NS}/services`, { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } })
    await api('POST', `${NS}/services`, { metadata: { name: 'db' }, spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ name: 'pg', port: 5432 }] } })
    for (const [name, ip, app] of [
      ['web-1', '10.0.0.1', 'web'],
      ['db-1', '10.0.1.1', 'db'],
      ['db-2', '10.0.1.2', 'db'],
    ] as const) {
      await api('POST', `${NS}/pods`, { metadata: { name, labels: { app } }, status: { podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] } })
    }
  }, 60_000)
  afterAll(async () => {
    relay?.close()
    await server?.stop('SIGKILL')
  })

  const questions: [string, string][] = [
    ['web.default.svc.cluster.local.', 'A'],
    ['db.default.svc.cluster.local.', 'A'],
    ['_pg._tcp.db.default.svc.cluster.local.', 'SRV'],
    ['_http._tcp.web.default.svc.cluster.local.', 'SRV'],
    ['dns-version.cluster.local.', 'TXT'],
    ['nothing.default.svc.cluster.local.', 'A'],
    ['web.default.svc.cluster.local.', 'AAAA'],
    ['1.1.0.10.in-addr.arpa.', 'PTR'],
    ['example.com.', 'A'],
  ]
  for (const [name, type] of questions) {
    it(`${name} ${type}`, async () => {
      const dig = await run(DIG!, ['@127.0.0.1', '-p', String(relayPort), '+noedns', '+tries=1', '+time=5', name, type])
      expect(dig.status, dig.stdout).toBe(0)
      const res = await fetch(`${server.url}/resolve?name=${encodeURIComponent(name)}&type=${type}`, { headers: authHeaders({ accept: 'application/dns-json' }) })
      expect(res.status).toBe(200)
      const ours = formatDig((await res.json()) as DohJson, { name, type, server: `${server.url}/resolve`, when: new Date() })
      const theirs = sections(dig.stdout)
      expect(theirs.QUESTION, dig.stdout).toBeDefined()
      expect(sections(ours), `ours:\n${ours}\ndig:\n${dig.stdout}`).toEqual(theirs)
    })
  }
})
