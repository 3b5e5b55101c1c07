import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { multiaddr } from '@multiformats/multiaddr'
import { expect } from 'aegir/chai'
import { Key } from 'interface-datastore'
import { KEEP_ALIVE_TAG } from '../../src/constants.ts'
import { Frame, MembershipRequest } from '../../src/pb/raft.ts'
import { messageToPb } from '../../src/pb/translate.ts'
import { set } from '../utils/kv.ts'
import { createCluster, createNode, createPlainNode, introduce, stopAll, waitFor, waitForStableLeader } from '../utils/nodes.ts'
import type { Message } from '../../src/core/index.ts'
import type { RaftInit, RaftStatus } from '../../src/index.ts'
import type { TestNode } from '../utils/nodes.ts'
import type { Stream } from '@libp2p/interface'
import type { Libp2p } from 'libp2p'

const PROTOCOL = '/libp2p-raft/default/1.0.0'
/** Slower than TEST_TIMING, so that no natural election happens while a test checks that nothing changed. */
const STEADY: RaftInit = { electionTimeout: 1500, heartbeatInterval: 100 }
/** A length prefix of 8 MiB, over the default maxMessageSize: the receiver resets the stream on reading it. */
const OVERSIZE_PREFIX = new Uint8Array([0x80, 0x80, 0x80, 0x04])

function frame (message: Message): Frame {
  return { message: messageToPb(message) }
}

/**
 * Writes the frames on a new raft stream to `target`, then a length prefix the
 * target must refuse, and waits for the target to reset the stream: frames on
 * a stream are handled in order, so by then every frame was handled.
 */
async function sendFrames (from: Libp2p, target: TestNode, frames: Frame[]): Promise<void> {
  const stream: Stream = await from.dialProtocol(target.libp2p.getMultiaddrs()[0], PROTOCOL)
  const lp = lpStream(stream)
  for (const f of frames) {
    await lp.write(Frame.encode(f))
  }
  stream.send(OVERSIZE_PREFIX)
  await waitFor(() => stream.status !== 'open', 'the target to reset the stream after handling the frames')
}

/** Three raft nodes and a fourth voter that never runs raft: a raw node holding its key, driven by hand. */
async function threeAndARawVoter (): Promise<{ nodes: TestNode[], rawVoter: Libp2p }> {
  const keys = await Promise.all(Array.from({ length: 4 }, async () => generateKeyPair('Ed25519')))
  const ids = keys.map(key => peerIdFromPrivateKey(key))
  const nodes = await Promise.all(keys.slice(0, 3).map(async privateKey => createNode({ privateKey, bootstrap: ids, raft: STEADY })))
  await introduce(nodes)
  return { nodes, rawVoter: await createPlainNode(keys[3]) }
}

type Observed = Pick<RaftStatus, 'role' | 'term' | 'commitIndex' | 'appliedIndex' | 'lastIndex'> & { leader: string | undefined, history: string[] }

function observe (node: TestNode): Observed {
  const { role, term, commitIndex, appliedIndex, lastIndex, leader } = node.raft.status()
  return { role, term, commitIndex, appliedIndex, lastIndex, leader: leader?.toString(), history: [...node.kv.history] }
}

