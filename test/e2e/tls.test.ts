/**
 * HTTPS with HTTP/2 and HTTP/1.1 against the real server (`npm start` with TLS_CERT_FILE
 * and TLS_KEY_FILE), each test with its own certificate authority and server certificate
 * (test/support/tls.ts): Node's https and http2 clients (ALPN picks each protocol), a
 * watch streamed over HTTP/2 beside other requests on the same connection, DoH through
 * an npm client (dohdec, over HTTP/2 and HTTP/1.1), `kubectl` with a bearer token,
 * `kdig +https` and `curl --doh-url`; the connection timeouts and cap over TLS; the
 * certificate reloaded on SIGHUP; and the start-up checks (both files or neither,
 * readable and matching, no plain HTTP with tokens on a non-loopback HOST).
 *
 * Every name resolved here answers 127.0.0.1, and the only connections made are to
 * loopback. kubectl, kdig and curl come from outside npm (Debian: kubernetes-client,
 * knot-dnsutils, curl); where one is missing its tests are skipped and the run says how
 * to install it.
 */
import { execFile, spawnSync } from 'node:child_process'
import { copyFileSync, writeFileSync } from 'node:fs'
import { createServer as createHttpServer, type IncomingHttpHeaders } from 'node:http'
import { connect as connectH2, constants as h2, type ClientHttp2Session } from 'node:http2'
import { request as httpsRequest } from 'node:https'
import { connect as connectTcp } from 'node:net'
import { connect as connectTls } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { E2E_TOKEN } from '../support/auth'
import { KUBECTL_INSTALL_HINT, complaints, findKubectl, kubectlFor } from '../support/kubectl'
import { freePort, startServer, type ServerProcess } from '../support/server'
import { serverApi, type ServerApi } from '../support/server-api'
import { outsideTool } from '../support/tools'
import { makeTestCa, serverPid, startTlsServer, tlsEnv, type TestCa } from '../support/tls'

const ROOT = new URL('../..', import.meta.url).pathname
const NS = '/api/v1/namespaces/default'
const NAME = 'web.default.svc.cluster.local'
const AUTH = { authorization: `Bearer ${E2E_TOKEN}` }

const KDIG = outsideTool('TLS tests with kdig', 'kdig', 'knot-dnsutils')
const CURL = outsideTool('TLS tests with curl', 'curl', 'curl')
const KUBECTL = findKubectl()
if (!KUBECTL) console.log(`TLS tests with kubectl skipped: kubectl is not on the PATH; ${KUBECTL_INSTALL_HINT}`)

interface Reply {
  status: number
  headers: Record<string, unknown>
  body: string
}

/** One request over TLS on a new connection, offering only HTTP/1.1, and the protocol ALPN chose. */
function httpsCall(url: string, ca: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<Reply & { alpn: string | false | null }>((resolve, reject) => {
    const options = { method: init.method ?? 'GET', headers: init.headers, ca, agent: false, ALPNProtocols: ['http/1.1'] }
    const req = httpsRequest(`${url}${path}`, options, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d) => (body += d))
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body, alpn: (res.socket as import('node:tls').TLSSocket).alpnProtocol }))
    })
    req.on('error', reject)
    req.end(init.body)
  })
}

/** An HTTP/2 connection trusting the test authority. */
function h2Connect(url: string, ca: string): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = connectH2(url, { ca })
    session.once('connect', () => resolve(session))
    session.once('error', reject)
  })
}

/** One request on an open HTTP/2 connection. */
function h2Call(session: ClientHttp2Session, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': init.method ?? 'GET', ':path': path, ...init.headers }, { endStream: init.body === undefined })
    let headers: Record<string, unknown> = {}
    let body = ''
    stream.setEncoding('utf8')
    stream.on('response', (h) => (headers = h))
    stream.on('data', (d) => (body += d))
    stream.on('end', () => resolve({ status: Number(headers[':status']), headers, body }))
    stream.on('error', reject)
    if (init.body !== undefined) stream.end(init.body)
  })
}

