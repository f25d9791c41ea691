/**
 * The zod schema of every kind in the table of kinds, for what is generated from the
 * schemas (the OpenAPI documents, the unknown-field check of `fieldValidation`). Generic
 * kinds carry theirs in the table; Endpoints and Tokens are decoded by their own
 * registries with schemas of their own, and EndpointSlices are never written, so theirs
 * describes what the registry serves (endpoint-views.ts), kept in line with that type by
 * the compiler.
 */
import * as z from 'zod'
import type { EndpointSlice as EndpointSliceOut } from './endpoint-views'
import type { KindInfo } from './kind-info'
import { Endpoints, ObjectMeta } from './schemas'
import { TokenInput } from './tokens'

const EndpointPort = z.object({
  name: z.string().optional(),
  port: z.number().int(),
  protocol: z.string(),
  appProtocol: z.string().optional(),
})

const ObjectReference = z.object({ kind: z.string(), namespace: z.string(), name: z.string(), uid: z.string() })

/** An EndpointSlice (discovery.k8s.io/v1) as the registry computes it. */
export const EndpointSlice = z.object({
  apiVersion: z.string(),
  kind: z.string(),
  metadata: ObjectMeta,
  addressType: z.string(),
  endpoints: z.array(
    z.object({
      addresses: z.array(z.string()),
      conditions: z.object({ ready: z.boolean(), serving: z.boolean(), terminating: z.boolean() }),
      hostname: z.string().optional(),
      targetRef: ObjectReference.optional(),
      nodeName: z.string().optional(),
      zone: z.string().optional(),
      weight: z.number().int(),
    }),
  ),
  ports: z.array(EndpointPort),
})

/** A Token (switchboard.dev/v1): what a create takes, and the secret its answer carries once. */
export const Token = TokenInput.extend({ status: z.object({ secret: z.string() }).nullish() })

// What endpoint-views.ts serves must be an object this schema describes.
const _slicesFit: (slice: EndpointSliceOut) => z.input<typeof EndpointSlice> = (slice) => slice
void _slicesFit

const OWN_SCHEMAS: Record<string, z.ZodType> = { Endpoints, EndpointSlice, Token }

/** The schema of a kind's objects: the table's, or the one its own registry decodes with. */
export function schemaOf(kind: KindInfo): z.ZodType {
  const schema = kind.schema ?? OWN_SCHEMAS[kind.kind]
  if (!schema) throw new Error(`${kind.kind} has no schema`)
  return schema
}
