/**
 * @switchboard/sdk: a typed client for the Switchboard service registry. Runs wherever
 * `fetch` does: Node 20+, Cloudflare Workers, browsers.
 */
export { Switchboard, ServiceResource } from './client.js'
export type { ClientOptions, PickOptions, DnsRecord, Resolution, ReadyEndpoint } from './client.js'
export { PodResource, LEASE_ANNOTATION } from './pods.js'
export type { PodRegistration } from './pods.js'
export { Registration } from './registration.js'
export type { RegisterOptions, CloseOptions } from './registration.js'
export type { LeaderElectionOptions, LeaderElector } from './leader-election.js'
export { Resource } from './resources.js'
export type { ListOptions, CallOptions, PatchOptions, ApplyOptions, DeleteOptions, Selector } from './resources.js'
export { Page, PagePromise } from './pages.js'
export type { ListAll } from './pages.js'
export { Watch } from './watch.js'
export type { WatchOptions, WatchEvent, WatchEventType, ObjectEvent, BookmarkEvent } from './watch.js'
export { Discovery } from './discovery.js'
export type { DiscoverOptions, LocalEndpoint, LocalPickOptions } from './discovery.js'
export * from './errors.js'
export type * from './types.js'
