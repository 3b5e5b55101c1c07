import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { expect } from 'aegir/chai'
import { set } from '../utils/kv.ts'
import { createNode, introduce, stopAll, waitFor, waitForStableLeader } from '../utils/nodes.ts'
import { rejection } from '../utils/rejection.ts'
import type { TestNode } from '../utils/nodes.ts'

function unsupported (node: TestNode): string[] {
  return node.raft.status().warnings.filter(w => w.code === 'protocol-unsupported').map(w => w.peer?.toString() ?? '')
}

describe('service: diagnosis', function () {
  this.timeout(60_000)
  let nodes: TestNode[] = []

  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
  })

  it('a member that does not speak the group\'s protocol is reported, the NoLeaderError says so, and the warning clears once it does', async () => {
    const keys = await Promise.all([0, 1].map(async () => generateKeyPair('Ed25519')))
    const ids = keys.map(key => peerIdFromPrivateKey(key))
    // The same two voters, but configured with different groups: neither can reach the other's Raft.
    const a = await createNode({ privateKey: keys[0], bootstrap: ids, raft: { group: 'left', commitTimeout: 2000 } })
    const b = await createNode({ privateKey: keys[1], bootstrap: ids, raft: { group: 'right' } })
    nodes = [a, b]
    await introduce(nodes)
    await a.libp2p.dial(b.peerId)
    await waitFor(() => unsupported(a).includes(b.peerId.toString()), 'a to report that b does not speak its protocol')
    const warning = a.raft.status().warnings.find(w => w.code === 'protocol-unsupported')
    expect(warning?.message).to.include('/libp2p-raft/left/1.0.0')

    const err = await rejection(a.raft.commit(set('k', 'v')))
    expect(err.name).to.equal('NoLeaderError')
    expect(err.message).to.include(`in term ${a.raft.term}`)
    expect(err.message).to.include('heard from 0 of the 1 other voters')
    expect(err.message).to.include(`do not speak this group's protocol: ${b.peerId.toString()}`)
    expect(err.message).to.include('seen no leader since it started')

    // b comes back speaking the group's protocol: the warning clears, and a leader is elected.
    await b.libp2p.stop()
    const fixed = await createNode({ privateKey: keys[1], bootstrap: ids, raft: { group: 'left' } })
    nodes = [a, fixed]
    await introduce(nodes)
    await waitFor(() => !unsupported(a).includes(b.peerId.toString()), 'the warning to clear once b speaks the protocol')
    await waitForStableLeader(nodes)
  })

  it('a NoLeaderError names the last leader it knew and when', async () => {
    const keys = await Promise.all([0, 1].map(async () => generateKeyPair('Ed25519')))
    const ids = keys.map(key => peerIdFromPrivateKey(key))
    nodes = await Promise.all(keys.map(async privateKey => createNode({ privateKey, bootstrap: ids, raft: { commitTimeout: 2000 } })))
    await introduce(nodes)
    const leader = await waitForStableLeader(nodes)
    const follower = nodes.find(n => n !== leader) as TestNode
    const term = leader.raft.term
    await leader.libp2p.stop()
    await waitFor(() => follower.raft.leader === undefined, 'the follower to lose its leader')
    const err = await rejection(follower.raft.waitForLeader())
    expect(err.name).to.equal('NoLeaderError')
    expect(err.message).to.match(new RegExp(`the last leader it knew was ${leader.peerId.toString()}, in term ${term}, \\d+ ms ago`))
  })
})
