/**
 * `/version` is Kubernetes' version.Info: major and minor name the Kubernetes release
 * whose API semantics the registry serves (what kubectl compares to warn of skew), and
 * gitVersion, a semantic version of that release, carries the registry's own version.
 */
import { describe, expect, it } from 'vitest'
import pkg from '../../package.json'
import { KUBERNETES_VERSION, VERSION, gitVersion } from '../../worker/version'
import { testApp } from '../support/app'

const SEMVER = /^v(\d+)\.(\d+)\.(\d+)(?:-[0-9A-Za-z.-]+)?(?:\+([0-9A-Za-z.-]+))?$/

describe('/version', () => {
  it("has version.Info's fields, Kubernetes 1.32's major and minor, and the registry's version in gitVersion", async () => {
    const t = await testApp()
    const res = await t.json('GET', '/version')
    expect(res.status).toBe(200)
    expect(Object.keys(res.body).sort()).toEqual(['buildDate', 'compiler', 'gitCommit', 'gitTreeState', 'gitVersion', 'goVersion', 'major', 'minor', 'platform'])
    expect(res.body).toMatchObject({ major: '1', minor: '32' })
    expect(VERSION).toBe(pkg.version)
    expect(res.body.gitVersion).toBe(`v1.32.0+switchboard.${pkg.version}`)
  })

  it('spells gitVersion as a semantic version whose major and minor are those reported', () => {
    const m = SEMVER.exec(gitVersion())
    expect(m).not.toBeNull()
    expect([Number(m![1]), Number(m![2])]).toEqual([KUBERNETES_VERSION.major, KUBERNETES_VERSION.minor])
    expect(m![4]).toBe(`switchboard.${VERSION}`)
  })
})