/** A watch on an open HTTP/2 connection: the events it has streamed so far. */
function h2Watch(session: ClientHttp2Session, path: string) {
  const stream = session.request({ ':method': 'GET', ':path': path, ...AUTH })
  let buffer = ''
  stream.setEncoding('utf8')
  stream.on('data', (d) => (buffer += d))
  const events = () =>
    buffer
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as { type: string; object: { metadata: { name: string } } })
  return {
    stream,
    events,
    until: async (predicate: (e: ReturnType<typeof events>) => boolean, ms: number, what: string) => {
      const deadline = Date.now() + ms
      while (!predicate(events())) {
        if (stream.closed || Date.now() > deadline) throw new Error(`watch ${path}: no ${what} (closed: ${stream.closed}):\n${buffer}`)
        await new Promise((r) => setTimeout(r, 25))
      }
    },
  }
}

/** The common name of the certificate a new TLS connection is shown. */
function presentedName(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connectTls({ host: '127.0.0.1', port, ca, ALPNProtocols: ['h2'] }, () => {
      const cn = socket.getPeerCertificate().subject.CN
      socket.end()
      resolve(String(cn))
    })
    socket.once('error', reject)
  })
}

/** A pod with an address and readiness, selected by the `web` service. */
function pod(name: string, ip = '127.0.0.1') {
  return {
    metadata: { name, labels: { app: 'web' } },
    spec: { containers: [{ name: 'main', ports: [{ name: 'http', containerPort: 8080 }] }] },
    status: { podIPs: [{ ip }], conditions: [{ type: 'Ready', status: 'True' }] },
  }
}

/** A headless service `web` whose one ready pod is at 127.0.0.1, and a read token for DNS; returns that token. */
async function seed(api: ServerApi): Promise<string> {
  await api('POST', `${NS}/services`, { metadata: { name: 'web' }, spec: { clusterIP: 'None', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] } })
  await api('POST', `${NS}/pods`, pod('web-1'))
  const token = await api('POST', '/apis/switchboard.dev/v1/tokens', { metadata: { name: 'dns-reader' }, spec: { role: 'read', namespaces: ['default'] } })
  return token.status.secret as string
}

function run(binary: string, args: string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 30_000) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    execFile(binary, args, { env, timeout: timeoutMs, cwd: ROOT }, (error, stdout, stderr) => resolve({ code: error ? ((error as { code?: number }).code ?? -1) : 0, stdout, stderr }))
  })
}

/** dohdec (an npm DoH client: dns-packet and got, nothing of ours) trusting the test authority, in its own process. */
const DOHDEC = `
import { DNSoverHTTPS } from 'dohdec'
const [url, name, protocol, method] = process.argv.slice(1)
const doh = new DNSoverHTTPS({ url, http2: protocol === 'h2', preferPost: method === 'POST' })
const reply = await doh.lookup(name, { rrtype: 'A', json: false })
console.log(JSON.stringify({ rcode: reply.rcode, answers: reply.answers.map((a) => ({ name: a.name, type: a.type, data: a.data })) }))
doh.close()
`

