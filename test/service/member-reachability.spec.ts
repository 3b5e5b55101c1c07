/**
 * Every member can reach every other one, however it came in, without the
 * application sharing addresses: the new member is introduced to nobody but
 * the node it is added through, and the others must learn where it is (and
 * it where they are) from the configuration the leader replicates.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { expect } from 'aegir/chai'
import { set } from '../utils/kv.ts'
import { createCluster, createNode, stopAll, waitFor, waitForStableLeader } from '../utils/nodes.ts'
import type { TestNode } from '../utils/nodes.ts'
import type { PrivateKey } from '@libp2p/interface'
import type { Datastore } from 'interface-datastore'

/** A node outside the group, introduced to no one. */
async function stranger (options: { privateKey?: PrivateKey, datastore?: Datastore, join?: TestNode } = {}): Promise<TestNode> {
  return createNode({
    privateKey: options.privateKey ?? await generateKeyPair('Ed25519'),
    datastore: options.datastore,
    bootstrap: [],
    raft: options.join === undefined ? {} : { join: [options.join.libp2p.getMultiaddrs()[0]], joinAsVoter: true }
  })
}

/** Stops the leader, then checks the others elect one among themselves, commit, and all apply it. */
async function survivesLeaderLoss (nodes: TestNode[]): Promise<void> {
  const leader = await waitForStableLeader(nodes)
  await leader.libp2p.stop()
  const rest = nodes.filter(n => n !== leader)
  const next = await waitForStableLeader(rest, 60_000)
  const { index } = await next.raft.commit(set('after', 'leader-loss'))
  await waitFor(() => rest.every(n => n.raft.appliedIndex >= index), 'every remaining member to apply the commit', 60_000)
  for (const n of rest) {
    expect(n.kv.values.get('after')).to.equal('leader-loss')
  }
}

describe('service: members reach each other', function () {
  this.timeout(180_000)
  let nodes: TestNode[] = []

  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
  })

  it('a voter added by multiaddr on the leader stays reachable when that leader goes', async () => {
    nodes = await createCluster(3)
    const leader = await waitForStableLeader(nodes)
    const added = await stranger()
    nodes.push(added)
    await leader.raft.addVoter(added.libp2p.getMultiaddrs()[0])
    await survivesLeaderLoss(nodes)
  })

  it('a node let in with join stays reachable when the leader goes', async () => {
    nodes = await createCluster(3, { authorizeJoin: () => true })
    await waitForStableLeader(nodes)
    const follower = nodes.find(n => n.raft.role === 'follower') as TestNode
    const joiner = await stranger({ join: follower })
    nodes.push(joiner)
    await waitFor(() => joiner.raft.members().voters.some(p => p.equals(joiner.peerId)), 'the joiner to be a voter (a first request without addresses would wait out the 20 s commit timeout)', 15_000)
    await survivesLeaderLoss(nodes)
  })

  it('an added voter restarted on a new port is found again by the others', async () => {
    nodes = await createCluster(3)
    const leader = await waitForStableLeader(nodes)
    const first = await stranger()
    nodes.push(first)
    await leader.raft.addVoter(first.libp2p.getMultiaddrs()[0])
    const oldAddress = first.libp2p.getMultiaddrs()[0].toString()
    await first.libp2p.stop()
    const restarted = await stranger({ privateKey: first.privateKey, datastore: first.datastore })
    nodes[nodes.indexOf(first)] = restarted
    expect(restarted.libp2p.getMultiaddrs()[0].toString()).to.not.equal(oldAddress)
    const { index } = await leaderOf(nodes).raft.commit(set('before', 'restart'))
    await waitFor(() => restarted.raft.appliedIndex >= index, 'the restarted member to catch up', 60_000)
    await survivesLeaderLoss(nodes)
  })
})

function leaderOf (nodes: TestNode[]): TestNode {
  const leader = nodes.find(n => n.libp2p.status === 'started' && n.raft.role === 'leader')
  if (leader === undefined) {
    throw new Error('no leader')
  }
  return leader
}