describe('service: trust', function () {
  this.timeout(120_000)
  let nodes: TestNode[] = []
  let raw: Libp2p[] = []

  afterEach(async () => {
    await stopAll(nodes)
    await Promise.all(raw.map(async node => node.stop()))
    nodes = []
    raw = []
  })

  it('ignores every frame from a peer outside the group, whoever it claims to be', async () => {
    nodes = await createCluster(3, STEADY)
    const leader = await waitForStableLeader(nodes)
    const follower = nodes.find(n => n !== leader) as TestNode
    await follower.raft.commit(set('k', 'v'))
    await waitFor(() => nodes.every(n => n.raft.appliedIndex === leader.raft.appliedIndex), 'every node applied the first commit')
    const before = nodes.map(observe)
    const term = leader.raft.term
    const last = leader.raft.status().lastIndex
    const huge = term + 1000

    const outsider = await createPlainNode()
    raw.push(outsider)
    const applied: string[] = []
    for (const n of nodes) {
      n.raft.addEventListener('raft:apply', (evt) => { applied.push(new TextDecoder().decode(evt.detail.command)) })
    }

    for (const target of [follower, leader]) {
      const to = target.peerId.toString()
      const member = nodes.find(n => n !== target)?.peerId.toString() as string
      const frames: Frame[] = []
      // as itself, and claiming to be a member
      for (const from of [outsider.peerId.toString(), member]) {
        frames.push(
          frame({ type: 'heartbeat-request', from, to, term: huge, commit: last + 1, context: 0 }),
          frame({ type: 'append-request', from, to, term: huge, prevIndex: last, prevTerm: term, entries: [{ type: 'command', index: last + 1, term: huge, data: set('evil', 'appended') }], commit: last + 1 }),
          frame({ type: 'vote-request', from, to, term: huge, preVote: true, lastIndex: last + 1000, lastTerm: huge }),
          frame({ type: 'vote-request', from, to, term: huge, preVote: false, lastIndex: last + 1000, lastTerm: huge }),
          frame({ type: 'append-response', from, to, term, success: true, index: last + 1000, hintIndex: 0, hintTerm: 0 }),
          frame({ type: 'vote-response', from, to, term: huge, preVote: false, granted: true })
        )
      }
      frames.push(
        // for the leader's own term: only the trust check stands in its way
        { propose: { id: 1, term, again: false, command: set('evil', 'proposed') as Uint8Array<ArrayBuffer> } },
        { proposeResult: { id: 1, index: 1, term: 1 } }
      )
      await sendFrames(outsider, target, frames)
    }

    // nothing moved: terms, leader, logs, commit and apply indexes
    expect(nodes.map(observe)).to.deep.equal(before)

    // the next command lands right after the old log: nothing was appended meanwhile
    const { index } = await leader.raft.commit(set('k', 'w'))
    expect(index).to.equal(last + 1)
    await waitFor(() => nodes.every(n => n.raft.appliedIndex >= index), 'the last commit everywhere')
    expect(applied).to.deep.equal(nodes.map(() => 'set k w'))
    for (const n of nodes) {
      expect(n.raft.term).to.equal(term)
      expect(n.kv.values.has('evil')).to.be.false()
      expect(n.kv.history).to.deep.equal(leader.kv.history)
    }
  })

  it('ignores messages a member sends in the name of another member, and accepts its own', async () => {
    let rogue: Libp2p
    ({ nodes, rawVoter: rogue } = await threeAndARawVoter())
    raw.push(rogue)
    const rogueId = rogue.peerId.toString()

    const leader = await waitForStableLeader(nodes)
    const [f1, f2] = nodes.filter(n => n !== leader)
    await f1.raft.commit(set('k', 'v'))
    const term = leader.raft.term
    const last = leader.raft.status().lastIndex
    await waitFor(() => nodes.every(n => n.raft.appliedIndex === last), 'every node applied the first commit')
    const huge = term + 1000

    const applied: string[] = []
    const leaderEvents: Array<{ node: TestNode, leader: string | undefined, term: number }> = []
    for (const n of nodes) {
      n.raft.addEventListener('raft:apply', (evt) => { applied.push(new TextDecoder().decode(evt.detail.command)) })
      n.raft.addEventListener('raft:leader', (evt) => { leaderEvents.push({ node: n, leader: evt.detail.leader?.toString(), term: evt.detail.term }) })
    }

    // forged in the name of another member (the leader, or a follower), then a genuine control message from the rogue itself
    const forgeries = [
      { target: f1, as: leader.peerId.toString() },
      { target: leader, as: f2.peerId.toString() }
    ]
    for (const [i, { target, as }] of forgeries.entries()) {
      const to = target.peerId.toString()
      // each control a newer term than anything the disturbed cluster reaches meanwhile
      const control = term + 50 + 10 * i
      await sendFrames(rogue, target, [
        frame({ type: 'heartbeat-request', from: as, to, term: huge, commit: last + 1, context: 0 }),
        frame({ type: 'append-request', from: as, to, term: huge, prevIndex: last, prevTerm: term, entries: [{ type: 'command', index: last + 1, term: huge, data: set('forged', 'x') }], commit: last + 1 }),
        frame({ type: 'append-response', from: as, to, term, success: true, index: last + 1000, hintIndex: 0, hintTerm: 0 }),
        frame({ type: 'vote-request', from: as, to, term: huge, preVote: false, lastIndex: last + 1000, lastTerm: huge }),
        // control: in its own name, the rogue member is heard (a heartbeat of a newer term makes the target follow it)
        frame({ type: 'heartbeat-request', from: rogueId, to, term: control, commit: 0, context: 0 })
      ])
      // had a forged message been taken, the target would be at term `huge` and ignore the control
      await waitFor(() => leaderEvents.some(e => e.node === target && e.leader === rogueId && e.term === control), 'the target to follow the rogue member at the control term')
      expect(target.raft.term).to.be.at.least(control).and.below(huge)
      expect(target.raft.status().lastIndex).to.equal(last, 'the forged entry was not appended')
    }

    // the real members take over again, and no forgery left a trace
    const next = await waitForStableLeader(nodes, 60_000)
    const { index } = await next.raft.commit(set('k', 'w'))
    await waitFor(() => nodes.every(n => n.raft.appliedIndex >= index), 'the last commit everywhere')
    expect(applied.filter(text => text !== 'set k w')).to.deep.equal([])
    expect(leaderEvents.filter(e => e.term >= huge)).to.deep.equal([])
    for (const n of nodes) {
      expect(n.raft.term).to.be.below(huge)
      expect(n.kv.values.has('forged')).to.be.false()
      expect(n.kv.history).to.deep.equal(next.kv.history)
    }
  })

  it('a stream a member opens and closes leaves nothing open on the receiver, however often it does so', async () => {
    let member: Libp2p
    ({ nodes, rawVoter: member } = await threeAndARawVoter())
    raw.push(member)
    const target = nodes[0]
    const openRaftStreams = (): number => target.libp2p.getConnections(member.peerId).flatMap(c => c.streams).filter(s => s.protocol === PROTOCOL).length
    for (let i = 0; i < 12; i++) {
      const stream = await member.dialProtocol(target.libp2p.getMultiaddrs()[0], PROTOCOL)
      await lpStream(stream).write(Frame.encode({ proposeResult: { id: i, index: 0, term: 0 } }))
      await stream.close()
      // maxInboundStreams is 4 per connection: half-closed streams left behind would refuse the fifth
      await waitFor(() => openRaftStreams() === 0, `the receiver to close stream ${i + 1}`)
    }
  })
})

