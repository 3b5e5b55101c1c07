import { expect } from 'aegir/chai'
import { set } from '../utils/kv.ts'
import { createCluster, stopAll, waitFor, waitForStableLeader } from '../utils/nodes.ts'
import type { RaftEvents } from '../../src/index.ts'
import type { TestNode } from '../utils/nodes.ts'

type Detail<K extends keyof RaftEvents> = RaftEvents[K]['detail']

interface Recorded {
  role: Array<Detail<'raft:role'>>
  leader: Array<Detail<'raft:leader'>>
  apply: Array<Detail<'raft:apply'>>
}

function record (node: TestNode): Recorded {
  const recorded: Recorded = { role: [], leader: [], apply: [] }
  node.raft.addEventListener('raft:role', (evt) => { recorded.role.push(evt.detail) })
  node.raft.addEventListener('raft:leader', (evt) => { recorded.leader.push(evt.detail) })
  node.raft.addEventListener('raft:apply', (evt) => { recorded.apply.push(evt.detail) })
  return recorded
}

/** Lets pending nextTick/microtask/immediate work (where uncaught errors surface) run. */
async function flush (): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await new Promise(resolve => setImmediate(resolve))
  }
}

describe('service: events', function () {
  this.timeout(120_000)
  let nodes: TestNode[] = []
  const cleanups: Array<() => void> = []

  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
    for (const cleanup of cleanups.splice(0)) {
      cleanup()
    }
  })

  it('emits raft:role, raft:leader and raft:apply with the documented payloads', async () => {
    nodes = await createCluster(3)
    const recorded = nodes.map(record)
    const leader = await waitForStableLeader(nodes)
    const term = leader.raft.term

    // raft:leader: every node hears of this leader, as a PeerId, with its term
    await waitFor(() => recorded.every(r => r.leader.at(-1)?.leader?.equals(leader.peerId) === true), 'every node to emit raft:leader for the leader')
    for (const r of recorded) {
      const last = r.leader.at(-1)
      expect(last?.term).to.equal(term)
      expect(last?.leader?.toString()).to.equal(leader.peerId.toString())
      expect(last?.leader?.type).to.equal('Ed25519')
    }

    // raft:role: the leader went candidate -> leader in that term; roles change on every event; terms never go down
    const leaderRoles = recorded[nodes.indexOf(leader)].role
    expect(leaderRoles.at(-1)).to.deep.equal({ role: 'leader', term })
    expect(leaderRoles.at(-2)).to.deep.equal({ role: 'candidate', term })
    for (const [i, r] of recorded.entries()) {
      for (const [j, event] of r.role.entries()) {
        expect(event.role).to.be.oneOf(['leader', 'follower', 'candidate'])
        expect(Number.isInteger(event.term) && event.term >= 1).to.be.true()
        if (j > 0) {
          expect(event.role).to.not.equal(r.role[j - 1].role, 'a raft:role event is a change of role')
          expect(event.term).to.be.at.least(r.role[j - 1].term)
        }
      }
      const lastRole = r.role.at(-1)?.role ?? 'follower'
      expect(lastRole).to.equal(nodes[i].raft.role)
    }

    // raft:apply: once per command on every node, with index, term, command and that node's result
    const [f1, f2] = nodes.filter(n => n !== leader)
    const issued: Array<[TestNode, string, string, string | undefined]> = [
      [leader, 'a', '1', undefined],
      [f1, 'a', '2', '1'],
      [f2, 'b', '3', undefined],
      [leader, 'a', '4', '2']
    ]
    const results = []
    for (const [node, key, value, previous] of issued) {
      const result = await node.raft.commit(set(key, value))
      expect(result.result).to.equal(previous)
      results.push(result)
    }
    await waitFor(() => recorded.every(r => r.apply.length >= issued.length), 'every node to emit raft:apply for every command')
    await flush()
    for (const r of recorded) {
      // no event for the configuration and no-op entries: exactly the four commands
      expect(r.apply).to.have.lengthOf(issued.length)
      for (const [i, event] of r.apply.entries()) {
        const [, key, value, previous] = issued[i]
        expect(event.index).to.equal(results[i].index)
        expect(event.term).to.equal(results[i].term)
        expect(event.command).to.be.an.instanceOf(Uint8Array)
        expect(event.command).to.equalBytes(set(key, value))
        expect(event.result).to.equal(previous)
      }
    }
    // raft:membership is not covered: without a membership change (no API for one) it does not fire
  })

  it('survives listeners that throw or reject: commits still succeed and nothing goes uncaught', async () => {
    const uncaught: unknown[] = []
    const onError = (err: unknown): void => { uncaught.push(err) }
    process.on('uncaughtException', onError)
    process.on('unhandledRejection', onError)
    cleanups.push(() => {
      process.off('uncaughtException', onError)
      process.off('unhandledRejection', onError)
    })

    nodes = await createCluster(3)
    const types = ['raft:role', 'raft:leader', 'raft:apply', 'raft:membership'] as const
    const calls = Object.fromEntries(types.map(type => [type, { sync: 0, async: 0 }]))
    const bad = types.map(type => ({
      type,
      throwing: (): void => {
        calls[type].sync++
        throw new Error(`a ${type} listener that throws`)
      },
      rejecting: async (): Promise<void> => {
        calls[type].async++
        throw new Error(`a ${type} listener that rejects`)
      }
    }))
    for (const n of nodes) {
      for (const { type, throwing, rejecting } of bad) {
        n.raft.addEventListener(type, throwing)
        n.raft.addEventListener(type, rejecting)
      }
    }
    // a well-behaved listener registered after the bad ones still gets every event
    const recorded = nodes.map(record)

    const leader = await waitForStableLeader(nodes)
    const values = ['1', '2', '3', '4', '5', '6']
    for (const [i, value] of values.entries()) {
      const { result } = await nodes[i % nodes.length].raft.commit(set('k', value))
      expect(result).to.equal(i === 0 ? undefined : values[i - 1])
    }
    await waitFor(() => recorded.every(r => r.apply.length === values.length), 'every node to apply every command')
    await flush()
    expect(recorded.every(r => r.leader.some(e => e.leader?.equals(leader.peerId)))).to.be.true()
    // the bad listeners were really called, for elections and for every apply
    expect(calls['raft:role'].sync).to.be.at.least(2, 'raft:role listeners called')
    expect(calls['raft:leader'].sync).to.be.at.least(nodes.length, 'raft:leader listeners called')
    expect(calls['raft:apply'].sync).to.equal(values.length * nodes.length)
    for (const type of types) {
      expect(calls[type].async).to.equal(calls[type].sync)
    }
    expect(uncaught).to.deep.equal([])

    // removing a listener works through the guard
    const apply = bad.find(b => b.type === 'raft:apply')
    for (const n of nodes) {
      n.raft.removeEventListener('raft:apply', apply?.throwing)
      n.raft.removeEventListener('raft:apply', apply?.rejecting)
    }
    const before = { ...calls['raft:apply'] }
    const last = await leader.raft.commit(set('k', 'last'))
    await waitFor(() => nodes.every(n => n.raft.appliedIndex >= last.index), 'the last command everywhere')
    await waitFor(() => recorded.every(r => r.apply.length === values.length + 1), 'every node to emit the last raft:apply')
    await flush()
    expect(calls['raft:apply']).to.deep.equal(before)
    expect(uncaught).to.deep.equal([])
    for (const n of nodes) {
      expect(n.kv.values.get('k')).to.equal('last')
    }
  })
})
