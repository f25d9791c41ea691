/**
 * Two DNS-over-HTTPS clients that share nothing with the server's codec, both giving
 * their results in one shape (that of test/e2e/doh_client.py):
 *
 * - `npmDoh`: dns-packet (an npm DNS codec) encodes each query and decodes each answer,
 *   sent by Node's fetch (undici); it needs nothing outside npm, so it runs in every run
 * - `dnspythonDoh`: dnspython's own DoH client, in Python; it needs dnspython and httpx
 *   (tools.ts `findDnspython`), and the tests that use it are skipped without them
 *
 * Records are in presentation form (`data` as dnspython prints it), names absolute.
 */
import { spawnSync } from 'node:child_process'
import { randomInt } from 'node:crypto'
import * as dnsPacket from 'dns-packet'
import { DNSPYTHON_INSTALL_HINT, findDnspython, reportSkip } from './tools'

export interface DohQuery {
  name: string
  type: string
  method: 'GET' | 'POST'
  /** The endpoint for this query, when not the client's default. */
  url?: string
  /** Adds an OPT record (EDNS version 0). */
  edns?: boolean
}

export interface Rec {
  name: string
  type: string
  class: string
  ttl: number
  data: string
}

export interface DohResult {
  query: DohQuery
  error?: string
  rcode: string
  flags: string[]
  idMatches: boolean
  /** The EDNS version of the answer, -1 without an OPT record. */
  edns: number
  answer: Rec[]
  authority: Rec[]
  additional: Rec[]
  soaSerial: number | null
}

const CLIENT = new URL('../e2e/doh_client.py', import.meta.url).pathname

/** Runs every query through dnspython; throws when the client itself fails (a query's failure is its result's `error`). */
export function dnspythonDoh(python: string, url: string, queries: DohQuery[]): DohResult[] {
  const run = spawnSync(python, [CLIENT, url], { input: JSON.stringify(queries), encoding: 'utf8', timeout: 60_000 })
  if (run.status !== 0) throw new Error(`doh_client.py exited ${run.status}: ${run.error?.message ?? run.stderr}`)
  const out = JSON.parse(run.stdout) as DohResult[]
  if (out.length !== queries.length) throw new Error(`doh_client.py answered ${out.length} of ${queries.length} queries`)
  return out
}

const abs = (name: string) => (name.endsWith('.') ? name : `${name}.`)
const quoted = (s: string) => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`

/** A dns-packet record's data as dnspython's `to_text()` prints it. */
function presentation(r: dnsPacket.Answer): string {
  const d = (r as { data: unknown }).data as any
  switch (r.type) {
    case 'A':
    case 'AAAA':
      return String(d)
    case 'CNAME':
    case 'PTR':
    case 'NS':
      return abs(String(d))
    case 'SRV':
      return `${d.priority ?? 0} ${d.weight ?? 0} ${d.port} ${abs(d.target)}`
    case 'SOA':
      return `${abs(d.mname)} ${abs(d.rname)} ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`
    case 'TXT':
      return (Array.isArray(d) ? d : [d]).map((s: Buffer | string) => quoted(s.toString())).join(' ')
    case 'HINFO':
      return `${quoted(d.cpu)} ${quoted(d.os)}`
    default:
      return JSON.stringify(d)
  }
}

const records = (section: dnsPacket.Answer[] = []): Rec[] =>
  section.filter((r) => r.type !== 'OPT').map((r) => ({ name: abs(r.name), type: r.type, class: String((r as { class?: string }).class ?? 'IN'), ttl: (r as { ttl?: number }).ttl ?? 0, data: presentation(r) }))

const FLAGS = [
  ['QR', 'flag_qr'],
  ['AA', 'flag_aa'],
  ['TC', 'flag_tc'],
  ['RD', 'flag_rd'],
  ['RA', 'flag_ra'],
  ['AD', 'flag_ad'],
  ['CD', 'flag_cd'],
] as const

/** Asks one query with dns-packet over fetch, as RFC 8484 says: GET with `dns=` (base64url, no padding) or POST. */
async function askNpm(url: string, q: DohQuery): Promise<Omit<DohResult, 'query'>> {
  const id = randomInt(0, 65536)
  const packet: dnsPacket.Packet = {
    type: 'query',
    id,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ name: q.name, type: q.type as dnsPacket.RecordType, class: 'IN' }],
    ...(q.edns ? { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232 } as dnsPacket.Answer] } : {}),
  }
  const wire = dnsPacket.encode(packet)
  const target = q.url ?? url
  const res =
    q.method === 'GET'
      ? await fetch(`${target}?dns=${wire.toString('base64url')}`, { headers: { accept: 'application/dns-message' } })
      : await fetch(target, { method: 'POST', headers: { accept: 'application/dns-message', 'content-type': 'application/dns-message' }, body: new Uint8Array(wire) })
  const body = Buffer.from(await res.arrayBuffer())
  if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${body.toString('utf8').slice(0, 200)}`)
  if (res.headers.get('content-type') !== 'application/dns-message') throw new Error(`content type ${res.headers.get('content-type')}`)
  const answer = dnsPacket.decode(body) as dnsPacket.DecodedPacket & Record<string, unknown>
  const opt = (answer.additionals ?? []).find((r) => r.type === 'OPT') as { ednsVersion?: number } | undefined
  const soa = (answer.authorities ?? []).filter((r) => r.type === 'SOA').map((r) => (r as { data: { serial: number } }).data.serial)
  return {
    rcode: String(answer.rcode),
    flags: FLAGS.filter(([, key]) => answer[key] === true).map(([flag]) => flag),
    idMatches: answer.id === id,
    edns: opt ? (opt.ednsVersion ?? 0) : -1,
    answer: records(answer.answers),
    authority: records(answer.authorities),
    additional: records(answer.additionals),
    soaSerial: soa[0] ?? null,
  }
}

/** Runs every query through dns-packet and fetch, a few at a time; a query's failure is its result's `error`. */
export async function npmDoh(url: string, queries: DohQuery[]): Promise<DohResult[]> {
  const results: DohResult[] = new Array(queries.length)
  let next = 0
  const worker = async () => {
    while (next < queries.length) {
      const i = next++
      const query = queries[i]!
      try {
        results[i] = { query, ...(await askNpm(url, query)) }
      } catch (e) {
        results[i] = { query, error: String(e), rcode: '', flags: [], idMatches: false, edns: -1, answer: [], authority: [], additional: [], soaSerial: null }
      }
    }
  }
  await Promise.all(Array.from({ length: 4 }, worker))
  return results
}

export interface DohClient {
  name: string
  run: (url: string, queries: DohQuery[]) => DohResult[] | Promise<DohResult[]>
  /** Its tool is missing: the tests that use it are skipped. */
  skip: boolean
}

/** Both clients; when dnspython is missing, prints that `tests` are skipped and how to install it. */
export function dohClients(tests: string): DohClient[] {
  const found = findDnspython()
  if ('missing' in found) reportSkip(`dnspython ${tests}`, found.missing, DNSPYTHON_INSTALL_HINT)
  return [
    { name: 'dns-packet over fetch (npm)', run: npmDoh, skip: false },
    { name: 'dnspython', run: (url, queries) => dnspythonDoh('python' in found ? found.python : '', url, queries), skip: 'missing' in found },
  ]
}