describe('service: trust: join frames from outsiders', function () {
  this.timeout(120_000)
  let nodes: TestNode[] = []
  let raw: Libp2p[] = []
  afterEach(async () => {
    await stopAll(nodes)
    await Promise.all(raw.map(async n => n.stop()))
    nodes = []
    raw = []
  })

  it('ignores a Raft message riding on an outsider\'s JOIN frame', async () => {
    nodes = await createCluster(3, STEADY)
    const leader = await waitForStableLeader(nodes)
    await leader.raft.commit(set('k', 'v'))
    const term = leader.raft.term
    const outsider = await createPlainNode()
    raw.push(outsider)
    const from = outsider.peerId.toString()
    const to = leader.peerId.toString()
    const join = { id: 1, change: MembershipRequest.Change.JOIN, peer: from, addrs: [], voter: false }
    const m: Message = { type: 'heartbeat-request', from, to, term: term + 1000, commit: 0, context: 0 }
    await sendFrames(outsider, leader, [{ message: messageToPb(m), membership: join }])
    expect(leader.raft.term).to.equal(term)
  })

  it('an outsider cannot append entries on a follower by riding on a JOIN frame', async () => {
    nodes = await createCluster(3, STEADY)
    const leader = await waitForStableLeader(nodes)
    await leader.raft.commit(set('k', 'v'))
    const follower = nodes.find(n => n !== leader) as TestNode
    await waitFor(() => follower.raft.appliedIndex === leader.raft.appliedIndex, 'follower caught up')
    const term = leader.raft.term
    const last = leader.raft.status().lastIndex
    const outsider = await createPlainNode()
    raw.push(outsider)
    const from = outsider.peerId.toString()
    const to = follower.peerId.toString()
    const join = { id: 1, change: MembershipRequest.Change.JOIN, peer: from, addrs: [], voter: false }
    const m: Message = { type: 'append-request', from, to, term: term + 1000, prevIndex: last, prevTerm: term, entries: [{ type: 'command', index: last + 1, term: term + 1000, data: set('evil', 'appended') }], commit: last + 1 }
    await sendFrames(outsider, follower, [{ message: messageToPb(m), membership: join }])
    await new Promise(resolve => setTimeout(resolve, 200))
    expect(follower.kv.values.has('evil')).to.be.false()
  })

  it('an outsider cannot have the leader append a command by riding a propose on a JOIN frame', async () => {
    nodes = await createCluster(3, STEADY)
    const leader = await waitForStableLeader(nodes)
    const outsider = await createPlainNode()
    raw.push(outsider)
    const from = outsider.peerId.toString()
    const join = { id: 1, change: MembershipRequest.Change.JOIN, peer: from, addrs: [], voter: false }
    await sendFrames(outsider, leader, [{ propose: { id: 5, term: leader.raft.term, again: false, command: set('evil', 'proposed') as Uint8Array<ArrayBuffer> }, membership: join }])
    await new Promise(resolve => setTimeout(resolve, 500))
    expect(leader.kv.values.has('evil')).to.be.false()
  })

  it('an outsider cannot ask to join in another node\'s name', async () => {
    const asked: string[] = []
    nodes = await createCluster(3, { ...STEADY, authorizeJoin: (peer) => { asked.push(peer.toString()); return true } })
    const leader = await waitForStableLeader(nodes)
    const outsider = await createPlainNode()
    raw.push(outsider)
    const victim = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const join = { id: 3, change: MembershipRequest.Change.JOIN, peer: victim, addrs: [], voter: true }
    await sendFrames(outsider, leader, [{ membership: join }])
    // A round of Raft after it: the request was handled long before.
    await leader.raft.commit(set('after', 'spoofed join'))
    expect(asked).to.be.empty()
    expect(leader.raft.members().learners.map(String)).to.not.include(victim)
    expect(leader.raft.members().voters.map(String)).to.not.include(victim)
  })

  it('hears an outsider\'s joins a few at once, then once per half election timeout, however often it asks', async () => {
    const asked: string[] = []
    nodes = await createCluster(3, { electionTimeout: 4000, heartbeatInterval: 200, authorizeJoin: (peer) => { asked.push(peer.toString()); return false } })
    const leader = await waitForStableLeader(nodes)
    const outsider = await createPlainNode()
    raw.push(outsider)
    const from = outsider.peerId.toString()
    for (let id = 1; id <= 20; id++) {
      await sendFrames(outsider, leader, [{ membership: { id, change: MembershipRequest.Change.JOIN, peer: from, addrs: [], voter: false } }])
    }
    await leader.raft.commit(set('after', 'join flood'))
    expect(asked.length).to.be.within(1, 5)
  })

  it('a refused join leaves no tag and no stored address on the leader', async () => {
    nodes = await createCluster(3, STEADY)
    const leader = await waitForStableLeader(nodes)
    const outsider = await createPlainNode()
    raw.push(outsider)
    const from = outsider.peerId.toString()
    const bogus = multiaddr('/ip4/10.1.2.3/tcp/4444')
    const join = { id: 7, change: MembershipRequest.Change.JOIN, peer: from, addrs: [bogus.bytes], voter: true }
    await sendFrames(outsider, leader, [{ membership: join }])
    await new Promise(resolve => setTimeout(resolve, 300))
    const peer = await leader.libp2p.peerStore.get(outsider.peerId)
    const stored = await leader.datastore.has(new Key(`/raft/default/peers/${from}`))
    expect(peer.tags.has(KEEP_ALIVE_TAG)).to.be.false()
    expect(stored).to.be.false()
  })
})

