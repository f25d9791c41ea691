/**
 * `GET /apis/apiextensions.k8s.io/v1/customresourcedefinitions`: an empty
 * CustomResourceDefinitionList, since the registry serves no custom resources. kubectl's
 * default validation reads it for a kind whose OpenAPI has no PATCH operation (Endpoints,
 * Token): it then asks whether the kind is a custom resource, and with the list missing
 * (404) it fails every `create -f` or `apply -f` of such a kind; with the empty list it
 * validates the object against the OpenAPI v2 schema itself.
 */
import type { Hono } from 'hono'
import type { AppEnv } from '../http/env'
import { verbs } from './verbs'

export function customResourceDefinitionRoutes(app: Hono<AppEnv>): void {
  verbs(app, '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', {
    get: (c) => c.json({ kind: 'CustomResourceDefinitionList', apiVersion: 'apiextensions.k8s.io/v1', metadata: {}, items: [] }),
  })
}
