/**
 * The Worker bundle's size, the upload a deploy would send: `wrangler deploy --dry-run
 * --outdir <temp dir>` with the project's wrangler.toml (minified, nodejs_compat), then
 * the raw bytes and the gzipped size of each module it wrote (source maps and its README
 * left out). Gzip is node:zlib's gzipSync at its default level, 6, over the modules
 * concatenated — how wrangler computes the "gzip" figure of its "Total Upload" line,
 * which is shown beside ours — and, for reference, at level 9. The target is on the
 * gzipped total: a small script starts faster cold.
 */
import { join } from 'node:path'
import { constants, gzipSync } from 'node:zlib'
import { removeTempDir, tempDir } from './harness'
import { int, renderTable } from './report'
import type { Scenario } from './scenario'
import { buildWorker, versions } from './wrangler'

export const BUNDLE = {
  /** Gzipped size target of the upload, in KiB. */
  targetGzipKiB: 250,
}

const KIB = 1024

export const bundle: Scenario = {
  name: 'bundle',
  run: async (ctx) => {
    const dir = tempDir('switchboard-bundle-')
    try {
      let built
      try {
        built = await buildWorker(join(dir, 'out'), join(dir, 'logs'))
      } catch (e) {
        ctx.report.problem(`scenario bundle not measured: ${(e as Error).message}`)
        return
      }
      const gz = (b: Buffer, level: number) => gzipSync(b, { level }).byteLength
      const all = Buffer.concat(built.modules.map((m) => m.bytes))
      const total = { raw: all.byteLength, gz6: gz(all, constants.Z_DEFAULT_COMPRESSION), gz9: gz(all, 9) }
      const kib = (n: number) => `${(n / KIB).toFixed(2)} KiB`
      const table = renderTable(
        ['module', 'raw bytes', 'raw', 'gzip -6 (default)', 'gzip -9'],
        [
          ...built.modules.map((m) => [m.name, int(m.bytes.byteLength), kib(m.bytes.byteLength), kib(gz(m.bytes, constants.Z_DEFAULT_COMPRESSION)), kib(gz(m.bytes, 9))]),
          ...(built.modules.length > 1 ? [['all modules', int(total.raw), kib(total.raw), kib(total.gz6), kib(total.gz9)]] : []),
        ],
      )
      const met = total.gz6 <= BUNDLE.targetGzipKiB * KIB
      const verdict =
        `Worker bundle: ${kib(total.raw)} raw, ${kib(total.gz6)} gzipped (level 6); target ≤ ${BUNDLE.targetGzipKiB} KiB gzipped: ` +
        `${met ? 'MET' : 'NOT MET'} (${((total.gz6 / (BUNDLE.targetGzipKiB * KIB)) * 100).toFixed(0)}% of the target)`
      ctx.log(verdict)
      ctx.report.section('Worker bundle size', [
        `wrangler ${versions().wrangler} deploy --dry-run --outdir <temp dir> with wrangler.toml (minify = true, nodejs_compat), built in ${built.seconds.toFixed(1)} s;`,
        `the modules it wrote, without source maps (not uploaded). Raw is bytes on disk; gzip is node:zlib gzipSync at the default level 6`,
        `(as wrangler computes its figure) and at level 9 for reference; the total is gzipped as one stream of all modules.`,
        '',
        table,
        '',
        `wrangler's own figure: Total Upload: ${built.totalUpload ?? 'not printed'}`,
        verdict,
      ])
    } finally {
      removeTempDir(dir)
    }
  },
}
