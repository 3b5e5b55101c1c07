import { generateKeyPair } from '@libp2p/crypto/keys'
import { expect } from 'aegir/chai'
import { KEEP_ALIVE_TAG } from '../../src/constants.ts'
import { set } from '../utils/kv.ts'
import { createCluster, createNode, introduce, stopAll, waitFor, waitForStableLeader } from '../utils/nodes.ts'
import { rejection } from '../utils/rejection.ts'
import type { RaftInit } from '../../src/index.ts'
import type { TestNode } from '../utils/nodes.ts'
import type { PeerId } from '@libp2p/interface'

/** A node that belongs to no configuration yet: it waits to be added. */
async function newcomer (nodes: TestNode[], raft: RaftInit = {}): Promise<TestNode> {
  const node = await createNode({ privateKey: await generateKeyPair('Ed25519'), bootstrap: [], raft })
  nodes.push(node)
  await introduce(nodes)
  return node
}

function ids (peers: PeerId[]): string[] {
  return peers.map(p => p.toString()).sort()
}

/** Commits `set c<n> <n>` through whichever node leads, until stopped; records what was acknowledged. */
function keepCommitting (nodes: TestNode[]): { stop(): Promise<string[]> } {
  const acknowledged: string[] = []
  const running = new AbortController()
  const loop = (async () => {
    for (let n = 0; !running.signal.aborted && n < 100_000; n++) {
      const leader = nodes.find(node => node.libp2p.status === 'started' && node.raft.role === 'leader')
      if (leader === undefined) {
        await new Promise(resolve => setTimeout(resolve, 20))
        continue
      }
      try {
        await leader.raft.commit(set(`c${n}`, `${n}`), { signal: AbortSignal.timeout(5000) })
        acknowledged.push(`c${n}`)
      } catch {
        // not acknowledged: it may or may not be applied, and is not counted
      }
    }
  })()
  return {
    stop: async () => {
      running.abort()
      await loop
      return acknowledged
    }
  }
}

