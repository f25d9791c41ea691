/**
 * The OpenAPI viewer (`/ui/openapi`): `/openapi/v2` and each group-version of
 * `/openapi/v3`, fetched with the session's token and shown as a tree of
 * `<details>` elements whose children are built when opened.
 */
import { call } from './api.js'
import { byId, el, onSubmit } from './dom.js'
import { session } from './session.js'

function node(key: string, value: unknown): HTMLElement {
  if (value === null || typeof value !== 'object') {
    return el('div', {}, el('span', { class: 'key' }, `${key}: `), el('span', { class: 'scalar' }, JSON.stringify(value)))
  }
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value)
  const details = el('details', {}, el('summary', {}, el('span', { class: 'key' }, key), ` ${Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`}`))
  let built = false
  details.addEventListener('toggle', () => {
    if (built || !details.open) return
    built = true
    for (const [k, v] of entries) details.append(node(k, v))
  })
  return details
}

async function show(): Promise<void> {
  const doc = byId<HTMLSelectElement>('doc').value
  const status = byId('doc-status')
  status.textContent = `Loading ${doc}…`
  try {
    const body = await call('GET', doc)
    const tree = node(doc, body)
    ;(tree as HTMLDetailsElement).open = true
    byId('tree').replaceChildren(tree)
    status.textContent = `${doc}: ${Object.keys(body.paths ?? {}).length} paths.`
  } catch (e) {
    status.textContent = `${doc} could not be read: ${(e as Error).message}`
  }
}

onSubmit('doc-form', show)

session({
  start: () => {
    void call('GET', '/openapi/v3').then((index) => {
      const select = byId<HTMLSelectElement>('doc')
      const keep = select.value
      const options = [el('option', { value: '/openapi/v2' }, '/openapi/v2')]
      for (const [key, ref] of Object.entries<any>(index.paths ?? {})) options.push(el('option', { value: ref.serverRelativeURL ?? `/openapi/v3/${key}` }, `/openapi/v3/${key}`))
      select.replaceChildren(...options)
      select.value = keep
      void show()
    }, () => void show())
    return () => byId('tree').replaceChildren()
  },
})
