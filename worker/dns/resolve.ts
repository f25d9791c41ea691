/**
 * Name → records, as the Kubernetes DNS specification (schema 1.1.0) says, with
 * CoreDNS' behaviour where the specification is silent. The registry is authoritative
 * for its zone (`cluster.local` by default) and for the reverse zones of the addresses
 * it holds; any other name is REFUSED, since it is not a recursive resolver.
 *
 * Names match case-insensitively; owner names are answered in the query's case.
 * Drained (weight 0) and not-ready endpoints are never answered. An SRV record's weight
 * is its endpoint's pod weight, so weights mean the same in DNS as in the pick.
 * ANY is answered as RFC 8482 suggests: one synthesized HINFO record for a name that
 * exists.
 */
import type { CachedEndpoint, CachedService, DiscoveryCache, DiscoveryReads, Inputs } from '../registry/discovery-cache'
import { isServed } from '../registry/endpoint-conditions'
import { ipFamily } from '../registry/ip-address'
import { dashedIP, normalizeName, parseReverse, splitLabels, stripTrailingDot } from './names'
import { RCODE, TYPE, type RData, type ResourceRecord } from './wire'

export interface ResolverConfig {
  /** The cluster domain, lowercase, without a trailing dot. */
  zone: string
  /** TTL of every answer (seconds). */
  ttl: number
}

export interface Answer {
  rcode: number
  /** Whether the answer is authoritative (false for REFUSED). */
  authoritative: boolean
  answers: ResourceRecord[]
  authorities: ResourceRecord[]
  additionals: ResourceRecord[]
}

/** TTL of the `dns-version` record, as CoreDNS serves it. */
export const VERSION_TTL = 28800
export const SCHEMA_VERSION = '1.1.0'
const REVERSE_ZONES = ['in-addr.arpa', 'ip6.arpa']
const MAX_CNAME_CHASE = 8

export class Resolver {
  constructor(
    private readonly data: DiscoveryCache,
    private readonly config: ResolverConfig,
  ) {}

  /**
   * Answers one question. With `reach`, names in namespaces it rejects answer exactly as
   * if they did not exist, so DNS cannot be used to probe them. With `inputs`, records the
   * cache entries the answer was built from (see `current`).
   */
  resolve(name: string, type: number, reach?: (namespace: string) => boolean, inputs?: Inputs): Promise<Answer> {
    return new Lookup(inputs ? this.data.recording(inputs) : this.data, this.config).lookup(name, type, 0, reach ?? (() => true))
  }

  /** Brings the data behind answers up to date with the change log. */
  sync(): Promise<void> {
    return this.data.sync()
  }

  /** Whether an answer built from `inputs` is still current (after `sync()`). */
  current(inputs: Inputs): boolean {
    return this.data.current(inputs)
  }
}

/** One resolution, over the discovery data it reads through. */
class Lookup {
  constructor(
    private readonly data: DiscoveryReads,
    private readonly config: ResolverConfig,
  ) {}

