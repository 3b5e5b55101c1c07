import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { expect } from 'aegir/chai'
import { Key } from 'interface-datastore'
import { SyncedLevelDatastore } from '../../src/level/index.ts'
import { set } from '../utils/kv.ts'
import { createNode, introduce, stopAll, waitFor, waitForStableLeader } from '../utils/nodes.ts'
import type { TestNode } from '../utils/nodes.ts'

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

async function all<T> (source: AsyncIterable<T> | Iterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of source) {
    out.push(item)
  }
  return out
}

describe('SyncedLevelDatastore', function () {
  this.timeout(60_000)
  let dir: string
  let stores: SyncedLevelDatastore[] = []
  let nodes: TestNode[] = []

  async function open (name: string): Promise<SyncedLevelDatastore> {
    const store = new SyncedLevelDatastore(join(dir, name))
    await store.open()
    stores.push(store)
    return store
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'libp2p-raft-level-'))
  })

  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
    await Promise.all(stores.map(async store => store.close()))
    stores = []
    await rm(dir, { recursive: true, force: true })
  })

  it('is a working Datastore: put, get, has, delete, batch, query, and keeps it across a reopen', async () => {
    const store = await open('db')
    await store.put(new Key('/a/1'), bytes('one'))
    const batch = store.batch()
    batch.put(new Key('/a/2'), bytes('two'))
    batch.put(new Key('/b/1'), bytes('other'))
    batch.delete(new Key('/a/1'))
    await batch.commit()
    expect(await store.has(new Key('/a/1'))).to.be.false()
    expect(new TextDecoder().decode(await store.get(new Key('/a/2')))).to.equal('two')
    const listed = await all(store.query({ prefix: '/a' }))
    expect(listed.map(pair => pair.key.toString())).to.deep.equal(['/a/2'])
    await store.delete(new Key('/b/1'))
    await expect(store.get(new Key('/b/1'))).to.eventually.be.rejected().with.property('name', 'NotFoundError')

    await store.close()
    stores = []
    const reopened = await open('db')
    expect(new TextDecoder().decode(await reopened.get(new Key('/a/2')))).to.equal('two')
    expect(await all(reopened.queryKeys({}))).to.have.lengthOf(1)
  })

  it('a three-member cluster on it commits, and keeps what it committed across a restart of every member', async () => {
    const keys = await Promise.all([0, 1, 2].map(async () => generateKeyPair('Ed25519')))
    const ids = keys.map(key => peerIdFromPrivateKey(key))
    const raftStores = await Promise.all(keys.map(async (_, i) => open(`member-${i}`)))
    nodes = await Promise.all(keys.map(async (privateKey, i) => createNode({ privateKey, bootstrap: ids, raft: { datastore: raftStores[i] } })))
    await introduce(nodes)
    const leader = await waitForStableLeader(nodes)
    for (const node of nodes) {
      expect(node.raft.status().warnings).to.deep.equal([], 'Raft keeps its state in the synced store, not in the host\'s MemoryDatastore')
    }
    const { index } = await leader.raft.commit(set('k', 'v1'))
    await leader.raft.commit(set('k', 'v2'))
    await stopAll(nodes)

    // New hosts with fresh memory datastores: all Raft knows comes from the synced stores.
    nodes = await Promise.all(keys.map(async (privateKey, i) => createNode({ privateKey, bootstrap: ids, raft: { datastore: raftStores[i] } })))
    await introduce(nodes)
    const restarted = await waitForStableLeader(nodes)
    await restarted.raft.commit(set('k', 'v3'))
    await waitFor(() => nodes.every(node => node.kv.values.get('k') === 'v3'), 'every member to apply the command committed after the restart')
    for (const node of nodes) {
      expect(node.kv.history.slice(0, 2)).to.deep.equal([`${index}:set k v1`, `${index + 1}:set k v2`], 'the commands committed before the restart, replayed from the synced store')
    }
  })
})
