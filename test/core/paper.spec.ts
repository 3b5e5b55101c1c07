/**
 * One test per rule of §5 of the Raft paper ("In Search of an Understandable
 * Consensus Algorithm"), checked against the deterministic core. Single-node
 * rules drive a `RaftCore` directly with hand-made messages; multi-node
 * scenarios use the `Cluster` harness or a tiny in-test network.
 */
import { expect } from 'aegir/chai'
import { RaftCore, bootstrapState } from '../../src/core/index.ts'
import { Cluster } from '../utils/cluster.ts'
import { describe as describeEntry } from '../utils/invariants.ts'
import { Rng } from '../utils/rng.ts'
import type { AppendRequest, AppendResponse, CoreInit, CoreOptions, CoreState, Entry, HeartbeatRequest, Message, NodeId, Ready, VoteRequest, VoteResponse } from '../../src/core/index.ts'

const VOTERS = ['a', 'b', 'c']

type MakeOptions = CoreOptions & Partial<Pick<CoreInit, 'id' | 'random' | 'state'>> & { voters?: NodeId[] }

function makeCore (opts: MakeOptions = {}): RaftCore {
  const { id = 'a', voters = VOTERS, random = () => 0, state, ...options } = opts
  return new RaftCore({ ...options, id, random, state: state ?? bootstrapState(voters) })
}

/** Takes the pending batch and reports it written, as a shell would. */
function flush (core: RaftCore): Ready {
  const ready = core.ready()
  core.advance(ready)
  return ready
}

function sent (ready: Ready): Message[] {
  return [...ready.messages, ...ready.messagesAfterPersist]
}

function cmd (index: number, term: number): Entry {
  return { type: 'command', index, term, data: new TextEncoder().encode(`${index}@${term}`) }
}

/** A log whose entry i+1 has term `terms[i]`; index 1 is the bootstrap configuration. */
function logOf (terms: number[], voters: NodeId[] = VOTERS): Entry[] {
  return terms.map((term, i) => i === 0
    ? { type: 'config', index: 1, term, config: { voters, learners: [] } }
    : cmd(i + 1, term))
}

function stateOf (terms: number[], term: number, commit = 1, voters: NodeId[] = VOTERS): CoreState {
  return { hardState: { term, commit }, entries: logOf(terms, voters) }
}

/** The term of every entry in the core's log, from index 1. */
function termsOf (core: RaftCore): number[] {
  return Array.from({ length: core.log.lastIndex() }, (_, i) => core.log.term(i + 1) ?? -1)
}

function append (from: NodeId, to: NodeId, term: number, prevIndex: number, prevTerm: number, entries: Entry[] = [], commit = 0): AppendRequest {
  return { type: 'append-request', from, to, term, prevIndex, prevTerm, entries, commit }
}

function appendResp (from: NodeId, to: NodeId, term: number, index: number, success = true, hintIndex = 0, hintTerm = 0): AppendResponse {
  return { type: 'append-response', from, to, term, index, success, hintIndex, hintTerm }
}

function heartbeat (from: NodeId, to: NodeId, term: number, commit = 0): HeartbeatRequest {
  return { type: 'heartbeat-request', from, to, term, commit, context: 0 }
}

function voteReq (from: NodeId, to: NodeId, term: number, lastIndex: number, lastTerm: number, preVote = false): VoteRequest {
  return { type: 'vote-request', from, to, term, lastIndex, lastTerm, preVote }
}

function voteResp (from: NodeId, to: NodeId, term: number, granted: boolean, preVote = false): VoteResponse {
  return { type: 'vote-response', from, to, term, granted, preVote }
}

/** Ticks a core until its role changes; returns the number of ticks. */
function ticksUntilCampaign (core: RaftCore, limit = 1000): number {
  const role = core.role
  for (let i = 1; i <= limit; i++) {
    core.tick()
    if (core.role !== role) {
      return i
    }
  }
  throw new Error(`${core.id} did not campaign within ${limit} ticks`)
}

/** Ticks a (preVote: false) core into a candidate and flushes its batch. */
function toCandidate (core: RaftCore): Ready {
  ticksUntilCampaign(core)
  expect(core.role).to.equal('candidate')
  return flush(core)
}

/** Makes a (preVote: false) core the leader of the next term with the votes of the other voters, and flushes. */
function toLeader (core: RaftCore): Ready {
  toCandidate(core)
  for (const id of core.config.voters) {
    if (core.role !== 'leader' && id !== core.id) {
      core.step(voteResp(id, core.id, core.term, true))
    }
  }
  expect(core.role).to.equal('leader')
  return flush(core)
}

/** A few cores wired together by a queue: every batch is written at once, then its messages go out. */
class Net {
  readonly cores = new Map<NodeId, RaftCore>()
  queue: Message[] = []
  /** Every message delivered so far */
  delivered: Message[] = []

  constructor (cores: RaftCore[]) {
    for (const core of cores) {
      this.cores.set(core.id, core)
    }
  }

  flushAll (): void {
    for (const core of this.cores.values()) {
      while (core.hasReady()) {
        this.queue.push(...sent(flush(core)).filter(m => this.cores.has(m.to)))
      }
    }
  }

  run (): void {
    this.flushAll()
    for (let i = 0; this.queue.length > 0; i++) {
      if (i > 10_000) {
        throw new Error('the network did not go quiet')
      }
      const m = this.queue.shift() as Message
      this.delivered.push(m)
      this.cores.get(m.to)?.step(m)
      this.flushAll()
    }
  }
}

