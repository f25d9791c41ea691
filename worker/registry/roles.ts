/**
 * The roles a token may have, least first: `read` (get, list, endpoints, the pick, DNS),
 * `register` (read, plus writes of pods: what a workload needs to register itself) and
 * `admin` (everything).
 */
export const ROLES = ['read', 'register', 'admin'] as const
export type Role = (typeof ROLES)[number]
