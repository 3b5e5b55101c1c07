import { expect } from 'aegir/chai'
import { Key } from 'interface-datastore'
import { set } from '../utils/kv.ts'
import { createCluster, restartNode, stopAll, waitFor, waitForStableLeader } from '../utils/nodes.ts'
import type { RaftInit } from '../../src/index.ts'
import type { TestNode } from '../utils/nodes.ts'
import type { Datastore } from 'interface-datastore'

/** Commits `count` commands through `node`, `concurrency` at a time, each setting key `k<i mod keys>`. */
async function commitMany (node: TestNode, prefix: string, count: number, options: { concurrency?: number, keys?: number, every?(done: number): Promise<void> } = {}): Promise<void> {
  const { concurrency = 32, keys = 200 } = options
  let next = 0
  let done = 0
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++
      await node.raft.commit(set(`k${i % keys}`, `${prefix}${i}`))
      done++
      if (options.every !== undefined && done % 1000 === 0) {
        await options.every(done)
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
}

async function countKeys (datastore: Datastore, prefix: string): Promise<number> {
  let count = 0
  for await (const key of datastore.queryKeys({ prefix })) {
    void key
    count++
  }
  return count
}

function sameState (a: TestNode, b: TestNode): boolean {
  return a.raft.appliedIndex === b.raft.appliedIndex && JSON.stringify([...a.kv.values]) === JSON.stringify([...b.kv.values])
}

describe('service: snapshots and compaction', function () {
  this.timeout(180_000)
  let nodes: TestNode[] = []

  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
  })

  it('a follower stopped while 5,000 commands commit catches up through InstallSnapshot', async () => {
    const raft: RaftInit = { snapshotThreshold: 300, trailingEntries: 50 }
    nodes = await createCluster(3, raft)
    const leader = await waitForStableLeader(nodes)
    const stopped = nodes.find(n => n !== leader) as TestNode
    await leader.raft.commit(set('before', 'stop'))
    await waitFor(() => stopped.kv.values.get('before') === 'stop', 'the follower to apply the first command')
    await stopped.libp2p.stop()

    await commitMany(leader, 'v', 5000)
    const status = leader.raft.status()
    expect(status.snapshotIndex).to.be.greaterThan(4000)
    expect(status.firstIndex).to.be.greaterThan(stopped.raft.appliedIndex + 1, 'the entries the follower needs are compacted away')

    const restarted = await restartNode(nodes, stopped, raft)
    const installed = new Promise<{ index: number, installed: boolean }>(resolve => {
      restarted.raft.addEventListener('raft:snapshot', (evt) => {
        if (evt.detail.installed) {
          resolve(evt.detail)
        }
      })
    })
    await waitFor(() => sameState(restarted, leader), 'the restarted follower to reach the leader\'s state', 90_000)
    expect((await installed).index).to.be.greaterThan(4000)
    expect(restarted.kv.values.size).to.equal(201)
    expect(restarted.kv.values.get('k0')).to.equal(leader.kv.values.get('k0'))
    // It applied only what came after the snapshot, not the 5,000 commands.
    expect(restarted.kv.history.length).to.be.lessThan(400)

    // And it takes part again.
    const { index } = await restarted.raft.commit(set('after', 'install'))
    await waitFor(() => nodes.every(n => n.raft.appliedIndex >= index), 'the last commit everywhere')
    for (const n of nodes) {
      expect([...n.kv.values]).to.deep.equal([...leader.kv.values])
    }
  })

  it('a node restarted after compaction recovers from its snapshot plus the log after it', async () => {
    const raft: RaftInit = { snapshotThreshold: 100, trailingEntries: 10 }
    nodes = await createCluster(3, raft)
    const leader = await waitForStableLeader(nodes)
    const node = nodes.find(n => n !== leader) as TestNode
    await commitMany(leader, 'a', 450, { keys: 30 })
    await waitFor(() => sameState(node, leader), 'the follower to apply everything')
    const snapshotIndex = node.raft.status().snapshotIndex
    expect(snapshotIndex).to.be.greaterThan(300)
    const before = [...node.kv.values]
    const appliedBefore = node.raft.appliedIndex
    await node.libp2p.stop()

    const restarted = await restartNode(nodes, node, raft)
    // Restored from the snapshot at start, then the entries after it re-applied.
    expect(restarted.raft.status().snapshotIndex).to.equal(snapshotIndex)
    await waitFor(() => restarted.raft.appliedIndex >= appliedBefore, 'the restarted node to re-apply its log')
    expect([...restarted.kv.values]).to.deep.equal(before)
    expect(restarted.kv.history.length).to.be.at.most(appliedBefore - snapshotIndex + 5)
    const { index } = await restarted.raft.commit(set('k1', 'fresh'))
    await waitFor(() => nodes.every(n => n.raft.appliedIndex >= index), 'the new commit everywhere')
    expect(restarted.kv.values.get('k1')).to.equal('fresh')
  })

  it('keeps the datastore\'s key count bounded over 20,000 commits', async () => {
    const raft: RaftInit = { snapshotThreshold: 500, trailingEntries: 100 }
    nodes = await createCluster(3, raft)
    const leader = await waitForStableLeader(nodes)
    const prefix = '/raft/default/'
    let most = 0
    await commitMany(leader, 'x', 20_000, {
      concurrency: 64,
      keys: 500,
      every: async () => {
        for (const n of nodes) {
          most = Math.max(most, await countKeys(n.datastore, prefix))
        }
      }
    })
    for (const n of nodes) {
      most = Math.max(most, await countKeys(n.datastore, prefix))
    }
    // Entries since the snapshot, those kept behind it, the hard state, the
    // snapshot pointer and chunks, and the members' addresses; plus the
    // entries applied while a snapshot is being written.
    expect(most).to.be.at.most(500 + 100 + 200)
    expect(leader.raft.status().snapshotIndex).to.be.greaterThan(19_000)
    const memory = leader.raft.status()
    expect(memory.lastIndex - memory.firstIndex + 1).to.be.at.most(500 + 100 + 200)
  })

  it('snapshot() takes a snapshot on demand, emits raft:snapshot and compacts the log', async () => {
    nodes = await createCluster(3, { trailingEntries: 0 })
    const leader = await waitForStableLeader(nodes)
    for (let i = 0; i < 20; i++) {
      await leader.raft.commit(set(`k${i}`, `${i}`))
    }
    const events: Array<{ index: number, term: number, installed: boolean }> = []
    leader.raft.addEventListener('raft:snapshot', (evt) => { events.push(evt.detail) })
    const applied = leader.raft.appliedIndex
    const taken = await leader.raft.snapshot()
    expect(taken.index).to.be.at.least(applied)
    expect(taken.term).to.equal(leader.raft.term)
    expect(events).to.deep.equal([{ index: taken.index, term: taken.term, installed: false }])
    expect(leader.raft.status().firstIndex).to.equal(taken.index + 1)
    const pointer = await leader.datastore.get(new Key('/raft/default/snapshot'))
    expect(pointer.byteLength).to.be.greaterThan(0)
    // Nothing new applied: the same snapshot, no new event.
    expect(await leader.raft.snapshot()).to.deep.equal(taken)
    expect(events).to.have.lengthOf(1)
    // Commits go on after it.
    const { index } = await leader.raft.commit(set('k0', 'after'))
    expect(index).to.be.greaterThan(taken.index)
  })

  it('a snapshot of the initial state is restored by a node that restarts from it', async () => {
    nodes = await createCluster(1)
    const [node] = nodes
    await waitForStableLeader(nodes)
    // Leadership is known a batch before the leader has applied the bootstrap configuration.
    await waitFor(() => node.raft.appliedIndex >= 1, 'the leader to apply the bootstrap configuration')
    const taken = await node.raft.snapshot()
    expect(taken.index).to.be.at.least(1)
    await node.libp2p.stop()
    const restarted = await restartNode(nodes, node, {})
    await waitForStableLeader(nodes)
    expect(restarted.raft.status().snapshotIndex).to.equal(taken.index)
    const { result } = await restarted.raft.commit(set('first', '1'))
    expect(result).to.be.undefined()
    expect([...restarted.kv.values]).to.deep.equal([['first', '1']])
  })
})
