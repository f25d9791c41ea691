/** The Table columns of tokens: who they are for and until when; never anything secret. */
import { ageColumn, nameColumn, type Columns } from './columns'
import type { TokenObject } from './tokens'

export const tokenColumns: Columns<TokenObject> = [
  nameColumn,
  { name: 'Role', type: 'string', description: 'What the token may do: read, register or admin.', cell: (t) => t.spec.role },
  { name: 'Namespaces', type: 'string', description: 'The namespaces the token reaches ("*": all).', cell: (t) => t.spec.namespaces.join(',') },
  { name: 'Expires', type: 'string', description: 'When the token stops being accepted.', cell: (t) => t.spec.expiresAt ?? '<never>' },
  ageColumn,
  { name: 'Created-By', type: 'string', priority: 1, description: 'The token that created this one.', cell: (t) => t.metadata.annotations?.['switchboard.dev/created-by'] ?? '<none>' },
]
