import { isDeepStrictEqual } from 'node:util'
import { expect } from 'aegir/chai'
import { InvalidEntryError, NotAttachedError, OpLogConsensus, StateConsensus, consensusEntryType, jsonCodec } from '../../src/consensus/index.ts'
import { InvalidParametersError } from '../../src/index.ts'
import { createClusterWith, stopAll, waitFor, waitForStableLeader } from '../utils/nodes.ts'
import { rejection } from '../utils/rejection.ts'
import type { Codec, ConsensusUpdate, OpLogConsensusInit, ReplicatedState } from '../../src/consensus/index.ts'
import type { Raft, RaftEvents, StateMachine } from '../../src/index.ts'
import type { KvStateMachine } from '../utils/kv.ts'
import type { TestNode } from '../utils/nodes.ts'

/** A replicated pin set, as an IPFS-style add-on would keep it: cid → name. */
interface PinState { pins: Record<string, string> }
type PinOp = { type: 'pin', cid: string, name: string } | { type: 'unpin', cid: string }

class NotPinnedError extends Error {
  constructor (cid: string) {
    super(`${cid} is not pinned`)
    this.name = 'NotPinnedError'
  }
}

/** Validates first, then mutates; returns the number of pins. */
function applyPin (state: PinState, op: PinOp): number {
  if (op.type === 'unpin' && !(op.cid in state.pins)) {
    throw new NotPinnedError(op.cid)
  }
  if (op.type === 'pin') {
    state.pins[op.cid] = op.name
  } else {
    delete state.pins[op.cid]
  }
  return Object.keys(state.pins).length
}

function pinSet (init: Partial<OpLogConsensusInit<PinState, PinOp, number>> = {}): OpLogConsensus<PinState, PinOp, number> {
  return new OpLogConsensus<PinState, PinOp, number>({ initialState: () => ({ pins: {} }), apply: applyPin, ...init })
}

interface Helper { stateMachine: StateMachine, attach(raft: Raft): void }

/** A 3-node cluster whose state machines are the helpers' (by position), each helper attached to its node. */
async function clusterOf (helpers: Helper[]): Promise<TestNode[]> {
  // createNode installs `kv` as the raft state machine; any StateMachine works there
  const created = await createClusterWith(helpers.length, i => ({ kv: helpers[i].stateMachine as unknown as KvStateMachine }))
  created.forEach((node, i) => { helpers[i].attach(node.raft) })
  return created
}

function recordUpdates<S, O, R> (helper: ReplicatedState<S, O, R>): Array<ConsensusUpdate<S, O, R>> {
  const updates: Array<ConsensusUpdate<S, O, R>> = []
  helper.addEventListener('consensus:update', (evt) => {
    // the state is the live object: keep a copy
    updates.push({ ...evt.detail, state: structuredClone(evt.detail.state) })
  })
  return updates
}

function recordApplies (node: TestNode): Array<RaftEvents['raft:apply']['detail']> {
  const applies: Array<RaftEvents['raft:apply']['detail']> = []
  node.raft.addEventListener('raft:apply', (evt) => { applies.push(evt.detail) })
  return applies
}

/** The updates' entries without their (already checked) state, for comparing members. */
function entries (updates: Array<ConsensusUpdate<any, any, any>>): unknown[] {
  return updates.map(({ index, term, type, op, result, error }) => ({ index, term, type, op, result, error: error?.name }))
}

async function converged<S> (helpers: Array<{ state: S }>, expected: S, message: string): Promise<void> {
  await waitFor(() => helpers.every(h => isDeepStrictEqual(h.state, expected)), message)
}

