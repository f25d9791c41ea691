/**
 * Request bodies through the real Node server, which reads them from its IncomingMessage
 * (worker/http/read-body.ts): the size limit holds whether the body declares its length
 * or streams in chunks, a client that hangs up mid-body costs nothing, and the
 * connection's next request is answered. `app.request()` tests cover the web-stream path.
 */
import { request } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_BODY_BYTES } from '../../worker/http/body'
import { startServer, type ServerProcess } from '../support/server'
import { OPEN_ACCESS, serverApi, type ServerApi } from '../support/server-api'

let server: ServerProcess
let api: ServerApi
beforeAll(async () => {
  server = await startServer({ env: OPEN_ACCESS })
  api = serverApi(server.url)
}, 60_000)
afterAll(async () => {
  await server?.stop('SIGKILL')
})

const SERVICES = '/api/v1/namespaces/default/services'

/** Sends a POST whose body is written in `chunks` (no Content-Length: chunked); resolves with the status and body. */
function post(path: string, chunks: string[], options: { declared?: number; abortAfter?: number } = {}): Promise<{ status: number; text: string }> {
  const url = new URL(path, server.url)
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-type': 'application/json' }
    if (options.declared !== undefined) headers['content-length'] = options.declared
    const req = request(url, { method: 'POST', headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => (text += d))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
    })
    req.on('error', (e) => (options.abortAfter !== undefined ? resolve({ status: 0, text: e.message }) : reject(e)))
    chunks.forEach((chunk, i) => {
      req.write(chunk)
      if (options.abortAfter === i) req.destroy()
    })
    if (options.abortAfter === undefined) req.end()
  })
}

const service = (name: string) => JSON.stringify({ metadata: { name }, spec: { ports: [{ port: 80 }] } })

describe('request bodies on the Node server', () => {
  it('reads a body sent in many chunks', async () => {
    const body = service('chunked')
    const res = await post(SERVICES, body.match(/.{1,7}/g)!)
    expect(res.status).toBe(201)
    expect((await api('GET', `${SERVICES}/chunked`)).metadata.name).toBe('chunked')
  })

  it('answers 413 to a streamed body past the limit, stores nothing, and keeps serving', async () => {
    const filler = 'x'.repeat(64 * 1024)
    const chunks = [`{"metadata":{"name":"huge","annotations":{"a":"`, ...Array.from({ length: MAX_BODY_BYTES / filler.length + 2 }, () => filler), `"}}}`]
    const res = await post(SERVICES, chunks)
    expect(res.status).toBe(413)
    expect(JSON.parse(res.text)).toMatchObject({ kind: 'Status', reason: 'RequestEntityTooLarge', code: 413 })
    const list = await api('GET', SERVICES)
    expect(list.items.map((s: { metadata: { name: string } }) => s.metadata.name)).not.toContain('huge')
    expect((await post(SERVICES, [service('after-huge')])).status).toBe(201)
  })

  it('answers 413 to a declared length past the limit without reading the body', async () => {
    const res = await post(SERVICES, ['{}'], { declared: MAX_BODY_BYTES + 1 })
    expect(res.status).toBe(413)
  })

  it('survives a client that hangs up in the middle of a body', async () => {
    const body = service('hung-up')
    await post(SERVICES, [body.slice(0, 10), body.slice(10, 20)], { abortAfter: 0, declared: body.length })
    const res = await post(SERVICES, [service('after-hang-up')])
    expect(res.status).toBe(201)
    const names = (await api('GET', SERVICES)).items.map((s: { metadata: { name: string } }) => s.metadata.name)
    expect(names).toContain('after-hang-up')
    expect(names).not.toContain('hung-up')
  })

  it('answers a DoH POST read the same way', async () => {
    const { spec } = await api('POST', SERVICES, JSON.parse(service('dns-post')))
    // A query for dns-post.default.svc.cluster.local A, id 0x1234.
    const name = 'dns-post.default.svc.cluster.local'.split('.').flatMap((l) => [l.length, ...Buffer.from(l)])
    const query = Buffer.from([0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...name, 0, 0, 1, 0, 1])
    const res = await fetch(`${server.url}/dns-query`, { method: 'POST', headers: { 'content-type': 'application/dns-message' }, body: query })
    expect(res.status).toBe(200)
    const answer = new Uint8Array(await res.arrayBuffer())
    expect([answer[0], answer[1]]).toEqual([0x12, 0x34])
    expect(answer[3]! & 0x0f).toBe(0) // NOERROR
    expect((answer[6]! << 8) | answer[7]!).toBe(1) // one answer: its ClusterIP, in the last four bytes
    expect([...answer.slice(-4)].join('.')).toBe(spec.clusterIP)
  })
})
