/**
 * The dashboard: namespaces, services, their endpoints (with the time left on each
 * pod's lease, counting down) and pods, kept live by watches; and the actions —
 * readiness, drain and restore, a weight change with a resourceVersion precondition and
 * the pick simulator. The DNS box (dns-box.ts) and the tokens (tokens.ts) are their own.
 */
import { ApiError, call, query } from './api.js'
import { byId, chips, el, flag, onSubmit, replace } from './dom.js'
import { mountDnsBox } from './dns-box.js'
import { loadTokens, mountTokens } from './tokens.js'
import { LiveList, type WatchEvent } from './watch.js'
import { session } from './session.js'
import { drawPicks, type PickOutcome } from './picks.js'

const WEIGHT = 'switchboard.dev/weight'
const LEASE = 'switchboard.dev/lease'
const SERVICE_NAME = 'kubernetes.io/service-name'

type Obj = { metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; [k: string]: any }

class Store {
  readonly items = new Map<string, Obj>()
  set(items: Obj[]): void {
    this.items.clear()
    for (const i of items) this.items.set(i.metadata.name, i)
  }
  apply(e: WatchEvent): void {
    if (e.type === 'DELETED') this.items.delete(e.object.metadata.name)
    else this.items.set(e.object.metadata.name, e.object)
  }
  sorted(): Obj[] {
    return [...this.items.values()].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
  }
}

const namespaces = new Store()
const services = new Store()
const pods = new Store()
const leases = new Store()
const slices = new Store()
let namespace = 'default'
let watches: LiveList[] = []
let renderQueued = false
/** The pod and resourceVersion the weight form edits: set when a pod is chosen, so a write by someone else in between is a 409. */
let weightBase: { pod: string; resourceVersion: string } | null = null

/** Announces a change or a failure (an aria-live region). */
function live(message: string): void {
  byId('live').textContent = message
}

function path(resource: string): string {
  const ns = encodeURIComponent(namespace)
  if (resource === 'leases') return `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases`
  if (resource === 'endpointslices') return `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`
  return `/api/v1/namespaces/${ns}/${resource}`
}

function weightOf(pod: Obj): number {
  const w = pod.metadata.annotations?.[WEIGHT]
  return w === undefined ? 1 : Number(w)
}

