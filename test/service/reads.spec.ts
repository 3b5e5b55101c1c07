import { expect } from 'aegir/chai'
import { set } from '../utils/kv.ts'
import { blockingGater, createCluster, createClusterWith, cutOff, stopAll, waitFor, waitForStableLeader } from '../utils/nodes.ts'
import { rejection } from '../utils/rejection.ts'
import type { TestNode } from '../utils/nodes.ts'

describe('service: linearizable reads', function () {
  this.timeout(120_000)
  let nodes: TestNode[] = []

  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
  })

  async function followerReadsSeeCommits (readMode: 'safe' | 'lease'): Promise<void> {
    nodes = await createCluster(3, { readMode })
    const leader = await waitForStableLeader(nodes)
    const [writer, reader] = nodes.filter(n => n !== leader)
    for (let i = 0; i < 5; i++) {
      const { index } = await writer.raft.commit(set('seen', `v${i}`))
      const read = await reader.raft.read()
      // Linearizable: the acknowledged write is visible in the reader's local state.
      expect(read.index).to.be.at.least(index)
      expect(reader.raft.appliedIndex).to.be.at.least(index)
      expect(reader.kv.values.get('seen')).to.equal(`v${i}`)
    }
    const onLeader = await leader.raft.read()
    expect(onLeader.index).to.equal(leader.raft.commitIndex)
  }

  it('a follower\'s read() after another node\'s acknowledged commit sees it (safe)', async () => {
    await followerReadsSeeCommits('safe')
  })

  it('a follower\'s read() after another node\'s acknowledged commit sees it (lease)', async () => {
    await followerReadsSeeCommits('lease')
  })

  it('many concurrent reads on every node resolve', async () => {
    nodes = await createCluster(3)
    await waitForStableLeader(nodes)
    const reads = await Promise.all(nodes.flatMap(n => Array.from({ length: 20 }, async () => n.raft.read())))
    expect(reads).to.have.length(60)
  })

  it('a leader cut off from the quorum never completes a read, and a barrier is local', async () => {
    const blocked = [new Set<string>(), new Set<string>(), new Set<string>()]
    // a short commitTimeout: the read must give up on its own deadline (a caller's signal would make it an AbortError)
    nodes = await createClusterWith(3, i => ({ connectionGater: blockingGater(blocked[i]), raft: { commitTimeout: 3000 } }))
    const old = await waitForStableLeader(nodes)
    const majority = nodes.filter(n => n !== old)
    await old.raft.commit(set('k', 'before'))
    await cutOff(nodes, blocked, old)
    // Ask while it may still believe it leads: the read must not complete.
    const stale = old.raft.read()
    const leader = await waitForStableLeader(majority)
    await leader.raft.commit(set('k', 'after'))
    const err = await rejection(stale)
    expect(err.name).to.equal('NoLeaderError')
    expect(old.kv.values.get('k')).to.equal('before')
    // barrier() only waits for what this node knows is committed.
    const barrier = await old.raft.barrier()
    expect(barrier.index).to.be.at.most(old.raft.appliedIndex)
    await waitFor(() => old.raft.role !== 'leader', 'the cut-off leader to step down')
  })
})