describe('service: trust: a malformed join', function () {
  this.timeout(60_000)
  let nodes: TestNode[] = []
  let raw: Libp2p[] = []
  afterEach(async () => { await stopAll(nodes); await Promise.all(raw.map(async n => n.stop())); nodes = []; raw = [] })

  it('a JOIN with undecodable addresses is refused without harm', async () => {
    const rejections: unknown[] = []
    const listeners = process.listeners('unhandledRejection')
    process.removeAllListeners('unhandledRejection')
    const onRejection = (reason: unknown): void => { rejections.push(reason) }
    process.on('unhandledRejection', onRejection)
    try {
      nodes = await createCluster(3, { electionTimeout: 1500, heartbeatInterval: 100 })
      const leader = await waitForStableLeader(nodes)
      const outsider = await createPlainNode()
      raw.push(outsider)
      const from = outsider.peerId.toString()
      const stream = await outsider.dialProtocol(leader.libp2p.getMultiaddrs()[0], PROTOCOL)
      const lp = lpStream(stream)
      await lp.write(Frame.encode({ membership: { id: 1, change: MembershipRequest.Change.JOIN, peer: from, addrs: [Uint8Array.of(0xff, 0xff, 0xff)], voter: false } }))
      // A round of Raft after it: the request was handled (and refused) long before.
      await leader.raft.commit(set('after', 'malformed'))
      expect(rejections).to.be.empty()
      expect(leader.raft.role).to.equal('leader')
    } finally {
      process.off('unhandledRejection', onRejection)
      for (const l of listeners) { process.on('unhandledRejection', l as any) }
    }
  })
})
