import { expect } from 'aegir/chai'
import { Cluster } from '../utils/cluster.ts'
import type { Message, SnapshotMeta, SnapshotRequest } from '../../src/core/index.ts'

/** A 3-node cluster led by n1 that has committed `commands` commands (c1, c2, …) everywhere reachable. */
function ledCluster (commands: number, seed = 1): Cluster {
  const cluster = new Cluster({ size: 3, seed })
  cluster.campaign('n1')
  for (let i = 1; i <= commands; i++) {
    cluster.propose('n1', `c${i}`)
  }
  cluster.stabilize()
  return cluster
}

/**
 * Commits c<from>…c<to> while n3 is cut off, then has n1 snapshot with
 * `trailingEntries` kept behind, and heals: n3 now needs what is compacted.
 */
function snapshotBehindN3 (cluster: Cluster, from: number, to: number, trailingEntries: number): SnapshotMeta {
  cluster.isolate('n3')
  for (let i = from; i <= to; i++) {
    cluster.propose('n1', `c${i}`)
  }
  cluster.stabilize()
  const meta = cluster.snapshot('n1', trailingEntries)
  cluster.heal()
  return meta
}

/** Delivers what is queued, losing every snapshot request (its transfer fails or is slow). */
function deliverAllButSnapshots (cluster: Cluster): void {
  for (let i = 0; i < 100 && cluster.queue.length > 0; i++) {
    const m = cluster.queue.shift() as Message
    if (m.type !== 'snapshot-request') {
      cluster.deliver(m)
    }
  }
}

function snapshotRequests (messages: Message[]): SnapshotRequest[] {
  return messages.filter((m): m is SnapshotRequest => m.type === 'snapshot-request')
}

