/**
 * The app's Hono environment: what the access control sets on every request (the
 * caller, and the registry acting as that caller) for the API and DNS handlers.
 */
import type { Principal } from '../registry/tokens'
import type { Registry } from '../registry/registry'

export type AppEnv = { Variables: { principal: Principal; registry: Registry } }