describe('service: consensus helpers', function () {
  this.timeout(120_000)
  let nodes: TestNode[] = []

  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
  })

  it('op log: ops committed from the leader and the followers give identical states and results everywhere', async () => {
    const helpers = [pinSet(), pinSet(), pinSet()]
    const updates = helpers.map(h => recordUpdates(h))
    nodes = await clusterOf(helpers)
    const leader = nodes.indexOf(await waitForStableLeader(nodes))
    const [f1, f2] = [0, 1, 2].filter(i => i !== leader)

    expect(await helpers[leader].commitOp({ type: 'pin', cid: 'a', name: 'A' })).to.equal(1)
    expect(await helpers[f1].commitOp({ type: 'pin', cid: 'b', name: 'B' })).to.equal(2)
    expect(helpers[f1].state.pins).to.have.property('b', 'B', 'applied on the committing follower when commitOp resolves')
    expect(await helpers[f2].commitOp({ type: 'pin', cid: 'c', name: 'C' })).to.equal(3)
    expect(await helpers[f1].commitOp({ type: 'unpin', cid: 'a' })).to.equal(2)

    const concurrent = Array.from({ length: 30 }, (_, i) => helpers[i % 3].commitOp({ type: 'pin', cid: `q${i}`, name: `Q${i}` }))
    const counts = await Promise.all(concurrent)
    expect(new Set(counts).size).to.equal(30, 'each op saw its own count: one at a time, in log order')

    const expected: PinState = { pins: { b: 'B', c: 'C' } }
    for (let i = 0; i < 30; i++) {
      expected.pins[`q${i}`] = `Q${i}`
    }
    await converged(helpers, expected, 'identical pin sets on all three members')
    await waitFor(() => updates.every(u => u.length === 34), 'an update event per op on every member')
    for (const u of updates) {
      expect(entries(u)).to.deep.equal(entries(updates[0]), 'same entries, same order, same results everywhere')
      expect(u.every(x => x.type === 'op' && x.error === undefined)).to.be.true()
      expect(u.map(x => x.index)).to.deep.equal([...u.map(x => x.index)].sort((a, b) => a - b))
      expect(u[u.length - 1].state).to.deep.equal(expected)
    }
  })

  it('a throwing op rejects its caller with that error on every member and leaves every state unchanged', async () => {
    const helpers = [pinSet(), pinSet(), pinSet()]
    const updates = helpers.map(h => recordUpdates(h))
    nodes = await clusterOf(helpers)
    const leader = nodes.indexOf(await waitForStableLeader(nodes))
    const follower = (leader + 1) % 3

    await helpers[leader].commitOp({ type: 'pin', cid: 'a', name: 'A' })
    const before: PinState = { pins: { a: 'A' } }
    await converged(helpers, before, 'the first pin everywhere')

    for (const helper of helpers) {
      const err = await rejection(helper.commitOp({ type: 'unpin', cid: 'missing' }))
      expect(err).to.be.an.instanceOf(NotPinnedError, 'the very error apply threw, on leader and followers alike')
      expect(err.message).to.equal('missing is not pinned')
      expect(helper.state).to.deep.equal(before, 'unchanged on the committing member')
    }
    // a command that is not a consensus entry is rejected the same way
    const raw = await rejection(nodes[follower].raft.commit(new TextEncoder().encode('not an entry')))
    expect(raw).to.have.property('name', InvalidEntryError.name)

    // the log goes on: a later op applies on top of the unchanged state
    expect(await helpers[follower].commitOp({ type: 'pin', cid: 'b', name: 'B' })).to.equal(2)
    await converged(helpers, { pins: { a: 'A', b: 'B' } }, 'the later op everywhere')
    await waitFor(() => updates.every(u => u.length === 5), 'update events everywhere')
    for (const u of updates) {
      expect(entries(u)).to.deep.equal(entries(updates[0]))
      const rejected = u.filter(x => x.error !== undefined)
      expect(rejected).to.have.length(3)
      for (const x of rejected) {
        expect(x.error).to.have.property('name', 'NotPinnedError')
        expect(x.state).to.deep.equal(before, 'a rejected op is reported with the unchanged state')
        expect(x.result).to.equal(undefined)
      }
    }
    await waitFor(() => nodes.every(n => n.raft.appliedIndex === nodes[leader].raft.appliedIndex), 'the same applied index everywhere')
  })

  it('rollback replaces the state everywhere and is tagged as a rollback in events and in the log', async () => {
    const helpers = [pinSet(), pinSet(), pinSet()]
    const updates = helpers.map(h => recordUpdates(h))
    nodes = await clusterOf(helpers)
    const applies = nodes.map(n => recordApplies(n))
    const leader = nodes.indexOf(await waitForStableLeader(nodes))
    const [f1, f2] = [0, 1, 2].filter(i => i !== leader)

    await helpers[leader].commitOp({ type: 'pin', cid: 'a', name: 'A' })
    await helpers[f1].commitOp({ type: 'pin', cid: 'b', name: 'B' })
    const saved = structuredClone(await helpers[f2].getCurrentState({ linearizable: true }))
    expect(saved).to.deep.equal({ pins: { a: 'A', b: 'B' } })
    await helpers[f1].commitOp({ type: 'pin', cid: 'c', name: 'C' })
    await helpers[leader].commitOp({ type: 'unpin', cid: 'a' })
    await converged(helpers, { pins: { b: 'B', c: 'C' } }, 'the later ops everywhere')

    await helpers[f2].rollback(saved)
    expect(helpers[f2].state).to.deep.equal(saved)
    expect(helpers[f2].state).to.not.equal(saved, 'a decoded copy, not the caller\'s object')
    await converged(helpers, saved, 'the rolled-back state everywhere')
    await waitFor(() => updates.every(u => u.length === 5), 'update events everywhere')
    for (const u of updates) {
      expect(entries(u)).to.deep.equal(entries(updates[0]))
      expect(u.map(x => x.type)).to.deep.equal(['op', 'op', 'op', 'op', 'rollback'])
      const last = u[4]
      expect(last.op).to.equal(undefined)
      expect(last.state).to.deep.equal(saved)
    }
    const rollbackIndex = updates[0][4].index
    for (const a of applies) {
      await waitFor(() => a.some(x => x.index === rollbackIndex), 'the rollback in raft:apply')
      expect(a.filter(x => consensusEntryType(x.command) === 'rollback').map(x => x.index)).to.deep.equal([rollbackIndex])
      expect(a.filter(x => consensusEntryType(x.command) === 'op')).to.have.length(4)
    }

    // ops go on from the rolled-back state
    expect(await helpers[f1].commitOp({ type: 'unpin', cid: 'a' })).to.equal(1)
    await converged(helpers, { pins: { b: 'B' } }, 'an op after the rollback')
  })

  it('a linearizable read on a follower sees an op another member just had acknowledged', async () => {
    const helpers = [pinSet(), pinSet(), pinSet()]
    nodes = await clusterOf(helpers)
    const leader = nodes.indexOf(await waitForStableLeader(nodes))
    const [f1, f2] = [0, 1, 2].filter(i => i !== leader)

    for (let i = 0; i < 20; i++) {
      const writer = i % 2 === 0 ? leader : f1
      await helpers[writer].commitOp({ type: 'pin', cid: `c${i}`, name: `${i}` })
      const state = await helpers[f2].getCurrentState({ linearizable: true, signal: AbortSignal.timeout(20_000) })
      expect(state.pins).to.have.property(`c${i}`, `${i}`)
      expect(Object.keys(state.pins)).to.have.length(i + 1)
    }
    const local = await helpers[f2].getCurrentState()
    expect(local).to.equal(helpers[f2].state, 'a local read is the applied state, without waiting')
  })

  it('the actor view (leader, isLeader) agrees with the service, also after a leader change', async () => {
    const helpers = [pinSet(), pinSet(), pinSet()]
    nodes = await clusterOf(helpers)
    const check = (running: number[]): void => {
      for (const i of running) {
        expect(helpers[i].leader?.toString()).to.equal(nodes[i].raft.leader?.toString())
        expect(helpers[i].isLeader).to.equal(nodes[i].raft.role === 'leader')
      }
      expect(running.filter(i => helpers[i].isLeader)).to.have.length(1)
    }

    const first = nodes.indexOf(await waitForStableLeader(nodes))
    check([0, 1, 2])
    expect(helpers[(first + 1) % 3].leader?.equals(nodes[first].peerId)).to.be.true()

    await nodes[first].libp2p.stop()
    const second = nodes.indexOf(await waitForStableLeader(nodes))
    expect(second).to.not.equal(first)
    const running = [0, 1, 2].filter(i => i !== first)
    check(running)
    expect(helpers[first].isLeader).to.be.false('a stopped member leads nothing')
    expect(helpers[first].leader).to.equal(undefined)
    // and the survivors still commit, from either of them
    for (const i of running) {
      await helpers[i].commitOp({ type: 'pin', cid: `after-${i}`, name: 'x' })
    }
    const expected: PinState = { pins: Object.fromEntries(running.map(i => [`after-${i}`, 'x'])) }
    await converged(running.map(i => helpers[i]), expected, 'both commits on the survivors')
  })

  it('state consensus: commitState from any member replaces the state identically everywhere; rollback too', async () => {
    interface Config { version: number, members: string[] }
    const helpers = [0, 1, 2].map(() => new StateConsensus<Config>({ initialState: () => ({ version: 0, members: [] }) }))
    const updates = helpers.map(h => recordUpdates(h))
    nodes = await clusterOf(helpers)
    const leader = nodes.indexOf(await waitForStableLeader(nodes))
    const [f1, f2] = [0, 1, 2].filter(i => i !== leader)
    expect(await helpers[f1].getCurrentState()).to.deep.equal({ version: 0, members: [] }, 'the initial state before any commit')

    const v1: Config = { version: 1, members: ['a'] }
    await helpers[leader].commitState(v1)
    await helpers[f1].commitState({ version: 2, members: ['a', 'b'] })
    expect(helpers[f1].state).to.deep.equal({ version: 2, members: ['a', 'b'] })
    await helpers[f2].commitState({ version: 3, members: ['a', 'b', 'c'] })
    await converged(helpers, { version: 3, members: ['a', 'b', 'c'] }, 'version 3 everywhere')
    expect(helpers[leader].state).to.not.equal(v1)

    const concurrent = [4, 5, 6, 7, 8, 9].map(async v => helpers[v % 3].commitState({ version: v, members: [`m${v}`] }))
    await Promise.all(concurrent)
    const final = await helpers[f2].getCurrentState({ linearizable: true })
    await converged(helpers, final, 'the last of the concurrent states everywhere')

    await helpers[f1].rollback(v1)
    await converged(helpers, v1, 'the rollback everywhere')
    await waitFor(() => updates.every(u => u.length === 10), 'update events everywhere')
    for (const u of updates) {
      expect(entries(u)).to.deep.equal(entries(updates[0]))
      expect(u.map(x => x.type)).to.deep.equal([...Array(9).fill('op'), 'rollback'])
      for (const x of u.slice(0, 9)) {
        expect(x.state).to.deep.equal(x.op, 'a state entry is the op "replace with this state"')
      }
    }
  })

  it('codec swap: custom codecs encode the ops, rollbacks and snapshots', async () => {
    type SetOp = { add: string } | { remove: string }
    const counts = { stateEncode: 0, stateDecode: 0, opEncode: 0, opDecode: 0 }
    const enc = new TextEncoder()
    const dec = new TextDecoder()
    // a Set, which JSON cannot carry, as a sorted newline-separated list
    const stateCodec: Codec<Set<string>> = {
      encode: (state) => { counts.stateEncode++; return enc.encode([...state].sort().join('\n')) },
      decode: (bytes) => { counts.stateDecode++; const text = dec.decode(bytes); return new Set(text === '' ? [] : text.split('\n')) }
    }
    // ops as `+cid` / `-cid`
    const opCodec: Codec<SetOp> = {
      encode: (op) => { counts.opEncode++; return enc.encode('add' in op ? `+${op.add}` : `-${op.remove}`) },
      decode: (bytes) => {
        counts.opDecode++
        const text = dec.decode(bytes)
        if (text[0] === '+') {
          return { add: text.slice(1) }
        }
        if (text[0] === '-') {
          return { remove: text.slice(1) }
        }
        throw new Error(`not an op: ${text}`)
      }
    }
    const make = (): OpLogConsensus<Set<string>, SetOp, number> => new OpLogConsensus<Set<string>, SetOp, number>({
      initialState: () => new Set(),
      apply: (state, op) => {
        if ('add' in op) {
          state.add(op.add)
        } else {
          state.delete(op.remove)
        }
        return state.size
      },
      stateCodec,
      opCodec
    })
    const helpers = [make(), make(), make()]
    nodes = await clusterOf(helpers)
    const applies = nodes.map(n => recordApplies(n))
    const leader = nodes.indexOf(await waitForStableLeader(nodes))
    const follower = (leader + 1) % 3

    expect(await helpers[follower].commitOp({ add: 'bafy1' })).to.equal(1)
    expect(await helpers[leader].commitOp({ add: 'bafy2' })).to.equal(2)
    await converged(helpers, new Set(['bafy1', 'bafy2']), 'both adds everywhere')
    expect(counts.opEncode).to.equal(2)
    expect(counts.opDecode).to.equal(6, 'every member decodes every op with the custom codec')
    const command = applies[leader].find(a => consensusEntryType(a.command) === 'op')?.command
    expect(command).to.not.equal(undefined)
    expect(dec.decode(command?.subarray(2))).to.equal('+bafy1', 'the payload is the custom encoding')

    await helpers[leader].rollback(new Set(['bafy9']))
    await converged(helpers, new Set(['bafy9']), 'the rollback everywhere')
    expect(counts.stateEncode).to.equal(1)
    expect(counts.stateDecode).to.equal(3)

    // snapshots go through the state codec too
    const snapshot = await helpers[follower].stateMachine.snapshot()
    expect(dec.decode(snapshot)).to.equal('bafy9')
    const fresh = make()
    const restored: Array<Set<string>> = []
    fresh.addEventListener('consensus:restore', (evt) => { restored.push(evt.detail.state) })
    await fresh.stateMachine.restore(snapshot)
    expect(fresh.state).to.deep.equal(new Set(['bafy9']))
    expect(restored).to.deep.equal([new Set(['bafy9'])])
  })

  describe('without a cluster', () => {
    it('jsonCodec round-trips JSON values and refuses what JSON cannot encode', () => {
      const codec = jsonCodec<unknown>()
      const value = { a: [1, 'two', null, true], b: { c: 3.5 } }
      expect(codec.decode(codec.encode(value))).to.deep.equal(value)
      expect(() => codec.encode(undefined)).to.throw().with.property('name', InvalidParametersError.name)
      expect(() => codec.decode(new Uint8Array([0xff]))).to.throw()
    })

    it('validates its options and needs attach() for commits and linearizable reads', async () => {
      expect(() => new OpLogConsensus<PinState, PinOp>({ initialState: () => ({ pins: {} }) } as any)).to.throw(InvalidParametersError)
      expect(() => new StateConsensus({} as any)).to.throw(InvalidParametersError)
      expect(() => pinSet({ opCodec: {} as any })).to.throw(InvalidParametersError)
      const helper = pinSet()
      expect(await rejection(helper.commitOp({ type: 'pin', cid: 'a', name: 'A' }))).to.be.an.instanceOf(NotAttachedError)
      expect(await rejection(helper.rollback({ pins: {} }))).to.be.an.instanceOf(NotAttachedError)
      expect(await rejection(helper.getCurrentState({ linearizable: true }))).to.be.an.instanceOf(NotAttachedError)
      expect(await helper.getCurrentState()).to.deep.equal({ pins: {} })
      expect(helper.leader).to.equal(undefined)
      expect(helper.isLeader).to.be.false()
    })

    it('applies entries through its state machine, tags them, and rejects what is not its entry', () => {
      const helper = pinSet()
      const updates = recordUpdates(helper)
      const op = (value: PinOp): Uint8Array => new Uint8Array([0xcc, 0x01, ...jsonCodec<PinOp>().encode(value)])
      expect(consensusEntryType(op({ type: 'pin', cid: 'a', name: 'A' }))).to.equal('op')
      expect(helper.stateMachine.apply(op({ type: 'pin', cid: 'a', name: 'A' }), { index: 1, term: 1 })).to.equal(1)
      expect(() => helper.stateMachine.apply(op({ type: 'unpin', cid: 'x' }), { index: 2, term: 1 })).to.throw(NotPinnedError)
      expect(() => helper.stateMachine.apply(new Uint8Array([0xcc, 0x01, 0x7b]), { index: 3, term: 1 })).to.throw(InvalidEntryError)
      expect(() => helper.stateMachine.apply(new Uint8Array([1, 2, 3]), { index: 4, term: 1 })).to.throw(InvalidEntryError)
      expect(consensusEntryType(new Uint8Array([1, 2, 3]))).to.equal(undefined)
      expect(helper.state).to.deep.equal({ pins: { a: 'A' } })
      expect(updates.map(u => [u.index, u.type, u.error?.name])).to.deep.equal([[1, 'op', undefined], [2, 'op', 'NotPinnedError']])
    })
  })
})