describe('HTTPS with HTTP/2 and HTTP/1.1', () => {
  let ca: TestCa
  let server: ServerProcess
  let api: ServerApi
  let readToken: string
  beforeAll(async () => {
    ca = makeTestCa()
    server = await startTlsServer(ca.issue('switchboard'), { ALLOW_LOOPBACK_ADDRESSES: 'true' })
    api = async (method, path, body) => {
      const reply = await httpsCall(server.url, ca.caPem, path, {
        method,
        headers: { ...AUTH, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      })
      if (reply.status >= 300) throw new Error(`${method} ${path}: ${reply.status} ${reply.body}`)
      return reply.body ? JSON.parse(reply.body) : undefined
    }
    readToken = await seed(api)
  }, 60_000)
  afterAll(async () => {
    await server?.stop('SIGKILL')
  })

  it('says https:// at start-up and serves HTTP/1.1 to a client that offers only it', async () => {
    expect(server.output()).toMatch(new RegExp(`listening on https://127\\.0\\.0\\.1:${server.port} \\(HTTP/2 and HTTP/1\\.1;`))
    const health = await httpsCall(server.url, ca.caPem, '/healthz')
    expect(health).toMatchObject({ status: 200, alpn: 'http/1.1' })
    const list = await httpsCall(server.url, ca.caPem, '/api/v1/namespaces', { headers: AUTH })
    expect(list.status).toBe(200)
    expect(JSON.parse(list.body).items.map((n: { metadata: { name: string } }) => n.metadata.name)).toContain('default')
    // Without the token: 401 over TLS as over plain HTTP.
    expect((await httpsCall(server.url, ca.caPem, '/api/v1/namespaces')).status).toBe(401)
  })

  it('speaks HTTP/2 when offered: API, pick and DoH on one connection', async () => {
    const session = await h2Connect(server.url, ca.caPem)
    try {
      expect(session.alpnProtocol).toBe('h2')
      const pods = await h2Call(session, `${NS}/pods`, { headers: AUTH })
      expect(pods.status).toBe(200)
      expect(JSON.parse(pods.body).items.map((p: { metadata: { name: string } }) => p.metadata.name)).toContain('web-1')
      const pick = await h2Call(session, `${NS}/services/web/pick`, { headers: AUTH })
      expect(pick.status, pick.body).toBe(200)
      expect(pick.body).toContain('127.0.0.1')
      const dns = await h2Call(session, `/dns-query?name=${NAME}&type=A`, { headers: { ...AUTH, accept: 'application/dns-json' } })
      expect(dns.status, dns.body).toBe(200)
      expect(JSON.parse(dns.body).Answer).toEqual([expect.objectContaining({ name: `${NAME}.`, type: 1, data: '127.0.0.1' })])
      const created = await h2Call(session, '/api/v1/namespaces', { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ metadata: { name: 'over-h2' } }) })
      expect(created.status, created.body).toBe(201)
    } finally {
      session.close()
    }
  })

  it('streams a watch over HTTP/2 while other requests share its connection', async () => {
    const session = await h2Connect(server.url, ca.caPem)
    try {
      const { resourceVersion } = JSON.parse((await h2Call(session, `${NS}/pods`, { headers: AUTH })).body).metadata
      const watch = h2Watch(session, `${NS}/pods?watch=true&resourceVersion=${resourceVersion}`)
      for (const name of ['watched-1', 'watched-2']) {
        const reply = await h2Call(session, `${NS}/pods`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify(pod(name)) })
        expect(reply.status, reply.body).toBe(201)
      }
      await watch.until((events) => events.some((e) => e.object.metadata.name === 'watched-2'), 10_000, 'event for watched-2')
      expect(watch.events().map((e) => [e.type, e.object.metadata.name])).toEqual([
        ['ADDED', 'watched-1'],
        ['ADDED', 'watched-2'],
      ])
      watch.stream.close()
    } finally {
      session.close()
    }
  })

  it('answers DoH from dohdec over HTTP/2 and HTTP/1.1, GET and POST, trusting only the test authority', async () => {
    const env = { ...process.env, NODE_EXTRA_CA_CERTS: ca.caFile }
    for (const [protocol, method] of [['h2', 'POST'], ['h2', 'GET'], ['http/1.1', 'POST'], ['http/1.1', 'GET']] as const) {
      const { code, stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', DOHDEC, `${server.url}/dns-query/${readToken}`, NAME, protocol, method], env)
      expect(code, `${protocol} ${method}: ${stderr}`).toBe(0)
      expect(JSON.parse(stdout), `${protocol} ${method}`).toEqual({ rcode: 'NOERROR', answers: [{ name: NAME, type: 'A', data: '127.0.0.1' }] })
    }
    // The same client without the authority refuses the server: the certificate is checked.
    const untrusted = await run(process.execPath, ['--input-type=module', '-e', DOHDEC, `${server.url}/dns-query/${readToken}`, NAME, 'h2', 'POST'])
    expect(untrusted.code).not.toBe(0)
    expect(untrusted.stderr).toMatch(/certificate/i)
  }, 60_000)

  it.skipIf(!KDIG)('answers kdig +https (HTTP/2), POST and GET', async () => {
    for (const method of [[], ['+https-get']]) {
      const args = ['@127.0.0.1', '-p', String(server.port), `+https=/dns-query/${readToken}`, ...method, `+tls-ca=${ca.caFile}`, '+tls-hostname=localhost', NAME, 'A']
      const { code, stdout, stderr } = await run(KDIG!, args)
      expect(code, `${stdout}${stderr}`).toBe(0)
      expect(stdout).toMatch(/status: NOERROR/)
      expect(stdout).toMatch(new RegExp(`^${NAME.replace(/\./g, '\\.')}\\.\\s+\\d+\\s+IN\\s+A\\s+127\\.0\\.0\\.1$`, 'm'))
      expect(stdout).toMatch(new RegExp(`HTTP session \\(HTTP/2-${method.length ? 'GET' : 'POST'}\\)-.*\\(status: 200\\)`))
    }
  })

  it.skipIf(!CURL)('resolves a name for curl --doh-url, which then reaches the loopback server it names', async () => {
    const seen: IncomingHttpHeaders[] = []
    const target = createHttpServer((req, res) => {
      seen.push(req.headers)
      res.end('hello from loopback')
    })
    const port = await freePort()
    await new Promise<void>((resolve) => target.listen(port, '127.0.0.1', resolve))
    try {
      const args = ['-sS', '--max-time', '20', '--cacert', ca.caFile, '--doh-url', `${server.url}/dns-query/${readToken}`, `http://${NAME}:${port}/`]
      const { code, stdout, stderr } = await run(CURL!, args)
      expect(code, stderr).toBe(0)
      expect(stdout).toBe('hello from loopback')
      expect(seen.map((h) => h.host)).toEqual([`${NAME}:${port}`])
    } finally {
      target.close()
    }
  })

  describe.skipIf(!KUBECTL)('kubectl with a bearer token and the test authority', () => {
    it('gets, creates and watches', async () => {
      const kubectl = kubectlFor(server.url, KUBECTL!, { certificateAuthority: ca.caFile, token: E2E_TOKEN })
      const get = await kubectl.run(['get', 'pods', '-o', 'name'])
      expect(get.code, get.stderr).toBe(0)
      expect(get.stdout).toContain('pod/web-1')

      const watch = kubectl.start(['get', 'services', '-w', '--output-watch-events', '--watch-only'])
      // Once the watch is open, kubectl creates a service; the watch prints it.
      await new Promise((r) => setTimeout(r, 1500))
      const create = await kubectl.run(['create', 'service', 'clusterip', 'made-by-kubectl', '--tcp=80:8080'])
      expect(create.code, create.stderr).toBe(0)
      expect(create.stdout).toContain('service/made-by-kubectl created')
      await watch.until(({ stdout }) => /ADDED\s+made-by-kubectl/.test(stdout), 20_000, 'ADDED row for made-by-kubectl')
      const { stderr } = await watch.stop()
      expect(complaints(stderr), stderr).toEqual([])

      // With another token kubectl is refused, so the token above is what let it in.
      const stranger = await kubectlFor(server.url, KUBECTL!, { certificateAuthority: ca.caFile, token: 'sb_not-a-token' }).run(['get', 'pods'])
      expect(stranger.code).not.toBe(0)
      expect(stranger.stderr).toMatch(/Unauthorized|must be logged in/i)
    }, 90_000)
  })
})

