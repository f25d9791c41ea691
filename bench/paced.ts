/**
 * Requests paced at a fixed rate, sent from a worker thread of their own through node:http
 * (keep-alive), so that a load generator measuring something else beside them (the DoH
 * rounds of leases.ts) keeps its event loop to itself: paced from the measuring loop with
 * fetch, 1,000 requests/s cost that loop about a third of a core, and the ratio measured
 * the load generator instead of the server.
 *
 * What to send is data, not a closure (it crosses to the thread): renewals of leases in a
 * given order (a merge patch of renewTime, checked in the answer) or GETs of one URL whose
 * answer must equal a given text.
 */
import { Worker } from 'node:worker_threads'

export type PacedShots =
  | { kind: 'renewal'; base: string; names: string[]; from: number }
  | { kind: 'get'; url: string; expect: string }

export interface PacedOutcome {
  sent: number
  problems: string[]
  seconds: number
}

/** A request the thread sent that has not been answered after this long fails (and its loop goes on). */
const REQUEST_TIMEOUT_MS = 10_000

/**
 * Starts `loops` loops paced together at `perSecond` in a worker thread; resolves once the
 * thread runs and has begun sending. stop() ends them and reports; it must be called
 * (in a finally), or the thread goes on sending.
 */
export async function paced(shots: PacedShots, perSecond: number, loops: number): Promise<{ stop: () => Promise<PacedOutcome> }> {
  const worker = new Worker(THREAD, { eval: true, workerData: { shots, perSecond, loops, timeoutMs: REQUEST_TIMEOUT_MS } })
  let started!: () => void
  const running = new Promise<void>((resolve) => (started = resolve))
  const outcome = new Promise<PacedOutcome>((resolve, reject) => {
    worker.on('message', (m: 'started' | PacedOutcome) => (m === 'started' ? started() : resolve(m)))
    worker.once('error', reject)
    worker.once('exit', (code) => reject(new Error(`the paced sender's thread ended (code ${code}) before reporting`)))
  })
  // Whoever awaits the outcome sees a failure; until then it is not an unhandled rejection.
  outcome.catch(() => {})
  await Promise.race([running, outcome])
  return {
    stop: async () => {
      worker.postMessage('stop')
      try {
        return await outcome
      } finally {
        await worker.terminate()
      }
    },
  }
}

// Plain JavaScript: the thread runs without the TypeScript loader.
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads')
const http = require('node:http')
const { shots, perSecond, loops, timeoutMs } = workerData
const agent = new http.Agent({ keepAlive: true, maxSockets: loops })
const began = performance.now()
let due = 0, sent = 0, cursor = shots.kind === 'renewal' ? shots.from : 0, stopped = false
const problems = []
const microTime = (d) => d.toISOString().slice(0, 23) + '000Z'

function shot() {
  if (shots.kind === 'get') return { method: 'GET', url: shots.url, check: (status, text) => (status === 200 && text === shots.expect ? undefined : 'answered ' + status + ': ' + text.slice(0, 200)) }
  const name = shots.names[cursor++ % shots.names.length]
  const renewTime = microTime(new Date())
  return {
    method: 'PATCH', url: shots.base + '/' + name, body: JSON.stringify({ spec: { renewTime } }),
    headers: { 'content-type': 'application/merge-patch+json' },
    check: (status, text) => {
      if (status !== 200) return 'answered ' + status + ': ' + text.slice(0, 200)
      let got
      try { got = JSON.parse(text).spec?.renewTime } catch (e) { return 'unreadable answer: ' + text.slice(0, 200) }
      return got === renewTime ? undefined : 'renewTime is ' + got + ', expected ' + renewTime
    },
  }
}

function send(s) {
  return new Promise((resolve) => {
    const req = http.request(s.url, { agent, method: s.method, headers: s.headers ?? {} }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c) => (text += c))
      res.on('end', () => resolve(s.check(res.statusCode, text)))
      res.on('error', (e) => resolve(e.message))
    })
    req.setTimeout(timeoutMs, () => req.destroy(new Error('no answer within ' + timeoutMs + ' ms')))
    req.on('error', (e) => resolve(e.message))
    req.end(s.body)
  })
}

async function loop() {
  while (!stopped) {
    const wait = began + (due++ * 1000) / perSecond - performance.now()
    if (wait > 0) await new Promise((r) => setTimeout(r, wait))
    if (stopped) return
    const problem = await send(shot())
    sent++
    if (problem) problems.push(problem)
  }
}

const running = Promise.all(Array.from({ length: loops }, loop))
parentPort.postMessage('started')
parentPort.once('message', async () => {
  stopped = true
  const seconds = (performance.now() - began) / 1000
  await running
  agent.destroy()
  parentPort.postMessage({ sent, problems, seconds })
})
`
