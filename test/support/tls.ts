/**
 * Certificates for TLS tests, made fresh by each test (node-forge signs, node:crypto makes
 * the keys): a certificate authority, and server certificates it issues for 127.0.0.1 and
 * localhost, written as PEM files into a temporary directory. Nothing here is trusted
 * outside the test that made it.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import forge from 'node-forge'
import { startServer, type ServerProcess } from './server'

export interface IssuedCertificate {
  /** The certificate's common name, to tell which one a server presented. */
  commonName: string
  certFile: string
  keyFile: string
}

export interface TestCa {
  dir: string
  /** The authority's certificate (PEM), for clients to trust. */
  caFile: string
  caPem: string
  /** A server certificate for 127.0.0.1, ::1 and localhost, signed by this authority. */
  issue: (commonName: string) => IssuedCertificate
}

function rsaKeys(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; pem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
  const forgeKey = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey
  return { privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e), pem }
}

function certificate(subject: string, publicKey: forge.pki.PublicKey): forge.pki.Certificate {
  const cert = forge.pki.createCertificate()
  cert.publicKey = publicKey
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`
  cert.validity.notBefore = new Date(Date.now() - 60_000)
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000)
  cert.setSubject([{ name: 'commonName', value: subject }])
  return cert
}

/** A new certificate authority in a new temporary directory. */
export function makeTestCa(): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-tls-'))
  const ca = rsaKeys()
  const caCert = certificate('Switchboard test CA', ca.publicKey)
  caCert.setIssuer(caCert.subject.attributes)
  caCert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ])
  caCert.sign(ca.privateKey, forge.md.sha256.create())
  const caPem = forge.pki.certificateToPem(caCert)
  const caFile = join(dir, 'ca.pem')
  writeFileSync(caFile, caPem)

  return {
    dir,
    caFile,
    caPem,
    issue: (commonName) => {
      const keys = rsaKeys()
      const cert = certificate(commonName, keys.publicKey)
      cert.setIssuer(caCert.subject.attributes)
      cert.setExtensions([
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', serverAuth: true },
        {
          name: 'subjectAltName',
          altNames: [
            { type: 7, ip: '127.0.0.1' },
            { type: 7, ip: '::1' },
            { type: 2, value: 'localhost' },
          ],
        },
      ])
      cert.sign(ca.privateKey, forge.md.sha256.create())
      const certFile = join(dir, `${commonName}.crt.pem`)
      const keyFile = join(dir, `${commonName}.key.pem`)
      writeFileSync(certFile, forge.pki.certificateToPem(cert))
      writeFileSync(keyFile, keys.pem)
      return { commonName, certFile, keyFile }
    },
  }
}

/** The environment that makes `npm start` serve `cert` over HTTPS. */
export function tlsEnv(cert: Pick<IssuedCertificate, 'certFile' | 'keyFile'>): Record<string, string> {
  return { TLS_CERT_FILE: cert.certFile, TLS_KEY_FILE: cert.keyFile }
}

/** A real server process (`npm start`) serving `cert` over HTTPS; its `url` is https://127.0.0.1:PORT. */
export function startTlsServer(cert: IssuedCertificate, env: Record<string, string> = {}): Promise<ServerProcess> {
  return startServer({ env: { ...tlsEnv(cert), ...env } })
}

/**
 * The pid of the Node process serving under `npm start` (npm's child: npm passes SIGINT
 * and SIGTERM on, not SIGHUP, so a reload signal goes to the server itself).
 */
export function serverPid(server: ServerProcess): number {
  const npm = server.child.pid!
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      // The fields after the command's closing parenthesis: state, ppid, …
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === npm) return Number(entry)
    } catch {
      // gone meanwhile
    }
  }
  throw new Error(`no child process of npm (pid ${npm}) found`)
}
