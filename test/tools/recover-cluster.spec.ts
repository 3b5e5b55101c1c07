import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { expect } from 'aegir/chai'
import { MemoryDatastore } from 'datastore-core/memory'
import { recoverCluster } from '../../src/index.ts'
import { KvStateMachine, set } from '../utils/kv.ts'
import { createLevelStores } from '../utils/level-stores.ts'
import { createClusterWith, createNode, introduce, stopAll, waitFor, waitForStableLeader } from '../utils/nodes.ts'
import { rejection } from '../utils/rejection.ts'
import type { RaftInit } from '../../src/index.ts'
import type { LevelStores } from '../utils/level-stores.ts'
import type { TestNode } from '../utils/nodes.ts'
import type { Datastore } from 'interface-datastore'

/** Every key and value in a store, to show that a call changed nothing. */
async function contents (datastore: Datastore): Promise<string[]> {
  const out: string[] = []
  for await (const { key, value } of datastore.query({})) {
    out.push(`${key.toString()}=${Buffer.from(value).toString('hex')}`)
  }
  return out.sort()
}

/** Starts a stopped member again on its own store, with a fresh state machine. */
async function restart (stopped: TestNode, raft: RaftInit = {}): Promise<TestNode> {
  return createNode({ privateKey: stopped.privateKey, datastore: stopped.datastore, kv: new KvStateMachine(), bootstrap: [stopped.peerId], raft })
}

/** Commits `count` commands `set k<i> <prefix><i>` through the leader and waits until every node applied them. */
async function commitAll (nodes: TestNode[], prefix: string, count: number): Promise<void> {
  const leader = await waitForStableLeader(nodes)
  let last = 0
  for (let i = 0; i < count; i++) {
    last = (await leader.raft.commit(set(`k${i}`, `${prefix}${i}`))).index
  }
  await waitFor(() => nodes.every(n => n.raft.appliedIndex >= last), 'every member applied the commands')
}

function expectValues (node: TestNode, prefix: string, count: number): void {
  for (let i = 0; i < count; i++) {
    expect(node.kv.values.get(`k${i}`)).to.equal(`${prefix}${i}`)
  }
}

