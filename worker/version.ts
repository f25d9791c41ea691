/** The registry's version; a test keeps it equal to package.json's. */
export const VERSION = '0.1.0'

/**
 * The Kubernetes release whose API semantics the registry serves: `/version` reports its
 * major and minor, which is what kubectl compares with its own to warn of version skew.
 */
export const KUBERNETES_VERSION = { major: 1, minor: 32, patch: 0 } as const

/**
 * `/version`'s gitVersion: the Kubernetes release, with the registry's own version as
 * semantic-version build metadata (`v1.32.0+switchboard.0.1.0`), which kubectl parses as
 * 1.32.0 and prints whole.
 */
export function gitVersion(version: string = VERSION): string {
  const { major, minor, patch } = KUBERNETES_VERSION
  return `v${major}.${minor}.${patch}+switchboard.${version}`
}