describe('connection timeouts over TLS', () => {
  let ca: TestCa
  let server: ServerProcess
  beforeAll(async () => {
    ca = makeTestCa()
    server = await startTlsServer(ca.issue('timeouts'), { HEADERS_TIMEOUT_MS: '500', REQUEST_TIMEOUT_MS: '1500', KEEP_ALIVE_TIMEOUT_MS: '500' })
  }, 60_000)
  afterAll(async () => {
    await server?.stop('SIGKILL')
  })

  const since = (started: number) => performance.now() - started

  it('close a TCP connection that never starts the TLS handshake after the headers timeout', async () => {
    const started = performance.now()
    const socket = connectTcp(server.port, '127.0.0.1')
    socket.on('error', () => {})
    await new Promise((r) => socket.once('close', r))
    expect(since(started)).toBeGreaterThanOrEqual(400)
    expect(since(started)).toBeLessThan(3000)
  })

  it('close an HTTP/1.1 connection that sends nothing after its handshake, and answer slow headers with 408', async () => {
    const started = performance.now()
    const silent = connectTls({ host: '127.0.0.1', port: server.port, ca: ca.caPem, ALPNProtocols: ['http/1.1'] })
    silent.on('error', () => {})
    await new Promise((r) => silent.once('close', r))
    expect(since(started)).toBeGreaterThanOrEqual(400)
    expect(since(started)).toBeLessThan(3000)

    const slow = connectTls({ host: '127.0.0.1', port: server.port, ca: ca.caPem, ALPNProtocols: ['http/1.1'] })
    let data = ''
    slow.on('data', (d) => (data += d))
    slow.on('error', () => {})
    await new Promise((r) => slow.once('secureConnect', r))
    slow.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n')
    const timer = setInterval(() => slow.writable && slow.write('X-Slow: 1\r\n'), 100)
    await new Promise((r) => slow.once('close', r))
    clearInterval(timer)
    expect(data).toMatch(/^HTTP\/1\.1 408/)
  })

  it('close an HTTP/2 connection with GOAWAY when no stream opens within the headers timeout', async () => {
    const started = performance.now()
    const session = await h2Connect(server.url, ca.caPem)
    let goaway = false
    session.on('goaway', () => (goaway = true))
    session.on('error', () => {})
    await new Promise((r) => session.once('close', r))
    expect(goaway).toBe(true)
    expect(since(started)).toBeGreaterThanOrEqual(400)
    expect(since(started)).toBeLessThan(3000)
  })

  it('close an HTTP/2 connection with GOAWAY once it has had no open stream for the keep-alive timeout', async () => {
    const session = await h2Connect(server.url, ca.caPem)
    let goaway = false
    session.on('goaway', () => (goaway = true))
    session.on('error', () => {})
    expect((await h2Call(session, '/healthz')).status).toBe(200)
    const idleFrom = performance.now()
    await new Promise((r) => session.once('close', r))
    expect(goaway).toBe(true)
    expect(since(idleFrom)).toBeGreaterThanOrEqual(400)
    expect(since(idleFrom)).toBeLessThan(3000)
  })

  it('keep an HTTP/2 connection open while a watch streams on it, past every timeout', async () => {
    const session = await h2Connect(server.url, ca.caPem)
    try {
      const watch = h2Watch(session, `${NS}/services?watch=true`)
      await new Promise((r) => setTimeout(r, 2500))
      expect(session.closed || session.destroyed).toBe(false)
      const created = await h2Call(session, `${NS}/services`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ metadata: { name: 'late' }, spec: { ports: [{ port: 80 }] } }) })
      expect(created.status, created.body).toBe(201)
      await watch.until((events) => events.some((e) => e.object.metadata.name === 'late'), 5000, 'event for the service created after 2.5 s')
    } finally {
      session.close()
    }
  })

  it('answer an HTTP/2 request whose body is still arriving after the request timeout with 408; the connection goes on', async () => {
    const session = await h2Connect(server.url, ca.caPem)
    try {
      const started = performance.now()
      const stream = session.request({ ':method': 'POST', ':path': '/api/v1/namespaces', ...AUTH, 'content-type': 'application/json', 'content-length': '1000' }, { endStream: false })
      stream.write('{')
      const timer = setInterval(() => !stream.closed && stream.write(' '), 100)
      const status = await new Promise<number>((resolve) => stream.once('response', (h) => resolve(Number(h[':status']))))
      clearInterval(timer)
      stream.on('error', () => {})
      expect(status).toBe(408)
      expect(since(started)).toBeGreaterThanOrEqual(1400)
      expect(since(started)).toBeLessThan(4500)
      expect((await h2Call(session, '/healthz')).status).toBe(200)
      // The cut request is no error of the server's.
      expect(server.output()).not.toMatch(/error|failed/i)
    } finally {
      session.close()
    }
  })
})