  async lookup(name: string, type: number, depth: number, reach: (namespace: string) => boolean): Promise<Answer> {
    const lower = normalizeName(name)
    const zone = this.config.zone
    const reverse = REVERSE_ZONES.find((z) => lower === z || lower.endsWith(`.${z}`))
    if (reverse) return this.reverse(name, lower, reverse, type, reach)
    if (lower !== zone && !lower.endsWith(`.${zone}`)) return refused()
    const rel = lower === zone ? [] : splitLabels(lower.slice(0, -(zone.length + 1)))
    const owner = stripTrailingDot(name)

    if (rel.length === 0) return this.apex(owner, type)
    if (rel.length === 1 && rel[0] === 'dns-version') {
      if (type === TYPE.TXT || type === TYPE.ANY) {
        return this.positive([rr(owner, TYPE.TXT, VERSION_TTL, { kind: 'TXT', strings: [SCHEMA_VERSION] })])
      }
      return this.nodata()
    }
    const kind = rel[rel.length - 1]
    if (kind !== 'svc' && kind !== 'pod') return this.nxdomain()
    if (rel.length === 1) return this.nodata()
    const ns = rel[rel.length - 2]!
    if (!reach(ns)) return this.nxdomain()
    if (rel.length === 2) {
      const namespace = await this.data.namespace(ns)
      return namespace.exists ? this.nodata(namespace.serial) : this.nxdomain(namespace.serial)
    }
    // Pod records (`1-2-3-4.<ns>.pod.<zone>`) were removed from the specification in 1.1.0.
    if (kind === 'pod') return this.nxdomain()
    const svcName = rel[rel.length - 3]!
    const lookup = await this.data.service(ns, svcName)
    if (!lookup.namespaceExists || !lookup.service) return this.nxdomain(lookup.serial)
    // DNS answers only ready, non-drained endpoints.
    const svc = { ...lookup.service, endpoints: lookup.service.endpoints.filter(isServed) }
    if (rel.length === 3) return this.service(owner, svc, type, depth, reach)
    if (rel.length === 4) return this.endpoint(owner, svc, rel[0]!, type)
    if (rel.length === 5) return this.srv(owner, svc, rel[0]!, rel[1]!, type)
    return this.nxdomain(lookup.serial)
  }

  private async apex(owner: string, type: number): Promise<Answer> {
    if (type === TYPE.SOA) return this.positive([await this.soa(owner, this.config.ttl)])
    if (type === TYPE.NS) {
      return this.positive([rr(owner, TYPE.NS, this.config.ttl, { kind: 'NS', target: `ns.dns.${this.config.zone}` })])
    }
    if (type === TYPE.ANY) return this.positive([hinfo(owner, this.config.ttl)])
    return this.nodata()
  }

  private async service(owner: string, svc: CachedService, type: number, depth: number, reach: (ns: string) => boolean): Promise<Answer> {
    const ttl = this.config.ttl
    if (svc.type === 'ExternalName') return this.externalName(owner, svc, type, depth, reach)
    if (svc.headless) {
      if (svc.endpoints.length === 0) return this.nxdomain()
      if (type === TYPE.A || type === TYPE.AAAA) {
        const family = type === TYPE.A ? 'IPv4' : 'IPv6'
        const ips = [...new Set(svc.endpoints.filter((e) => e.family === family).map((e) => e.ip))]
        return ips.length ? this.positive(ips.map((ip) => address(owner, ip, ttl))) : this.nodata()
      }
      if (type === TYPE.SRV) return this.headlessSrv(owner, svc, () => true)
    } else {
      if (type === TYPE.A || type === TYPE.AAAA) {
        const family = type === TYPE.A ? 'IPv4' : 'IPv6'
        const ips = svc.clusterIPs.filter((ip) => ipFamily(ip) === family)
        return ips.length ? this.positive(ips.map((ip) => address(owner, ip, ttl))) : this.nodata()
      }
      if (type === TYPE.SRV) return this.clusterSrv(owner, svc, svc.ports)
    }
    if (type === TYPE.ANY) return this.positive([hinfo(owner, ttl)])
    return this.nodata()
  }

  private async externalName(owner: string, svc: CachedService, type: number, depth: number, reach: (ns: string) => boolean): Promise<Answer> {
    const target = stripTrailingDot(svc.externalName ?? '')
    // An ExternalName that is an address has no CNAME to give (CoreDNS answers NXDOMAIN).
    if (!target || ipFamily(target)) return this.nxdomain()
    if (type === TYPE.SRV) return this.nodata()
    const cname = rr(owner, TYPE.CNAME, this.config.ttl, { kind: 'CNAME', target })
    if (type === TYPE.CNAME || type === TYPE.ANY) return this.positive([cname])
    const zone = this.config.zone
    const inside = target === zone || target.endsWith(`.${zone}`)
    if (!inside || depth >= MAX_CNAME_CHASE) return this.positive([cname])
    const chased = await this.lookup(target, type, depth + 1, reach)
    return {
      ...chased,
      rcode: chased.rcode === RCODE.REFUSED ? RCODE.NOERROR : chased.rcode,
      authoritative: true,
      answers: [cname, ...chased.answers],
    }
  }

