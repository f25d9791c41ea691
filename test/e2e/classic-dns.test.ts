/**
 * Classic DNS (DNS_PORT) on the real server (`npm start`), over UDP and TCP, read by clients
 * that share nothing with the server's codec:
 *
 * - Node's own `dns.promises.Resolver` (c-ares), always: A, AAAA, SRV, PTR, NXDOMAIN, and an
 *   answer too large for UDP, which c-ares completes over TCP after the truncated one;
 * - `dig` (Debian dnsutils) and `kdig` (Debian knot-dnsutils) where installed, otherwise
 *   skipped with a message saying how to install them: the same records over UDP and TCP,
 *   the large answer truncated with TC at 512 octets without EDNS and at the EDNS payload
 *   size (bounded to 1232) with it, complete over TCP, and dig's and kdig's own retry over
 *   TCP after TC.
 *
 * Also: several queries on one TCP connection answered by ID, the idle timeout (and each
 * message timed from its own first octet), FORMERR for a garbled message, random datagrams on
 * the UDP port (the server stays up and answers); on a second server with access control on
 * and DOH_PUBLIC off, REFUSED to every query and SIGTERM closing the DNS listeners; on a third
 * with a small RATE_LIMIT_BURST, UDP rate limited per source address (slip and drop) while TCP
 * and another address are answered, and the counts in /metrics; and bad settings refused
 * before the database is created. The records name addresses in 10.0.0.0/8 and fd00::/8;
 * nothing here connects to them.
 */
import { outsideTool } from '../support/tools'
import { spawn, spawnSync } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promises as dns } from 'node:dns'
import { connect, type Socket } from 'node:net'
import { beforeAll, describe, expect, it } from 'vitest'
import { freePort, useServer, type UsedServer } from '../support/server'
import { E2E_TOKEN, authHeaders } from '../support/auth'
import { RCODE, TYPE, decodeMessage, encodeMessage, optRecord, type Message } from '../../worker/dns/wire'
import { MAX_PIPELINED, MAX_TCP_CONNECTIONS } from '../../worker/dns/classic-server'
import { wireQuery } from '../support/dns-query'

const NS = '/api/v1/namespaces/default'
const Z = 'cluster.local'
const svc = (name: string) => `${name}.default.svc.${Z}`
const BIG_PODS = 100
const BIG = svc('big')
const IP6 = 'fd00:10::5'

/** A tool outside npm: its path, or null after a printed line saying how to install it. */
const tool = (bin: string, pkg: string) => outsideTool(`classic DNS tests with ${bin}`, bin, pkg)
const DIG = tool('dig', 'dnsutils')
const KDIG = tool('kdig', 'knot-dnsutils')

/**
 * How many A records of the big answer fit in `limit` octets: a header, the question
 * (the name written out, type and class), an OPT record of `opt` octets, and then records of
 * 16 octets each (a pointer to the question's name, type, class, TTL, rdlength and 4 octets
 * of address; RFC 1035 §4.1.3-4).
 */
function fit(limit: number, opt: number): number {
  return Math.floor((limit - 12 - (BIG.length + 2 + 4) - opt) / 16)
}
const OPT_OCTETS = 11
/** Each server's DNS port (UDP and TCP), free on TCP when chosen. */
const PUBLIC_DNS_PORT = await freePort()
const CLOSED_DNS_PORT = await freePort()
const LIMITED_DNS_PORT = await freePort()

