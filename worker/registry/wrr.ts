/**
 * Weighted selection: smooth weighted round robin and weighted rendezvous hashing. The
 * implementation lives in the SDK (sdk/src/wrr.ts, which has no dependencies), so that the
 * server's pick and the SDK's local pick (`sb.discover()`) are the same code.
 */
export { SmoothWRR, rendezvous, unitHash, type Member } from '../../sdk/src/wrr'