describe('the connection cap over TLS', () => {
  let ca: TestCa
  let server: ServerProcess
  beforeAll(async () => {
    ca = makeTestCa()
    server = await startTlsServer(ca.issue('cap'), { MAX_CONNECTIONS: '6', HEADERS_TIMEOUT_MS: '600000', KEEP_ALIVE_TIMEOUT_MS: '600000' })
  }, 60_000)
  afterAll(async () => {
    await server?.stop('SIGKILL')
  })

  it('closes the oldest idle connection (HTTP/1.1 or HTTP/2) for a new client, never one with a watch open', async () => {
    const busy = await h2Connect(server.url, ca.caPem)
    busy.on('error', () => {})
    const watch = h2Watch(busy, `${NS}/pods?watch=true`)
    const closed: string[] = []
    const idle: { end: () => void }[] = []
    // Six idle connections beside the busy one: three HTTP/2 sessions, three HTTP/1.1 connections after a request each.
    for (let i = 0; i < 3; i++) {
      const session = await h2Connect(server.url, ca.caPem)
      session.on('error', () => {})
      expect((await h2Call(session, '/healthz')).status).toBe(200)
      session.once('close', () => closed.push(`h2-${i}`))
      idle.push({ end: () => session.destroy() })
    }
    for (let i = 0; i < 3; i++) {
      const socket = connectTls({ host: '127.0.0.1', port: server.port, ca: ca.caPem, ALPNProtocols: ['http/1.1'] })
      socket.on('error', () => {})
      let data = ''
      socket.on('data', (d) => (data += d))
      await new Promise((r) => socket.once('secureConnect', r))
      socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
      while (!data.includes('\r\n\r\n')) await new Promise((r) => setTimeout(r, 10))
      socket.once('close', () => closed.push(`h1-${i}`))
      idle.push({ end: () => socket.destroy() })
    }
    try {
      const fresh = await httpsCall(server.url, ca.caPem, '/healthz')
      expect(fresh.status).toBe(200)
      await new Promise((r) => setTimeout(r, 300))
      // Seven were open at the cap of six: the first idle one (the oldest) made room.
      expect(closed[0]).toBe('h2-0')
      expect(busy.closed || busy.destroyed).toBe(false)
      const created = await httpsCall(server.url, ca.caPem, `${NS}/pods`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify(pod('after-cap', '10.1.0.1')) })
      expect(created.status, created.body).toBe(201)
      await watch.until((events) => events.some((e) => e.object.metadata.name === 'after-cap'), 5000, 'event on the busy connection')
    } finally {
      for (const c of idle) c.end()
      busy.destroy()
    }
  })
})