async function api(server: UsedServer, method: string, path: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${server.url}${path}`, { method, headers: authHeaders({ 'content-type': 'application/json' }), body: JSON.stringify(body) })
  return { status: res.status, json: await res.json() }
}

function pod(name: string, app: string, ip: string, extra: Record<string, unknown> = {}) {
  return {
    metadata: { name, labels: { app } },
    spec: { containers: [{ name: 'app', ports: [{ name: 'http', containerPort: 8080 }] }], ...extra },
    status: { podIP: ip, conditions: [{ type: 'Ready', status: 'True' }] },
  }
}

interface DigResult {
  status: string
  flags: string[]
  answers: string[]
  authority: string[]
  size: number
  transport: string
  output: string
}

/** Runs dig or kdig against the server and reads what it printed (their formats differ in small ways). */
function ask(bin: string, port: number, args: string[]): DigResult {
  const once = bin === KDIG ? ['+timeout=3', '+retry=0'] : ['+time=3', '+tries=1']
  const run = spawnSync(bin, ['@127.0.0.1', '-p', String(port), ...once, ...args], { encoding: 'utf8', timeout: 20_000 })
  const output = `${run.stdout}${run.stderr}`
  // Of a retried query (TC, then TCP) the last answer counts.
  const last = output.slice(Math.max(0, output.lastIndexOf('HEADER<<-')))
  const status = /status: (\w+)/.exec(last)?.[1] ?? `none (exit ${run.status}): ${output}`
  const flags = (/;; flags: ([a-z ]*);/i.exec(last)?.[1] ?? '').trim().split(/\s+/).filter(Boolean)
  const section = (title: RegExp) => {
    const m = title.exec(last)
    if (!m) return []
    const rest = last.slice(m.index + m[0].length).split('\n')
    const lines: string[] = []
    for (const l of rest) {
      if (l.trim() === '' || l.startsWith(';;')) break
      lines.push(l.trim().replace(/\s+/g, ' '))
    }
    return lines
  }
  const size = Number(/MSG SIZE\s+rcvd: (\d+)/.exec(last)?.[1] ?? /;; Received (\d+) B/.exec(last)?.[1] ?? NaN)
  const transport = /\((UDP|TCP)\)/.exec(last)?.[1] ?? 'unknown'
  return { status, flags: flags.map((f) => f.toLowerCase()), answers: section(/;; ANSWER SECTION:\n/), authority: section(/;; AUTHORITY SECTION:\n/), size, transport, output }
}

/** A query as wire octets. */
function query(id: number, name: string, type: number = TYPE.A): Uint8Array {
  return wireQuery(name, type, { id })
}

function framed(bytes: Uint8Array): Buffer {
  const b = Buffer.alloc(2 + bytes.length)
  b.writeUInt16BE(bytes.length, 0)
  b.set(bytes, 2)
  return b
}

/** Reads length-framed messages from a TCP connection until `count` have come or it closes. */
function readFramed(socket: Socket, count: number, ms = 5000): Promise<{ messages: Uint8Array[]; closed: boolean }> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0)
    const messages: Uint8Array[] = []
    const done = (closed: boolean) => {
      clearTimeout(timer)
      socket.removeAllListeners('data')
      resolve({ messages, closed })
    }
    const timer = setTimeout(() => done(false), ms)
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk])
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        messages.push(new Uint8Array(buf.subarray(2, 2 + buf.readUInt16BE(0))))
        buf = buf.subarray(2 + buf.readUInt16BE(0))
      }
      if (messages.length >= count) done(false)
    })
    socket.once('close', () => done(true))
  })
}

function tcpConnect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1' }, () => resolve(s))
    s.once('error', reject)
  })
}

/** c-ares, pointed at the server's DNS port; one try, so a dropped datagram fails the test instead of hiding. */
function cares(port: number): dns.Resolver {
  const r = new dns.Resolver({ timeout: 3000, tries: 2 })
  r.setServers([`127.0.0.1:${port}`])
  return r
}

describe('classic DNS with DOH_PUBLIC=true (access control on)', () => {
  const dnsPort = PUBLIC_DNS_PORT
  const server = useServer({ env: { DNS_PORT: String(dnsPort), DOH_PUBLIC: 'true', KEEP_ALIVE_TIMEOUT_MS: '1000' } })
  let clusterIP = ''

  beforeAll(async () => {
    expect(server.process.output()).toContain(`classic DNS on udp://127.0.0.1:${dnsPort} and tcp://127.0.0.1:${dnsPort}`)
    expect(server.process.output()).not.toContain('REFUSED')
    const web = await api(server, 'POST', `${NS}/services`, { metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } })
    expect(web.status).toBe(201)
    clusterIP = web.json.spec.clusterIP
    for (const [name, spec] of [
      ['big', { clusterIP: 'None', selector: { app: 'big' }, ports: [{ name: 'http', port: 80 }] }],
      ['six', { clusterIP: 'None', selector: { app: 'six' }, ports: [{ name: 'http', port: 80 }] }],
    ] as const) {
      expect((await api(server, 'POST', `${NS}/services`, { metadata: { name }, spec })).status).toBe(201)
    }
    const pods = [
      pod('web-0', 'web', '10.77.1.1'),
      pod('web-1', 'web', '10.77.1.2'),
      pod('six-0', 'six', IP6),
      ...Array.from({ length: BIG_PODS }, (_, i) => pod(`big-${i}`, 'big', `10.78.${i >> 8}.${(i & 0xff) + 1}`)),
    ]
    const statuses = await Promise.all(pods.map((p) => api(server, 'POST', `${NS}/pods`, p).then((r) => r.status)))
    expect(statuses.filter((s) => s !== 201)).toEqual([])
  }, 60_000)

  describe('Node (c-ares)', () => {
    it('A, AAAA, SRV and PTR', async () => {
      const r = cares(dnsPort)
      expect(await r.resolve4(svc('web'))).toEqual([clusterIP])
      expect(await r.resolve6(svc('six'))).toEqual([IP6])
      expect(await r.resolveSrv(`_http._tcp.${svc('web')}`)).toEqual([{ name: svc('web'), port: 80, priority: 0, weight: 100 }])
      expect(await r.reverse(clusterIP)).toEqual([svc('web')])
    })

    it('NXDOMAIN for a name that does not exist', async () => {
      await expect(cares(dnsPort).resolve4(svc('nope'))).rejects.toMatchObject({ code: 'ENOTFOUND' })
    })

    it('an answer too large for UDP: c-ares gets TC and asks again over TCP, receiving every record', async () => {
      const ips = await cares(dnsPort).resolve4(BIG)
      expect(ips).toHaveLength(BIG_PODS)
      expect(new Set(ips).size).toBe(BIG_PODS)
    })
  })

  describe('raw UDP and TCP', () => {
    it('UDP without EDNS: at most 512 octets, TC set, the records that fit', async () => {
      const answer = await udpExchange(dnsPort, query(0x1234, BIG))
      expect(answer.length).toBeLessThanOrEqual(512)
      const msg = decodeMessage(answer)
      expect(msg.header).toMatchObject({ id: 0x1234, qr: true, tc: true, rcode: RCODE.NOERROR })
      expect(msg.answers).toHaveLength(fit(512, 0))
    })

    it('UDP with an EDNS payload size below 512: answered in 512 octets, as RFC 6891 says', async () => {
      const msg = decodeMessage(query(0x2345, BIG))
      msg.additionals = [optRecord({ udpSize: 100 })]
      const answer = await udpExchange(dnsPort, encodeMessage(msg))
      expect(answer.length).toBeLessThanOrEqual(512)
      const reply = decodeMessage(answer)
      expect(reply.header).toMatchObject({ id: 0x2345, tc: true })
      expect(reply.answers).toHaveLength(fit(512, OPT_OCTETS))
    })

    it('TCP: several queries on one connection, sent at once, each answered by its ID, the large one complete', async () => {
      const socket = await tcpConnect(dnsPort)
      try {
        socket.write(Buffer.concat([framed(query(1, svc('web'))), framed(query(2, BIG)), framed(query(3, svc('nope')))]))
        const { messages } = await readFramed(socket, 3)
        const byId = new Map(messages.map((m) => decodeMessage(m)).map((m) => [m.header.id, m]))
        expect([...byId.keys()].sort()).toEqual([1, 2, 3])
        expect(byId.get(1)!.answers.map((r) => r.data)).toEqual([{ kind: 'A', address: clusterIP }])
        expect(byId.get(2)!.header.tc).toBe(false)
        expect(byId.get(2)!.answers).toHaveLength(BIG_PODS)
        expect(byId.get(3)!.header.rcode).toBe(RCODE.NXDOMAIN)
      } finally {
        socket.destroy()
      }
    })

    it('TCP: a message trickling in an octet at a time is cut at the idle timeout from its first octet', async () => {
      const socket = await tcpConnect(dnsPort)
      socket.on('error', () => {})
      const bytes = framed(query(31, svc('web')))
      const t0 = performance.now()
      let i = 0
      const timer = setInterval(() => {
        if (i < bytes.length && !socket.destroyed) socket.write(bytes.subarray(i, ++i))
      }, 100)
      const { messages, closed } = await readFramed(socket, 1, 4000)
      clearInterval(timer)
      expect(messages).toEqual([])
      expect(closed).toBe(true)
      expect(performance.now() - t0).toBeLessThan(2500)
    })

    it('TCP: a steady stream whose writes each end inside the next message keeps its connection: each message is timed from its own first octet', async () => {
      // Every 150 ms, one message and one octet more: no write ends on a message boundary, yet
      // each message arrives whole within 150 ms of its first octet, well inside the 1 s timeout.
      const socket = await tcpConnect(dnsPort)
      socket.on('error', () => {})
      const stream = Buffer.concat(Array.from({ length: 40 }, (_, i) => framed(query(100 + i, svc('web')))))
      const step = framed(query(100, svc('web'))).length + 1
      let sent = 0
      const timer = setInterval(() => {
        if (!socket.destroyed) socket.write(stream.subarray(sent, (sent += step)))
      }, 150)
      const { messages, closed } = await readFramed(socket, Infinity, 3000)
      clearInterval(timer)
      socket.destroy()
      expect(closed).toBe(false)
      const whole = Math.floor(Math.min(sent, stream.length) / (step - 1))
      expect(whole).toBeGreaterThanOrEqual(15)
      expect(messages.length).toBeGreaterThanOrEqual(whole - 1)
      expect(messages.map((m) => decodeMessage(m).header.id)).toEqual(Array.from({ length: messages.length }, (_, i) => 100 + i))
    })

    it(`TCP: 500 queries written at once, more than the ${MAX_PIPELINED} in flight at a time, are all answered`, async () => {
      const socket = await tcpConnect(dnsPort)
      try {
        const names = [svc('web'), svc('nope'), BIG]
        socket.write(Buffer.concat(Array.from({ length: 500 }, (_, i) => framed(query(1000 + i, names[i % 3]!)))))
        const { messages } = await readFramed(socket, 500, 20_000)
        const decoded = messages.map((m) => decodeMessage(m))
        expect(decoded.map((m) => m.header.id).sort((a, b) => a - b)).toEqual(Array.from({ length: 500 }, (_, i) => 1000 + i))
        for (const m of decoded) {
          const i = m.header.id - 1000
          expect(m.questions[0]!.name).toBe(names[i % 3])
          expect(m.header.rcode).toBe(i % 3 === 1 ? RCODE.NXDOMAIN : RCODE.NOERROR)
          if (i % 3 === 2) expect(m.answers).toHaveLength(BIG_PODS)
        }
      } finally {
        socket.destroy()
      }
    })

    it('TCP: a client that closes its side after its queries still gets their answers, then the server closes', async () => {
      const socket = await tcpConnect(dnsPort)
      const reading = readFramed(socket, 3)
      socket.end(Buffer.concat([framed(query(21, svc('web'))), framed(query(22, BIG)), framed(query(23, svc('six'), TYPE.AAAA))]))
      const { messages } = await reading
      expect(messages.map((m) => decodeMessage(m).header.id).sort()).toEqual([21, 22, 23])
      expect(socket.closed || (await readFramed(socket, 1, 3000)).closed).toBe(true)
    })

    it('TCP: a garbled message gets FORMERR with its ID, and the connection goes on', async () => {
      const socket = await tcpConnect(dnsPort)
      try {
        const garbled = query(7, svc('web')).slice(0, 20) // the question cut short
        socket.write(Buffer.concat([framed(garbled), framed(query(8, svc('web')))]))
        const { messages } = await readFramed(socket, 2)
        const [a, b] = messages.map((m) => decodeMessage(m))
        expect(a!.header).toMatchObject({ id: 7, qr: true, rcode: RCODE.FORMERR })
        expect(b!.header).toMatchObject({ id: 8, rcode: RCODE.NOERROR })
      } finally {
        socket.destroy()
      }
    })

    it('TCP: an idle connection is closed after the idle timeout (KEEP_ALIVE_TIMEOUT_MS)', async () => {
      const socket = await tcpConnect(dnsPort)
      const t0 = performance.now()
      socket.write(framed(query(9, svc('web'))))
      const first = await readFramed(socket, 1)
      expect(first.messages).toHaveLength(1)
      const { closed } = await readFramed(socket, 1, 5000)
      expect(closed).toBe(true)
      expect(performance.now() - t0).toBeGreaterThanOrEqual(900)
    })

    it(`TCP: at most ${MAX_TCP_CONNECTIONS} connections at once; one more is closed unanswered until one ends`, async () => {
      const open = await Promise.all(Array.from({ length: MAX_TCP_CONNECTIONS }, () => tcpConnect(dnsPort)))
      try {
        // Each of them is served (the last one too).
        open.at(-1)!.write(framed(query(10, svc('web'))))
        expect((await readFramed(open.at(-1)!, 1)).messages).toHaveLength(1)
        const extra = await tcpConnect(dnsPort)
        extra.on('error', () => {})
        extra.write(framed(query(11, svc('web'))))
        const refused = await readFramed(extra, 1, 3000)
        expect(refused).toEqual({ messages: [], closed: true })
      } finally {
        for (const s of open) s.destroy()
      }
      await new Promise((r) => setTimeout(r, 200))
      const again = await tcpConnect(dnsPort)
      again.write(framed(query(12, svc('web'))))
      const { messages } = await readFramed(again, 1)
      again.destroy()
      expect(decodeMessage(messages[0]!).header).toMatchObject({ id: 12, rcode: RCODE.NOERROR })
    })

    it('random datagrams on the UDP port: no crash, every reply a DNS response with the ID it answers, and the server still answers', async () => {
      const sock = createSocket('udp4')
      const replies: Buffer[] = []
      sock.on('message', (m) => replies.push(m))
      await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()))
      let seed = 42
      const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / (1 << 24)
      const sentIds = new Set<number>()
      const valid = query(0, svc('web'))
      for (let round = 0; round < 20; round++) {
        for (let i = 0; i < 100; i++) {
          let bytes: Uint8Array
          if (i % 2 === 0) {
            bytes = Uint8Array.from({ length: Math.floor(rand() * 600) }, () => Math.floor(rand() * 256))
          } else {
            // A valid query with a few octets changed.
            bytes = valid.slice()
            for (let k = 0; k < 1 + Math.floor(rand() * 4); k++) bytes[Math.floor(rand() * bytes.length)] = Math.floor(rand() * 256)
          }
          if (bytes.length >= 2) sentIds.add((bytes[0]! << 8) | bytes[1]!)
          sock.send(bytes, dnsPort, '127.0.0.1')
        }
        await new Promise((r) => setTimeout(r, 20))
      }
      await new Promise((r) => setTimeout(r, 500))
      sock.close()
      expect(replies.length).toBeGreaterThan(0)
      for (const reply of replies) {
        expect(reply.length).toBeGreaterThanOrEqual(12)
        expect(reply[2]! & 0x80).toBe(0x80)
        expect(sentIds.has(reply.readUInt16BE(0))).toBe(true)
        expect(reply.length).toBeLessThanOrEqual(512)
      }
      expect(server.process.child.exitCode).toBeNull()
      expect(await cares(dnsPort).resolve4(svc('web'))).toEqual([clusterIP])
    })

    it('random octets on TCP connections: no crash, every answer framed, and the server still answers', async () => {
      let seed = 7
      const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) / (1 << 24)
      const valid = query(0, svc('web'))
      await Promise.all(
        Array.from({ length: 40 }, async (_, c) => {
          const socket = await tcpConnect(dnsPort)
          socket.on('error', () => {})
          const chunks: Buffer[] = []
          for (let k = 0; k < 5; k++) {
            // Frames of random octets, mutated queries, or raw noise (a length prefix of anything).
            const body = c % 2 ? valid.slice() : Uint8Array.from({ length: Math.floor(rand() * 300) }, () => Math.floor(rand() * 256))
            if (c % 2) for (let j = 0; j < 3; j++) body[Math.floor(rand() * body.length)] = Math.floor(rand() * 256)
            chunks.push(c % 5 === 4 ? Buffer.from(body) : framed(body))
          }
          socket.write(Buffer.concat(chunks))
          const { messages } = await readFramed(socket, 5, 1500)
          for (const m of messages) {
            expect(m.length).toBeGreaterThanOrEqual(12)
            expect(m[2]! & 0x80).toBe(0x80)
          }
          socket.destroy()
        }),
      )
      expect(server.process.child.exitCode).toBeNull()
      expect(await cares(dnsPort).resolve4(svc('web'))).toEqual([clusterIP])
    })
  })

  describe.skipIf(!DIG)('dig', () => {
    for (const transport of ['UDP', 'TCP'] as const) {
      const t = transport === 'TCP' ? ['+tcp'] : []
      it(`${transport}: A, AAAA, SRV, PTR and NXDOMAIN`, () => {
        const a = ask(DIG!, dnsPort, [...t, svc('web'), 'A'])
        expect(a).toMatchObject({ status: 'NOERROR', transport })
        expect(a.flags).toContain('aa')
        expect(a.answers).toEqual([`${svc('web')}. 5 IN A ${clusterIP}`])
        expect(ask(DIG!, dnsPort, [...t, svc('six'), 'AAAA']).answers).toEqual([`${svc('six')}. 5 IN AAAA ${IP6}`])
        expect(ask(DIG!, dnsPort, [...t, `_http._tcp.${svc('web')}`, 'SRV']).answers).toEqual([`_http._tcp.${svc('web')}. 5 IN SRV 0 100 80 ${svc('web')}.`])
        const ptr = ask(DIG!, dnsPort, [...t, '-x', clusterIP])
        expect(ptr.answers).toEqual([`${clusterIP.split('.').reverse().join('.')}.in-addr.arpa. 5 IN PTR ${svc('web')}.`])
        const nx = ask(DIG!, dnsPort, [...t, svc('nope'), 'A'])
        expect(nx.status).toBe('NXDOMAIN')
        expect(nx.authority[0]).toMatch(new RegExp(`^${Z}\\. \\d+ IN SOA `))
      })
    }

    it('UDP without EDNS: TC at 512 octets', () => {
      const r = ask(DIG!, dnsPort, ['+noedns', '+ignore', BIG, 'A'])
      expect(r).toMatchObject({ status: 'NOERROR', transport: 'UDP' })
      expect(r.flags).toContain('tc')
      expect(r.size).toBeLessThanOrEqual(512)
      expect(r.answers).toHaveLength(fit(512, 0))
    })

    it('UDP with EDNS: TC at the payload size the query states, and at 1232 when it states more', () => {
      const r = ask(DIG!, dnsPort, ['+bufsize=1000', '+ignore', '+nocookie', BIG, 'A'])
      expect(r.flags).toContain('tc')
      expect(r.size).toBeLessThanOrEqual(1000)
      expect(r.answers).toHaveLength(fit(1000, OPT_OCTETS))
      const big = ask(DIG!, dnsPort, ['+bufsize=4096', '+ignore', '+nocookie', BIG, 'A'])
      expect(big.flags).toContain('tc')
      expect(big.size).toBeLessThanOrEqual(1232)
      expect(big.answers).toHaveLength(fit(1232, OPT_OCTETS))
    })

    it('TCP: the whole answer, no TC', () => {
      const r = ask(DIG!, dnsPort, ['+tcp', BIG, 'A'])
      expect(r).toMatchObject({ status: 'NOERROR', transport: 'TCP' })
      expect(r.flags).not.toContain('tc')
      expect(r.answers).toHaveLength(BIG_PODS)
    })

    it('after TC over UDP, dig retries over TCP by itself and gets the whole answer', () => {
      const r = ask(DIG!, dnsPort, [BIG, 'A'])
      expect(r.output).toContain('Truncated, retrying in TCP mode')
      expect(r).toMatchObject({ status: 'NOERROR', transport: 'TCP' })
      expect(r.answers).toHaveLength(BIG_PODS)
    })
  })

  describe.skipIf(!KDIG)('kdig', () => {
    for (const transport of ['UDP', 'TCP'] as const) {
      const t = transport === 'TCP' ? ['+tcp'] : ['+notcp']
      it(`${transport}: A, AAAA, SRV, PTR and NXDOMAIN`, () => {
        const a = ask(KDIG!, dnsPort, [...t, svc('web'), 'A'])
        expect(a).toMatchObject({ status: 'NOERROR', transport })
        expect(a.flags).toContain('aa')
        expect(a.answers).toEqual([`${svc('web')}. 5 IN A ${clusterIP}`])
        expect(ask(KDIG!, dnsPort, [...t, svc('six'), 'AAAA']).answers).toEqual([`${svc('six')}. 5 IN AAAA ${IP6}`])
        expect(ask(KDIG!, dnsPort, [...t, `_http._tcp.${svc('web')}`, 'SRV']).answers).toEqual([`_http._tcp.${svc('web')}. 5 IN SRV 0 100 80 ${svc('web')}.`])
        const ptr = ask(KDIG!, dnsPort, [...t, '-x', clusterIP])
        expect(ptr.answers).toEqual([`${clusterIP.split('.').reverse().join('.')}.in-addr.arpa. 5 IN PTR ${svc('web')}.`])
        expect(ask(KDIG!, dnsPort, [...t, svc('nope'), 'A']).status).toBe('NXDOMAIN')
      })
    }

    it('UDP: TC at 512 octets without EDNS and at the EDNS payload size with it; complete over TCP and after kdig retries over TCP', () => {
      const plain = ask(KDIG!, dnsPort, ['+noedns', '+ignore', BIG, 'A'])
      expect(plain.flags).toContain('tc')
      expect(plain.size).toBeLessThanOrEqual(512)
      expect(plain.answers).toHaveLength(fit(512, 0))
      const edns = ask(KDIG!, dnsPort, ['+bufsize=800', '+ignore', BIG, 'A'])
      expect(edns.flags).toContain('tc')
      expect(edns.size).toBeLessThanOrEqual(800)
      expect(edns.answers).toHaveLength(fit(800, OPT_OCTETS))
      const tcp = ask(KDIG!, dnsPort, ['+tcp', BIG, 'A'])
      expect(tcp.flags).not.toContain('tc')
      expect(tcp.answers).toHaveLength(BIG_PODS)
      const retried = ask(KDIG!, dnsPort, ['+bufsize=800', BIG, 'A'])
      expect(retried.transport).toBe('TCP')
      expect(retried.answers).toHaveLength(BIG_PODS)
    })
  })
})

