/**
 * The Table columns of the computed kinds Endpoints and EndpointSlice, as Kubernetes
 * prints them: at most three endpoints, then "+ N more...".
 */
import { ageColumn, hostPort, listWithMore, nameColumn, type Columns } from './columns'
import type { EndpointSlice, EndpointsObject } from './endpoint-views'

/** How many endpoints or ports a cell shows before "+ N more...". */
const SHOWN = 3

export const endpointsColumns: Columns<EndpointsObject> = [
  nameColumn,
  { name: 'Endpoints', type: 'string', description: 'The set of all endpoints is the union of all subsets.', cell: (ep) => readyEndpoints(ep) },
  ageColumn,
]

export const endpointSliceColumns: Columns<EndpointSlice> = [
  nameColumn,
  { name: 'AddressType', type: 'string', description: 'addressType specifies the type of address carried by this EndpointSlice.', cell: (s) => s.addressType },
  { name: 'Ports', type: 'string', description: 'ports specifies the list of network ports exposed by each endpoint in this slice.', cell: (s) => slicePorts(s) },
  { name: 'Endpoints', type: 'string', description: 'endpoints is a list of unique endpoints in this slice.', cell: (s) => sliceAddresses(s) },
  ageColumn,
]

/** The ready addresses, `ip:port` for each port (a bare IP when the subset has none); `<none>` without subsets. */
function readyEndpoints(ep: EndpointsObject): string {
  if (!ep.subsets.length) return '<none>'
  const list: string[] = []
  let count = 0
  for (const subset of ep.subsets) {
    const addresses = subset.addresses ?? []
    const ports = subset.ports?.length ? subset.ports.map((p) => p.port) : [null]
    for (const port of ports) {
      count += addresses.length
      for (const a of addresses) if (list.length < SHOWN) list.push(port === null ? a.ip : hostPort(a.ip, port))
    }
  }
  return listWithMore(list, count, SHOWN, '')
}

function slicePorts(slice: EndpointSlice): string {
  return listWithMore(slice.ports.map((p) => String(p.port)), slice.ports.length, SHOWN, '<unset>')
}

function sliceAddresses(slice: EndpointSlice): string {
  const addresses = slice.endpoints.flatMap((e) => e.addresses)
  return listWithMore(addresses, addresses.length, SHOWN, '<unset>')
}