function readyOf(pod: Obj): boolean {
  return (pod.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True')
}

/** Milliseconds left on the pod's lease; null when the pod names none, undefined when the lease does not exist. */
function leaseLeft(pod: Obj | undefined): number | null | undefined {
  const name = pod?.metadata.annotations?.[LEASE]
  if (!name) return null
  const lease = leases.items.get(name)
  if (!lease) return undefined
  const renew = Date.parse(lease.spec?.renewTime ?? lease.spec?.acquireTime ?? '')
  if (!lease.spec?.holderIdentity || Number.isNaN(renew)) return 0
  return renew + (lease.spec.leaseDurationSeconds ?? 0) * 1000 - Date.now()
}

function leaseText(pod: Obj | undefined): string {
  const left = leaseLeft(pod)
  if (left === null) return '—'
  const name = pod!.metadata.annotations![LEASE]!
  if (left === undefined) return `${name}: no such lease`
  return left > 0 ? `${name}: ${(left / 1000).toFixed(1)} s` : `${name}: lapsed`
}

function leaseCell(pod: Obj | undefined): HTMLElement {
  return el('td', { 'data-lease-pod': pod?.metadata.name ?? '' }, leaseText(pod))
}

function scheduleRender(): void {
  if (renderQueued) return
  renderQueued = true
  setTimeout(() => {
    renderQueued = false
    render()
  }, 0)
}

function render(): void {
  renderNamespaces()
  renderServices()
  renderEndpoints()
  renderPods()
  renderSelects()
}

function renderNamespaces(): void {
  const select = byId<HTMLSelectElement>('namespace')
  const names = namespaces.sorted().map((n) => n.metadata.name)
  if (!names.includes(namespace)) names.unshift(namespace)
  replace(select, ...names.map((n) => el('option', { value: n, selected: n === namespace }, n)))
  byId('namespaces').textContent = `${namespaces.items.size} namespace(s): ${names.join(', ')}`
}

function renderServices(): void {
  const rows = services.sorted().map((s) =>
    el(
      'tr',
      {},
      el('th', { scope: 'row' }, s.metadata.name),
      el('td', {}, s.spec?.type ?? 'ClusterIP'),
      el('td', {}, s.spec?.clusterIP ?? ''),
      el('td', {}, (s.spec?.ports ?? []).map((p: any) => `${p.name ? `${p.name}:` : ''}${p.port}/${p.protocol ?? 'TCP'}→${p.targetPort ?? p.port}`).join(', ')),
      el('td', {}, chips(s.spec?.selector)),
    ),
  )
  replace(byId('services').querySelector('tbody')!, ...(rows.length ? rows : [el('tr', {}, el('td', { colspan: '5' }, 'No services in this namespace.'))]))
}

function renderEndpoints(): void {
  const blocks: Node[] = []
  for (const s of services.sorted()) {
    const mine = slices.sorted().filter((sl) => sl.metadata.labels?.[SERVICE_NAME] === s.metadata.name)
    const rows: HTMLElement[] = []
    for (const slice of mine) {
      for (const e of slice.endpoints ?? []) {
        const pod = e.targetRef?.name ? pods.items.get(e.targetRef.name) : undefined
        rows.push(
          el(
            'tr',
            {},
            el('td', {}, e.targetRef?.name ?? '—'),
            el('td', {}, (e.addresses ?? []).join(', ')),
            el('td', {}, flag(e.conditions?.ready)),
            el('td', {}, flag(e.conditions?.serving)),
            el('td', {}, flag(e.conditions?.terminating, false)),
            el('td', {}, String(e.weight ?? 1)),
            el('td', {}, e.zone ?? '—'),
            leaseCell(pod),
          ),
        )
      }
    }
    const head = ['Pod', 'Addresses', 'Ready', 'Serving', 'Terminating', 'Weight', 'Zone', 'Lease left'].map((h) => el('th', { scope: 'col' }, h))
    blocks.push(
      el(
        'table',
        { 'data-service': s.metadata.name },
        el('caption', {}, `${s.metadata.name}: ${rows.length} endpoint(s)`),
        el('thead', {}, el('tr', {}, ...head)),
        el('tbody', {}, ...(rows.length ? rows : [el('tr', {}, el('td', { colspan: '8' }, 'No endpoints.'))])),
      ),
    )
  }
  replace(byId('endpoints'), ...(blocks.length ? blocks : [el('p', { class: 'note' }, 'No services, so no endpoints.')]))
}

function renderPods(): void {
  const rows = pods.sorted().map((p) => {
    const name = p.metadata.name
    const ready = readyOf(p)
    const weight = weightOf(p)
    return el(
      'tr',
      { 'data-pod': name },
      el('th', { scope: 'row' }, name),
      el('td', {}, [p.status?.podIP, ...(p.status?.podIPs ?? []).map((x: any) => x.ip)].filter((x, i, a) => x && a.indexOf(x) === i).join(', ')),
      el('td', {}, chips(p.metadata.labels)),
      el('td', {}, ...(p.status?.conditions ?? []).map((c: any) => el('span', { class: 'chip' }, `${c.type}=${c.status}${c.reason ? ` (${c.reason})` : ''}`))),
      el('td', { class: 'weight' }, String(weight)),
      leaseCell(p),
      el(
        'td',
        {},
        el('button', { type: 'button', 'data-key': `ready:${name}`, 'data-action': 'ready', 'data-pod': name, 'data-value': String(!ready) }, ready ? `Mark ${name} not ready` : `Mark ${name} ready`),
        el('button', { type: 'button', 'data-key': `drain:${name}`, 'data-action': 'weight', 'data-pod': name, 'data-value': weight === 0 ? '1' : '0' }, weight === 0 ? `Restore ${name}` : `Drain ${name}`),
      ),
    )
  })
  replace(byId('pods').querySelector('tbody')!, ...(rows.length ? rows : [el('tr', {}, el('td', { colspan: '7' }, 'No pods in this namespace.'))]))
}

function renderSelects(): void {
  const keep = (id: string, values: string[]) => {
    const select = byId<HTMLSelectElement>(id)
    const current = select.value
    replace(select, ...values.map((v) => el('option', { value: v, selected: v === current }, v)))
  }
  keep('weight-pod', pods.sorted().map((p) => p.metadata.name))
  keep('pick-service', services.sorted().map((s) => s.metadata.name))
  const dnsName = byId<HTMLInputElement>('dns-name')
  const first = services.sorted()[0]
  if (!dnsName.value && first) dnsName.value = `${first.metadata.name}.${namespace}.svc.cluster.local`
  const pod = byId<HTMLSelectElement>('weight-pod').value
  if (pod && weightBase?.pod !== pod) chooseWeightPod()
}

/** The weight form starts from the pod as it is now: its weight, and its resourceVersion as the precondition. */
function chooseWeightPod(): void {
  const name = byId<HTMLSelectElement>('weight-pod').value
  const pod = pods.items.get(name)
  if (!pod) return
  weightBase = { pod: name, resourceVersion: pod.metadata.resourceVersion ?? '' }
  byId<HTMLInputElement>('weight-value').value = String(weightOf(pod))
}

function tickLeases(): void {
  for (const cell of document.querySelectorAll<HTMLElement>('[data-lease-pod]')) {
    const name = cell.dataset.leasePod
    if (name) cell.textContent = leaseText(pods.items.get(name))
  }
}

/** The stores of one namespace's objects; emptied when another namespace is shown. */
const namespaced = [services, pods, leases, slices]

function watchNamespace(): void {
  for (const w of watches) w.stop()
  for (const store of namespaced) store.set([])
  scheduleRender()
  const state = new Map<string, string>()
  const onState = (what: string) => (s: string) => {
    state.set(what, s)
    const down = [...state].filter(([, v]) => v !== 'live')
    byId('connection').textContent = down.length ? `Updates paused: ${down.map(([k, v]) => `${k} ${v}`).join(', ')}` : `Live: watching namespace ${namespace}.`
  }
  const follow = (store: Store, resource: string, listPath: string) =>
    new LiveList({
      path: listPath,
      onList: (items) => {
        store.set(items)
        // A token that does not reach the namespace shown starts on the first one it reaches.
        if (resource === 'namespaces' && items.length && !store.items.has(namespace)) {
          namespace = store.sorted()[0]!.metadata.name
          watchNamespace()
          return
        }
        scheduleRender()
      },
      onEvent: (e) => {
        store.apply(e)
        if (resource !== 'namespaces' && resource !== 'endpointslices') {
          live(`${e.object.kind ?? resource} ${e.object.metadata?.name} ${e.type.toLowerCase()}.`)
        }
        if (resource === 'pods' && e.object.metadata?.name === weightBase?.pod && e.type === 'DELETED') weightBase = null
        scheduleRender()
      },
      onState: onState(resource),
    })
  watches = [
    follow(namespaces, 'namespaces', '/api/v1/namespaces'),
    follow(services, 'services', path('services')),
    follow(pods, 'pods', path('pods')),
    follow(leases, 'leases', path('leases')),
    follow(slices, 'endpointslices', path('endpointslices')),
  ]
}

async function podAction(button: HTMLButtonElement): Promise<void> {
  const pod = button.dataset.pod!
  const value = button.dataset.value!
  const base = `${path('pods')}/${encodeURIComponent(pod)}`
  try {
    if (button.dataset.action === 'ready') {
      await call('PATCH', `${base}/status`, { status: { conditions: [{ type: 'Ready', status: value === 'true' ? 'True' : 'False' }] } }, 'application/strategic-merge-patch+json')
    } else {
      await call('PATCH', base, { metadata: { annotations: { [WEIGHT]: value } } }, 'application/merge-patch+json')
    }
  } catch (e) {
    live(`${pod}: ${(e as Error).message}`)
  }
}

async function setWeight(): Promise<void> {
  const out = byId('weight-result')
  const input = byId<HTMLInputElement>('weight-value')
  const name = byId<HTMLSelectElement>('weight-pod').value
  if (!weightBase || weightBase.pod !== name) chooseWeightPod()
  const base = weightBase
  if (!base) return
  const wanted = input.value
  out.className = ''
  try {
    const pod = await call<Obj>(
      'PATCH',
      `${path('pods')}/${encodeURIComponent(name)}`,
      { metadata: { resourceVersion: base.resourceVersion, annotations: { [WEIGHT]: wanted } } },
      'application/merge-patch+json',
    )
    weightBase = { pod: name, resourceVersion: pod.metadata.resourceVersion ?? '' }
    out.textContent = `Weight of ${name} set to ${wanted}.`
  } catch (e) {
    out.className = 'error'
    if (e instanceof ApiError && e.code === 409) {
      // Someone changed the pod since it was chosen here: show what it is now, keep the user's value to resubmit.
      try {
        const current = await call<Obj>('GET', `${path('pods')}/${encodeURIComponent(name)}`)
        weightBase = { pod: name, resourceVersion: current.metadata.resourceVersion ?? '' }
        out.textContent = `Conflict: ${name} changed since you chose it; its weight is now ${weightOf(current)}. Your value ${wanted} was not applied — submit again to set it.`
      } catch (again) {
        out.textContent = `Conflict: ${name} changed since you chose it, and could not be read again: ${(again as Error).message}`
      }
      return
    }
    out.textContent = `Weight not changed: ${(e as Error).message}`
  }
}

async function runPicks(): Promise<void> {
  const out = byId('pick-result')
  const service = byId<HTMLSelectElement>('pick-service').value
  const count = Math.max(1, Math.min(1000, Number(byId<HTMLInputElement>('pick-count').value) || 1))
  if (!service) return
  const url = `${path('services')}/${encodeURIComponent(service)}/pick`
  out.textContent = `Running ${count} picks…`
  try {
    const explained = await call('GET', `${url}?${query({ explain: 'true' })}`)
    const counts = new Map<string, number>()
    for (let i = 0; i < count; i++) {
      const pick = await call('GET', url)
      const key = pick.pod ?? pick.address
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
    const outcome: PickOutcome = { service, count, counts, explain: explained.explain }
    replace(out, drawPicks(outcome))
  } catch (e) {
    replace(out, el('p', { class: 'error' }, `Picks failed: ${(e as Error).message}`))
  }
}

function wire(): void {
  byId<HTMLSelectElement>('namespace').addEventListener('change', (ev) => {
    namespace = (ev.target as HTMLSelectElement).value
    weightBase = null
    byId<HTMLInputElement>('dns-name').value = ''
    watchNamespace()
  })
  byId('pods').addEventListener('click', (ev) => {
    const button = (ev.target as Element).closest<HTMLButtonElement>('button[data-action]')
    if (button) void podAction(button)
  })
  byId<HTMLSelectElement>('weight-pod').addEventListener('change', chooseWeightPod)
  onSubmit('weight-form', setWeight)
  onSubmit('pick-form', runPicks)
  mountDnsBox()
  mountTokens()
}

wire()
session({
  start: () => {
    byId<HTMLInputElement>('token-namespaces').value ||= namespace
    watchNamespace()
    void loadTokens()
    const ticker = setInterval(tickLeases, 200)
    return () => {
      clearInterval(ticker)
      for (const w of watches) w.stop()
      watches = []
      for (const store of [namespaces, ...namespaced]) store.set([])
      weightBase = null
      byId('tokens-section').hidden = true
      render()
    }
  },
})
