/**
 * Every call that waits takes an `AbortSignal`, and rejects with libp2p's
 * `AbortError` when it aborts: before the call (nothing is done) or while
 * it waits.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { AbortError as Libp2pAbortError } from '@libp2p/interface'
import { expect } from 'aegir/chai'
import { AbortError } from '../../src/index.ts'
import { set } from '../utils/kv.ts'
import { createCluster, createNode, stopAll, waitForStableLeader } from '../utils/nodes.ts'
import { rejection } from '../utils/rejection.ts'
import type { Raft } from '../../src/index.ts'
import type { TestNode } from '../utils/nodes.ts'
import type { AbortOptions } from '@libp2p/interface'

type Call = [string, (raft: Raft, options: AbortOptions) => Promise<unknown>]

describe('service: aborted calls', function () {
  this.timeout(120_000)
  let nodes: TestNode[] = []

  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
  })

  async function stranger (): Promise<TestNode> {
    const node = await createNode({ privateKey: await generateKeyPair('Ed25519'), bootstrap: [] })
    nodes.push(node)
    return node
  }

  it('every waiting call rejects with AbortError when its signal is already aborted, and does nothing', async () => {
    nodes = await createCluster(3, { authorizeJoin: () => true })
    const leader = await waitForStableLeader(nodes)
    const follower = nodes.find(n => n !== leader) as TestNode
    const outsider = await stranger()
    const before = { members: leader.raft.members(), lastIndex: leader.raft.status().lastIndex }
    const calls: Call[] = [
      ['commit', async (raft, o) => raft.commit(set('aborted', '1'), o)],
      ['read', async (raft, o) => raft.read(o)],
      ['barrier', async (raft, o) => raft.barrier(o)],
      ['waitForLeader', async (raft, o) => raft.waitForLeader(o)],
      ['snapshot', async (raft, o) => raft.snapshot(o)],
      ['addVoter', async (raft, o) => raft.addVoter(outsider.libp2p.getMultiaddrs()[0], o)],
      ['addLearner', async (raft, o) => raft.addLearner(outsider.peerId, o)],
      ['removeMember', async (raft, o) => raft.removeMember(follower.peerId, o)],
      ['transferLeadership', async (raft, o) => raft.transferLeadership(undefined, o)]
    ]
    for (const node of [leader, follower]) {
      for (const [name, call] of calls) {
        const err = await rejection(call(node.raft, { signal: AbortSignal.abort() }))
        expect(err.name).to.equal('AbortError', `${name} on the ${node === leader ? 'leader' : 'follower'}`)
      }
    }
    const joined = await rejection(outsider.raft.join(leader.libp2p.getMultiaddrs()[0], { signal: AbortSignal.abort() }))
    expect(joined.name).to.equal('AbortError', 'join')
    // libp2p's class, which the package exports too
    expect(AbortError).to.equal(Libp2pAbortError)
    expect(joined).to.be.an.instanceOf(Libp2pAbortError)
    // A round of Raft after them: nothing they could have started shows.
    await leader.raft.commit(set('after', 'aborts'))
    expect(leader.raft.members()).to.deep.equal(before.members)
    expect(leader.raft.status().lastIndex).to.equal(before.lastIndex + 1)
    expect(leader.kv.values.has('aborted')).to.be.false()
  })

  it('every waiting call rejects with AbortError, at once, when its signal aborts while it waits', async () => {
    // Without check-quorum the leader stays leader once its followers are gone: what needs a quorum waits.
    nodes = await createCluster(3, { checkQuorum: false, authorizeJoin: () => true, commitTimeout: 60_000 })
    const leader = await waitForStableLeader(nodes)
    const followers = nodes.filter(n => n !== leader)
    await Promise.all(followers.map(async n => n.libp2p.stop()))
    const outsider = await stranger()
    const waiting: Array<[string, Promise<unknown>, AbortController]> = []
    const start = (name: string, call: (o: AbortOptions) => Promise<unknown>): void => {
      const controller = new AbortController()
      waiting.push([name, call({ signal: controller.signal }), controller])
    }
    start('commit', async o => leader.raft.commit(set('waiting', '1'), o))
    start('read', async o => leader.raft.read(o))
    start('addVoter', async o => leader.raft.addVoter(outsider.libp2p.getMultiaddrs()[0], o))
    const alone = await stranger()
    start('waitForLeader', async o => alone.raft.waitForLeader(o))
    await new Promise(resolve => setTimeout(resolve, 500))
    for (const [name, pending, controller] of waiting) {
      const started = Date.now()
      controller.abort()
      const err = await rejection(pending)
      expect(err.name).to.equal('AbortError', name)
      expect(Date.now() - started).to.be.below(5000, `${name} settles when aborted, not at its timeout`)
    }
  })
})
