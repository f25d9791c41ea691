/**
 * DNS queries for the tests, encoded with the registry's wire codec (dnspython and
 * dns-packet are the independent clients, in test/support/doh-clients.ts): a question
 * of class IN with recursion desired, and the base64url form RFC 8484's GET carries.
 */
import { TYPE, encodeMessage, type Message } from '../../worker/dns/wire'

/** A query for `name` and `type` as wire octets; `additionals` carries an OPT record when EDNS is wanted. */
export function wireQuery(name: string, type: number = TYPE.A, options: { id?: number; additionals?: Message['additionals'] } = {}): Uint8Array {
  return encodeMessage({
    header: { id: options.id ?? 0x4242, qr: false, opcode: 0, aa: false, tc: false, rd: true, ra: false, ad: false, cd: false, rcode: 0 },
    questions: [{ name, type, class: 1 }],
    answers: [],
    authorities: [],
    additionals: options.additionals ?? [],
  })
}

/** base64url without padding (RFC 8484 §4.1's `dns` parameter). */
export function base64url(bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) s += String.fromCharCode(b)
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}