describe('core: snapshots and compaction', () => {
  it('describes a snapshot at the last applied entry, with the configuration in force there', () => {
    const cluster = ledCluster(3)
    const leader = cluster.core('n1')
    const meta = leader.snapshotMeta()
    expect(meta.index).to.equal(leader.log.applied).and.to.equal(5)
    expect(meta.term).to.equal(leader.term)
    expect(meta.config).to.deep.equal({ voters: ['n1', 'n2', 'n3'], learners: [] })
  })

  it('compacts the log to the trailing entries behind a durable snapshot', () => {
    const cluster = ledCluster(10)
    const leader = cluster.core('n1')
    const meta = cluster.snapshot('n1', 4)
    expect(meta.index).to.equal(12)
    expect(leader.log.firstIndex()).to.equal(9)
    expect(leader.log.term(8)).to.equal(leader.term)
    expect(leader.log.entry(8)).to.be.undefined()
    expect(leader.snapshot).to.deep.equal(meta)
    // The stored log keeps the entry it starts after, for its term.
    expect(cluster.node('n1').disk.entries[0].index).to.equal(8)
  })

  it('never compacts past the applied index or below the current start', () => {
    const cluster = ledCluster(5)
    const leader = cluster.core('n1')
    cluster.snapshot('n1', 0)
    const start = leader.log.firstIndex()
    // An older snapshot reported late compacts nothing more, is not remembered, and lets storage delete only what it covers.
    expect(leader.snapshotPersisted({ ...leader.snapshot, index: 3, term: 2 }, 0)).to.equal(4)
    expect(leader.log.firstIndex()).to.equal(start)
    expect(leader.snapshot.index).to.equal(start - 1)
  })

  it('sends a snapshot to a follower whose next entry was compacted away, then replicates', () => {
    const cluster = ledCluster(2)
    const meta = snapshotBehindN3(cluster, 3, 20, 2)
    const leader = cluster.core('n1')
    // The next heartbeat answer shows n3 behind the compacted part.
    cluster.tick('n1')
    const sent: Message[] = []
    for (let i = 0; i < 100 && cluster.queue.length > 0; i++) {
      const m = cluster.queue.shift() as Message
      sent.push(m)
      cluster.deliver(m)
    }
    const requests = snapshotRequests(sent)
    expect(requests).to.have.lengthOf(1)
    expect(requests[0].snapshot).to.deep.equal(meta)
    cluster.stabilize()
    expect(leader.progressOf('n3')?.state).to.equal('replicate')
    expect(leader.progressOf('n3')?.match).to.equal(leader.log.lastIndex())
    cluster.propose('n1', 'after')
    cluster.stabilize()
    const expected = Array.from({ length: 20 }, (_, i) => `c${i + 1}`).concat('after')
    expect(cluster.node('n3').state).to.deep.equal(expected)
    expect(cluster.node('n3').disk.snapshot?.meta).to.deep.equal(meta)
    expect(cluster.node('n3').disk.entries[0].index).to.equal(meta.index + 1)
  })

  it('does not start a transfer to a follower it has not heard from lately', () => {
    const cluster = ledCluster(2)
    cluster.crash('n3')
    for (let i = 3; i <= 10; i++) {
      cluster.propose('n1', `c${i}`)
    }
    cluster.stabilize()
    cluster.snapshot('n1', 0)
    const leader = cluster.core('n1')
    // A check-quorum round marks n3 inactive; nothing is sent to it while it stays silent.
    cluster.tickAll(30)
    expect(leader.progressOf('n3')?.state).to.not.equal('snapshot')
    cluster.restart('n3')
    cluster.tickAll(3)
    expect(leader.progressOf('n3')?.state).to.equal('replicate')
    expect(cluster.node('n3').state).to.have.lengthOf(10)
  })

  it('after a failed transfer, waits for a heartbeat answer and sends the snapshot again', () => {
    const cluster = ledCluster(2)
    snapshotBehindN3(cluster, 3, 8, 0)
    const leader = cluster.core('n1')
    cluster.tick('n1')
    // Deliver the heartbeat and n3's answer, but lose the snapshot request itself.
    deliverAllButSnapshots(cluster)
    expect(leader.progressOf('n3')?.state).to.equal('snapshot')
    // Paused: nothing goes to n3 until its transfer is reported.
    cluster.propose('n1', 'c9')
    expect(cluster.queue.filter(m => m.to === 'n3' && m.type === 'append-request')).to.have.lengthOf(0)
    leader.snapshotSent('n3', false)
    expect(leader.progressOf('n3')?.state).to.equal('probe')
    expect(leader.progressOf('n3')?.isPaused()).to.be.true()
    cluster.tick('n1')
    cluster.stabilize()
    expect(cluster.node('n3').state).to.have.lengthOf(9)
    expect(leader.progressOf('n3')?.state).to.equal('replicate')
  })

  it('a follower that holds the snapshot\'s last entry keeps its log and only commits', () => {
    const cluster = ledCluster(5)
    const follower = cluster.core('n2')
    const leader = cluster.core('n1')
    const last = follower.log.lastIndex()
    // As if n2 had the entries but had not learned they were committed.
    const request: SnapshotRequest = { type: 'snapshot-request', from: 'n1', to: 'n2', term: leader.term, snapshot: { index: last, term: leader.term, config: follower.config } }
    follower.log.committed = 3
    follower.log.applied = 3
    follower.step(request)
    const ready = follower.ready()
    expect(ready.snapshot).to.be.undefined()
    expect(follower.log.committed).to.equal(last)
    expect(follower.log.lastIndex()).to.equal(last)
    expect(ready.committed.map(e => e.index)).to.deep.equal([4, 5, 6, 7].filter(i => i <= last))
    expect(ready.messagesAfterPersist).to.deep.include({ type: 'append-response', from: 'n2', to: 'n1', term: leader.term, success: true, index: last, hintIndex: 0, hintTerm: 0 })
  })

  it('ignores a stale or duplicate snapshot and answers with its commit index', () => {
    const cluster = ledCluster(5)
    const follower = cluster.core('n2')
    const leader = cluster.core('n1')
    const request: SnapshotRequest = { type: 'snapshot-request', from: 'n1', to: 'n2', term: leader.term, snapshot: { index: 3, term: 1, config: follower.config } }
    const before = follower.log.lastIndex()
    follower.step(request)
    const ready = follower.ready()
    expect(ready.snapshot).to.be.undefined()
    expect(follower.log.lastIndex()).to.equal(before)
    expect(ready.messagesAfterPersist).to.deep.include({ type: 'append-response', from: 'n2', to: 'n1', term: leader.term, success: true, index: follower.commitIndex, hintIndex: 0, hintTerm: 0 })
  })

  it('a snapshot that disagrees with the follower\'s log replaces all of it, and its configuration', () => {
    const cluster = new Cluster({ size: 3, learners: 1, seed: 2 })
    cluster.campaign('n1')
    cluster.stabilize()
    const follower = cluster.core('l1')
    const leader = cluster.core('n1')
    const snapshot = { index: 50, term: leader.term, config: { voters: ['n1', 'n2', 'n3'], learners: ['l1', 'l9'] } }
    cluster.node('l1').received = { meta: snapshot, commands: ['x'] }
    follower.step({ type: 'snapshot-request', from: 'n1', to: 'l1', term: leader.term, snapshot })
    const ready = follower.ready()
    expect(ready.snapshot).to.deep.equal(snapshot)
    expect(ready.notifications).to.deep.include({ type: 'config', config: snapshot.config, index: 50 })
    expect(follower.log.firstIndex()).to.equal(51)
    expect(follower.log.lastIndex()).to.equal(50)
    expect(follower.log.committed).to.equal(50)
    expect(follower.log.applied).to.equal(50)
    expect(follower.config).to.deep.equal(snapshot.config)
    expect(follower.snapshot).to.deep.equal(snapshot)
    expect(ready.committed).to.deep.equal([])
  })

  it('restarts from a snapshot plus the trailing entries and goes on applying after it', () => {
    const cluster = ledCluster(10)
    cluster.snapshot('n2', 3)
    cluster.crash('n2')
    cluster.propose('n1', 'c11')
    cluster.stabilize()
    cluster.restart('n2')
    cluster.tickAll(2)
    const n2 = cluster.node('n2')
    expect(n2.core.log.firstIndex()).to.equal(10)
    expect(n2.state).to.deep.equal(Array.from({ length: 11 }, (_, i) => `c${i + 1}`))
    // Only the entries after the snapshot were applied again.
    expect(n2.applied.map(e => e.index)[0]).to.equal(13)
  })

  it('a leader restarted after compacting everything still brings followers up to date', () => {
    const cluster = ledCluster(4)
    cluster.isolate('n3')
    cluster.propose('n1', 'c5')
    cluster.stabilize()
    cluster.snapshot('n1', 0)
    cluster.snapshot('n2', 0)
    cluster.crash('n1')
    cluster.restart('n1')
    cluster.heal()
    for (let i = 0; i < 100 && cluster.leader() === undefined; i++) {
      cluster.tickAll()
    }
    const leader = cluster.leader()
    expect(leader).to.be.oneOf(['n1', 'n2'])
    cluster.propose(leader ?? 'n1', 'c6')
    cluster.stabilize()
    cluster.tickAll(2)
    for (const id of cluster.ids()) {
      expect(cluster.node(id).state, id).to.deep.equal(['c1', 'c2', 'c3', 'c4', 'c5', 'c6'])
    }
  })

  it('a snapshot of the initial state (nothing but the bootstrap configuration) works like any other', () => {
    const cluster = new Cluster({ size: 3, seed: 4 })
    cluster.isolate('n3')
    cluster.campaign('n1')
    cluster.stabilize()
    const meta = cluster.snapshot('n1', 0)
    expect(meta.index).to.equal(2)
    expect(cluster.node('n1').state).to.deep.equal([])
    cluster.heal()
    cluster.tickAll(3)
    cluster.propose('n1', 'first')
    cluster.stabilize()
    expect(cluster.node('n3').disk.snapshot?.meta).to.deep.equal(meta)
    expect(cluster.node('n3').state).to.deep.equal(['first'])
    expect(cluster.core('n3').log.lastIndex()).to.equal(3)
  })

  it('keeps the entries after a snapshot still being sent, however many snapshots follow', () => {
    const cluster = ledCluster(2)
    const leader = cluster.core('n1')
    const sent = snapshotBehindN3(cluster, 3, 6, 0)
    cluster.tick('n1')
    // n3 answers heartbeats, but its snapshot is slow to arrive while the leader goes on.
    deliverAllButSnapshots(cluster)
    expect(leader.progressOf('n3')?.state).to.equal('snapshot')
    cluster.isolate('n3')
    for (let i = 7; i <= 20; i++) {
      cluster.propose('n1', `c${i}`)
    }
    cluster.stabilize()
    cluster.snapshot('n1', 0)
    expect(leader.log.firstIndex()).to.equal(sent.index + 1)
    // Once it arrives, n3 catches up from the log without another snapshot.
    cluster.heal()
    cluster.node('n3').received = { meta: sent, commands: ['c1', 'c2', 'c3', 'c4', 'c5', 'c6'] }
    cluster.core('n3').step({ type: 'snapshot-request', from: 'n1', to: 'n3', term: leader.term, snapshot: sent })
    cluster.process('n3')
    leader.snapshotSent('n3', true)
    cluster.stabilize()
    cluster.tickAll(2)
    expect(leader.progressOf('n3')?.state).to.equal('replicate')
    expect(cluster.node('n3').state).to.have.lengthOf(20)
  })

  it('ignores rejections of requests sent before the snapshot', () => {
    const cluster = ledCluster(2)
    const leader = cluster.core('n1')
    snapshotBehindN3(cluster, 3, 6, 0)
    cluster.tick('n1')
    deliverAllButSnapshots(cluster)
    expect(leader.progressOf('n3')?.state).to.equal('snapshot')
    leader.step({ type: 'append-response', from: 'n3', to: 'n1', term: leader.term, success: false, index: 3, hintIndex: 3, hintTerm: 1 })
    expect(leader.progressOf('n3')?.state).to.equal('snapshot')
    expect(leader.progressOf('n3')?.pendingSnapshot).to.equal(leader.snapshot.index)
  })
})
