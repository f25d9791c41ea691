/**
 * Which addresses a pod or an endpoint may have, as Kubernetes' `ValidateEndpointIP` judges
 * them, and which stored addresses DNS and the pick may hand out.
 *
 * Refused (422): unspecified (0.0.0.0, ::), link-local (169.254.0.0/16, fe80::/10) and
 * multicast (224.0.0.0/4, ff00::/8, link-local multicast among them) addresses, and their
 * IPv4-mapped forms (see `specialRange`): an address written into the registry is handed to
 * clients by DNS and the pick, and these would steer them to a cloud metadata service, to
 * themselves or nowhere. Loopback (127.0.0.0/8, ::1) is refused too unless the policy allows
 * it (local development, where the registry and its workloads share one machine).
 *
 * On update, an address kept unchanged from the stored object is not judged again (the pod's
 * validation ratchets, see ratchet.ts), so a pod stored before these rules can still change
 * its labels, readiness or weight, and be deleted; the registry never hands out its address
 * unless it is `isServable`.
 */
import { fieldError, type FieldError } from './errors'
import { specialRange, type SpecialRange } from './ip-address'
import type { PodObject } from './types'

export interface AddressPolicy {
  /** Whether pod and endpoint addresses may be loopback addresses. */
  allowLoopback: boolean
}

/** Kubernetes' words for each refused range (pkg/apis/core/validation, `ValidateEndpointIP`). */
const DETAIL: Record<SpecialRange, (ip: string) => string> = {
  unspecified: (ip) => `may not be unspecified (${ip})`,
  loopback: () => 'may not be in the loopback range (127.0.0.0/8, ::1/128)',
  'link-local': () => 'may not be in the link-local range (169.254.0.0/16, fe80::/10)',
  'link-local-multicast': () => 'may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)',
  multicast: () => 'may not be in the multicast range (224.0.0.0/4, ff00::/8)',
}

/**
 * The error for an address in a refused range, naming `field`; none for an allowed address,
 * or for text that is not an address (reported by the caller's syntax check).
 */
export function validateEndpointIP(ip: string, field: string, policy: AddressPolicy): FieldError[] {
  const range = specialRange(ip)
  if (range === null || allowed(range, policy)) return []
  return [fieldError.invalid(field, ip, DETAIL[range](ip))]
}

/** The one exception to the refused ranges: loopback, where the policy allows it. */
function allowed(range: NonNullable<ReturnType<typeof specialRange>>, policy: AddressPolicy): boolean {
  return range === 'loopback' && policy.allowLoopback
}

/**
 * A pod's IPs: the primary one as `status.podIP` (which `status.podIPs[0]` repeats), the
 * other as `status.podIPs[1].ip`.
 */
export function validatePodIPs(status: PodObject['status'], policy: AddressPolicy): FieldError[] {
  const { podIP, podIPs = [] } = status
  return [
    ...(podIP ? validateEndpointIP(podIP, 'status.podIP', policy) : []),
    ...podIPs.flatMap((p, i) => (p.ip === podIP ? [] : validateEndpointIP(p.ip, `status.podIPs[${i}].ip`, policy))),
  ]
}

/**
 * Whether the registry may hand the address out (DNS, the pick, the ready condition of the
 * Endpoints and EndpointSlice views): never unspecified, link-local or multicast, and loopback
 * only where `policy` allows loopback addresses now. An address it refuses can only be stored
 * from before the rules above (or from before the policy changed); it stays visible in the pod
 * and its Endpoints, not ready, and no answer leads a client to it.
 */
export function isServable(ip: string, policy: AddressPolicy): boolean {
  const range = specialRange(ip)
  return range === null || allowed(range, policy)
}