describe('SIGHUP', () => {
  it('serves a new certificate to new connections, keeps open ones, and keeps the old certificate when the new files are bad', async () => {
    const ca = makeTestCa()
    const first = ca.issue('first')
    const second = ca.issue('second')
    // The server reads these paths; the test replaces what they hold.
    const live = { commonName: 'live', certFile: `${ca.dir}/live.crt.pem`, keyFile: `${ca.dir}/live.key.pem` }
    copyFileSync(first.certFile, live.certFile)
    copyFileSync(first.keyFile, live.keyFile)
    const server = await startTlsServer(live)
    try {
      expect(await presentedName(server.port, ca.caPem)).toBe('first')
      const open = await h2Connect(server.url, ca.caPem)
      expect((await h2Call(open, '/healthz')).status).toBe(200)

      copyFileSync(second.certFile, live.certFile)
      copyFileSync(second.keyFile, live.keyFile)
      process.kill(serverPid(server), 'SIGHUP')
      await until(() => server.output().includes('SIGHUP: serving'), 10_000, `the reload in the log:\n${server.output()}`)
      expect(await presentedName(server.port, ca.caPem)).toBe('second')
      // The connection opened before the reload was not dropped.
      expect((await h2Call(open, '/healthz')).status).toBe(200)
      expect(open.closed || open.destroyed).toBe(false)
      open.close()
      // New connections still choose HTTP/2 by ALPN under the new certificate.
      const fresh = await h2Connect(server.url, ca.caPem)
      expect(fresh.alpnProtocol).toBe('h2')
      expect((await h2Call(fresh, `${NS}/pods`, { headers: AUTH })).status).toBe(200)
      fresh.close()

      writeFileSync(live.certFile, 'not a certificate\n')
      process.kill(serverPid(server), 'SIGHUP')
      await until(() => server.output().includes('SIGHUP: keeping the certificate in use'), 10_000, `the refused reload in the log:\n${server.output()}`)
      expect(server.output()).toMatch(/keeping the certificate in use: TLS_CERT_FILE=.*live\.crt\.pem and TLS_KEY_FILE=/)
      expect(await presentedName(server.port, ca.caPem)).toBe('second')
      expect((await httpsCall(server.url, ca.caPem, '/healthz')).status).toBe(200)
    } finally {
      await server.stop('SIGKILL')
    }
  }, 60_000)
})

