/**
 * @switchboard/sdk: a typed client for the Switchboard service registry. Runs wherever
 * `fetch` does: Node 20+, Cloudflare Workers, browsers.
 */
export { Switchboard, PodResource, ServiceResource } from './client'
export type { ClientOptions, Registration, PickOptions, DnsRecord, Resolution, ReadyEndpoint } from './client'
export { Resource } from './resources'
export type { ListOptions, CallOptions, PatchOptions, DeleteOptions, Selector } from './resources'
export * from './errors'
export type * from './types'
