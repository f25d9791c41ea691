/**
 * `?fieldValidation=` on the writes of a kind (create, replace, patch, their status too):
 * the directive is checked before the body is read (an unknown one is a 422), then the
 * body as read (registry/field-validation.ts finds its unknown fields, and, for JSON and
 * YAML, its duplicate keys, which http/body.ts kept from parsing) and, as the directive
 * says, the write is refused (Strict), goes on with a `Warning` header per field (Warn,
 * the default; a YAML error listing several keys is a warning per key) or goes on
 * silently (Ignore).
 */
import type { Context } from 'hono'
import type { AppEnv } from '../http/env'
import { bodySourceOf } from '../http/body'
import { fieldValidationOf, objectProblems, patchProblems, strictDecodingError, warningHeader, warningsOf, type FieldValidation, type FieldValidationOptions } from '../registry/field-validation'
import { kindJsonSchema } from '../registry/json-schema'
import type { KindInfo } from '../registry/kind-info'

type Ctx = Context<AppEnv>

/** The body of a create or replace, read by `read`, with its fields checked. */
export async function checkedObject(c: Ctx, kind: KindInfo, options: FieldValidationOptions, read: (c: Ctx) => Promise<unknown>): Promise<unknown> {
  const directive = fieldValidationOf(c.req.query('fieldValidation'), options)
  const body = await read(c)
  if (directive !== 'Ignore') report(c, kind, directive, objectProblems(kindJsonSchema(kind), body, bodySourceOf(body)))
  return body
}

/** The body of a patch, read by `read`, with its fields checked. */
export async function checkedPatch<P extends { type: string; patch: unknown }>(c: Ctx, kind: KindInfo, read: (c: Ctx) => Promise<P>): Promise<P> {
  const directive = fieldValidationOf(c.req.query('fieldValidation'), 'PatchOptions')
  const received = await read(c)
  if (directive !== 'Ignore') report(c, kind, directive, patchProblems(kindJsonSchema(kind), received.type, received.patch, bodySourceOf(received.patch)))
  return received
}

function report(c: Ctx, kind: KindInfo, directive: FieldValidation, problems: string[]): void {
  if (problems.length && directive === 'Strict') throw strictDecodingError(kind.kind, kind.version, problems)
  for (const warning of problems.flatMap(warningsOf)) c.header('Warning', warningHeader(warning), { append: true })
}