  private async endpoint(owner: string, svc: CachedService, label: string, type: number): Promise<Answer> {
    if (svc.type === 'ExternalName' || label.startsWith('_')) return this.nxdomain()
    const matches = svc.endpoints.filter((e) => hostnameOf(e) === label)
    if (matches.length === 0) return this.nxdomain()
    if (type === TYPE.A || type === TYPE.AAAA) {
      const family = type === TYPE.A ? 'IPv4' : 'IPv6'
      const ips = [...new Set(matches.filter((e) => e.family === family).map((e) => e.ip))]
      return ips.length ? this.positive(ips.map((ip) => address(owner, ip, this.config.ttl))) : this.nodata()
    }
    if (type === TYPE.ANY) return this.positive([hinfo(owner, this.config.ttl)])
    return this.nodata()
  }

  /** `_<port>._<proto>.<svc>.<ns>.svc.<zone>`: named ports only. */
  private async srv(owner: string, svc: CachedService, portLabel: string, protoLabel: string, type: number): Promise<Answer> {
    if (!portLabel.startsWith('_') || !protoLabel.startsWith('_') || svc.type === 'ExternalName') return this.nxdomain()
    const port = portLabel.slice(1)
    const proto = protoLabel.slice(1).toUpperCase()
    const wanted = (p: { name?: string; protocol: string }) => !!p.name && p.name.toLowerCase() === port && p.protocol === proto
    let answer: Answer
    if (svc.headless) {
      if (!svc.endpoints.some((e) => e.ports.some(wanted))) return this.nxdomain()
      answer = await this.headlessSrv(owner, svc, wanted)
    } else {
      const ports = svc.ports.filter(wanted)
      if (ports.length === 0) return this.nxdomain()
      answer = await this.clusterSrv(owner, svc, ports)
    }
    if (type === TYPE.SRV) return answer
    if (type === TYPE.ANY) return this.positive([hinfo(owner, this.config.ttl)])
    return this.nodata()
  }

  /** One SRV per port targeting the service name, its address in the additional section. */
  private clusterSrv(owner: string, svc: CachedService, ports: CachedService['ports']): Answer {
    const ttl = this.config.ttl
    const target = this.serviceName(svc)
    const weight = Math.max(1, Math.floor(100 / Math.max(1, svc.clusterIPs.length)))
    const answers = ports.map((p) => rr(owner, TYPE.SRV, ttl, { kind: 'SRV', priority: 0, weight, port: p.port, target }))
    return this.positive(answers, svc.clusterIPs.map((ip) => address(target, ip, ttl)))
  }

  /** One SRV per ready endpoint and matching port, targeting the endpoint's name, weighted by its pod weight. */
  private async headlessSrv(owner: string, svc: CachedService, wanted: (p: { name?: string; protocol: string }) => boolean): Promise<Answer> {
    const ttl = this.config.ttl
    const answers: ResourceRecord[] = []
    const additionals: ResourceRecord[] = []
    const seen = new Set<string>()
    const used = new Set<string>()
    for (const e of svc.endpoints) {
      const target = `${hostnameOf(e)}.${this.serviceName(svc)}`
      for (const p of e.ports.filter(wanted)) {
        const key = `${target}/${p.port}`
        if (seen.has(key)) continue
        seen.add(key)
        used.add(target)
        answers.push(rr(owner, TYPE.SRV, ttl, { kind: 'SRV', priority: 0, weight: Math.min(e.weight, 65535), port: p.port, target }))
      }
    }
    // Every address of every target, both families, in the additional section.
    const added = new Set<string>()
    for (const e of svc.endpoints) {
      const target = `${hostnameOf(e)}.${this.serviceName(svc)}`
      if (!used.has(target) || added.has(`${target}/${e.ip}`)) continue
      added.add(`${target}/${e.ip}`)
      additionals.push(address(target, e.ip, ttl))
    }
    return answers.length ? this.positive(answers, additionals) : this.nodata()
  }

