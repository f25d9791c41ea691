/**
 * A process that writes without pause to an embedded database with background
 * checkpoints, and ends with process.exit() after CHECKPOINT_EXIT_MS: the checkpoint
 * thread is busy then, and the process must still exit with code 0 (see
 * test/unit/checkpointer.test.ts).
 */
import { join } from 'node:path'
import { EmbeddedClient } from '../../worker/db/embedded-client'
import { tuneEmbedded } from '../../worker/db/client'

const client = new EmbeddedClient(join(process.argv[2]!, 'db.sqlite'))
await tuneEmbedded(client)
await client.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)')
setTimeout(() => process.exit(0), Number(process.env.CHECKPOINT_EXIT_MS ?? 300))
const text = 'x'.repeat(3_000)
for (let i = 0; ; i++) {
  await Promise.all(Array.from({ length: 50 }, (_, k) => client.batch([{ sql: 'INSERT INTO t (id, v) VALUES (?, ?)', args: [i * 50 + k, text] }])))
  await new Promise((r) => setImmediate(r))
}
