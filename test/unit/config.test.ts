import { describe, expect, it } from 'vitest'
import { ConfigError, parseConfig } from '../../worker/config'

describe('configuration', () => {
  it('defaults to 127.0.0.1:8787, 10.96.0.0/12 and 30000-32767', () => {
    const c = parseConfig({})
    expect(c.port).toBe(8787)
    expect(c.host).toBe('127.0.0.1')
    expect(c.serviceClusterIPRangeText).toBe('10.96.0.0/12')
    expect(c.serviceNodePortRange).toEqual({ base: 30000, last: 32767 })
    expect(c.databaseUrl).toBeUndefined()
    expect(c.allowLoopbackAddresses).toBe(false)
    expect(parseConfig({ ALLOW_LOOPBACK_ADDRESSES: 'true' }).allowLoopbackAddresses).toBe(true)
  })

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['SERVICE_CLUSTER_IP_RANGE', '10.96.0.0/33'],
    ['SERVICE_CLUSTER_IP_RANGE', 'banana'],
    ['SERVICE_NODE_PORT_RANGE', '32767-30000'],
    ['ALLOW_LOOPBACK_ADDRESSES', 'sometimes'],
  ])('names the variable when %s=%s is bad', (name, value) => {
    expect(() => parseConfig({ [name]: value })).toThrow(ConfigError)
    expect(() => parseConfig({ [name]: value })).toThrow(name)
  })
})
