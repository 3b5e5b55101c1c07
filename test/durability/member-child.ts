/**
 * A one-member group in its own process, for the fsync test: opens Raft's
 * store (`synced`: SyncedLevelDatastore, `plain`: datastore-level's
 * LevelDatastore) in the folder given, founds a group of one, and commits
 * `commits` commands one at a time. Around each commit it writes a marker
 * to stderr with a direct write(2) - `@@arrive N` before calling commit()
 * and `@@resolved N` once it resolved - so a tracer of this process sees
 * the order of the commit's syscalls against them. Exits 0 when done.
 *
 * Usage: node member-child.ts <synced|plain> <folder> <commits>
 */
import { writeSync } from 'node:fs'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { LevelDatastore } from 'datastore-level'
import { SyncedLevelDatastore } from '../../src/level/index.ts'
import { set } from '../utils/kv.ts'
import { createNode } from '../utils/nodes.ts'

const [kind, folder, commits] = process.argv.slice(2)
const store = kind === 'synced' ? new SyncedLevelDatastore(folder) : new LevelDatastore(folder)
await store.open()
const node = await createNode({ privateKey: await generateKeyPair('Ed25519'), bootstrap: 'self', raft: { datastore: store } })
await node.raft.waitForLeader()
// The leader's first entry and the host's start-up writes are behind us before the first marker.
await node.raft.commit(set('warm', 'up'))
for (let n = 1; n <= Number(commits); n++) {
  writeSync(2, `@@arrive ${n}\n`)
  await node.raft.commit(set('k', String(n)))
  writeSync(2, `@@resolved ${n}\n`)
}
await node.libp2p.stop()
await store.close()