describe('classic DNS with access control on and DOH_PUBLIC off', () => {
  const dnsPort = CLOSED_DNS_PORT
  const server = useServer({ env: { DNS_PORT: String(dnsPort) } })

  it('the start-up says so, and every query is REFUSED, over UDP and TCP', async () => {
    expect(server.process.output()).toContain('classic DNS answers REFUSED to every query')
    expect((await api(server, 'POST', `${NS}/services`, { metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } })).status).toBe(201)
    await expect(cares(dnsPort).resolve4(svc('web'))).rejects.toMatchObject({ code: 'EREFUSED' })
    const udp = decodeMessage(await udpExchange(dnsPort, query(5, svc('web'))))
    expect(udp.header).toMatchObject({ id: 5, rcode: RCODE.REFUSED })
    expect(udp.answers).toEqual([])
    const socket = await tcpConnect(dnsPort)
    socket.write(framed(query(6, svc('web'))))
    const { messages } = await readFramed(socket, 1)
    socket.destroy()
    expect(decodeMessage(messages[0]!).header).toMatchObject({ id: 6, rcode: RCODE.REFUSED })
    if (DIG) expect(ask(DIG, dnsPort, [svc('web'), 'A']).status).toBe('REFUSED')
  })

  it('SIGTERM closes the DNS listeners with the server', async () => {
    expect(await server.process.stop('SIGTERM')).toBe(0)
    await expect(tcpConnect(dnsPort)).rejects.toMatchObject({ code: 'ECONNREFUSED' })
  })
})