describe('service: membership', function () {
  this.timeout(180_000)
  let nodes: TestNode[] = []

  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
  })

  it('grows from 3 to 5 voters, removes two (one the leader) and hands leadership over while commits flow', async () => {
    nodes = await createCluster(3)
    await waitForStableLeader(nodes)
    const client = keepCommitting(nodes)

    const fourth = await newcomer(nodes)
    const fifth = await newcomer(nodes)
    const leader = nodes.find(n => n.raft.role === 'leader') as TestNode
    await leader.raft.addVoter(fourth.peerId)
    // A follower's request is forwarded to the leader.
    const follower = nodes.find(n => n.raft.role === 'follower' && n !== fourth && n !== fifth) as TestNode
    await follower.raft.addVoter(fifth.libp2p.getMultiaddrs()[0])
    await waitFor(() => nodes.every(n => n.raft.members().voters.length === 5), 'every node to see five voters')

    // Remove a follower and the leader itself.
    const current = await waitForStableLeader(nodes)
    const goner = nodes.find(n => n !== current && n !== fourth && n !== fifth) as TestNode
    await current.raft.removeMember(goner.peerId)
    await current.raft.removeMember(current.peerId)
    const remaining = nodes.filter(n => n !== goner && n !== current)
    const next = await waitFor(() => remaining.find(n => n.raft.role === 'leader'), 'a leader among the remaining three')
    expect(ids(next.raft.members().voters)).to.deep.equal(ids(remaining.map(n => n.peerId)))
    await waitFor(() => current.raft.members().voters.length === 3, 'the old leader to learn it left')
    expect(current.raft.role).to.equal('follower')

    // Hand leadership to a named node.
    const target = remaining.find(n => n !== next) as TestNode
    const newLeader = await next.raft.transferLeadership(target.peerId)
    expect(newLeader.equals(target.peerId)).to.be.true()
    expect(target.raft.role).to.equal('leader')

    const acknowledged = await client.stop()
    expect(acknowledged.length).to.be.greaterThan(10)
    const { index } = await target.raft.commit(set('last', 'one'))
    await waitFor(() => remaining.every(n => n.raft.appliedIndex >= index), 'the last commit on the remaining members')
    for (const n of remaining) {
      for (const key of acknowledged) {
        expect(n.kv.values.has(key), `${key} on ${n.peerId.toString()}`).to.be.true()
      }
      expect([...n.kv.values].sort()).to.deep.equal([...target.kv.values].sort())
    }
  })

  it('a removed member learns it was removed, stops campaigning and is no longer tagged keep-alive', async () => {
    nodes = await createCluster(3)
    const leader = await waitForStableLeader(nodes)
    const goner = nodes.find(n => n !== leader) as TestNode
    const membership = new Promise<{ voters: PeerId[] }>(resolve => {
      goner.raft.addEventListener('raft:membership', (evt) => { resolve(evt.detail) })
    })
    await leader.raft.removeMember(goner.peerId)
    expect(ids((await membership).voters)).to.not.include(goner.peerId.toString())
    const peer = await leader.libp2p.peerStore.get(goner.peerId)
    expect(peer.tags.has(KEEP_ALIVE_TAG)).to.be.false()
    const term = goner.raft.term
    // It never campaigns (well past several election timeouts), so it raises no term.
    await new Promise(resolve => setTimeout(resolve, 2000))
    expect(goner.raft.role).to.equal('follower')
    expect(goner.raft.term).to.equal(term)
    const { index } = await leader.raft.commit(set('k', 'v'))
    expect(index).to.be.greaterThan(0)
    expect(goner.kv.values.has('k')).to.be.false()
  })

  it('a learner receives the log and members() lists it', async () => {
    nodes = await createCluster(3)
    const leader = await waitForStableLeader(nodes)
    await leader.raft.commit(set('before', '1'))
    const learner = await newcomer(nodes)
    await leader.raft.addLearner(learner.peerId)
    expect(ids(leader.raft.members().learners)).to.deep.equal([learner.peerId.toString()])
    const { index } = await leader.raft.commit(set('after', '2'))
    await waitFor(() => learner.raft.appliedIndex >= index, 'the learner to apply')
    expect(learner.kv.values.get('before')).to.equal('1')
    expect(learner.raft.role).to.equal('follower')
    await expect(leader.raft.addLearner(learner.peerId)).to.eventually.have.property('index')
  })

  it('refuses a join without authorization, and lets the node in with it', async () => {
    const allowed = new Set<string>()
    nodes = await createCluster(3, { authorizeJoin: (peer) => allowed.has(peer.toString()) })
    const leader = await waitForStableLeader(nodes)
    const joiner = await newcomer(nodes, { authorizeJoin: () => true })
    const follower = nodes.find(n => n !== leader && n !== joiner) as TestNode
    const err = await rejection(joiner.raft.join(follower.libp2p.getMultiaddrs()[0]))
    expect(err.name).to.equal('JoinRefusedError')
    expect(joiner.raft.members().voters).to.be.empty()

    allowed.add(joiner.peerId.toString())
    await joiner.raft.join(follower.peerId, { voter: true })
    await waitFor(() => leader.raft.members().voters.length === 4, 'the joiner to be promoted to voter')
    expect(ids(joiner.raft.members().voters)).to.include(joiner.peerId.toString())
    const { index } = await joiner.raft.commit(set('joined', 'yes'))
    await waitFor(() => nodes.every(n => n.raft.appliedIndex >= index), 'the joiner\'s commit everywhere')
  })

  it('a node started with join asks until it is let in', async () => {
    nodes = await createCluster(3, { authorizeJoin: () => true })
    const leader = await waitForStableLeader(nodes)
    const joiner = await createNode({ privateKey: await generateKeyPair('Ed25519'), bootstrap: [], raft: { join: [leader.libp2p.getMultiaddrs()[0]] } })
    nodes.push(joiner)
    await waitFor(() => ids(leader.raft.members().learners).includes(joiner.peerId.toString()), 'the joiner to become a learner')
    const { index } = await leader.raft.commit(set('hello', 'learner'))
    await waitFor(() => joiner.raft.appliedIndex >= index, 'the learner to apply')
  })

  it('one membership change at a time', async () => {
    // a short commitTimeout: the stuck change gives up on its own deadline (a caller's signal would make it an AbortError)
    nodes = await createCluster(3, { commitTimeout: 3000 })
    const leader = await waitForStableLeader(nodes)
    const slow = await newcomer(nodes)
    await slow.libp2p.stop()
    // Adding a voter that cannot catch up holds the leader's one change slot…
    const adding = leader.raft.addVoter(slow.peerId)
    await waitFor(() => leader.raft.members().learners.length === 1, 'the slow node to be added as a learner')
    const other = await newcomer(nodes)
    const err = await rejection(leader.raft.addLearner(other.peerId))
    expect(err.name).to.equal('MembershipChangeInProgressError')
    // …until it gives up (and takes the learner it added back); commits never stalled.
    expect((await rejection(adding)).name).to.be.oneOf(['CatchUpTimeoutError'])
    await leader.raft.commit(set('still', 'fine'))
    expect(leader.raft.members().voters).to.have.lengthOf(3)
  })
})
