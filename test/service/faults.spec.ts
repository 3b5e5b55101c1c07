import { expect } from 'aegir/chai'
import { KvStateMachine, set } from '../utils/kv.ts'
import { blockingGater, createCluster, createClusterWith, cutOff, createNode, introduce, stopAll, waitFor, waitForStableLeader } from '../utils/nodes.ts'
import { rejection } from '../utils/rejection.ts'
import type { TestNode } from '../utils/nodes.ts'

function others (nodes: TestNode[], node: TestNode): TestNode[] {
  return nodes.filter(n => n !== node)
}

function hasApplied (node: TestNode, texts: string[]): boolean {
  const applied = new Set(node.kv.history.map(h => h.slice(h.indexOf(':') + 1)))
  return texts.every(text => applied.has(text))
}

describe('service: faults', function () {
  this.timeout(120_000)
  let nodes: TestNode[] = []

  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
  })

  it('elects a new leader among the survivors when the leader stops, keeping every acknowledged commit', async () => {
    nodes = await createCluster(3)
    const oldLeader = await waitForStableLeader(nodes)
    const oldTerm = oldLeader.raft.term
    const acknowledged: string[] = []
    for (let i = 0; i < 6; i++) {
      const text = `set before${i} ${i}`
      await nodes[i % nodes.length].raft.commit(new TextEncoder().encode(text))
      acknowledged.push(text)
    }

    await oldLeader.libp2p.stop()
    const survivors = others(nodes, oldLeader)
    const leader = await waitForStableLeader(survivors)
    expect(leader).to.not.equal(oldLeader)
    expect(leader.raft.term).to.be.greaterThan(oldTerm)

    await waitFor(() => survivors.every(n => hasApplied(n, acknowledged)), 'every acknowledged commit on the survivors')

    for (const [i, n] of survivors.entries()) {
      const { result } = await n.raft.commit(set(`before${i}`, 'after'))
      expect(result).to.equal(String(i), 'the value committed before the leader stopped')
    }
    const last = Math.max(...survivors.map(n => n.raft.appliedIndex))
    await waitFor(() => survivors.every(n => n.raft.appliedIndex >= last), 'the survivors to apply the new commits')
    expect(survivors[0].kv.history).to.deep.equal(survivors[1].kv.history)
    // what the old leader applied before stopping is a prefix of the survivors' history
    expect(survivors[0].kv.history.slice(0, oldLeader.kv.history.length)).to.deep.equal(oldLeader.kv.history)
  })

  it('commits forwarded by followers while the leader stops all succeed, each applied exactly once', async () => {
    nodes = await createCluster(3)
    const oldLeader = await waitForStableLeader(nodes)
    const followers = others(nodes, oldLeader)
    const commits: Array<Promise<unknown>> = []
    const failures: string[] = []
    for (let i = 0; i < 200; i++) {
      commits.push(followers[i % 2].raft.commit(set(`f${i}`, `${i}`)).catch((err: Error) => { failures.push(err.name) }))
      if (i === 100) {
        // Forwards in flight, some appended and not yet answered: the leader goes away under them.
        void oldLeader.libp2p.stop()
      }
      await new Promise(resolve => setImmediate(resolve))
    }
    await Promise.all(commits)
    // None is left "outcome unknown": each learns from the survivors' log whether it was appended, and is sent again if not.
    expect(failures).to.deep.equal([])
    for (const n of followers) {
      const applied = n.kv.history.map(h => h.slice(h.indexOf(':') + 1)).filter(text => text.startsWith('set f'))
      expect(applied).to.have.lengthOf(200)
      expect(new Set(applied).size).to.equal(200, 'no command applied twice')
    }
  })

  it('a node restarted on its datastore recovers its state and term, and catches up', async () => {
    nodes = await createCluster(3)
    const leader = await waitForStableLeader(nodes)
    const stopped = others(nodes, leader)[0]
    for (let i = 0; i < 5; i++) {
      await nodes[i % nodes.length].raft.commit(set(`a${i}`, `${i}`))
    }
    await waitFor(() => stopped.kv.values.size === 5, 'the follower to apply the first commits')
    const termBefore = stopped.raft.term
    const historyBefore = [...stopped.kv.history]
    await stopped.libp2p.stop()

    const running = others(nodes, stopped)
    for (let i = 0; i < 5; i++) {
      await running[i % running.length].raft.commit(set(`b${i}`, `${i}`))
    }
    await running[0].raft.commit(set('a0', 'overwritten'))

    const kv = new KvStateMachine()
    const restarted = await createNode({ privateKey: stopped.privateKey, datastore: stopped.datastore, kv, bootstrap: nodes.map(n => n.peerId) })
    nodes[nodes.indexOf(stopped)] = restarted
    expect(restarted.peerId.equals(stopped.peerId)).to.be.true()
    expect(restarted.raft.term).to.be.at.least(termBefore, 'the term is restored from the datastore')
    await introduce(nodes)

    // its committed entries are re-applied to the fresh state machine, then it catches up
    const target = (): string[] => running[0].kv.history
    await waitFor(() => restarted.kv.history.length === target().length && restarted.raft.appliedIndex === running[0].raft.appliedIndex, 'the restarted node to catch up')
    expect(kv.history.slice(0, historyBefore.length)).to.deep.equal(historyBefore)
    expect(kv.history).to.deep.equal(target())
    expect([...kv.values]).to.deep.equal([...running[0].kv.values])
    expect(kv.values.get('a0')).to.equal('overwritten')
    expect(kv.values.get('b4')).to.equal('4')
    expect(restarted.raft.term).to.be.at.least(termBefore)

    // and it takes part again: a commit through it applies everywhere
    const { index, result } = await restarted.raft.commit(set('b0', 'again'))
    expect(result).to.equal('0')
    await waitFor(() => nodes.every(n => n.raft.appliedIndex >= index), 'the last commit everywhere')
    for (const n of nodes) {
      expect(n.kv.history).to.deep.equal(kv.history)
    }
  })

  it('a node cut off from the majority cannot commit, and a command refused with NoLeaderError is never applied', async () => {
    const blocked = [new Set<string>(), new Set<string>(), new Set<string>()]
    // a short commitTimeout: refused commits give up on their own deadline (a caller's signal would make them AbortErrors)
    nodes = await createClusterWith(3, i => ({ connectionGater: blockingGater(blocked[i]), raft: { commitTimeout: 3000 } }))
    const applied: string[] = []
    for (const n of nodes) {
      n.raft.addEventListener('raft:apply', (evt) => { applied.push(new TextDecoder().decode(evt.detail.command)) })
    }
    const isolated = await waitForStableLeader(nodes)
    const majority = others(nodes, isolated)
    await isolated.raft.commit(set('x', 'before'))

    // partition: the leader alone on one side
    await cutOff(nodes, blocked, isolated)

    // while it may still believe it leads: the outcome may be unknown, but it must not be reported as committed
    const early = await rejection(isolated.raft.commit(set('x', 'early')))
    expect(early.name).to.be.oneOf(['CommitTimeoutError', 'NoLeaderError'])

    const leader = await waitForStableLeader(majority)
    expect(leader).to.not.equal(isolated)
    await leader.raft.commit(set('x', 'majority'))

    // it steps down (check-quorum) and knows no leader
    await waitFor(() => isolated.raft.role !== 'leader' && isolated.raft.leader === undefined, 'the isolated node to step down')
    const refused = await rejection(isolated.raft.commit(set('x', 'refused')))
    expect(refused.name).to.equal('NoLeaderError')
    expect(isolated.kv.values.get('x')).to.equal('before')

    // heal
    for (const b of blocked) {
      b.clear()
    }
    await introduce(nodes)
    const marker = await leader.raft.commit(set('x', 'healed'))
    await waitFor(() => nodes.every(n => n.raft.appliedIndex >= marker.index), 'every node, the healed one included, to apply the marker', 60_000)
    for (const n of nodes) {
      expect(n.kv.history).to.deep.equal(leader.kv.history)
      expect(n.kv.values.get('x')).to.equal('healed')
      expect(n.raft.term).to.equal(leader.raft.term)
    }
    expect(applied.filter(text => text === 'set x refused'), 'the NoLeaderError command').to.deep.equal([])
    // the early command's outcome was unknown to its caller; whatever it is, every node agrees
    const earlyApplies = applied.filter(text => text === 'set x early').length
    expect(earlyApplies === 0 || earlyApplies === nodes.length).to.be.true(`'set x early' applied ${earlyApplies} times over ${nodes.length} nodes`)
    expect(applied.filter(text => text === 'set x majority')).to.have.lengthOf(nodes.length)
  })
})
