import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { expect } from 'aegir/chai'
import { MemoryDatastore } from 'datastore-core/memory'
import { createCluster, createNode, introduce, stopAll, waitFor, waitForStableLeader } from '../utils/nodes.ts'
import type { RaftWarningCode } from '../../src/index.ts'
import type { TestNode } from '../utils/nodes.ts'

/** A datastore that keeps its data across libp2p restarts in the test, under a name the memory heuristic does not match. */
class KeptDatastore extends MemoryDatastore {}

function codes (node: TestNode): RaftWarningCode[] {
  return node.raft.status().warnings.map(w => w.code)
}

describe('service: bootstrap rule and status warnings', function () {
  this.timeout(60_000)
  let nodes: TestNode[] = []

  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
  })

  it('nodes started without bootstrap or join found no group: none leads one of its own, each says so, until it is added', async () => {
    const keys = await Promise.all([0, 1, 2].map(async () => generateKeyPair('Ed25519')))
    nodes = await Promise.all(keys.map(async privateKey => createNode({ privateKey, bootstrap: undefined })))
    await introduce(nodes)
    for (const node of nodes) {
      // Not a voter of any configuration: the core never campaigns, so it can never lead a group of one.
      expect(node.raft.members()).to.deep.equal({ voters: [], learners: [] })
      expect(codes(node)).to.include('no-configuration')
      const warning = node.raft.status().warnings.find(w => w.code === 'no-configuration')
      expect(warning?.message).to.include("bootstrap: 'self'")
    }

    // One of them founds a group explicitly and adds the others.
    const founderKey = await generateKeyPair('Ed25519')
    const founder = await createNode({ privateKey: founderKey, bootstrap: 'self' })
    nodes.push(founder)
    await introduce(nodes)
    expect(codes(founder)).to.not.include('no-configuration')
    await founder.raft.waitForLeader()
    for (const node of nodes.slice(0, 3)) {
      await founder.raft.addVoter(node.peerId)
    }
    await waitFor(() => nodes.every(n => n.raft.members().voters.length === 4), 'every node to follow the four-voter configuration')
    for (const node of nodes) {
      expect(codes(node)).to.not.include('no-configuration')
    }
  })

  it('a bootstrap that disagrees with the stored configuration is ignored, with a warning', async () => {
    const stores = [new KeptDatastore(), new KeptDatastore(), new KeptDatastore()]
    const keys = await Promise.all(stores.map(async () => generateKeyPair('Ed25519')))
    const ids = keys.map(key => peerIdFromPrivateKey(key))
    nodes = await Promise.all(keys.map(async (privateKey, i) => createNode({ privateKey, bootstrap: ids, datastore: stores[i] })))
    await introduce(nodes)
    await waitForStableLeader(nodes)
    for (const node of nodes) {
      expect(node.raft.status().warnings).to.deep.equal([], 'a persistent datastore and a bootstrap that founded the group')
    }
    await stopAll(nodes)

    const restarted = await createNode({ privateKey: keys[0], bootstrap: 'self', datastore: stores[0] })
    nodes = [restarted]
    expect(restarted.raft.members().voters.map(String).sort()).to.deep.equal(ids.map(String).sort(), 'the stored configuration stays in force')
    const warning = restarted.raft.status().warnings.find(w => w.code === 'bootstrap-ignored')
    expect(warning?.message).to.include('stored configuration')
  })

  it('warns that state kept in a MemoryDatastore does not survive a restart', async () => {
    nodes = await createCluster(1, {})
    const node = nodes[0]
    expect(codes(node)).to.deep.equal(['memory-datastore'])
    expect(node.raft.status().warnings[0].message).to.include('persistent datastore')
  })

  it('judges the datastore Raft was given, not the host\'s, and keeps its keys there alone', async () => {
    const privateKey = await generateKeyPair('Ed25519')
    const host = new KeptDatastore()
    const own = new MemoryDatastore()
    const node = await createNode({ privateKey, bootstrap: 'self', datastore: host, raft: { datastore: own } })
    nodes = [node]
    expect(codes(node)).to.deep.equal(['memory-datastore'], 'Raft\'s own store is a MemoryDatastore, whatever the host keeps')
    await node.raft.waitForLeader()
    await node.raft.commit(new Uint8Array([1]))
    const keysUnder = async (store: MemoryDatastore): Promise<string[]> => {
      const keys: string[] = []
      for await (const key of store.queryKeys({ prefix: '/raft' })) {
        keys.push(key.toString())
      }
      return keys
    }
    expect(await keysUnder(own)).to.not.be.empty()
    expect(await keysUnder(host)).to.deep.equal([], 'nothing of Raft\'s in the host\'s datastore')
  })

  it('refuses a datastore option that is not a Datastore', async () => {
    const privateKey = await generateKeyPair('Ed25519')
    const notAStore = { put: async () => {} } as any
    await expect(createNode({ privateKey, bootstrap: 'self', raft: { datastore: notAStore } })).to.eventually.be.rejected().with.property('name', 'InvalidParametersError')
  })
})
