/**
 * @kubernetes/client-node (1.x, unmodified) pointed at a test server over plain HTTP,
 * without credentials (the server runs with access control off).
 */
import { KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node'

export function objectApi(serverUrl: string): KubernetesObjectApi {
  const kc = new KubeConfig()
  kc.loadFromOptions({
    // The client refuses an http:// server unless told to skip TLS verification (there is no TLS here).
    clusters: [{ name: 'switchboard', server: serverUrl, skipTLSVerify: true }],
    users: [{ name: 'anonymous' }],
    contexts: [{ name: 'switchboard', cluster: 'switchboard', user: 'anonymous', namespace: 'default' }],
    currentContext: 'switchboard',
  })
  return KubernetesObjectApi.makeApiClient(kc)
}
