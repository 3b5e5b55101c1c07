import { expect } from 'aegir/chai'
import { set } from '../utils/kv.ts'
import { createCluster, stopAll, waitFor, waitForStableLeader } from '../utils/nodes.ts'
import type { CommitResult } from '../../src/index.ts'
import type { TestNode } from '../utils/nodes.ts'

/** The command texts in a node's history, in order (history entries are `index:text`). */
function commands (node: TestNode): string[] {
  return node.kv.history.map(h => h.slice(h.indexOf(':') + 1))
}

describe('service: commit', function () {
  this.timeout(120_000)
  let nodes: TestNode[] = []

  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
  })

  it('commits from the leader and from a follower, resolving with the local apply result once applied locally', async () => {
    nodes = await createCluster(3)
    const leader = await waitForStableLeader(nodes)
    const follower = nodes.find(n => n !== leader) as TestNode

    const a = await leader.raft.commit(set('x', '1'))
    expect(a.result).to.equal(undefined, 'the KV returns the previous value; x had none')
    expect(a.term).to.equal(leader.raft.term)
    expect(leader.kv.history).to.include(`${a.index}:set x 1`)

    const b = await follower.raft.commit(set('x', '2'))
    expect(b.index).to.be.greaterThan(a.index)
    expect(b.term).to.equal(a.term)
    expect(b.result).to.equal('1', 'the follower resolves with its own apply result: the previous value')
    // resolved only once applied on the follower itself
    expect(follower.kv.values.get('x')).to.equal('2')
    expect(follower.raft.appliedIndex).to.be.at.least(b.index)
    expect(follower.kv.history).to.include(`${b.index}:set x 2`)

    await waitFor(() => nodes.every(n => n.raft.appliedIndex >= b.index), 'x=2 applied everywhere')
    for (const n of nodes) {
      expect(n.kv.values.get('x')).to.equal('2')
      expect(n.kv.history).to.deep.equal(leader.kv.history)
    }
  })

  it('commits commands up to a raised maxCommandSize (past libp2p\'s 4 MiB read buffer), from the leader and forwarded, and later ones too', async () => {
    const MiB = 1024 * 1024
    nodes = await createCluster(3, { maxCommandSize: 6 * MiB, maxMessageSize: 6 * MiB + 128 * 1024 })
    const leader = await waitForStableLeader(nodes)
    const follower = nodes.find(n => n !== leader) as TestNode
    const big = (fill: string): Uint8Array => set('big', fill.repeat(5 * MiB + 1000))
    await leader.raft.commit(big('a'))
    await follower.raft.commit(big('b'))
    const { index } = await follower.raft.commit(set('small', 'after'))
    await waitFor(() => nodes.every(n => n.raft.appliedIndex >= index), 'every node to apply the commands', 60_000)
    for (const n of nodes) {
      expect(n.kv.values.get('big')).to.have.length(5 * MiB + 1000)
      expect(n.kv.values.get('big')?.[0]).to.equal('b')
      expect(n.kv.values.get('small')).to.equal('after')
    }
  })

  it('applies 50 concurrent commits from every node in the same order everywhere, each exactly once', async () => {
    nodes = await createCluster(3)
    await waitForStableLeader(nodes)

    const count = 50
    const issued = Array.from({ length: count }, (_, i) => ({ node: nodes[i % nodes.length], key: `k${i % 7}`, value: `v${i}` }))
    const appliedOnResolve: boolean[] = []
    const results: CommitResult[] = await Promise.all(issued.map(async ({ node, key, value }, i) => {
      const result = await node.raft.commit(set(key, value))
      // the committing node has applied it by the time commit() resolves
      appliedOnResolve[i] = node.kv.history.includes(`${result.index}:set ${key} ${value}`)
      return result
    }))
    expect(appliedOnResolve.every(Boolean)).to.be.true('every commit applied locally before resolving')

    const indexes = results.map(r => r.index)
    expect(new Set(indexes).size).to.equal(count, 'every command at its own index')
    const last = Math.max(...indexes)
    await waitFor(() => nodes.every(n => n.raft.appliedIndex >= last), 'all commits applied everywhere')

    const reference = nodes[0].kv.history
    for (const n of nodes) {
      expect(n.kv.history).to.deep.equal(reference)
    }
    const texts = commands(nodes[0])
    // the replayed state before each entry, to check each commit's result
    const replay = new Map<string, string>()
    const previousAt = new Map<number, string | undefined>()
    for (const entry of reference) {
      const index = Number(entry.slice(0, entry.indexOf(':')))
      const [, key, value] = entry.slice(entry.indexOf(':') + 1).split(' ')
      previousAt.set(index, replay.get(key))
      replay.set(key, value)
    }
    for (const [i, { key, value }] of issued.entries()) {
      const text = `set ${key} ${value}`
      expect(texts.filter(t => t === text), text).to.have.lengthOf(1)
      expect(reference).to.include(`${results[i].index}:${text}`, 'applied at the index commit() reported')
      expect(results[i].result).to.equal(previousAt.get(results[i].index), `result of ${text}`)
      expect(results[i].term).to.be.at.least(2).and.at.most(nodes[0].raft.term)
    }
    for (const n of nodes) {
      expect([...n.kv.values]).to.deep.equal([...replay])
    }
  })
})
