import { expect } from 'aegir/chai'
import { Cluster } from '../utils/cluster.ts'

/**
 * Lets every node's clock pass one election timeout with no messages
 * delivered: with leases, freshly started nodes refuse votes until then.
 */
function ageAll (cluster: Cluster): void {
  for (const id of cluster.ids()) {
    for (let i = 0; i < 10; i++) {
      cluster.core(id).tick()
    }
  }
  cluster.processAll()
  cluster.queue.length = 0
}

/** Elects n1 and lets it commit the no-op of its term. */
function leaderCluster (options: ConstructorParameters<typeof Cluster>[0] = {}): Cluster {
  const cluster = new Cluster({ size: 3, seed: 3, ...options })
  if (options.readMode === 'lease') {
    ageAll(cluster)
  }
  for (let i = 0; i < 100 && cluster.core('n1').role !== 'leader'; i++) {
    cluster.tick('n1')
    cluster.stabilize()
  }
  expect(cluster.core('n1').role).to.equal('leader')
  return cluster
}

describe('core: ReadIndex reads', () => {
  it('confirms a read on the leader at its commit index after a quorum heartbeat round', () => {
    const cluster = leaderCluster()
    const leader = cluster.core('n1')
    const commit = leader.commitIndex
    expect(leader.readIndex(7)).to.be.true()
    cluster.process('n1')
    // The round's heartbeats are out, but nobody has answered yet.
    expect(cluster.node('n1').reads).to.deep.equal([])
    expect(cluster.queue.filter(m => m.type === 'heartbeat-request').length).to.equal(2)
    cluster.stabilize()
    expect(cluster.node('n1').reads).to.deep.equal([{ id: 7, index: commit }])
  })

  it('batches concurrent reads into one round', () => {
    const cluster = leaderCluster()
    const leader = cluster.core('n1')
    leader.readIndex(1)
    leader.readIndex(2)
    leader.readIndex(3)
    cluster.process('n1')
    expect(cluster.queue.filter(m => m.type === 'heartbeat-request').length).to.equal(2)
    cluster.stabilize()
    expect(cluster.node('n1').reads.map(r => r.id)).to.deep.equal([1, 2, 3])
  })

  it('forwards a follower read to the leader and returns the leader index to it', () => {
    const cluster = leaderCluster()
    cluster.propose('n1', 'x')
    cluster.stabilize()
    const follower = cluster.core('n2')
    expect(follower.readIndex(9)).to.be.true()
    cluster.stabilize()
    expect(cluster.node('n2').reads).to.deep.equal([{ id: 9, index: cluster.core('n1').commitIndex }])
    expect(cluster.node('n1').reads).to.deep.equal([])
  })

  it('refuses when no leader is known', () => {
    const cluster = new Cluster({ size: 3, seed: 3 })
    expect(cluster.core('n2').readIndex(1)).to.be.false()
  })

  it('never confirms a read on a leader cut off from the quorum, even after a new leader commits', () => {
    const cluster = leaderCluster()
    cluster.isolate('n1')
    cluster.core('n1').readIndex(5)
    // Check-quorum deposes n1; the others elect a new leader and commit.
    cluster.tickAll(60)
    const newLeader = cluster.leader()
    expect(newLeader).to.be.oneOf(['n2', 'n3'])
    cluster.propose(newLeader as string, 'newer')
    cluster.stabilize()
    expect(cluster.core('n1').role).to.not.equal('leader')
    expect(cluster.node('n1').reads).to.deep.equal([])
  })

  it('waits until the leader has committed an entry of its own term', () => {
    const cluster = new Cluster({ size: 3, seed: 3 })
    // n1 wins, but its appends (carrying its no-op) are lost for now.
    const deliverAllBut = (lost: (type: string) => boolean): void => {
      for (let m = cluster.queue.shift(); m !== undefined; m = cluster.queue.shift()) {
        if (!(m.from === 'n1' && lost(m.type))) {
          cluster.deliver(m)
        }
      }
    }
    for (let i = 0; i < 100 && cluster.core('n1').role !== 'leader'; i++) {
      cluster.tick('n1')
      deliverAllBut(type => type === 'append-request')
    }
    const leader = cluster.core('n1')
    expect(leader.role).to.equal('leader')
    expect(leader.log.term(leader.commitIndex)).to.not.equal(leader.term)
    leader.readIndex(1)
    cluster.process('n1')
    expect(cluster.queue.some(m => m.type === 'heartbeat-request' && m.context > 0)).to.be.false()
    deliverAllBut(() => false)
    expect(cluster.node('n1').reads).to.deep.equal([])
    // Heartbeats bring the followers' answers, the no-op gets through and commits, then the read round runs.
    cluster.tick('n1')
    cluster.stabilize()
    expect(leader.log.term(leader.commitIndex)).to.equal(leader.term)
    cluster.tick('n1')
    cluster.stabilize()
    expect(cluster.node('n1').reads).to.deep.equal([{ id: 1, index: leader.commitIndex }])
  })

  it('serves reads at once in lease mode while a quorum answered a recent heartbeat', () => {
    const cluster = leaderCluster({ readMode: 'lease' })
    const leader = cluster.core('n1')
    cluster.tick('n1')
    cluster.stabilize()
    leader.readIndex(4)
    cluster.process('n1')
    expect(cluster.node('n1').reads).to.deep.equal([{ id: 4, index: leader.commitIndex }])
  })

  it('falls back to a quorum round in lease mode once the lease has run out', () => {
    const cluster = leaderCluster({ readMode: 'lease' })
    const leader = cluster.core('n1')
    cluster.tick('n1')
    cluster.stabilize()
    // Heartbeats go unanswered for longer than an election timeout.
    cluster.partition(['n1'], ['n2', 'n3'])
    for (let i = 0; i < 9; i++) {
      cluster.tick('n1')
      cluster.stabilize()
    }
    expect(leader.role).to.equal('leader')
    leader.readIndex(5)
    cluster.process('n1')
    expect(cluster.node('n1').reads).to.deep.equal([])
    cluster.heal()
    cluster.tick('n1')
    cluster.stabilize()
    expect(cluster.node('n1').reads.map(r => r.id)).to.deep.equal([5])
  })

  it('serves a lone voter at once', () => {
    const cluster = new Cluster({ size: 1, seed: 3 })
    cluster.campaign('n1')
    cluster.stabilize()
    cluster.core('n1').readIndex(2)
    cluster.process('n1')
    expect(cluster.node('n1').reads).to.deep.equal([{ id: 2, index: cluster.core('n1').commitIndex }])
  })
})

