/**
 * The dashboard's tokens section, for admin tokens of every namespace (others get 403 and
 * never see it): the list, a form that creates a token and shows its secret this once,
 * and a revoke button per token.
 */
import { ApiError, call } from './api.js'
import { byId, el, onSubmit, replace } from './dom.js'

type Token = { metadata: { name: string }; spec?: { role?: string; namespaces?: string[]; expiresAt?: string } }

export async function loadTokens(): Promise<void> {
  const section = byId('tokens-section')
  try {
    const list = await call('GET', '/apis/switchboard.dev/v1/tokens')
    section.hidden = false
    const rows = (list.items ?? []).map((t: Token) =>
      el(
        'tr',
        {},
        el('th', { scope: 'row' }, t.metadata.name),
        el('td', {}, t.spec?.role ?? ''),
        el('td', {}, (t.spec?.namespaces ?? []).join(', ')),
        el('td', {}, t.spec?.expiresAt ?? 'never'),
        el('td', {}, el('button', { type: 'button', 'data-key': `revoke:${t.metadata.name}`, 'data-revoke': t.metadata.name }, `Revoke ${t.metadata.name}`)),
      ),
    )
    replace(byId('tokens').querySelector('tbody')!, ...(rows.length ? rows : [el('tr', {}, el('td', { colspan: '5' }, 'No tokens.'))]))
  } catch (e) {
    // Only admins of every namespace see tokens; any other failure is said in the section.
    if (e instanceof ApiError && (e.code === 403 || e.code === 401)) section.hidden = true
    else replace(byId('token-result'), el('p', { class: 'error' }, `Tokens could not be read: ${(e as Error).message}`))
  }
}

async function createToken(): Promise<void> {
  const out = byId('token-result')
  const name = byId<HTMLInputElement>('token-name').value.trim()
  const expiresAt = byId<HTMLInputElement>('token-expires').value.trim()
  const body = {
    apiVersion: 'switchboard.dev/v1',
    kind: 'Token',
    metadata: { name },
    spec: {
      role: byId<HTMLSelectElement>('token-role').value,
      namespaces: byId<HTMLInputElement>('token-namespaces').value.split(',').map((s) => s.trim()).filter(Boolean),
      ...(expiresAt ? { expiresAt } : {}),
    },
  }
  try {
    const token = await call('POST', '/apis/switchboard.dev/v1/tokens', body)
    replace(out, el('p', {}, `Token ${name} created. Its secret is shown this once:`), el('p', { class: 'secret' }, token.status?.secret ?? ''))
    await loadTokens()
  } catch (e) {
    replace(out, el('p', { class: 'error' }, `Token not created: ${(e as Error).message}`))
  }
}

async function revokeToken(name: string): Promise<void> {
  const out = byId('token-result')
  try {
    await call('DELETE', `/apis/switchboard.dev/v1/tokens/${encodeURIComponent(name)}`)
    replace(out, el('p', {}, `Token ${name} revoked.`))
  } catch (e) {
    replace(out, el('p', { class: 'error' }, `Token ${name} not revoked: ${(e as Error).message}`))
  }
  await loadTokens()
}

export function mountTokens(): void {
  byId('tokens').addEventListener('click', (ev) => {
    const button = (ev.target as Element).closest<HTMLButtonElement>('button[data-revoke]')
    if (button) void revokeToken(button.dataset.revoke!)
  })
  onSubmit('token-form', createToken)
}
