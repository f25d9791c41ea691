/**
 * Building the page from data: elements with text content and attributes only, so
 * nothing from the registry is ever parsed as HTML.
 */
type Child = Node | string | number | null | undefined | false

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string | boolean | undefined> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) continue
    e.setAttribute(k, v === true ? '' : v)
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(typeof c === 'number' ? String(c) : c)
  return e
}

const SVG = 'http://www.w3.org/2000/svg'

export function svg(tag: string, attrs: Record<string, string | number> = {}, ...children: (Node | string)[]): SVGElement {
  const e = document.createElementNS(SVG, tag)
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v))
  e.append(...children)
  return e
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id)
  if (!e) throw new Error(`#${id} is missing`)
  return e as T
}

export function chips(map: Record<string, string> | undefined): HTMLElement {
  const span = el('span')
  for (const [k, v] of Object.entries(map ?? {})) span.append(el('span', { class: 'chip' }, `${k}=${v}`))
  return span
}

/** yes or no, in green when it is the healthy answer (`good`) and red otherwise. */
export function flag(value: boolean | undefined, good = true): HTMLElement {
  return el('span', { class: !!value === good ? 'true' : 'false' }, value ? 'yes' : 'no')
}

/** Replaces a container's children, keeping keyboard focus on the element with the same `data-key`. */
export function replace(container: Element, ...children: Node[]): void {
  const active = document.activeElement
  const key = active instanceof HTMLElement && container.contains(active) ? active.dataset.key : undefined
  container.replaceChildren(...children)
  if (key) container.querySelector<HTMLElement>(`[data-key="${CSS.escape(key)}"]`)?.focus()
}

/** Runs `action` on the form's submit, instead of submitting it. */
export function onSubmit(id: string, action: () => Promise<void>): void {
  byId<HTMLFormElement>(id).addEventListener('submit', (ev) => {
    ev.preventDefault()
    void action()
  })
}