describe('core: leader lease across restarts', () => {
  it('a follower that restarts right after acknowledging a heartbeat cannot help elect a new leader while the lease holds', () => {
    const cluster = leaderCluster({ readMode: 'lease' })
    cluster.propose('n1', 'x=1')
    cluster.stabilize()
    // n3 cannot hear n1; n2 keeps acknowledging n1's heartbeats, so n1's lease rests on n2.
    cluster.partition(['n1'], ['n3'])
    for (let i = 0; i < 8; i++) {
      cluster.tickAll(1)
    }
    // Right after n2's last acknowledgement, n1 is cut off and n2 restarts (forgetting its leader).
    cluster.isolate('n1')
    cluster.crash('n2')
    cluster.restart('n2')
    cluster.heal()
    cluster.isolate('n1')
    const lease = cluster.core('n1')
    let stale: Array<{ id: number, index: number }> = []
    for (let tick = 0; tick < 40; tick++) {
      cluster.tickAll(1)
      const newLeader = cluster.leader()
      if (newLeader !== undefined && newLeader !== 'n1' && lease.role === 'leader') {
        // A new leader exists while n1 still leads: n1's lease must have run out.
        lease.readIndex(100 + tick)
        cluster.process('n1')
        stale = cluster.node('n1').reads
        break
      }
    }
    expect(stale).to.deep.equal([])
  })

  it('with leases, a node that just started refuses votes for an election timeout', () => {
    const cluster = new Cluster({ size: 3, seed: 7, readMode: 'lease' })
    const fresh = cluster.core('n2')
    fresh.step({ type: 'vote-request', from: 'n3', to: 'n2', term: 2, preVote: true, lastIndex: 1, lastTerm: 1 })
    expect(fresh.hasReady() && fresh.ready().messagesAfterPersist.some(m => m.type === 'vote-response' && m.granted)).to.be.false()
    for (let i = 0; i < 10; i++) {
      fresh.tick()
    }
    fresh.step({ type: 'vote-request', from: 'n3', to: 'n2', term: 2, preVote: true, lastIndex: 1, lastTerm: 1 })
    expect(fresh.ready().messagesAfterPersist).to.deep.include({ type: 'vote-response', from: 'n2', to: 'n3', term: 2, preVote: true, granted: true })
  })
})