async function until(predicate: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/**
 * `npm start` with `env`: whether it started (then it is stopped at once), what it
 * printed, and what /healthz answered on loopback (over HTTPS trusting `ca` when given).
 */
async function startUp(env: Record<string, string>, ca?: string): Promise<{ started: boolean; output: string; port?: number; health?: number }> {
  let server: ServerProcess
  try {
    server = await startServer({ env })
  } catch (e) {
    return { started: false, output: (e as Error).message }
  }
  try {
    const health = ca ? (await httpsCall(server.url, ca, '/healthz')).status : (await fetch(`${server.url}/healthz`)).status
    return { started: true, output: server.output(), port: server.port, health }
  } finally {
    await server.stop('SIGKILL')
  }
}

describe('start-up', () => {
  it('refuses plain HTTP with tokens on a non-loopback HOST, unless ALLOW_PLAIN_HTTP=true says so (with a warning)', async () => {
    const refused = await startUp({ HOST: '0.0.0.0' })
    expect(refused.started, refused.output).toBe(false)
    expect(refused.output).toMatch(/HOST=0\.0\.0\.0 is not a loopback address: .*set TLS_CERT_FILE and TLS_KEY_FILE, or ALLOW_PLAIN_HTTP=true/)
    expect(refused.output).not.toMatch(/listening on/)

    const allowed = await startUp({ HOST: '0.0.0.0', ALLOW_PLAIN_HTTP: 'true' })
    expect(allowed.started, allowed.output).toBe(true)
    expect(allowed.output).toMatch(/ALLOW_PLAIN_HTTP=true: serving plain HTTP on 0\.0\.0\.0; tokens cross the network in cleartext/)
    expect(allowed.health).toBe(200)

    const ca = makeTestCa()
    const overTls = await startUp({ HOST: '0.0.0.0', ...tlsEnv(ca.issue('any-host')) }, ca.caPem)
    expect(overTls.started, overTls.output).toBe(true)
    expect(overTls.output).toMatch(new RegExp(`listening on https://0\\.0\\.0\\.0:${overTls.port} `))
    expect(overTls.output).not.toMatch(/ALLOW_PLAIN_HTTP/)
    expect(overTls.health).toBe(200)

    // Loopback needs no TLS.
    const loopback = await startUp({ HOST: '127.0.0.1' })
    expect(loopback.started, loopback.output).toBe(true)
    expect(loopback.output).not.toMatch(/ALLOW_PLAIN_HTTP/)
  }, 120_000)

  it('stops with a message naming the variable when the files are half given, unreadable or do not fit together', async () => {
    const ca = makeTestCa()
    const a = ca.issue('a')
    const b = ca.issue('b')
    const half = await startUp({ TLS_CERT_FILE: a.certFile })
    expect(half.started, half.output).toBe(false)
    expect(half.output).toMatch(/invalid configuration: TLS_KEY_FILE: must be set when TLS_CERT_FILE is/)

    const missing = await startUp({ TLS_CERT_FILE: `${ca.dir}/absent.pem`, TLS_KEY_FILE: a.keyFile })
    expect(missing.started, missing.output).toBe(false)
    expect(missing.output).toContain(`switchboard: TLS_CERT_FILE=${ca.dir}/absent.pem cannot be read: ENOENT`)

    const mismatched = await startUp({ TLS_CERT_FILE: a.certFile, TLS_KEY_FILE: b.keyFile })
    expect(mismatched.started, mismatched.output).toBe(false)
    expect(mismatched.output).toMatch(/TLS_CERT_FILE=.*a\.crt\.pem and TLS_KEY_FILE=.*b\.key\.pem are not a PEM certificate chain and its private key/)
    for (const result of [half, missing, mismatched]) expect(result.output).not.toMatch(/at .*\.ts:\d+|listening on/)
  }, 120_000)
})
