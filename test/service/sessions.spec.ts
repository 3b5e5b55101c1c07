import { expect } from 'aegir/chai'
import { KvStateMachine, set } from '../utils/kv.ts'
import { createClusterWith, restartNode, stopAll, waitFor, waitForStableLeader } from '../utils/nodes.ts'
import type { TestNode } from '../utils/nodes.ts'

/** How often each node's state machine ran `text` */
function runs (node: TestNode, text: string): number {
  return node.kv.history.filter(h => h.endsWith(`:${text}`)).length
}

/** A key-value state machine whose applies can be held back, as a slow or stalled node's would be. */
class HeldKv extends KvStateMachine {
  private held: Promise<void> | undefined
  private release: (() => void) | undefined

  hold (): void {
    this.held = new Promise(resolve => { this.release = resolve })
  }

  letGo (): void {
    this.release?.()
    this.held = undefined
  }

  apply (command: Uint8Array, entry: { index: number }): any {
    const held = this.held
    return held === undefined ? super.apply(command, entry) : held.then(() => super.apply(command, entry))
  }
}

describe('service: client sessions (exactly-once commits)', function () {
  this.timeout(120_000)
  let nodes: TestNode[] = []

  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
  })

  it('applies a command retried under its sequence once, answering the retry with the first result', async () => {
    nodes = await createClusterWith(3, () => ({}))
    const leader = await waitForStableLeader(nodes)
    const follower = nodes.find(n => n !== leader) as TestNode
    const session = await follower.raft.openSession()
    expect(session.id).to.be.a('number').that.is.greaterThan(0)

    const first = await session.commit(set('x', '1'))
    expect(first).to.include({ sequence: 1, result: undefined })
    // Sent again: had it run again, the key-value store would answer with x's value then, '1'.
    const retried = await session.commit(set('x', '1'), { sequence: 1 })
    expect(retried).to.include({ sequence: 1, result: undefined })
    const second = await session.commit(set('x', '2'))
    expect(second).to.include({ sequence: 2, result: '1' })
    // The second command told the members that the client has the first's answer: they forgot it.
    await expect(session.commit(set('x', '1'), { sequence: 1 })).to.eventually.be.rejected.with.property('name', 'SessionExpiredError')
    await waitFor(() => nodes.every(n => n.raft.appliedIndex >= retried.index), 'every node to apply the retry')
    for (const node of nodes) {
      expect(runs(node, 'set x 1')).to.equal(1)
      expect(node.kv.values.get('x')).to.equal('2')
    }
  })

  it('applies a commit retried across a leader kill once, with its original result', async () => {
    const kvs = [new HeldKv(), new HeldKv(), new HeldKv()]
    nodes = await createClusterWith(3, i => ({ kv: kvs[i] }))
    const leader = await waitForStableLeader(nodes)
    const follower = nodes.find(n => n !== leader) as TestNode
    const followerKv = follower.kv as HeldKv
    const session = await follower.raft.openSession()
    await session.commit(set('x', 'before'))

    // The leader commits and applies the command, but the follower's caller gives up before the follower applies it.
    followerKv.hold()
    const caller = new AbortController()
    const call = session.commit(set('x', 'once'), { signal: caller.signal })
    await waitFor(() => runs(leader, 'set x once') === 1, 'the leader to apply the command')
    caller.abort()
    const err = await call.then(() => undefined, (err: any) => err)
    expect(err).to.have.property('name', 'AbortError')
    expect(err).to.have.property('sequence', 2)
    followerKv.letGo()

    await leader.libp2p.stop()
    const survivors = nodes.filter(n => n !== leader)
    await waitForStableLeader(survivors)
    const retried = await session.commit(set('x', 'once'), { sequence: err.sequence })
    expect(retried.result).to.equal('before', 'the first apply\'s result: the previous value was "before"')
    expect(retried.sequence).to.equal(2)

    const next = await session.commit(set('x', 'after'))
    expect(next.result).to.equal('once')
    await waitFor(() => survivors.every(n => n.raft.appliedIndex >= next.index), 'the survivors to apply everything')
    for (const node of nodes) {
      expect(runs(node, 'set x once')).to.equal(1, 'applied once on every node')
    }
  })

  it('commits a command in flight when the leader stops, once', async () => {
    nodes = await createClusterWith(3, () => ({}))
    const leader = await waitForStableLeader(nodes)
    const follower = nodes.find(n => n !== leader) as TestNode
    const session = await follower.raft.openSession()
    const calls = Array.from({ length: 20 }, async (_, i) => session.commit(set(`k${i}`, 'v')))
    await leader.libp2p.stop()
    const results = await Promise.all(calls)
    const survivors = nodes.filter(n => n !== leader)
    const last = Math.max(...results.map(r => r.index))
    await waitFor(() => survivors.every(n => n.raft.appliedIndex >= last), 'the survivors to apply every command')
    for (const node of survivors) {
      for (let i = 0; i < 20; i++) {
        expect(runs(node, `set k${i} v`)).to.equal(1)
      }
    }
  })

  it('keeps its sessions through a snapshot: a member restarted from one still knows them, and answers a retry with the first result', async () => {
    const raft = { snapshotThreshold: 100_000, trailingEntries: 0 }
    nodes = await createClusterWith(3, () => ({ raft }))
    const leader = await waitForStableLeader(nodes)
    const session = await leader.raft.openSession()
    await session.commit(set('x', '1'))
    const { index } = await leader.raft.barrier()
    await waitFor(() => nodes.every(n => n.raft.appliedIndex >= index), 'every node to apply x=1')
    await Promise.all(nodes.map(async n => n.raft.snapshot()))

    const restarted = nodes.find(n => n !== leader) as TestNode
    await restarted.libp2p.stop()
    const again = await restartNode(nodes, restarted, raft)
    expect(again.kv.values.get('x')).to.equal('1', 'restored from the snapshot')

    // Nothing acknowledged sequence 1 yet: every member, the restarted one from its snapshot, still has its result.
    const retried = await session.commit(set('x', '1'), { sequence: 1 })
    expect(retried.result).to.equal(undefined)
    const next = await session.commit(set('y', '2'))
    await waitFor(() => again.raft.appliedIndex >= next.index, 'the restarted member to catch up')
    expect(runs(again, 'set x 1')).to.equal(0, 'the retry is answered from the restored table, not applied')
    expect(runs(again, 'set y 2')).to.equal(1, 'the session is still known after the restart')
    expect(again.kv.values.get('y')).to.equal('2')
  })

  it('keeps its table small enough to travel with a snapshot, however large the results', async () => {
    const raft = { snapshotThreshold: 100_000, trailingEntries: 0 }
    nodes = await createClusterWith(3, () => ({ raft }))
    const leader = await waitForStableLeader(nodes)
    const big = 'x'.repeat(8000)
    await leader.raft.commit(set('big', big))
    const lagging = nodes.find(n => n !== leader) as TestNode
    await lagging.libp2p.stop()
    // 64 commands at once in one session, each answered with the previous 8000-character value.
    const session = await leader.raft.openSession()
    const results = await Promise.all(Array.from({ length: 64 }, async () => session.commit(set('big', big))))
    expect(results.every(r => r.result === big)).to.equal(true)
    const last = Math.max(...results.map(r => r.index))
    await leader.raft.snapshot()

    const again = await restartNode(nodes, lagging, raft)
    await waitFor(() => again.raft.appliedIndex >= last, 'the restarted follower to install the snapshot and catch up')
    expect(again.kv.values.get('big')).to.equal(big)
  })

  it('refuses bad input: a sequence it never handed out, a command that is not bytes', async () => {
    nodes = await createClusterWith(1, () => ({}))
    await waitForStableLeader(nodes)
    const session = await nodes[0].raft.openSession()
    await expect(session.commit(set('a', '1'), { sequence: 1 })).to.eventually.be.rejected.with.property('name', 'InvalidParametersError')
    await expect(session.commit('text' as any)).to.eventually.be.rejected.with.property('name', 'InvalidParametersError')
    expect((await session.commit(set('a', '1'))).sequence).to.equal(1)
    await expect(session.commit(set('a', '1'), { sequence: 0 })).to.eventually.be.rejected.with.property('name', 'InvalidParametersError')
  })
})
