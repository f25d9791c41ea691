/**
 * A DoH JSON answer (the Google/Cloudflare shape `/resolve` serves) printed as `dig`
 * prints a response: the header with status and flags, then the question, answer,
 * authority and additional sections, one tab-separated record a line.
 */
export interface DohJsonRecord {
  name: string
  type: number
  TTL: number
  data: string
}

export interface DohJson {
  Status: number
  TC?: boolean
  RD?: boolean
  RA?: boolean
  AD?: boolean
  CD?: boolean
  Question?: { name: string; type: number }[]
  Answer?: DohJsonRecord[]
  Authority?: DohJsonRecord[]
  Additional?: DohJsonRecord[]
}

const TYPES: Record<number, string> = { 1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 13: 'HINFO', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV', 41: 'OPT', 252: 'AXFR', 251: 'IXFR', 255: 'ANY' }
const RCODES: Record<number, string> = { 0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED', 9: 'NOTAUTH', 16: 'BADVERS' }

export function typeName(type: number): string {
  return TYPES[type] ?? `TYPE${type}`
}

function rcodeName(code: number): string {
  return RCODES[code] ?? `RCODE${code}`
}

function record(r: DohJsonRecord): string {
  return `${r.name}\t${r.TTL}\tIN\t${typeName(r.type)}\t${r.data}`
}

function section(title: string, records: DohJsonRecord[] | undefined): string[] {
  return records?.length ? ['', `;; ${title} SECTION:`, ...records.map(record)] : []
}

export function formatDig(answer: DohJson, query: { name: string; type: string; server: string; when: Date }): string {
  const flags = ['qr', answer.TC && 'tc', answer.RD && 'rd', answer.RA && 'ra', answer.AD && 'ad', answer.CD && 'cd'].filter(Boolean).join(' ')
  const count = (r: unknown[] | undefined) => r?.length ?? 0
  return [
    `; <<>> Switchboard DoH JSON <<>> ${query.name} ${query.type}`,
    ';; Got answer:',
    `;; ->>HEADER<<- opcode: QUERY, status: ${rcodeName(answer.Status)}, id: 0`,
    `;; flags: ${flags}; QUERY: ${count(answer.Question)}, ANSWER: ${count(answer.Answer)}, AUTHORITY: ${count(answer.Authority)}, ADDITIONAL: ${count(answer.Additional)}`,
    '',
    ';; QUESTION SECTION:',
    ...(answer.Question ?? []).map((q) => `;${q.name}\t\tIN\t${typeName(q.type)}`),
    ...section('ANSWER', answer.Answer),
    ...section('AUTHORITY', answer.Authority),
    ...section('ADDITIONAL', answer.Additional),
    '',
    `;; SERVER: ${query.server} (DNS over HTTPS, application/dns-json)`,
    `;; WHEN: ${query.when.toUTCString()}`,
    '',
  ].join('\n')
}
