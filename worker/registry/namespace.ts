/**
 * Namespaces: defaulting and validation. A namespace carries the label
 * `kubernetes.io/metadata.name` with its own name, as Kubernetes sets it.
 */
import { invalid } from './errors'
import { validateMeta } from './meta'
import type { NamespaceInput } from './schemas'
import type { NamespaceObject, ObjectMetaOut } from './types'

/** Namespaces that always exist and may not be deleted. */
export const PROTECTED_NAMESPACES = ['default']

export function buildNamespace(input: NamespaceInput, metadata: ObjectMetaOut): NamespaceObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { ...metadata, labels: { ...metadata.labels, 'kubernetes.io/metadata.name': metadata.name } },
    spec: { finalizers: input.spec?.finalizers?.length ? [...input.spec.finalizers] : ['kubernetes'] },
    status: { phase: 'Active' },
  }
}

export function validateNamespace(ns: NamespaceObject): void {
  const causes = validateMeta(ns.metadata, 'dns1123label')
  if (causes.length) throw invalid('Namespace', ns.metadata.name, causes)
}
