import { expect } from 'aegir/chai'
import { createCluster, stopAll, waitFor, waitForStableLeader } from '../utils/nodes.ts'
import type { TestNode } from '../utils/nodes.ts'

describe('service: election', function () {
  this.timeout(120_000)
  let nodes: TestNode[] = []

  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
  })

  async function electsOneLeader (size: number): Promise<void> {
    nodes = await createCluster(size)
    // every leadership any node takes, to check that no term ever has two leaders
    const leaderships: Array<{ node: string, term: number }> = []
    for (const n of nodes) {
      n.raft.addEventListener('raft:role', (evt) => {
        if (evt.detail.role === 'leader') {
          leaderships.push({ node: n.peerId.toString(), term: evt.detail.term })
        }
      })
    }

    // asked before any leader exists, so these really wait for the election
    expect(nodes.every(n => n.raft.leader === undefined)).to.be.true()
    const waited = await Promise.all(nodes.map(async n => n.raft.waitForLeader()))

    const leader = await waitForStableLeader(nodes)
    for (const peer of waited) {
      expect(peer.equals(leader.peerId)).to.be.true(`waitForLeader resolved to ${peer.toString()}, not the leader ${leader.peerId.toString()}`)
    }
    for (const n of nodes) {
      expect((await n.raft.waitForLeader()).equals(leader.peerId)).to.be.true()
    }
    expect(nodes.filter(n => n.raft.role === 'leader')).to.have.lengthOf(1)
    expect(leaderships.some(l => l.node === leader.peerId.toString() && l.term === leader.raft.term)).to.be.true()
    for (const l of leaderships) {
      expect(leaderships.filter(other => other.term === l.term), `leaders of term ${l.term}`).to.have.lengthOf(1)
    }

    // the leader's no-op commits and reaches every follower's commit index
    const lastIndex = leader.raft.status().lastIndex
    await waitFor(() => nodes.every(n => n.raft.commitIndex === lastIndex && n.raft.appliedIndex === lastIndex), 'every node to commit and apply the leader\'s no-op')

    const ids = nodes.map(n => n.peerId.toString()).sort()
    const statuses = nodes.map(n => ({ node: n, status: n.raft.status() }))
    for (const { node, status } of statuses) {
      expect(status.peerId.equals(node.peerId)).to.be.true()
      expect(status.group).to.equal('default')
      expect(status.role).to.equal(node === leader ? 'leader' : 'follower')
      expect(status.role).to.equal(node.raft.role)
      expect(status.term).to.equal(leader.raft.term).and.to.be.greaterThan(1)
      expect(status.leader?.equals(leader.peerId)).to.be.true()
      expect(status.commitIndex).to.equal(lastIndex)
      expect(status.appliedIndex).to.equal(lastIndex)
      expect(status.lastIndex).to.equal(lastIndex)
      expect(status.voters.map(id => id.toString()).sort()).to.deep.equal(ids)
      expect(node.raft.members().voters.map(id => id.toString()).sort()).to.deep.equal(ids)
      expect(status.learners).to.deep.equal([])
      if (node === leader) {
        expect(status.followers?.map(f => f.peerId.toString()).sort()).to.deep.equal(ids.filter(id => id !== leader.peerId.toString()))
      } else {
        expect(status.followers).to.equal(undefined)
      }
    }
    // the leader's view of its followers catches up with its log
    await waitFor(() => leader.raft.status().followers?.every(f => f.match === lastIndex && f.next === lastIndex + 1 && f.state === 'replicate'), 'the leader to see every follower up to date')
  }

  it('a 3-node cluster elects exactly one leader that every node reports', async () => {
    await electsOneLeader(3)
  })

  it('a 5-node cluster elects exactly one leader that every node reports', async () => {
    await electsOneLeader(5)
  })
})
