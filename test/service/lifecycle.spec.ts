import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { expect } from 'aegir/chai'
import { createLibp2p } from 'libp2p'
import { raft } from '../../src/index.ts'
import { set } from '../utils/kv.ts'
import { createCluster, createNode, createPlainNode, stopAll, waitFor, waitForStableLeader } from '../utils/nodes.ts'
import { rejection } from '../utils/rejection.ts'
import type { RaftInit } from '../../src/index.ts'
import type { TestNode } from '../utils/nodes.ts'
import type { Startable } from '@libp2p/interface'
import type { Libp2p } from 'libp2p'

const PROTOCOL = '/libp2p-raft/default/1.0.0'

/** The promise's outcome, or a failure if it has not settled after `ms` (a deadline, not a wait for something to happen). */
async function settled<T> (promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<never>((resolve, reject) => {
    timer = setTimeout(() => { reject(new Error(`still not settled after ${ms} ms`)) }, ms)
  })
  try {
    return await Promise.race([promise, deadline])
  } finally {
    clearTimeout(timer)
  }
}

function appliedEverywhere (nodes: TestNode[], index: number): boolean {
  return nodes.every(n => n.raft.appliedIndex >= index)
}

describe('service: lifecycle', function () {
  this.timeout(120_000)
  let nodes: TestNode[] = []
  let plain: Libp2p[] = []

  afterEach(async () => {
    await stopAll(nodes)
    await Promise.all(plain.map(async node => node.stop()))
    nodes = []
    plain = []
  })

  it('stop() unregisters the protocol, settles a pending commit at once, and later calls reject with NotStartedError', async () => {
    // without check-quorum the leader stays leader once its followers are gone
    nodes = await createCluster(3, { checkQuorum: false })
    const leader = await waitForStableLeader(nodes)
    for (const n of nodes) {
      expect(n.libp2p.getProtocols()).to.include(PROTOCOL)
    }
    // without its followers the leader cannot commit: this commit would wait commitTimeout (20 s)
    await Promise.all(nodes.filter(n => n !== leader).map(async n => n.libp2p.stop()))
    const lastIndex = leader.raft.status().lastIndex
    const started = Date.now()
    const pending = rejection(leader.raft.commit(set('pending', '1')))
    await waitFor(() => leader.raft.status().lastIndex > lastIndex, 'the leader to append the command')

    // stop only the raft service; libp2p keeps running
    await (leader.raft as unknown as Startable).stop()
    const err = await settled(pending, 10_000)
    expect(err.name).to.equal('CommitTimeoutError', 'appended, so its outcome is unknown')
    expect(Date.now() - started).to.be.below(10_000, 'settled by stop(), not by commitTimeout')
    expect(leader.libp2p.status).to.equal('started')
    expect(leader.libp2p.getProtocols()).to.not.include(PROTOCOL)

    // nobody can open a raft stream to it any more
    const outsider = await createPlainNode()
    plain.push(outsider)
    await expect(outsider.dialProtocol(leader.libp2p.getMultiaddrs()[0], PROTOCOL)).to.eventually.be.rejected()

    expect((await rejection(leader.raft.commit(set('after', 'stop')))).name).to.equal('NotStartedError')
    expect((await rejection(leader.raft.waitForLeader())).name).to.equal('NotStartedError')
    expect(leader.kv.values.has('pending')).to.be.false()

    await leader.libp2p.stop()
    expect((await rejection(leader.raft.commit(set('after', 'libp2p-stop')))).name).to.equal('NotStartedError')
    for (const n of nodes) {
      expect(n.libp2p.getProtocols()).to.not.include(PROTOCOL)
    }
  })

  // A commit whose signal aborts before it starts waiting for the apply never settles (see waitApplied in src/raft.ts).
  async function interruptedInSameTick (interrupt: (node: TestNode, controller: AbortController) => Promise<void>): Promise<Error> {
    // without check-quorum the leader stays leader once its followers are gone, so the command is appended
    nodes = await createCluster(3, { commitTimeout: 2000, checkQuorum: false })
    const leader = await waitForStableLeader(nodes)
    await Promise.all(nodes.filter(n => n !== leader).map(async n => n.libp2p.stop()))
    expect(leader.raft.role).to.equal('leader')
    const controller = new AbortController()
    const pending = rejection(leader.raft.commit(set('interrupted', '1'), { signal: controller.signal }))
    await interrupt(leader, controller)
    return settled(pending, 6_000)
  }

  it('a commit without quorum settles with AbortError, outcome unknown, when the caller aborts its signal in the same tick', async () => {
    const err = await interruptedInSameTick(async (_node, controller) => { controller.abort() })
    expect(err.name).to.equal('AbortError')
    expect(err.message).to.include('outcome is unknown')
  })

  it('a commit without quorum settles within commitTimeout when the service stops in the same tick', async () => {
    const err = await interruptedInSameTick(async (node) => { await (node.raft as unknown as Startable).stop() })
    expect(err.name).to.equal('CommitTimeoutError')
  })

  it('a single-member group elects itself and commits', async () => {
    const privateKey = await generateKeyPair('Ed25519')
    const node = await createNode({ privateKey, bootstrap: [peerIdFromPrivateKey(privateKey)] })
    nodes = [node]
    expect((await node.raft.waitForLeader()).equals(node.peerId)).to.be.true()
    expect(node.raft.role).to.equal('leader')
    const a = await node.raft.commit(set('a', '1'))
    const b = await node.raft.commit(set('a', '2'))
    expect(b.index).to.equal(a.index + 1)
    expect(b.result).to.equal('1')
  })

  it('restarting the same libp2p node does not apply committed commands to its state machine again', async () => {
    nodes = await createCluster(3)
    const leader = await waitForStableLeader(nodes)
    const follower = nodes.find(n => n !== leader) as TestNode
    for (let i = 0; i < 3; i++) {
      await leader.raft.commit(set(`k${i}`, `${i}`))
    }
    await waitFor(() => follower.kv.history.length === 3, 'the follower to apply the commits')
    const applied = follower.raft.appliedIndex
    const history = [...follower.kv.history]

    await follower.libp2p.stop()
    await follower.libp2p.start()
    const { index } = await leader.raft.commit(set('k3', '3'))
    await waitFor(() => follower.raft.appliedIndex >= index, 'the restarted follower to apply the new commit')

    expect(follower.raft.appliedIndex).to.be.at.least(applied)
    // the same StateMachine instance already holds these commands: each must be applied to it once
    expect(follower.kv.history).to.deep.equal([...history, `${index}:set k3 3`])
  })

  describe('validation', () => {
    it('rejects commands that are not Uint8Arrays, or are larger than maxCommandSize, on leader and follower alike', async () => {
      nodes = await createCluster(3, { maxCommandSize: 1024 })
      const leader = await waitForStableLeader(nodes)
      const follower = nodes.find(n => n !== leader) as TestNode
      const applied: string[] = []
      for (const n of nodes) {
        n.raft.addEventListener('raft:apply', (evt) => { applied.push(new TextDecoder().decode(evt.detail.command)) })
      }
      const invalid: unknown[] = ['set a 1', null, undefined, [1, 2, 3], new Uint16Array(4), new TextEncoder().encode('set big ').buffer, new Uint8Array(1025)]
      for (const node of [leader, follower]) {
        for (const command of invalid) {
          const err = await rejection(node.raft.commit(command as Uint8Array))
          expect(err.name).to.equal('InvalidParametersError', `commit(${Object.prototype.toString.call(command)})`)
        }
      }
      // an already aborted signal: refused before anything is appended
      for (const node of [leader, follower]) {
        const aborted = await rejection(node.raft.commit(set('aborted', '1'), { signal: AbortSignal.abort() }))
        expect(aborted.name).to.equal('AbortError')
      }

      // exactly maxCommandSize is fine, through a follower too
      const command = new TextEncoder().encode(`set big ${'x'.repeat(1024 - 8)}`)
      expect(command.byteLength).to.equal(1024)
      const { index } = await follower.raft.commit(command)
      await waitFor(() => appliedEverywhere(nodes, index), 'the largest command everywhere')
      expect(applied).to.have.lengthOf(nodes.length)
      expect(applied.every(text => text.startsWith('set big x'))).to.be.true()
    })

    const invalidInits: Array<[string, RaftInit]> = [
      ['electionTimeout: -1', { electionTimeout: -1 }],
      ['electionTimeout: 0', { electionTimeout: 0 }],
      ['electionTimeout: 1000.5', { electionTimeout: 1000.5 }],
      ['heartbeatInterval above half the election timeout', { electionTimeout: 600, heartbeatInterval: 400 }],
      ['commitTimeout: NaN', { commitTimeout: NaN }],
      ['maxInboundStreams: 0', { maxInboundStreams: 0 }],
      ['maxCommandSize too close to maxMessageSize', { maxCommandSize: 4 * 1024 * 1024 }],
      ['group with a slash', { group: 'a/b' }],
      ['empty group', { group: '' }],
      ['datastorePrefix without a leading slash', { datastorePrefix: 'raft' }],
      ['preVote not a boolean', { preVote: 'yes' as unknown as boolean }]
    ]
    for (const [name, init] of invalidInits) {
      it(`refuses ${name} at construction`, async () => {
        const privateKey = await generateKeyPair('Ed25519')
        const err = await rejection(createNode({ privateKey, bootstrap: [peerIdFromPrivateKey(privateKey)], raft: init }))
        expect(err.name).to.equal('InvalidParametersError')
      })
    }

    it('refuses a bootstrap list without this node, or with entries that are not peers', async () => {
      const [self, a, b] = await Promise.all([0, 1, 2].map(async () => generateKeyPair('Ed25519')))
      const [aId, bId] = [a, b].map(key => peerIdFromPrivateKey(key))
      const selfId = peerIdFromPrivateKey(self).toString()
      const bootstraps = [
        [aId, bId],
        [selfId, 'not-a-peer-id'],
        [selfId, '/ip4/127.0.0.1/tcp/4001']
      ]
      for (const bootstrap of bootstraps) {
        const err = await rejection(createNode({ privateKey: self, bootstrap }))
        expect(err.name).to.equal('InvalidParametersError', `bootstrap ${bootstrap.map(String).join(', ')}`)
      }
      // a state machine without its methods
      const err = await rejection(createLibp2p({
        privateKey: self,
        services: { raft: raft({ stateMachine: {} as any }) }
      }))
      expect(err.name).to.equal('InvalidParametersError')

      // control: the same node with a valid list constructs and starts
      const node = await createNode({ privateKey: self, bootstrap: [selfId, aId, bId] })
      nodes = [node]
      expect(node.libp2p.status).to.equal('started')
      expect(node.raft.members().voters.map(String).sort()).to.deep.equal([selfId, aId.toString(), bId.toString()].sort())
    })
  })
})
