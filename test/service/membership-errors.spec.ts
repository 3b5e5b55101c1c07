import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { expect } from 'aegir/chai'
import { CatchUpTimeoutError } from '../../src/errors.ts'
import { createCluster, createNode, introduce, stopAll, waitFor, waitForStableLeader } from '../utils/nodes.ts'
import { rejection } from '../utils/rejection.ts'
import type { TestNode } from '../utils/nodes.ts'
import type { PeerId } from '@libp2p/interface'

/** A peer id no node runs under: it can never catch up. */
async function absentPeer (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

function learnersOf (node: TestNode): string[] {
  return node.raft.members().learners.map(String)
}

describe('service: membership errors on leader and follower alike', function () {
  this.timeout(60_000)
  let nodes: TestNode[] = []

  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
  })

  it('addVoter of a peer that never catches up: CatchUpTimeoutError on a follower as on the leader, and no learner left behind', async () => {
    // A short commitTimeout: the catch-up gives up on its own deadline.
    const commitTimeout = 3000
    nodes = await createCluster(3, { commitTimeout })
    const members = nodes
    const leader = await waitForStableLeader(members)
    const follower = members.find(n => n !== leader) as TestNode

    for (const caller of [leader, follower]) {
      const ghost = await absentPeer()
      const started = Date.now()
      const err = await rejection(caller.raft.addVoter(ghost))
      expect(err).to.be.an.instanceOf(CatchUpTimeoutError, `on the ${caller === leader ? 'leader' : 'follower'}: ${err.message}`)
      expect((err as CatchUpTimeoutError).peer).to.equal(ghost.toString())
      expect(Date.now() - started).to.be.below(commitTimeout + 1000)
      await waitFor(() => members.every(n => !learnersOf(n).includes(ghost.toString())), 'the learner addVoter added to be removed again', 10_000)
    }
    expect(leader.raft.members().voters).to.have.lengthOf(3)
  })

  it('a learner that existed before a failed addVoter stays a learner', async () => {
    nodes = await createCluster(3, { commitTimeout: 3000 })
    const leader = await waitForStableLeader(nodes)
    const ghost = await absentPeer()
    const result = await leader.raft.addLearner(ghost)
    expect(result.leader?.equals(leader.peerId)).to.equal(true, 'MembershipResult names the leader')
    expect((await rejection(leader.raft.addVoter(ghost))).name).to.equal('CatchUpTimeoutError')
    // A removal would be appended at once, before the rejection: none was.
    expect(learnersOf(leader)).to.deep.equal([ghost.toString()])
    expect(leader.raft.status().lastIndex).to.equal(result.index)
  })

  it('join on a node already in the configuration resolves at once with the configuration in force', async () => {
    nodes = await createCluster(3)
    const leader = await waitForStableLeader(nodes)
    const follower = nodes.find(n => n !== leader) as TestNode
    await waitFor(() => follower.raft.appliedIndex >= 1, 'the follower to apply the bootstrap configuration')
    const signal = AbortSignal.timeout(1000)
    const self = await follower.raft.join(follower.peerId, { signal })
    const other = await follower.raft.join(leader.peerId, { voter: true, signal })
    for (const result of [self, other]) {
      expect(result.index).to.equal(1, 'the bootstrap configuration')
      expect(result.leader?.equals(leader.peerId)).to.equal(true)
    }
  })

  it('a node outside any configuration is told so at once when it asks for a membership change', async () => {
    nodes = await createCluster(1)
    const outsider = await createNode({ privateKey: await generateKeyPair('Ed25519'), bootstrap: [] })
    nodes.push(outsider)
    await introduce(nodes)
    for (const call of [async () => outsider.raft.addVoter(nodes[0].peerId), async () => outsider.raft.removeMember(nodes[0].peerId), async () => outsider.raft.transferLeadership()]) {
      const err = await rejection(call())
      expect(err.name).to.equal('NotMemberError')
      expect(err.message).to.include('join')
    }
    expect((await rejection(outsider.raft.join(outsider.peerId))).name).to.equal('InvalidParametersError')
  })

  it('a refusal forwarded from the leader keeps its class and message', async () => {
    nodes = await createCluster(3)
    const leader = await waitForStableLeader(nodes)
    const follower = nodes.find(n => n !== leader) as TestNode
    // Only voters may lead: the core refuses a transfer to a peer outside the group.
    const stranger = await absentPeer()
    const onLeader = await rejection(leader.raft.transferLeadership(stranger))
    const onFollower = await rejection(follower.raft.transferLeadership(stranger))
    expect(onFollower.name).to.equal(onLeader.name)
    expect(onFollower.message).to.equal(onLeader.message)
  })
})
