/**
 * The dashboard's DNS box: any name and type, resolved through `/resolve` (DoH JSON,
 * with the session's token) and printed as dig prints an answer (dig.ts).
 */
import { headers, query } from './api.js'
import { formatDig, type DohJson } from './dig.js'
import { byId, onSubmit } from './dom.js'

async function resolve(): Promise<void> {
  const name = byId<HTMLInputElement>('dns-name').value.trim()
  const type = byId<HTMLInputElement>('dns-type').value.trim().toUpperCase() || 'A'
  const out = byId('dig')
  try {
    const res = await fetch(`/resolve?${query({ name, type })}`, { headers: headers({ accept: 'application/dns-json' }) })
    const text = await res.text()
    if (!res.ok) {
      out.textContent = `;; HTTP ${res.status}: ${text}`
      return
    }
    out.textContent = formatDig(JSON.parse(text) as DohJson, { name, type, server: `${location.origin}/resolve`, when: new Date() })
  } catch (e) {
    out.textContent = `;; resolving failed: ${(e as Error).message}`
  }
}

export function mountDnsBox(): void {
  onSubmit('dns-form', resolve)
}
