/**
 * HTTPS for the Node server (imported by node.ts only): TLS_CERT_FILE and TLS_KEY_FILE
 * (PEM) are served with HTTP/2 and HTTP/1.1, chosen per connection by ALPN; SIGHUP
 * reads both files again and serves the new certificate to new connections, keeping
 * the ones open. A pair that cannot be read or does not fit together stops start-up
 * with a message naming the variable; on reload it is logged and the old pair kept.
 */
import { readFileSync } from 'node:fs'
import type { Http2SecureServer, SecureServerOptions } from 'node:http2'
import { createSecureContext } from 'node:tls'
import { ConfigError } from './config'

export interface TlsFiles {
  certFile: string
  keyFile: string
}

export interface KeyPair {
  cert: Buffer
  key: Buffer
}

/** Concurrent streams (requests, watches) one HTTP/2 connection may have open, as Kubernetes' API server allows. */
export const MAX_CONCURRENT_STREAMS = 250

/** Reads the certificate chain and key and checks that they load and belong together; throws a ConfigError naming the variable. */
export function readKeyPair(files: TlsFiles): KeyPair {
  const read = (variable: string, path: string) => {
    try {
      return readFileSync(path)
    } catch (e) {
      throw new ConfigError(`${variable}=${path} cannot be read: ${(e as Error).message}`)
    }
  }
  const pair = { cert: read('TLS_CERT_FILE', files.certFile), key: read('TLS_KEY_FILE', files.keyFile) }
  try {
    createSecureContext(pair)
  } catch (e) {
    throw new ConfigError(
      `TLS_CERT_FILE=${files.certFile} and TLS_KEY_FILE=${files.keyFile} are not a PEM certificate chain and its private key: ${(e as Error).message}`,
    )
  }
  return pair
}

/**
 * Options for `http2.createSecureServer`: HTTP/1.1 beside HTTP/2 (ALPN), the pair, and a
 * handshake that must end within the headers timeout (a silent connection's first request
 * cannot arrive before it).
 */
export function tlsServerOptions(pair: KeyPair, headersTimeoutMs: number): SecureServerOptions {
  return {
    ...pair,
    allowHTTP1: true,
    handshakeTimeout: headersTimeoutMs,
    settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS },
  }
}

/** On SIGHUP, serves the pair as the files now hold it; a pair that fails is logged and the one in use kept. */
export function reloadOnHangup(server: Http2SecureServer, files: TlsFiles): () => void {
  const reload = () => {
    try {
      server.setSecureContext(readKeyPair(files))
      console.log(`switchboard: SIGHUP: serving the certificate in ${files.certFile} to new connections`)
    } catch (e) {
      console.error(`switchboard: SIGHUP: keeping the certificate in use: ${(e as Error).message}`)
    }
  }
  process.on('SIGHUP', reload)
  return () => process.off('SIGHUP', reload)
}

/** Plain HTTP has no certificate to reload: SIGHUP (a service manager's reload) is logged and otherwise ignored, rather than ending the process. */
export function ignoreHangup(): () => void {
  const note = () => console.log('switchboard: SIGHUP: nothing to reload (plain HTTP, no TLS_CERT_FILE)')
  process.on('SIGHUP', note)
  return () => process.off('SIGHUP', note)
}
