/**
 * The dashboard's built files (`worker/ui/assets.ts`, which both runtimes serve) are
 * those of their sources: the pages rendered from pages.tsx, styles.ts, and every client
 * module compiled from worker/ui/client/. A change to a source without
 * `npx tsx worker/ui/build.ts` fails here.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { buildAssets, OUTPUT, renderAssets } from '../../worker/ui/build'
import { UI_ASSETS } from '../../worker/ui/assets'

describe('the dashboard assets', () => {
  it('assets.ts is up to date with its sources', () => {
    expect(readFileSync(OUTPUT, 'utf8'), 'run: npx tsx worker/ui/build.ts').toBe(renderAssets(buildAssets()))
  })

  it('holds one module per client source, both pages and the stylesheet', () => {
    const sources = readdirSync(new URL('../../worker/ui/client/', import.meta.url)).filter((f) => f.endsWith('.ts'))
    expect(sources.length).toBeGreaterThan(0)
    expect(Object.keys(UI_ASSETS).sort()).toEqual([...sources.map((f) => f.replace(/\.ts$/, '.js')), 'dashboard.css', 'dashboard.html', 'openapi.html'].sort())
    for (const [name, asset] of Object.entries(UI_ASSETS)) {
      if (name.endsWith('.js')) expect(asset.body, name).not.toMatch(/:\s*(string|number|boolean|any)\b[,)=]/)
    }
  })
})