describe('tools: recoverCluster', function () {
  this.timeout(120_000)
  let nodes: TestNode[] = []
  let levels: LevelStores | undefined

  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
    await levels?.remove()
    levels = undefined
  })

  it('lets the one survivor of three lead alone, with every committed command, and commit new ones', async () => {
    levels = await createLevelStores(3)
    const stores = levels.stores
    nodes = await createClusterWith(3, i => ({ datastore: stores[i] }))
    await commitAll(nodes, 'v', 10)
    const oldTerm = nodes[0].raft.term
    await stopAll(nodes)
    const [survivor] = nodes

    // Without recovery the survivor waits for a quorum that never comes back.
    const result = await recoverCluster(survivor.datastore, { voters: [survivor.peerId] })
    expect(result.voters).to.deep.equal([survivor.peerId.toString()])
    expect(result.learners).to.deep.equal([])
    expect(result.rewrittenEntries).to.be.greaterThan(0)
    expect(result.rewroteSnapshot).to.equal(false)
    expect(result.lastIndex).to.be.at.least(result.commitIndex)

    const restarted = await restart(survivor)
    nodes = [restarted]
    await waitFor(() => restarted.raft.role === 'leader', 'the survivor to lead')
    expect(restarted.raft.term).to.be.greaterThan(oldTerm)
    expect(restarted.raft.members().voters.map(String)).to.deep.equal([survivor.peerId.toString()])
    await waitFor(() => restarted.kv.values.size === 10, 'the survivor to apply the earlier commands')
    expectValues(restarted, 'v', 10)

    const committed = await restarted.raft.commit(set('after', 'recovery'))
    expect(committed.index).to.be.greaterThan(result.lastIndex)
    expect(restarted.kv.values.get('after')).to.equal('recovery')
  })

  it('lets two survivors of five, whose logs were compacted into snapshots, elect a leader and commit', async () => {
    levels = await createLevelStores(5)
    const stores = levels.stores
    const raft: RaftInit = { snapshotThreshold: 10, trailingEntries: 2 }
    nodes = await createClusterWith(5, i => ({ datastore: stores[i], raft }))
    await commitAll(nodes, 'v', 30)
    await waitFor(() => nodes.every(n => n.raft.status().snapshotIndex > 1), 'every member to take a snapshot')
    await stopAll(nodes)
    const survivors = nodes.slice(0, 2)
    const voters = survivors.map(n => n.peerId)

    for (const survivor of survivors) {
      const result = await recoverCluster(survivor.datastore, { voters })
      // the configuration entry at index 1 was compacted away: the snapshot holds the configuration
      expect(result.rewroteSnapshot).to.equal(true)
    }

    nodes = await Promise.all(survivors.map(async n => restart(n, raft)))
    await introduce(nodes)
    const leader = await waitForStableLeader(nodes)
    expect(leader.raft.members().voters.map(String)).to.have.members(voters.map(String))
    for (const node of nodes) {
      await waitFor(() => node.kv.values.size === 30, 'each survivor to hold the earlier commands')
      expectValues(node, 'v', 30)
    }
    const committed = await nodes.find(n => n !== leader)?.raft.commit(set('after', 'recovery'))
    await waitFor(() => nodes.every(n => n.raft.appliedIndex >= (committed?.index ?? Infinity)), 'both survivors to apply the new command')
    expect(nodes.map(n => n.kv.values.get('after'))).to.deep.equal(['recovery', 'recovery'])
  })

  it('keeps a surviving learner a learner, and changes nothing when run again', async () => {
    levels = await createLevelStores(3)
    const stores = levels.stores
    nodes = await createClusterWith(3, i => ({ datastore: stores[i] }))
    await commitAll(nodes, 'v', 3)
    await stopAll(nodes)
    const [voter, learner] = nodes
    const lists = { voters: [voter.peerId.toString()], learners: [learner.peerId.toString()] }
    for (const node of [voter, learner]) {
      await recoverCluster(node.datastore, lists)
    }
    const before = await contents(voter.datastore)
    const again = await recoverCluster(voter.datastore, lists)
    expect(again.rewrittenEntries).to.equal(0)
    expect(again.rewroteSnapshot).to.equal(false)
    expect(await contents(voter.datastore)).to.deep.equal(before)

    nodes = await Promise.all([voter, learner].map(async n => restart(n)))
    await introduce(nodes)
    const leader = await waitForStableLeader(nodes)
    expect(leader.peerId.equals(voter.peerId)).to.equal(true)
    expect(nodes[1].raft.members().learners.map(String)).to.deep.equal([learner.peerId.toString()])
    const committed = await leader.raft.commit(set('after', 'recovery'))
    await waitFor(() => nodes[1].raft.appliedIndex >= committed.index, 'the learner to apply the new command')
    expect(nodes[1].kv.values.get('after')).to.equal('recovery')
  })

  describe('refuses bad input and changes nothing', () => {
    const datastore = new MemoryDatastore()
    let id: string

    before(async () => {
      const key = await generateKeyPair('Ed25519')
      id = peerIdFromPrivateKey(key).toString()
      const node = await createNode({ privateKey: key, bootstrap: [id], datastore })
      await waitFor(() => node.raft.role === 'leader', 'the single member to lead')
      await node.libp2p.stop()
    })

    const cases: Array<[string, () => Parameters<typeof recoverCluster>[1], RegExp]> = [
      ['an empty voter list', () => ({ voters: [] }), /at least one surviving voter/],
      ['an invalid peer id', () => ({ voters: [id, 'not-a-peer-id'] }), /not-a-peer-id is not a valid peer id/],
      ['an invalid learner', () => ({ voters: [id], learners: ['nope'] }), /learner nope is not a valid peer id/],
      ['a peer both voter and learner', () => ({ voters: [id], learners: [id] }), /both as a voter and as a learner/],
      ['a group with no state', () => ({ voters: [id], group: 'other' }), /no Raft state for group 'other' under \/raft/],
      ['a prefix with no state', () => ({ voters: [id], datastorePrefix: '/elsewhere' }), /no Raft state for group 'default' under \/elsewhere/]
    ]
    for (const [what, options, message] of cases) {
      it(what, async () => {
        const before = await contents(datastore)
        const err = await rejection(recoverCluster(datastore, options()))
        expect(err).to.have.property('name', 'InvalidParametersError')
        expect(err.message).to.match(message)
        expect(await contents(datastore)).to.deep.equal(before)
      })
    }

    it('an empty datastore', async () => {
      const err = await rejection(recoverCluster(new MemoryDatastore(), { voters: [id] }))
      expect(err).to.have.property('name', 'InvalidParametersError')
    })
  })
})
