/**
 * @switchboard/sdk: a typed client for the Switchboard service registry. Runs wherever
 * `fetch` does: Node 20+, Cloudflare Workers, browsers.
 */
export { Switchboard, PodResource, ServiceResource } from './client.js'
export type { ClientOptions, Registration, PickOptions, DnsRecord, Resolution, ReadyEndpoint } from './client.js'
export { Resource } from './resources.js'
export type { ListOptions, CallOptions, PatchOptions, DeleteOptions, Selector } from './resources.js'
export * from './errors.js'
export type * from './types.js'
