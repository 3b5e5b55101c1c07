/**
 * CI check: `src/pb/raft.ts` must be what protons generates from
 * `src/pb/raft.proto` today, so the wire code never drifts from its schema.
 *
 * `npm run check:protobuf`. Regenerates into a temporary folder and compares;
 * exits 1 with the fix when they differ.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generate } from 'protons'

const PROTO = 'src/pb/raft.proto'
const GENERATED = 'src/pb/raft.ts'

const output = await mkdtemp(join(tmpdir(), 'libp2p-raft-protobuf-'))
try {
  await generate(PROTO, { output })
  const fresh = await readFile(join(output, 'raft.ts'), 'utf8')
  const committed = await readFile(GENERATED, 'utf8')
  if (fresh !== committed) {
    process.stderr.write(`${GENERATED} is stale: run npm run generate\n`)
    process.exitCode = 1
  } else {
    process.stdout.write(`${GENERATED} matches ${PROTO}\n`)
  }
} finally {
  await rm(output, { recursive: true, force: true })
}
