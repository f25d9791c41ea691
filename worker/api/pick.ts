/**
 * `GET /api/v1/namespaces/{ns}/services/{name}/pick`: one ready endpoint, by weight.
 * `?port=<name>` answers that port, `?key=` makes the pick sticky, `?zone=` prefers a
 * zone (the `X-Switchboard-Zone-Fallback: true` header says when it had none), and
 * `?explain=true` lists the candidates and why others were left out.
 */
import type { Hono } from 'hono'
import type { Picker } from '../registry/pick'
import { verbs } from './verbs'
import type { AppEnv } from '../http/env'

export const ZONE_FALLBACK_HEADER = 'X-Switchboard-Zone-Fallback'

/** Answers the picker reuses are serialized once. */
const json = new WeakMap<object, string>()

function serialized(result: object): string {
  let text = json.get(result)
  if (text === undefined) {
    text = JSON.stringify(result)
    if (Object.isFrozen(result)) json.set(result, text)
  }
  return text
}

export function mountPick(app: Hono<AppEnv>, picker: Picker): void {
  verbs(app, '/api/v1/namespaces/:namespace/services/:name/pick', {
    get: async (c) => {
      const q = c.req.query()
      const result = await picker.pick(c.req.param('namespace')!, c.req.param('name')!, {
        ...(q.port !== undefined ? { port: q.port } : {}),
        ...(q.key !== undefined ? { key: q.key } : {}),
        ...(q.zone !== undefined ? { zone: q.zone } : {}),
        explain: q.explain === 'true' || q.explain === '1',
      })
      if (result.zoneFallback) c.header(ZONE_FALLBACK_HEADER, 'true')
      c.header('Cache-Control', 'no-store')
      return c.body(serialized(result), 200, { 'Content-Type': 'application/json' })
    },
  })
}
