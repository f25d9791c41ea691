/**
 * The Namespace strategy. An update (replace or patch) changes labels and annotations;
 * as in Kubernetes, `spec.finalizers` and the status stay as stored (Kubernetes changes
 * finalizers only through its `/finalize` subresource, which is not served). Deleting a
 * namespace deletes everything in it in one write; `default` may not be deleted.
 */
import { RegistryError } from '../errors'
import { PROTECTED_NAMESPACES, buildNamespace, validateNamespace } from '../namespace'
import type { NamespaceInput } from '../schemas'
import type { Strategy } from '../strategy'
import type { NamespaceObject } from '../types'
import { objectWrite } from '../meta'
import { ageColumn, nameColumn, type Columns } from '../columns'

/** Kubernetes' namespace columns. */
const columns: Columns<NamespaceObject> = [
  nameColumn,
  { name: 'Status', type: 'string', description: 'The status of the namespace', cell: (ns) => ns.status.phase },
  ageColumn,
]

export const namespaceStrategy: Strategy<NamespaceObject, NamespaceInput> = {
  create: (input, metadata) => buildNamespace(input, metadata),
  update: (input, metadata, old) => ({ ...buildNamespace(input, metadata), spec: old.spec, status: old.status }),
  validate: validateNamespace,
  write: ({ store }, ns, old, pre, recordBefore) => (old ? store.updateNamespace(objectWrite(ns), pre, recordBefore) : store.createNamespace(objectWrite(ns))),
  remove: ({ store }, _namespace, name, pre) => store.deleteNamespace(name, pre),
  checkDelete(name) {
    if (PROTECTED_NAMESPACES.includes(name)) {
      throw new RegistryError('Forbidden', `namespaces "${name}" is forbidden: this namespace may not be deleted`, { name, kind: 'namespaces' })
    }
  },
  deleted: (ns) => ({ ...ns, status: { phase: 'Terminating' } }),
  columns,
}