/** Delivers queued cluster messages until none are left, silently losing those `drop` selects. */
function settle (cluster: Cluster, drop: (m: Message) => boolean = () => false): void {
  cluster.processAll()
  for (let i = 0; cluster.queue.length > 0; i++) {
    if (i > 100_000) {
      throw new Error('the cluster did not go quiet')
    }
    const m = cluster.queue.shift() as Message
    if (!drop(m)) {
      cluster.deliver(m)
    }
  }
}

describe('core: Raft paper §5', () => {
  describe('§5.1 terms', () => {
    it('a follower adopts a higher term from any message, learning the leader only from a leader', () => {
      const core = makeCore({ checkQuorum: false, preVote: false })
      core.step(heartbeat('b', 'a', 3))
      expect(core.term).to.equal(3)
      expect(core.role).to.equal('follower')
      expect(core.leader).to.equal('b')

      core.step(voteReq('c', 'a', 5, 1, 1))
      expect(core.term).to.equal(5)
      expect(core.role).to.equal('follower')
      expect(core.leader).to.equal(undefined)
      expect(core.vote).to.equal('c')
      expect(flush(core).hardState).to.include({ term: 5, vote: 'c' })
    })

    it('a candidate steps down to follower on any message with a higher term', () => {
      const messages: Array<{ m: Message, leader: NodeId | undefined }> = [
        { m: append('b', 'a', 4, 1, 1), leader: 'b' },
        { m: heartbeat('b', 'a', 4), leader: 'b' },
        { m: voteReq('b', 'a', 4, 1, 1), leader: undefined },
        { m: voteResp('b', 'a', 4, false), leader: undefined },
        { m: appendResp('b', 'a', 4, 1), leader: undefined }
      ]
      for (const { m, leader } of messages) {
        const core = makeCore({ preVote: false })
        toCandidate(core)
        expect(core.term).to.equal(2)
        core.step(m)
        expect(core.role, m.type).to.equal('follower')
        expect(core.term, m.type).to.equal(4)
        expect(core.leader, m.type).to.equal(leader)
        expect(flush(core).hardState?.term, m.type).to.equal(4)
      }
    })

    it('a pre-candidate steps down to follower on a higher-term message that is not a granted pre-vote', () => {
      const messages: Message[] = [
        heartbeat('b', 'a', 3),
        append('b', 'a', 3, 1, 1),
        voteResp('b', 'a', 3, false, true),
        voteReq('b', 'a', 3, 1, 1)
      ]
      for (const m of messages) {
        const core = makeCore()
        ticksUntilCampaign(core)
        expect(core.role).to.equal('pre-candidate')
        expect(core.term).to.equal(1)
        core.step(m)
        expect(core.role, m.type).to.equal('follower')
        expect(core.term, m.type).to.equal(3)
      }
    })

    it('a leader steps down to follower on any message with a higher term', () => {
      const messages: Array<{ m: Message, leader: NodeId | undefined }> = [
        { m: heartbeat('b', 'a', 5), leader: 'b' },
        { m: append('b', 'a', 5, 1, 1), leader: 'b' },
        { m: { type: 'heartbeat-response', from: 'b', to: 'a', term: 5, context: 0 }, leader: undefined },
        { m: appendResp('b', 'a', 5, 1, false, 1, 1), leader: undefined },
        { m: voteReq('b', 'a', 5, 9, 9), leader: undefined },
        { m: voteResp('b', 'a', 5, false), leader: undefined }
      ]
      for (const { m, leader } of messages) {
        // checkQuorum off: otherwise a leader in its lease ignores vote requests
        const core = makeCore({ preVote: false, checkQuorum: false })
        toLeader(core)
        core.step(m)
        expect(core.role, m.type).to.equal('follower')
        expect(core.term, m.type).to.equal(5)
        expect(core.leader, m.type).to.equal(leader)
        expect(() => core.propose(new Uint8Array([1])), m.type).to.throw().with.property('name', 'NotLeaderError')
      }
    })

    it('a follower ignores messages with a stale term and tells a stale leader the current term', () => {
      const core = makeCore({ id: 'b', state: stateOf([1, 2, 2], 3) })
      core.step(heartbeat('a', 'b', 3, 1))
      flush(core)

      // an old leader of term 2 tries to append and to advance the commit index
      core.step(append('c', 'b', 2, 3, 2, [cmd(4, 2)], 4))
      core.step(heartbeat('c', 'b', 2, 4))
      // an old candidate asks for a vote, and an old pre-candidate for a pre-vote
      core.step(voteReq('c', 'b', 2, 10, 2))
      core.step(voteReq('c', 'b', 2, 10, 2, true))
      const ready = flush(core)
      expect(termsOf(core)).to.deep.equal([1, 2, 2])
      expect(core.commitIndex).to.equal(1)
      expect(core.term).to.equal(3)
      expect(core.vote).to.equal(undefined)
      expect(core.leader).to.equal('a')
      expect(ready.entries).to.deep.equal([])
      expect(ready.hardState).to.equal(undefined)
      expect(sent(ready)).to.deep.equal([
        { type: 'heartbeat-response', from: 'b', to: 'c', term: 3, context: 0 },
        { type: 'heartbeat-response', from: 'b', to: 'c', term: 3, context: 0 },
        voteResp('b', 'c', 3, false, true)
      ])
    })

    it('a candidate ignores stale vote responses and a leader ignores stale acknowledgements', () => {
      const candidate = makeCore({ preVote: false, state: stateOf([1], 2) })
      toCandidate(candidate)
      expect(candidate.term).to.equal(3)
      candidate.step(voteResp('b', 'a', 2, true))
      expect(candidate.role).to.equal('candidate')
      candidate.step(voteResp('b', 'a', 3, true))
      expect(candidate.role).to.equal('leader')
      flush(candidate)

      // the noop of term 3 is at index 2; an ack of index 2 from term 2 proves nothing
      candidate.step(appendResp('b', 'a', 2, 2))
      expect(candidate.commitIndex).to.equal(1)
      expect(candidate.progressOf('b')?.match).to.equal(0)
      candidate.step(appendResp('b', 'a', 3, 2))
      expect(candidate.commitIndex).to.equal(2)
    })

    it('a deposed leader that comes back is told the newer term and steps down', () => {
      // checkQuorum off, so the cut-off leader does not step down by itself
      const cluster = new Cluster({ size: 3, seed: 11, checkQuorum: false })
      cluster.campaign('n1')
      const oldTerm = cluster.core('n1').term
      cluster.isolate('n1')
      for (let i = 0; i < 200 && !['n2', 'n3'].includes(cluster.leader() ?? ''); i++) {
        cluster.tickAll()
      }
      const newLeader = cluster.leader() as string
      expect(newLeader).to.be.oneOf(['n2', 'n3'])
      expect(cluster.core(newLeader).term).to.be.greaterThan(oldTerm)
      expect(cluster.core('n1').role).to.equal('leader')
      expect(cluster.core('n1').term).to.equal(oldTerm)

      cluster.heal()
      cluster.tick('n1')
      cluster.stabilize()
      expect(cluster.core('n1').role).to.equal('follower')
      expect(cluster.core('n1').term).to.equal(cluster.core(newLeader).term)
    })
  })

  describe('§5.2 leader election', () => {
    it('a node starts as a follower and stays one while it hears from a leader', () => {
      const core = makeCore({ preVote: false })
      expect(core.role).to.equal('follower')
      expect(core.term).to.equal(1)
      expect(core.leader).to.equal(undefined)
      for (let i = 0; i < 100; i++) {
        core.tick()
        if (i % 5 === 0) {
          core.step(heartbeat('b', 'a', 1))
        }
      }
      expect(core.role).to.equal('follower')
      expect(core.term).to.equal(1)
    })

    it('a follower that hears nothing starts an election when its timeout elapses', () => {
      const core = makeCore({ preVote: false })
      flush(core)
      for (let i = 1; i < 10; i++) {
        core.tick()
        expect(core.role, `tick ${i}`).to.equal('follower')
        expect(core.hasReady(), `tick ${i}`).to.equal(false)
      }
      core.tick()
      expect(core.role).to.equal('candidate')
      expect(core.term).to.equal(2)
    })

    it('with pre-vote, a timed-out follower first asks for term + 1 without changing its term or vote', () => {
      const core = makeCore()
      flush(core)
      expect(ticksUntilCampaign(core)).to.equal(10)
      expect(core.role).to.equal('pre-candidate')
      expect(core.term).to.equal(1)
      expect(core.vote).to.equal(undefined)
      const ready = flush(core)
      expect(ready.hardState).to.equal(undefined)
      expect(ready.messages).to.deep.equal([])
      expect(ready.messagesAfterPersist).to.deep.equal([
        voteReq('a', 'b', 2, 1, 1, true),
        voteReq('a', 'c', 2, 1, 1, true)
      ])

      // winning the pre-vote starts the real election
      core.step(voteResp('b', 'a', 2, true, true))
      expect(core.role).to.equal('candidate')
      expect(core.term).to.equal(2)
      expect(core.vote).to.equal('a')
      const real = flush(core)
      expect(real.hardState).to.include({ term: 2, vote: 'a' })
      expect(real.messages).to.deep.equal([])
      expect(real.messagesAfterPersist).to.deep.equal([
        voteReq('a', 'b', 2, 1, 1),
        voteReq('a', 'c', 2, 1, 1)
      ])
    })

    it('the election timeout is drawn from [electionTicks, 2 × electionTicks)', () => {
      for (const [random, expected] of [[0, 10], [0.05, 10], [0.1, 11], [0.55, 15], [0.999999, 19]]) {
        const core = makeCore({ preVote: false, random: () => random })
        expect(ticksUntilCampaign(core), `random ${random}`).to.equal(expected)
      }
      const seen = new Set<number>()
      for (let seed = 1; seed <= 64; seed++) {
        const rng = new Rng(seed)
        for (const electionTicks of [5, 10]) {
          const core = makeCore({ preVote: false, electionTicks, random: () => rng.next() })
          const ticks = ticksUntilCampaign(core)
          expect(ticks, `seed ${seed}`).to.be.at.least(electionTicks).and.below(2 * electionTicks)
          if (electionTicks === 10) {
            seen.add(ticks)
          }
        }
      }
      // it really is randomized: most of the ten possible values turn up
      expect(seen.size).to.be.at.least(8)
    })

    it('a candidate that neither wins nor loses starts a new election after a fresh randomized timeout', () => {
      const seen = new Set<number>()
      for (let seed = 1; seed <= 32; seed++) {
        const rng = new Rng(seed)
        const core = makeCore({ preVote: false, voters: ['a', 'b', 'c', 'd', 'e'], random: () => rng.next() })
        toCandidate(core)
        core.step(voteResp('b', 'a', 2, true))
        core.step(voteResp('c', 'a', 2, false))
        expect(core.role).to.equal('candidate')
        // the role stays 'candidate', so count the ticks until the term moves on
        let ticks = 0
        while (core.term === 2 && ticks < 100) {
          core.tick()
          ticks++
        }
        expect(core.term).to.equal(3)
        expect(core.role).to.equal('candidate')
        seen.add(ticks)
        expect(ticks).to.be.at.least(10).and.below(20)
      }
      expect(seen.size).to.be.at.least(5)
    })

    it('a candidate votes for itself, increments its term and persists both before asking for votes', () => {
      const core = makeCore({ preVote: false })
      flush(core)
      ticksUntilCampaign(core)
      expect(core.term).to.equal(2)
      expect(core.vote).to.equal('a')
      const ready = core.ready()
      expect(ready.hardState).to.deep.equal({ term: 2, vote: 'a', commit: 0 })
      expect(ready.messages).to.deep.equal([])
      expect(ready.messagesAfterPersist).to.deep.equal([
        voteReq('a', 'b', 2, 1, 1),
        voteReq('a', 'c', 2, 1, 1)
      ])
    })

    it('a candidate wins with a majority, loses on a majority of rejections and stays candidate otherwise', () => {
      const cases: Array<{ size: number, votes: Array<[NodeId, boolean]>, role: string }> = [
        { size: 1, votes: [], role: 'leader' },
        { size: 3, votes: [['b', true]], role: 'leader' },
        { size: 3, votes: [['b', false]], role: 'candidate' },
        { size: 3, votes: [['b', false], ['c', false]], role: 'follower' },
        { size: 4, votes: [['b', true]], role: 'candidate' },
        { size: 4, votes: [['b', true], ['c', true]], role: 'leader' },
        { size: 4, votes: [['b', false], ['c', false]], role: 'follower' },
        { size: 5, votes: [], role: 'candidate' },
        { size: 5, votes: [['b', true]], role: 'candidate' },
        { size: 5, votes: [['b', true], ['c', true]], role: 'leader' },
        { size: 5, votes: [['b', false], ['c', false]], role: 'candidate' },
        { size: 5, votes: [['b', false], ['c', false], ['d', false]], role: 'follower' },
        { size: 5, votes: [['b', true], ['c', false], ['d', false], ['e', true]], role: 'leader' },
        // a repeated grant from the same voter counts once
        { size: 5, votes: [['b', true], ['b', true]], role: 'candidate' }
      ]
      for (const { size, votes, role } of cases) {
        const voters = ['a', 'b', 'c', 'd', 'e'].slice(0, size)
        const core = makeCore({ preVote: false, voters })
        ticksUntilCampaign(core)
        for (const [from, granted] of votes) {
          core.step(voteResp(from, 'a', 2, granted))
        }
        const label = `${size} voters, ${JSON.stringify(votes)}`
        expect(core.role, label).to.equal(role)
        expect(core.term, label).to.equal(2)
        expect(core.leader, label).to.equal(role === 'leader' ? 'a' : undefined)
      }
    })

    it('a candidate steps down when a leader of its own term contacts it', () => {
      for (const m of [append('b', 'a', 2, 1, 1), heartbeat('b', 'a', 2)]) {
        const core = makeCore({ preVote: false })
        toCandidate(core)
        core.step(m)
        expect(core.role, m.type).to.equal('follower')
        expect(core.term, m.type).to.equal(2)
        expect(core.leader, m.type).to.equal('b')
        // stepping down does not take back its own vote of this term
        expect(core.vote, m.type).to.equal('a')
        expect(sent(flush(core)).map(r => r.type), m.type).to.deep.equal([m.type === 'append-request' ? 'append-response' : 'heartbeat-response'])
      }
    })

    it('a node grants at most one vote per term, first come first served, and persists it before answering', () => {
      const core = makeCore({ preVote: false })
      flush(core)
      core.step(voteReq('b', 'a', 2, 1, 1))
      expect(core.term).to.equal(2)
      expect(core.vote).to.equal('b')
      const first = core.ready()
      expect(first.hardState).to.deep.equal({ term: 2, vote: 'b', commit: 0 })
      expect(first.messages).to.deep.equal([])
      expect(first.messagesAfterPersist).to.deep.equal([voteResp('a', 'b', 2, true)])
      core.advance(first)

      core.step(voteReq('c', 'a', 2, 5, 1))
      expect(sent(flush(core))).to.deep.equal([voteResp('a', 'c', 2, false)])
      expect(core.vote).to.equal('b')

      // a retried request from the same candidate is granted again
      core.step(voteReq('b', 'a', 2, 1, 1))
      expect(sent(flush(core))).to.deep.equal([voteResp('a', 'b', 2, true)])

      // a new term brings a new vote
      core.step(voteReq('c', 'a', 3, 1, 1))
      expect(core.vote).to.equal('c')
      expect(sent(flush(core))).to.deep.equal([voteResp('a', 'c', 3, true)])
    })

    it('a candidate votes for no one but itself in its term', () => {
      const core = makeCore({ preVote: false })
      toCandidate(core)
      core.step(voteReq('b', 'a', 2, 5, 2))
      expect(sent(flush(core))).to.deep.equal([voteResp('a', 'b', 2, false)])
      expect(core.vote).to.equal('a')
      expect(core.role).to.equal('candidate')
    })

    it('a new leader appends a no-op of its term and sends it to every follower', () => {
      const core = makeCore({ preVote: false, voters: ['a', 'b', 'c', 'd'] })
      toCandidate(core)
      core.step(voteResp('b', 'a', 2, true))
      core.step(voteResp('c', 'a', 2, true))
      expect(core.role).to.equal('leader')
      expect(core.leader).to.equal('a')
      const ready = flush(core)
      const noop: Entry = { type: 'noop', index: 2, term: 2 }
      expect(ready.entries).to.deep.equal([noop])
      // replication traffic may leave before the leader's own write
      expect(ready.messagesAfterPersist).to.deep.equal([])
      expect(ready.messages).to.deep.equal(['b', 'c', 'd'].map(to => append('a', to, 2, 1, 1, [noop], 0)))
    })

    it('a leader sends heartbeats to every follower once per heartbeatTicks', () => {
      for (const heartbeatTicks of [1, 3]) {
        const core = makeCore({ preVote: false, checkQuorum: false, heartbeatTicks })
        toLeader(core)
        for (let tick = 1; tick <= 9; tick++) {
          core.tick()
          const ready = flush(core)
          const expected = tick % heartbeatTicks === 0 ? ['b', 'c'].map(to => heartbeat('a', to, 2, 0)) : []
          // Each broadcast carries the next sequence number (for reads and the lease); compare the rest.
          const withoutContext = ready.messages.map(m => ({ ...m, context: 0 }))
          expect(withoutContext, `heartbeatTicks ${heartbeatTicks}, tick ${tick}`).to.deep.equal(expected)
        }
      }
    })

    it('a node refuses a candidate whose log is less up to date, by last term first and then by last index', () => {
      // the voter's log ends at index 3 with term 2
      const cases: Array<{ lastIndex: number, lastTerm: number, granted: boolean }> = [
        { lastIndex: 3, lastTerm: 2, granted: true }, // equal
        { lastIndex: 4, lastTerm: 2, granted: true }, // same term, longer
        { lastIndex: 2, lastTerm: 2, granted: false }, // same term, shorter
        { lastIndex: 2, lastTerm: 3, granted: true }, // newer term, shorter
        { lastIndex: 1, lastTerm: 3, granted: true },
        { lastIndex: 3, lastTerm: 1, granted: false }, // older term, same length
        { lastIndex: 9, lastTerm: 1, granted: false } // older term, longer
      ]
      for (const { lastIndex, lastTerm, granted } of cases) {
        const core = makeCore({ preVote: false, state: stateOf([1, 2, 2], 2) })
        core.step(voteReq('b', 'a', 3, lastIndex, lastTerm))
        const label = `candidate at ${lastIndex}@${lastTerm}`
        expect(sent(flush(core)), label).to.deep.equal([voteResp('a', 'b', 3, granted)])
        expect(core.vote, label).to.equal(granted ? 'b' : undefined)
        expect(core.term, label).to.equal(3)
      }
    })

    it('a pre-vote applies the same up-to-date check and changes neither the term nor the vote', () => {
      const cases: Array<{ lastIndex: number, lastTerm: number, granted: boolean }> = [
        { lastIndex: 3, lastTerm: 2, granted: true },
        { lastIndex: 2, lastTerm: 3, granted: true },
        { lastIndex: 2, lastTerm: 2, granted: false },
        { lastIndex: 9, lastTerm: 1, granted: false }
      ]
      for (const { lastIndex, lastTerm, granted } of cases) {
        const core = makeCore({ state: stateOf([1, 2, 2], 2) })
        flush(core)
        core.step(voteReq('b', 'a', 3, lastIndex, lastTerm, true))
        const label = `pre-candidate at ${lastIndex}@${lastTerm}`
        const ready = flush(core)
        // a grant carries the asked-for term; a refusal the voter's own
        expect(sent(ready), label).to.deep.equal([voteResp('a', 'b', granted ? 3 : 2, granted, true)])
        expect(ready.hardState, label).to.equal(undefined)
        expect(core.term, label).to.equal(2)
        expect(core.vote, label).to.equal(undefined)
      }
    })
  })

  describe('§5.3 log replication', () => {
    it('a leader commits an entry once a majority has stored it, and tells the followers', () => {
      const core = makeCore({ preVote: false, voters: ['a', 'b', 'c', 'd', 'e'] })
      toLeader(core)
      core.step(appendResp('b', 'a', 2, 2))
      expect(core.commitIndex).to.equal(0)
      core.step(appendResp('c', 'a', 2, 2))
      expect(core.commitIndex).to.equal(2)
      flush(core)

      expect(core.propose(new TextEncoder().encode('x'))).to.deep.equal({ index: 3, term: 2 })
      flush(core)
      core.step(appendResp('b', 'a', 2, 3))
      expect(core.commitIndex, 'leader and b').to.equal(2)
      core.step(appendResp('d', 'a', 2, 3))
      expect(core.commitIndex, 'leader, b and d').to.equal(3)
      const ready = flush(core)
      expect(ready.hardState?.commit).to.equal(3)
      expect(ready.committed.map(e => e.index)).to.deep.equal([3])
      // the new commit index goes out at once to the followers in step
      const commits = ready.messages.filter(m => m.type === 'append-request').map(m => [m.to, (m as AppendRequest).commit])
      expect(commits).to.deep.include.members([['b', 3], ['c', 3], ['d', 3]])
    })

    it('a follower learns the commit index from appends and heartbeats, never beyond what it verified, and applies in order', () => {
      const core = makeCore({ id: 'b' })
      flush(core)
      core.step(append('a', 'b', 2, 1, 1, [{ type: 'noop', index: 2, term: 2 }, cmd(3, 2)], 2))
      expect(core.commitIndex).to.equal(2)
      let ready = flush(core)
      expect(ready.entries.map(e => e.index)).to.deep.equal([2, 3])
      expect(ready.committed.map(e => e.index)).to.deep.equal([1, 2])
      expect(ready.hardState?.commit).to.equal(2)

      core.step(heartbeat('a', 'b', 2, 3))
      expect(core.commitIndex).to.equal(3)
      ready = flush(core)
      expect(ready.committed.map(e => e.index)).to.deep.equal([3])

      // an append verifying only up to index 4 cannot commit index 5, which the follower holds unverified
      const other = makeCore({ id: 'b', state: stateOf([1, 1, 1, 1, 1], 1) })
      other.step(append('a', 'b', 2, 3, 1, [cmd(4, 1)], 5))
      expect(other.commitIndex).to.equal(4)
    })

    it('every node applies a committed entry (cluster)', () => {
      const cluster = new Cluster({ size: 5, seed: 3 })
      cluster.campaign('n1')
      const { index } = cluster.propose('n1', 'set x')
      cluster.stabilize()
      // the followers learn the final commit index with the next heartbeat
      cluster.tick('n1')
      cluster.stabilize()
      for (const id of cluster.ids()) {
        expect(cluster.core(id).commitIndex, id).to.equal(index)
        expect(cluster.node(id).applied.map(describeEntry), id).to.have.lengthOf(index)
        expect(describeEntry(cluster.node(id).applied[index - 1]), id).to.equal(`${index}@2:command(set x)`)
      }
    })

    it('a follower rejects an append whose previous entry does not match, with a hint to where the logs may agree', () => {
      // the follower's log ends at index 3 with term 2
      // each request carries one entry of term 4 after prev
      const cases: Array<{ prevIndex: number, prevTerm: number, success: boolean, index: number, hintIndex: number, hintTerm: number }> = [
        { prevIndex: 3, prevTerm: 2, success: true, index: 4, hintIndex: 0, hintTerm: 0 },
        // (its entry 3@4 replaces the follower's 3@2)
        { prevIndex: 2, prevTerm: 2, success: true, index: 3, hintIndex: 0, hintTerm: 0 },
        // a leader with a newer entry at 3: everything up to the follower's 3@2 may agree
        { prevIndex: 3, prevTerm: 3, success: false, index: 3, hintIndex: 3, hintTerm: 2 },
        // the follower's log is too short: the hint says where it ends
        { prevIndex: 6, prevTerm: 3, success: false, index: 6, hintIndex: 3, hintTerm: 2 },
        { prevIndex: 4, prevTerm: 2, success: false, index: 4, hintIndex: 3, hintTerm: 2 },
        // a leader with an older entry at 3: the follower's whole term 2 is skipped
        { prevIndex: 3, prevTerm: 1, success: false, index: 3, hintIndex: 1, hintTerm: 1 }
      ]
      for (const { prevIndex, prevTerm, ...response } of cases) {
        const core = makeCore({ id: 'b', state: stateOf([1, 2, 2], 2) })
        core.step(append('a', 'b', 4, prevIndex, prevTerm, [cmd(prevIndex + 1, 4)]))
        const ready = flush(core)
        const label = `prev ${prevIndex}@${prevTerm}`
        expect(sent(ready), label).to.deep.equal([appendResp('b', 'a', 4, response.index, response.success, response.hintIndex, response.hintTerm)])
        if (!response.success) {
          expect(termsOf(core), label).to.deep.equal([1, 2, 2])
          expect(ready.entries, label).to.deep.equal([])
        }
      }
    })

    it('a follower truncates its log at the first conflicting entry and appends the rest', () => {
      // the follower's log: 1@1 2@2 3@2 4@2
      const cases: Array<{ prevIndex: number, prevTerm: number, entries: Entry[], terms: number[], written: number[] }> = [
        { prevIndex: 2, prevTerm: 2, entries: [cmd(3, 3)], terms: [1, 2, 3], written: [3] },
        { prevIndex: 1, prevTerm: 1, entries: [cmd(2, 3), cmd(3, 3)], terms: [1, 3, 3], written: [2, 3] },
        { prevIndex: 2, prevTerm: 2, entries: [cmd(3, 2), cmd(4, 3)], terms: [1, 2, 2, 3], written: [4] },
        { prevIndex: 4, prevTerm: 2, entries: [cmd(5, 3)], terms: [1, 2, 2, 2, 3], written: [5] },
        { prevIndex: 1, prevTerm: 1, entries: [cmd(2, 2), cmd(3, 2), cmd(4, 2), cmd(5, 3)], terms: [1, 2, 2, 2, 3], written: [5] }
      ]
      for (const { prevIndex, prevTerm, entries, terms, written } of cases) {
        const core = makeCore({ id: 'b', state: stateOf([1, 2, 2, 2], 2) })
        core.step(append('a', 'b', 3, prevIndex, prevTerm, entries))
        const label = `prev ${prevIndex}@${prevTerm} + ${entries.map(describeEntry).join(' ')}`
        expect(termsOf(core), label).to.deep.equal(terms)
        const ready = flush(core)
        // the shell rewrites the log from the first written entry on
        expect(ready.entries.map(e => e.index), label).to.deep.equal(written)
        expect(sent(ready), label).to.deep.equal([appendResp('b', 'a', 3, prevIndex + entries.length)])
      }
    })

    it('a stale or duplicated append never truncates matching entries', () => {
      const core = makeCore({ id: 'b', state: stateOf([1, 2, 2, 2], 2) })
      core.step(heartbeat('a', 'b', 2))
      flush(core)
      const requests = [
        append('a', 'b', 2, 1, 1, [cmd(2, 2)], 1),
        append('a', 'b', 2, 2, 2, [], 1),
        append('a', 'b', 2, 1, 1, [cmd(2, 2), cmd(3, 2)], 1),
        append('a', 'b', 2, 3, 2, [cmd(4, 2)], 1)
      ]
      for (const m of requests) {
        core.step(m)
        const ready = flush(core)
        expect(termsOf(core)).to.deep.equal([1, 2, 2, 2])
        expect(ready.entries).to.deep.equal([])
        expect(sent(ready)).to.deep.equal([appendResp('b', 'a', 2, m.prevIndex + m.entries.length)])
      }
    })

    it('a leader never overwrites or deletes entries in its own log', () => {
      const core = makeCore({ preVote: false, checkQuorum: false, state: stateOf([1, 1, 2], 2) })
      toLeader(core)
      core.propose(new Uint8Array([1]))
      core.propose(new Uint8Array([2]))
      flush(core)
      const before = termsOf(core)
      expect(before).to.deep.equal([1, 1, 2, 3, 3, 3])

      const attacks: Message[] = [
        // an old leader's append
        append('b', 'a', 2, 1, 1, [cmd(2, 2)], 2),
        // a rejection suggesting the follower's log is very different
        appendResp('b', 'a', 3, 6, false, 1, 1),
        // even a (bogus) append of its own term from someone else
        append('c', 'a', 3, 2, 1, [cmd(3, 3)], 3),
        heartbeat('c', 'a', 3, 3)
      ]
      for (const m of attacks) {
        core.step(m)
        const ready = flush(core)
        expect(core.role, m.type).to.equal('leader')
        expect(termsOf(core), m.type).to.deep.equal(before)
        expect(ready.entries, m.type).to.deep.equal([])
      }
    })

    it('a leader brings divergent follower logs into agreement with its own (Figure 7)', () => {
      const leaderTerms = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6]
      const followers: Record<string, number[]> = {
        'missing one entry': [1, 1, 1, 4, 4, 5, 5, 6, 6],
        'missing many entries': [1, 1, 1, 4],
        'one extra entry': [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
        'extra entries of a later term': [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
        'conflicting suffix of an old term': [1, 1, 1, 4, 4, 4, 4],
        'long conflicting suffix': [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
        'only the bootstrap entry': [1],
        identical: leaderTerms
      }
      for (const [label, terms] of Object.entries(followers)) {
        const leader = makeCore({ preVote: false, state: stateOf(leaderTerms, 7) })
        const follower = makeCore({ id: 'b', state: stateOf(terms, Math.max(...terms)) })
        // 'c' grants the vote and is then unreachable
        toCandidate(leader)
        leader.step(voteResp('c', 'a', 8, true))
        expect(leader.role, label).to.equal('leader')
        const net = new Net([leader, follower])
        net.run()
        expect(termsOf(leader), label).to.deep.equal([...leaderTerms, 8])
        expect(termsOf(follower), label).to.deep.equal(termsOf(leader))
        for (let i = 1; i <= leader.log.lastIndex(); i++) {
          expect(follower.log.entry(i), `${label}: entry ${i}`).to.deep.equal(leader.log.entry(i))
        }
        expect(leader.commitIndex, label).to.equal(11)
        expect(follower.term, label).to.equal(8)
        expect(follower.leader, label).to.equal('a')
        // the follower's hint lets the leader skip each divergent stretch in one round trip
        const rejections = net.delivered.filter(m => m.type === 'append-response' && !m.success)
        expect(rejections, label).to.have.length.at.most(1)
      }
    })
  })

  describe('§5.4 safety', () => {
    it('a leader commits an entry of an earlier term only by committing one of its own', () => {
      // 2@2 was written under the previous leader and is not known to be committed
      const core = makeCore({ preVote: false, state: stateOf([1, 2], 2) })
      toLeader(core)
      expect(termsOf(core)).to.deep.equal([1, 2, 3])
      // b holds 2@2 but not yet 3@3: 2@2 is on a majority (a and b), yet must not be committed by counting
      core.step(appendResp('b', 'a', 3, 2))
      expect(core.progressOf('b')?.match).to.equal(2)
      expect(core.commitIndex).to.equal(1)
      expect(flush(core).committed).to.deep.equal([])

      core.step(appendResp('b', 'a', 3, 3))
      expect(core.commitIndex).to.equal(3)
      expect(flush(core).committed.map(e => `${e.index}@${e.term}`)).to.deep.equal(['2@2', '3@3'])
    })

    describe('Figure 8: an entry of an old term on a majority is not committed by counting replicas', () => {
      /**
       * Plays the paper's Figure 8 up to (c) on five nodes: S1 leads term 2 and
       * writes 3@2 on S2 only; S5 leads term 3 and writes 3@3 on itself only;
       * S1 leads term 4, copies 3@2 to S3 and S4, while its own 4@4 reaches no one.
       */
      function figure8 (): Cluster {
        const cluster = new Cluster({ size: 5, seed: 8, preVote: false, checkQuorum: false, maxEntriesPerAppend: 1 })
        const core = (id: NodeId): RaftCore => cluster.core(id)

        // (a)
        cluster.campaign('n1')
        expect(core('n1').term).to.equal(2)
        expect(core('n1').commitIndex).to.equal(2)
        cluster.partition(['n1', 'n2'], ['n3', 'n4', 'n5'])
        expect(cluster.propose('n1', 'x')).to.deep.equal({ index: 3, term: 2 })
        cluster.stabilize()
        expect(core('n2').log.term(3)).to.equal(2)
        expect(core('n1').commitIndex).to.equal(2)

        // (b)
        cluster.crash('n1')
        while (core('n5').role === 'follower') {
          cluster.tick('n5')
        }
        // once S5 has won, everything still in flight is lost
        settle(cluster, () => core('n5').role === 'leader')
        expect(core('n5').role).to.equal('leader')
        expect(core('n5').term).to.equal(3)
        cluster.crash('n5')
        cluster.queue = []
        expect(cluster.node('n5').disk.entries.map(e => `${e.index}@${e.term}`)).to.deep.equal(['1@1', '2@2', '3@3'])
        for (const id of ['n2', 'n3', 'n4']) {
          expect(core(id).log.term(3), id).to.not.equal(3)
        }

        // (c)
        cluster.heal()
        cluster.restart('n1')
        const withholdTerm4 = (m: Message): boolean =>
          m.type === 'append-request' && m.entries.some(e => e.term === 4) && cluster.core(m.to).log.term(3) === 2
        for (let i = 0; i < 200 && core('n1').role !== 'leader'; i++) {
          cluster.tick('n1')
          settle(cluster, withholdTerm4)
        }
        expect(core('n1').role).to.equal('leader')
        expect(core('n1').term).to.equal(4)
        expect(termsOf(core('n1'))).to.deep.equal([1, 2, 2, 4])
        for (const id of ['n2', 'n3', 'n4']) {
          expect(termsOf(core(id)), id).to.deep.equal([1, 2, 2])
        }
        return cluster
      }

      it('a term-4 leader knowing 3@2 is on a majority does not commit it, and S5 may then overwrite it', () => {
        const cluster = figure8()
        const s1 = cluster.core('n1')
        // S1 knows S3 and S4 hold 3@2; with its own copy that is three of five
        expect(s1.progressOf('n3')?.match).to.equal(3)
        expect(s1.progressOf('n4')?.match).to.equal(3)
        expect(s1.commitIndex).to.equal(2)
        expect(cluster.safety.committed.map(e => `${e.index}@${e.term}`)).to.deep.equal(['1@1', '2@2'])

        // (d) S1 crashes; S5 wins with S2, S3 and S4 (its last term 3 beats their 2) and overwrites index 3
        cluster.crash('n1')
        cluster.restart('n5')
        for (let i = 0; i < 10 && cluster.core('n5').role !== 'leader'; i++) {
          cluster.campaign('n5')
        }
        expect(cluster.core('n5').role).to.equal('leader')
        expect(cluster.core('n5').term).to.equal(5)
        cluster.tick('n5')
        cluster.stabilize()
        for (const id of ['n2', 'n3', 'n4', 'n5']) {
          expect(termsOf(cluster.core(id)), id).to.deep.equal([1, 2, 3, 5])
          expect(cluster.core(id).commitIndex, id).to.equal(4)
        }
        expect(cluster.safety.committed.map(e => `${e.index}@${e.term}`)).to.deep.equal(['1@1', '2@2', '3@3', '4@5'])
      })

      it('once the term-4 leader commits its own entry, the term-2 entry is committed with it and can no longer be lost', () => {
        const cluster = figure8()
        cluster.tick('n1')
        cluster.stabilize()
        const s1 = cluster.core('n1')
        expect(s1.commitIndex).to.equal(4)
        expect(cluster.safety.committed.map(describeEntry).slice(2)).to.deep.equal(['3@2:command(x)', '4@4:noop'])
        for (const id of ['n2', 'n3', 'n4']) {
          expect(termsOf(cluster.core(id)), id).to.deep.equal([1, 2, 2, 4])
        }

        // S5 (last entry 3@3) can no longer win an election
        cluster.restart('n5')
        for (let i = 0; i < 3; i++) {
          cluster.campaign('n5')
          expect(cluster.core('n5').role).to.not.equal('leader')
        }
        expect(cluster.core('n5').log.term(3)).to.equal(3)
      })
    })
  })

  describe('persistence before promises', () => {
    it('a follower acknowledges entries only after they are persisted', () => {
      const core = makeCore({ id: 'b' })
      core.step(heartbeat('a', 'b', 1))
      flush(core)
      core.step(append('a', 'b', 1, 1, 1, [cmd(2, 1)], 1))
      const ready = core.ready()
      expect(ready.entries.map(e => e.index)).to.deep.equal([2])
      expect(ready.messages).to.deep.equal([])
      expect(ready.messagesAfterPersist).to.deep.equal([appendResp('b', 'a', 1, 2)])
    })

    it('when a batch changes the term or vote, every message in it waits for the write, even a leader\'s appends', () => {
      const core = makeCore()
      ticksUntilCampaign(core)
      flush(core)
      // the pre-vote is won and then the election, all before the new term and vote are handed out
      core.step(voteResp('b', 'a', 2, true, true))
      core.step(voteResp('b', 'a', 2, true))
      expect(core.role).to.equal('leader')
      const ready = core.ready()
      expect(ready.hardState).to.include({ term: 2, vote: 'a' })
      expect(ready.messages).to.deep.equal([])
      expect(ready.messagesAfterPersist.filter(m => m.type === 'append-request').map(m => m.to)).to.deep.equal(['b', 'c'])
    })

    it('a leader does not count itself toward a commit before its own write is durable', () => {
      const core = makeCore({ preVote: false })
      toLeader(core)
      core.step(appendResp('b', 'a', 2, 2))
      core.step(appendResp('c', 'a', 2, 2))
      expect(core.commitIndex).to.equal(2)
      flush(core)

      core.propose(new Uint8Array([7]))
      const unwritten = core.ready()
      expect(unwritten.entries.map(e => e.index)).to.deep.equal([3])
      // the appends may leave before the write
      expect(unwritten.messages.map(m => m.type)).to.deep.equal(['append-request', 'append-request'])
      core.step(appendResp('b', 'a', 2, 3))
      expect(core.commitIndex, 'only b has written 3').to.equal(2)
      core.advance(unwritten)
      expect(core.commitIndex, 'a and b have written 3').to.equal(3)
    })
  })
})
