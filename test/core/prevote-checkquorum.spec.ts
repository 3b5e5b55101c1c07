/**
 * Pre-vote and check-quorum (Raft thesis §9.6 and §6.2): nodes that were cut
 * off must not disturb a healthy leader, and a leader that lost its quorum
 * must give way.
 */
import { expect } from 'aegir/chai'
import { RaftCore, bootstrapState } from '../../src/core/index.ts'
import { Cluster } from '../utils/cluster.ts'
import type { CoreInit, CoreOptions, Message, NodeId, Ready, VoteRequest, VoteResponse } from '../../src/core/index.ts'

type MakeOptions = CoreOptions & Partial<Pick<CoreInit, 'id' | 'random'>>

function makeCore (opts: MakeOptions = {}): RaftCore {
  const { id = 'a', random = () => 0, ...options } = opts
  return new RaftCore({ ...options, id, random, state: bootstrapState(['a', 'b', 'c']) })
}

function flush (core: RaftCore): Ready {
  const ready = core.ready()
  core.advance(ready)
  return ready
}

function sent (ready: Ready): Message[] {
  return [...ready.messages, ...ready.messagesAfterPersist]
}

function voteReq (from: NodeId, to: NodeId, term: number, preVote: boolean): VoteRequest {
  return { type: 'vote-request', from, to, term, lastIndex: 1, lastTerm: 1, preVote }
}

function voteResp (from: NodeId, to: NodeId, term: number, granted: boolean, preVote: boolean): VoteResponse {
  return { type: 'vote-response', from, to, term, granted, preVote }
}

/** Delivers every queued message, recording what was delivered. */
function settle (cluster: Cluster, log: Message[] = []): Message[] {
  cluster.processAll()
  for (let i = 0; cluster.queue.length > 0; i++) {
    if (i > 100_000) {
      throw new Error('the cluster did not go quiet')
    }
    const m = cluster.queue.shift() as Message
    log.push(m)
    cluster.deliver(m)
  }
  return log
}

/** Ticks the given running nodes together, one round at a time, until `done` (at most `limit` rounds); returns the rounds. */
function tickUntil (cluster: Cluster, ids: NodeId[], done: () => boolean, limit: number, log?: Message[]): number {
  for (let round = 1; round <= limit; round++) {
    for (const id of ids) {
      cluster.core(id).tick()
    }
    settle(cluster, log)
    if (done()) {
      return round
    }
  }
  throw new Error(`not done after ${limit} rounds`)
}

