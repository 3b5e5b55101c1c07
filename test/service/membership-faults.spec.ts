import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { expect } from 'aegir/chai'
import { MemoryDatastore } from 'datastore-core/memory'
import { set } from '../utils/kv.ts'
import { createCluster, createNode, introduce, stopAll, waitFor, waitForStableLeader } from '../utils/nodes.ts'
import type { TestNode } from '../utils/nodes.ts'

describe('service: membership faults: a learner admitted as learner-only', function () {
  this.timeout(60_000)
  let nodes: TestNode[] = []
  afterEach(async () => { await stopAll(nodes); nodes = [] })
  it('a learner cannot make itself a voter or remove voters', async () => {
    nodes = await createCluster(3, { authorizeJoin: (_peer, { voter }) => !voter })
    const leader = await waitForStableLeader(nodes)
    const joiner = await createNode({ privateKey: await generateKeyPair('Ed25519'), bootstrap: [] })
    nodes.push(joiner)
    await introduce(nodes)
    await joiner.raft.join(leader.peerId)
    const asVoter = await joiner.raft.join(leader.peerId, { voter: true }).then(() => 'ok', (e: Error) => e.name)
    expect(asVoter).to.equal('JoinRefusedError')
    const promote = await joiner.raft.addVoter(joiner.peerId).then(() => 'ok', (e: Error) => e.name)
    const victim = nodes.find(n => n !== leader && n !== joiner) as TestNode
    const remove = await joiner.raft.removeMember(victim.peerId).then(() => 'ok', (e: Error) => e.name)
    expect(promote).to.not.equal('ok')
    expect(remove).to.not.equal('ok')
  })
})

describe('service: membership faults: a follower that missed a voter being added', function () {
  this.timeout(120_000)
  let nodes: TestNode[] = []
  afterEach(async () => { await stopAll(nodes); nodes = [] })

  it('catches up once the new voter leads', async () => {
    const keys = await Promise.all(Array.from({ length: 3 }, async () => generateKeyPair('Ed25519')))
    const ids = keys.map(k => peerIdFromPrivateKey(k))
    const stores = keys.map(() => new MemoryDatastore())
    nodes = await Promise.all(keys.map(async (privateKey, i) => createNode({ privateKey, bootstrap: ids, datastore: stores[i] })))
    await introduce(nodes)
    const leader = await waitForStableLeader(nodes)
    await leader.raft.commit(set('a', '1'))
    const laggard = nodes.find(n => n !== leader) as TestNode
    const li = nodes.indexOf(laggard)
    await laggard.libp2p.stop()
    const x = await createNode({ privateKey: await generateKeyPair('Ed25519'), bootstrap: [] })
    nodes.push(x)
    await introduce(nodes)
    await leader.raft.addVoter(x.peerId)
    await leader.raft.transferLeadership(x.peerId)
    expect(x.raft.role).to.equal('leader')
    // the laggard comes back, with its state
    const back = await createNode({ privateKey: keys[li], bootstrap: ids, datastore: stores[li] })
    nodes[li] = back
    await introduce(nodes)
    const { index } = await x.raft.commit(set('b', '2'))
    await waitFor(() => back.raft.appliedIndex >= index, 'the laggard to catch up from the new leader', 10_000)
  })
})

describe('service: membership faults: forwarded commands during a leadership transfer', function () {
  this.timeout(60_000)
  let nodes: TestNode[] = []
  afterEach(async () => { await stopAll(nodes); nodes = [] })

  it('a follower\'s commit during a transfer that fails waits and lands', async () => {
    nodes = await createCluster(3, { commitTimeout: 4000 })
    const leader = await waitForStableLeader(nodes)
    const [follower, target] = nodes.filter(n => n !== leader)
    await leader.raft.commit(set('a', '1'))
    // the target is gone: the transfer lasts an election timeout, then the leader leads on
    await target.libp2p.stop()
    const transfer = leader.raft.transferLeadership(target.peerId).catch((err: Error) => err)
    await waitFor(() => leader.raft.status().role === 'leader', 'the transfer to start')
    const result = await follower.raft.commit(set('b', '2')).then(() => 'ok', (err: Error) => err.name)
    expect(result).to.equal('ok')
    expect((await transfer as Error).name).to.equal('LeadershipTransferError')
  })
})

describe('service: membership faults: transfer asked of a follower', function () {
  this.timeout(60_000)
  let nodes: TestNode[] = []
  afterEach(async () => { await stopAll(nodes); nodes = [] })

  async function transferAskedOfFollower (toItself: boolean): Promise<void> {
    const leader = await waitForStableLeader(nodes)
    const [f1, f2] = nodes.filter(n => n !== leader)
    const target = toItself ? f1 : f2
    const result = await f1.raft.transferLeadership(target.peerId).then(p => `ok ${p.equals(target.peerId)}`, (err: Error) => err.name)
    expect(result).to.equal('ok true')
  }

  it('a follower asks to hand leadership to itself', async () => {
    nodes = await createCluster(3)
    await transferAskedOfFollower(true)
  })

  it('a follower asks to hand leadership to another follower', async () => {
    nodes = await createCluster(3)
    await transferAskedOfFollower(false)
  })
})

describe('service: membership faults: leader removes itself', function () {
  this.timeout(60_000)
  let nodes: TestNode[] = []
  afterEach(async () => { await stopAll(nodes); nodes = [] })
  it('followers keep accepting the old leader until the change commits', async () => {
    nodes = await createCluster(3)
    const leader = await waitForStableLeader(nodes)
    await leader.raft.commit(set('a', '1'))
    await leader.raft.removeMember(leader.peerId)
    const rest = nodes.filter(n => n !== leader)
    const next = await waitFor(() => rest.find(n => n.raft.role === 'leader'), 'a new leader')
    expect(next).to.not.equal(undefined)
  })
})