  private async reverse(name: string, lower: string, zone: string, type: number, reach: (ns: string) => boolean): Promise<Answer> {
    const owner = stripTrailingDot(name)
    const ip = parseReverse(lower)
    if (!ip) return this.nxdomain(undefined, zone)
    const all = await this.data.address(ip)
    const found = { ...all, services: all.services.filter((s) => reach(s.namespace)), endpoints: all.endpoints.filter((e) => reach(e.namespace)) }
    const targets = [
      ...found.services.map((s) => `${s.name}.${s.namespace}.svc.${this.config.zone}`),
      ...(found.services.length
        ? []
        : found.endpoints.map((e) => `${e.hostname ?? dashedIP(ip)}.${e.service}.${e.namespace}.svc.${this.config.zone}`)),
    ]
    const unique = [...new Set(targets)]
    if (unique.length === 0) return this.nxdomain(found.serial, zone)
    if (type === TYPE.PTR) {
      return this.positive(unique.map((target) => rr(owner, TYPE.PTR, this.config.ttl, { kind: 'PTR', target })))
    }
    if (type === TYPE.ANY) return this.positive([hinfo(owner, this.config.ttl)])
    return this.nodata(found.serial, zone)
  }

  private serviceName(svc: CachedService): string {
    return `${svc.name}.${svc.namespace}.svc.${this.config.zone}`
  }

  private positive(answers: ResourceRecord[], additionals: ResourceRecord[] = []): Answer {
    return { rcode: RCODE.NOERROR, authoritative: true, answers, authorities: [], additionals }
  }

  private async nodata(serial?: number, zone = this.config.zone): Promise<Answer> {
    return { rcode: RCODE.NOERROR, authoritative: true, answers: [], authorities: [await this.soaFor(zone, serial)], additionals: [] }
  }

  private async nxdomain(serial?: number, zone = this.config.zone): Promise<Answer> {
    return { rcode: RCODE.NXDOMAIN, authoritative: true, answers: [], authorities: [await this.soaFor(zone, serial)], additionals: [] }
  }

  private soaFor(zone: string, serial?: number): Promise<ResourceRecord> {
    return this.soa(zone, Math.min(this.config.ttl, 300), serial)
  }

  /** The zone's SOA; its serial is the registry's resourceVersion. */
  private async soa(owner: string, ttl: number, serial?: number): Promise<ResourceRecord> {
    const rv = serial ?? (await this.data.serial())
    return rr(owner, TYPE.SOA, ttl, {
      kind: 'SOA',
      mname: `ns.dns.${this.config.zone}`,
      rname: `hostmaster.${this.config.zone}`,
      serial: rv % 2 ** 32,
      refresh: 7200,
      retry: 1800,
      expire: 86400,
      minimum: this.config.ttl,
    })
  }
}

function hostnameOf(e: CachedEndpoint): string {
  return e.hostname ?? dashedIP(e.ip) ?? e.ip
}

/** The answer to a question this server does not answer (outside its zones, zone transfers, other classes). */
export function refused(): Answer {
  return { rcode: RCODE.REFUSED, authoritative: false, answers: [], authorities: [], additionals: [] }
}

function rr(name: string, type: number, ttl: number, data: RData): ResourceRecord {
  return { name, type, class: 1, ttl, data }
}

function address(name: string, ip: string, ttl: number): ResourceRecord {
  return ipFamily(ip) === 'IPv6' ? rr(name, TYPE.AAAA, ttl, { kind: 'AAAA', address: ip }) : rr(name, TYPE.A, ttl, { kind: 'A', address: ip })
}

/** RFC 8482 §4.2: the synthesized answer to ANY. */
function hinfo(name: string, ttl: number): ResourceRecord {
  const cpu = 'RFC8482'
  const bytes = new Uint8Array([cpu.length, ...new TextEncoder().encode(cpu), 0])
  return rr(name, TYPE.HINFO, ttl, { kind: 'raw', bytes })
}