describe('core: pre-vote and check-quorum', () => {
  it('a partitioned follower that rejoins does not depose a healthy leader', () => {
    const cluster = new Cluster({ size: 3, seed: 5 })
    cluster.campaign('n1')
    const term = cluster.core('n1').term
    cluster.isolate('n3')
    let preCampaigns = 0
    for (let i = 0; i < 100; i++) {
      cluster.tickAll()
      if (cluster.core('n3').role === 'pre-candidate') {
        preCampaigns++
      }
      expect(cluster.core('n3').term, `tick ${i}`).to.equal(term)
      expect(cluster.core('n3').role, `tick ${i}`).to.not.equal('candidate')
    }
    // it did try, over and over, without ever raising its term
    expect(preCampaigns).to.be.greaterThan(50)
    cluster.propose('n1', 'while n3 was away')
    cluster.stabilize()

    cluster.heal()
    for (let i = 0; i < 100; i++) {
      cluster.tickAll()
      expect(cluster.leader(), `tick ${i}`).to.equal('n1')
      for (const id of cluster.ids()) {
        expect(cluster.core(id).term, `${id} at tick ${i}`).to.equal(term)
      }
    }
    expect(cluster.core('n3').role).to.equal('follower')
    expect(cluster.core('n3').leader).to.equal('n1')
    expect(cluster.core('n3').commitIndex).to.equal(cluster.core('n1').commitIndex)
  })

  it('without pre-vote, a follower within its leader lease refuses a higher-term vote request in its own term, naming its leader (check-quorum)', () => {
    // random 0.99: the election timeout is 19 ticks, so the lease (10 ticks) ends well before b campaigns
    const core = makeCore({ id: 'b', preVote: false, random: () => 0.99 })
    core.step({ type: 'heartbeat-request', from: 'a', to: 'b', term: 2, commit: 0, context: 0 })
    flush(core)
    core.step(voteReq('c', 'b', 3, false))
    let ready = flush(core)
    expect(sent(ready)).to.deep.equal([{ ...voteResp('b', 'c', 2, false, false), leader: 'a' }])
    expect(ready.hardState).to.equal(undefined)
    expect(core.term).to.equal(2)
    expect(core.vote).to.equal(undefined)
    expect(core.leader).to.equal('a')

    for (let i = 0; i < 10; i++) {
      core.tick()
    }
    expect(core.role).to.equal('follower')
    core.step(voteReq('c', 'b', 3, false))
    ready = flush(core)
    expect(sent(ready)).to.deep.equal([voteResp('b', 'c', 3, true, false)])
    expect(core.term).to.equal(3)
    expect(core.vote).to.equal('c')
  })

  it('without pre-vote, the rest of a cluster turns down the vote requests of a node that was cut off', () => {
    const cluster = new Cluster({ size: 3, seed: 9, preVote: false })
    cluster.campaign('n1')
    const term = cluster.core('n1').term
    cluster.isolate('n3')
    cluster.campaign('n3')
    expect(cluster.core('n3').role).to.equal('candidate')
    expect(cluster.core('n3').term).to.equal(term + 1)

    cluster.heal()
    // n3 times out again and asks for votes; nobody else's clock moves, so n1 and n2 are within the lease
    const log: Message[] = []
    const before = cluster.core('n3').term
    while (cluster.core('n3').term === before) {
      cluster.tick('n3')
    }
    settle(cluster, log)
    expect(log.filter(m => m.type === 'vote-request').map(m => m.to)).to.have.members(['n1', 'n2'])
    // Refusals in the voters' own (older) term: the candidate drops them, and learns nothing but who leads.
    expect(log.filter(m => m.type === 'vote-response').every(m => m.type === 'vote-response' && !m.granted && m.term === term && m.leader === 'n1')).to.be.true()
    expect(cluster.core('n1').role).to.equal('leader')
    expect(cluster.core('n1').term).to.equal(term)
    expect(cluster.core('n2').term).to.equal(term)
    expect(cluster.core('n2').vote).to.not.equal('n3')
  })

  it('a leader cut off from the quorum steps down within 2 × electionTicks, and the majority elects a new one', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const cluster = new Cluster({ size: 5, seed })
      cluster.campaign('n1')
      const term = cluster.core('n1').term
      // let it run a while, so the cut comes at an arbitrary point of the check-quorum round
      cluster.tickAll(seed * 3)
      expect(cluster.leader()).to.equal('n1')
      cluster.isolate('n1')
      const rounds = tickUntil(cluster, cluster.ids(), () => cluster.core('n1').role !== 'leader', 100)
      expect(rounds, `seed ${seed}`).to.be.at.most(20)
      expect(cluster.core('n1').role).to.equal('follower')
      expect(cluster.core('n1').leader).to.equal(undefined)

      const rest = ['n2', 'n3', 'n4', 'n5']
      tickUntil(cluster, cluster.ids(), () => rest.some(id => cluster.core(id).role === 'leader'), 200)
      const leader = cluster.leader() as string
      expect(leader, `seed ${seed}`).to.be.oneOf(rest)
      expect(cluster.core(leader).term).to.be.greaterThan(term)
      // the deposed leader, still cut off, cannot get in the way
      expect(cluster.core('n1').role).to.not.equal('leader')
    }
  })

  it('a follower that recently heard from its leader refuses a pre-vote; once the lease is over it grants one', () => {
    // random 0.99: the election timeout is 19 ticks, the lease 10
    const core = makeCore({ id: 'b', random: () => 0.99 })
    core.step({ type: 'heartbeat-request', from: 'a', to: 'b', term: 2, commit: 0, context: 0 })
    flush(core)
    core.step(voteReq('c', 'b', 3, true))
    let ready = flush(core)
    expect(sent(ready).filter(m => m.type === 'vote-response' && m.granted)).to.deep.equal([])
    expect(core.term).to.equal(2)
    expect(core.leader).to.equal('a')

    for (let i = 0; i < 10; i++) {
      core.tick()
    }
    core.step(voteReq('c', 'b', 3, true))
    ready = flush(core)
    // granted under the asked-for term, without moving to it
    expect(sent(ready)).to.deep.equal([voteResp('b', 'c', 3, true, true)])
    expect(ready.hardState).to.equal(undefined)
    expect(core.term).to.equal(2)
    expect(core.vote).to.equal(undefined)
  })

  it('while the leader is alive pre-votes fail; once it is gone a pre-vote succeeds, then a real election', () => {
    const cluster = new Cluster({ size: 3, seed: 21 })
    cluster.campaign('n1')
    const term = cluster.core('n1').term

    // n3 alone lets its clock run (say its link to n1 is slow): its pre-vote gets nowhere
    const early: Message[] = []
    while (cluster.core('n3').role === 'follower') {
      cluster.tick('n3')
    }
    expect(cluster.core('n3').role).to.equal('pre-candidate')
    settle(cluster, early)
    expect(early.filter(m => m.type === 'vote-request' && m.preVote).map(m => m.to)).to.have.members(['n1', 'n2'])
    expect(early.filter(m => m.type === 'vote-response' && m.granted)).to.deep.equal([])
    expect(cluster.core('n1').role).to.equal('leader')
    for (const id of cluster.ids()) {
      expect(cluster.core(id).term, id).to.equal(term)
    }

    // the leader dies; the others' leases run out and one of them wins
    cluster.crash('n1')
    const log: Message[] = []
    tickUntil(cluster, ['n2', 'n3'], () => cluster.leader() !== undefined && cluster.leader() !== 'n1', 200, log)
    const leader = cluster.leader() as string
    expect(cluster.core(leader).term).to.equal(term + 1)
    const grantedPreVote = log.findIndex(m => m.type === 'vote-response' && m.preVote && m.granted && m.to === leader)
    const realRequest = log.findIndex(m => m.type === 'vote-request' && !m.preVote && m.from === leader)
    const grantedVote = log.findIndex(m => m.type === 'vote-response' && !m.preVote && m.granted && m.to === leader)
    expect(grantedPreVote).to.be.at.least(0)
    expect(realRequest).to.be.greaterThan(grantedPreVote)
    expect(grantedVote).to.be.greaterThan(realRequest)
  })

  it('a pre-candidate that loses the pre-vote does not increment its term', () => {
    const core = makeCore()
    flush(core)
    for (let round = 0; round < 3; round++) {
      while (core.role !== 'pre-candidate') {
        core.tick()
      }
      const ready = flush(core)
      expect(ready.hardState).to.equal(undefined)
      expect(ready.messagesAfterPersist).to.deep.equal([voteReq('a', 'b', 2, true), voteReq('a', 'c', 2, true)])
      core.step(voteResp('b', 'a', 1, false, true))
      expect(core.role).to.equal('pre-candidate')
      core.step(voteResp('c', 'a', 1, false, true))
      expect(core.role).to.equal('follower')
      expect(core.term).to.equal(1)
      expect(core.vote).to.equal(undefined)
      expect(flush(core).hardState).to.equal(undefined)
    }
  })

  it('an isolated node with pre-vote keeps its term however long it is cut off', () => {
    const cluster = new Cluster({ size: 3, seed: 13 })
    cluster.isolate('n2')
    for (let i = 0; i < 200; i++) {
      cluster.tick('n2')
    }
    expect(cluster.core('n2').term).to.equal(1)
    expect(cluster.node('n2').disk.hardState.term).to.equal(1)
    expect(cluster.node('n2').disk.hardState.vote).to.equal(undefined)
  })

  it('a learner\'s vote does not count', () => {
    const config = { voters: ['a', 'b', 'c'], learners: ['l'] }
    const core = new RaftCore({
      id: 'a',
      preVote: false,
      random: () => 0,
      state: { hardState: { term: 1, commit: 0 }, entries: [{ type: 'config', index: 1, term: 1, config }] }
    })
    while (core.role === 'follower') {
      core.tick()
    }
    // only the voters are asked
    expect(sent(flush(core)).map(m => m.to)).to.deep.equal(['b', 'c'])
    core.step(voteResp('l', 'a', 2, true, false))
    expect(core.role).to.equal('candidate')
    core.step(voteResp('b', 'a', 2, true, false))
    expect(core.role).to.equal('leader')
  })

  it('a learner never campaigns', () => {
    const cluster = new Cluster({ size: 3, learners: 1, seed: 17 })
    // on its own, with no leader ever
    const sentBy = (): Message[] => cluster.queue.filter(m => m.from === 'l1')
    for (let i = 0; i < 200; i++) {
      cluster.tick('l1')
      expect(cluster.core('l1').role).to.equal('follower')
    }
    expect(sentBy()).to.deep.equal([])
    expect(cluster.core('l1').term).to.equal(1)

    // it follows a leader, then stays passive once the leader is gone
    cluster.queue = []
    cluster.campaign('n1')
    cluster.propose('n1', 'hello')
    cluster.stabilize()
    expect(cluster.core('l1').leader).to.equal('n1')
    expect(cluster.core('l1').log.lastIndex()).to.equal(cluster.core('n1').log.lastIndex())
    cluster.crash('n1')
    cluster.crash('n2')
    cluster.crash('n3')
    for (let i = 0; i < 200; i++) {
      cluster.tick('l1')
      expect(cluster.core('l1').role).to.equal('follower')
    }
    expect(sentBy()).to.deep.equal([])
  })
})