describe('classic DNS over UDP is rate limited per source address (RATE_LIMIT_BURST=20, RATE_LIMIT_PER_SECOND=1); /metrics counts it', () => {
  const dnsPort = LIMITED_DNS_PORT
  const BURST = 20
  const server = useServer({ env: { DNS_PORT: String(dnsPort), DOH_PUBLIC: 'true', RATE_LIMIT_BURST: String(BURST), RATE_LIMIT_PER_SECOND: '1' } })
  const FLOOD = 60
  /** A query stating an EDNS payload of 4096, as an amplification flood sends. */
  const ednsQuery = (id: number) => {
    const msg = decodeMessage(query(id, svc('web')))
    msg.additionals = [optRecord({ udpSize: 4096 })]
    return encodeMessage(msg)
  }
  /** Sends `count` queries at once from `address` and collects the replies until none has come for 300 ms. */
  const flood = async (address: string, count: number): Promise<{ sent: Uint8Array[]; replies: Message[]; sizes: number[] }> => {
    const sock = createSocket('udp4')
    await new Promise<void>((r) => sock.bind(0, address, () => r()))
    const replies: Message[] = []
    const sizes: number[] = []
    let quiet: () => void = () => {}
    const done = new Promise<void>((r) => (quiet = r))
    let timer = setTimeout(quiet, 300)
    sock.on('message', (m) => {
      replies.push(decodeMessage(m))
      sizes.push(m.length)
      clearTimeout(timer)
      timer = setTimeout(quiet, 300)
    })
    const sent = Array.from({ length: count }, (_, i) => ednsQuery(i + 1))
    for (const q of sent) sock.send(q, dnsPort, '127.0.0.1')
    await done
    sock.close()
    return { sent, replies, sizes }
  }
  let answered = 0
  let slipped = 0

  beforeAll(async () => {
    expect((await api(server, 'POST', `${NS}/services`, { metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } })).status).toBe(201)
  })

  it(`a burst beyond ${BURST} from one address: the rest alternately get an empty answer with TC (the question, no larger than the query) and nothing; another address and TCP still get answers`, async () => {
    const { sent, replies, sizes } = await flood('127.0.0.1', FLOOD)
    const full = replies.filter((r) => !r.header.tc)
    const truncated = replies.filter((r) => r.header.tc)
    answered = full.length
    slipped = truncated.length
    // The burst, and at most one more refilled while the flood was read.
    expect(full.length).toBeGreaterThanOrEqual(BURST)
    expect(full.length).toBeLessThanOrEqual(BURST + 1)
    for (const r of full) expect(r.answers).toHaveLength(1)
    // Of the queries past the limit, every other one slips (the first does), the others are dropped.
    expect(truncated.length).toBe(Math.ceil((FLOOD - full.length) / 2))
    for (const [i, r] of replies.entries()) {
      if (!r.header.tc) continue
      expect(r.header).toMatchObject({ qr: true, tc: true, rd: true, rcode: RCODE.NOERROR })
      expect(r.questions).toEqual([{ name: svc('web'), type: TYPE.A, class: 1 }])
      expect([r.answers, r.authorities, r.additionals]).toEqual([[], [], []])
      expect(sizes[i]).toBeLessThan(sent[r.header.id - 1]!.length)
    }
    // Another address has its own bucket.
    const other = await flood('127.0.0.2', 5)
    expect(other.replies.map((r) => [r.header.tc, r.answers.length])).toEqual(Array.from({ length: 5 }, () => [false, 1]))
    answered += other.replies.length
    // TCP is not limited: the flooded address still gets its answer there, as a client does after TC.
    const socket = await tcpConnect(dnsPort)
    socket.write(framed(query(7, svc('web'))))
    const { messages } = await readFramed(socket, 1)
    socket.destroy()
    expect(decodeMessage(messages[0]!).header).toMatchObject({ id: 7, tc: false, rcode: RCODE.NOERROR })
    expect(decodeMessage(messages[0]!).answers).toHaveLength(1)
  })

  it('/metrics: classic DNS queries by transport and response code, and the rate-limited ones by slip or drop', async () => {
    const socket = await tcpConnect(dnsPort)
    socket.write(framed(query(8, svc('nope'))))
    expect((await readFramed(socket, 1)).messages).toHaveLength(1)
    socket.destroy()
    const res = await fetch(`${server.url}/metrics`, { headers: authHeaders() })
    expect(res.status).toBe(200)
    const text = await res.text()
    const sample = (line: string) => Number(new RegExp(`^${line.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1])
    expect(text).toContain('# TYPE switchboard_dns_queries_total counter')
    expect(sample('switchboard_dns_queries_total{transport="udp",rcode="NOERROR"}')).toBe(answered)
    expect(sample('switchboard_dns_queries_total{transport="tcp",rcode="NOERROR"}')).toBe(1)
    expect(sample('switchboard_dns_queries_total{transport="tcp",rcode="NXDOMAIN"}')).toBe(1)
    expect(sample('switchboard_dns_udp_rate_limited_total{action="slip"}')).toBe(slipped)
    expect(sample('switchboard_dns_udp_rate_limited_total{action="drop"}')).toBe(FLOOD + 5 - answered - slipped)
  })
})

describe('classic DNS settings: a bad one stops start-up with a message naming the variable', () => {
  /** Runs `npm start` with `env` and resolves with its exit code and output. */
  const start = (env: Record<string, string>) =>
    new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn('npm', ['start', '--silent'], {
        cwd: new URL('../..', import.meta.url).pathname,
        env: { ...process.env, PORT: '0', DATABASE_URL: ':memory:', SWITCHBOARD_ADMIN_TOKEN: E2E_TOKEN, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let output = ''
      child.stdout!.on('data', (d) => (output += d))
      child.stderr!.on('data', (d) => (output += d))
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
      child.once('exit', (code) => {
        clearTimeout(timer)
        resolve({ code, output })
      })
    })

  it('DNS_PORT not a port, DNS_HOST not an address, a non-loopback DNS_HOST without a token, a DNS_PORT in use: refused before the database is created', async () => {
    const busy = createSocket('udp4')
    await new Promise<void>((r) => busy.bind(0, '127.0.0.1', () => r()))
    const busyPort = busy.address().port
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-dns-settings-'))
    const database = (name: string) => ({ DATABASE_URL: `file:${join(dir, name, 'switchboard.db')}` })
    try {
      const [port, host, open, taken] = await Promise.all([
        start({ DNS_PORT: 'fifty-three', ...database('port') }),
        start({ DNS_PORT: '5353', DNS_HOST: 'localhost', ...database('host') }),
        start({ DNS_PORT: '5353', DNS_HOST: '0.0.0.0', SWITCHBOARD_ADMIN_TOKEN: '', ...database('open') }),
        start({ DNS_PORT: String(busyPort), ...database('taken') }),
      ])
      expect(port.code).toBe(1)
      expect(port.output).toMatch(/DNS_PORT: must be a port number/)
      expect(host.code).toBe(1)
      expect(host.output).toMatch(/DNS_HOST: must be an IPv4 or IPv6 address/)
      expect(open.code).toBe(1)
      expect(open.output).toContain('DNS_HOST=0.0.0.0 is not a loopback address')
      expect(taken.code).toBe(1)
      expect(taken.output).toContain(`DNS_PORT=${busyPort}: cannot listen on UDP and TCP 127.0.0.1:${busyPort}`)
      for (const r of [port, host, open, taken]) expect(r.output).not.toContain('switchboard listening on')
      // Nothing touched the database: not even its directory was made.
      expect(readdirSync(dir)).toEqual([])
    } finally {
      busy.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }, 60_000)
})

/** One UDP query and its reply. */
async function udpExchange(port: number, bytes: Uint8Array): Promise<Buffer> {
  const sock = createSocket('udp4')
  try {
    return await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no UDP reply within 3 s')), 3000)
      sock.once('message', (m) => {
        clearTimeout(timer)
        resolve(m)
      })
      sock.send(bytes, port, '127.0.0.1')
    })
  } finally {
    sock.close()
  }
}
