import { expect } from 'aegir/chai'
import { Cluster } from '../utils/cluster.ts'
import type { Message, Notification } from '../../src/core/index.ts'

/** A 3-node cluster led by n1 with its no-op committed. */
function ledCluster (seed = 1): Cluster {
  const cluster = new Cluster({ size: 3, seed })
  cluster.campaign('n1')
  cluster.stabilize()
  return cluster
}

function configNotifications (notifications: Notification[]): Array<{ voters: string[], learners: string[] }> {
  return notifications.flatMap(n => n.type === 'config' ? [n.config] : [])
}

describe('core: membership changes', () => {
  it('a learner receives the log but does not count for the quorum', () => {
    const cluster = ledCluster()
    cluster.addNode('n4')
    const leader = cluster.core('n1')
    leader.proposeConfigChange({ type: 'add-learner', id: 'n4' })
    cluster.stabilize()
    expect(leader.config).to.deep.equal({ voters: ['n1', 'n2', 'n3'], learners: ['n4'] })
    expect(cluster.core('n4').config).to.deep.equal(leader.config)
    cluster.propose('n1', 'x')
    cluster.stabilize()
    expect(cluster.node('n4').state).to.deep.equal(['x'])
    // With n2 and n3 cut off, n1 and the learner are no quorum.
    cluster.partition(['n1', 'n4'], ['n2', 'n3'])
    const { index } = cluster.propose('n1', 'y')
    cluster.stabilize()
    expect(leader.commitIndex).to.be.below(index)
    // A learner never campaigns.
    cluster.tick('n4', 100)
    expect(cluster.core('n4').role).to.equal('follower')
  })

  it('a configuration carries the members\' addresses: kept, updated, dropped with the member, and replicated', () => {
    const cluster = ledCluster()
    cluster.addNode('n4')
    const leader = cluster.core('n1')
    leader.proposeConfigChange({ type: 'add-learner', id: 'n4' }, { n2: ['/a2'], n4: ['/a4'], n9: ['/not-a-member'] })
    cluster.stabilize()
    expect(leader.config.addresses).to.deep.equal({ n2: ['/a2'], n4: ['/a4'] })
    leader.proposeConfigChange({ type: 'add-voter', id: 'n4' }, { n4: ['/a4-new'] })
    cluster.stabilize()
    expect(leader.config.addresses).to.deep.equal({ n2: ['/a2'], n4: ['/a4-new'] })
    leader.proposeConfigChange({ type: 'remove', id: 'n2' })
    cluster.stabilize()
    expect(leader.config.addresses).to.deep.equal({ n4: ['/a4-new'] })
    for (const id of ['n3', 'n4']) {
      expect(cluster.core(id).config).to.deep.equal(leader.config)
    }
  })

  it('adds a voter, which then counts for the quorum', () => {
    const cluster = ledCluster()
    cluster.addNode('n4')
    const leader = cluster.core('n1')
    leader.proposeConfigChange({ type: 'add-learner', id: 'n4' })
    cluster.stabilize()
    leader.proposeConfigChange({ type: 'add-voter', id: 'n4' })
    cluster.stabilize()
    expect(leader.config).to.deep.equal({ voters: ['n1', 'n2', 'n3', 'n4'], learners: [] })
    // Three of four are a quorum; two are not.
    cluster.partition(['n1', 'n4'], ['n2', 'n3'])
    const { index } = cluster.propose('n1', 'two of four')
    cluster.stabilize()
    expect(leader.commitIndex).to.be.below(index)
    cluster.heal()
    cluster.tickAll(2)
    expect(leader.commitIndex).to.be.at.least(index)
  })

  it('a new leader changes nothing before an entry of its own term is committed', () => {
    const cluster = new Cluster({ size: 3, seed: 2 })
    cluster.tick('n1', 100)
    // Deliver the election, but none of the answers that would commit the leader's no-op.
    for (let i = 0; i < 100 && cluster.queue.length > 0; i++) {
      const m = cluster.queue.shift() as Message
      if (!(m.type === 'append-response' && m.to === 'n1')) {
        cluster.deliver(m)
      }
    }
    const leader = cluster.core('n1')
    expect(leader.role).to.equal('leader')
    expect(leader.canChangeConfig()).to.be.false()
    cluster.addNode('n4')
    expect(() => leader.proposeConfigChange({ type: 'add-learner', id: 'n4' })).to.throw().with.property('name', 'MembershipChangeInProgressError')
    cluster.tick('n1')
    cluster.stabilize()
    expect(leader.canChangeConfig()).to.be.true()
  })

  it('allows one change at a time', () => {
    const cluster = ledCluster(3)
    const leader = cluster.core('n1')
    cluster.addNode('n4')
    cluster.addNode('n5')
    leader.proposeConfigChange({ type: 'add-learner', id: 'n4' })
    expect(() => leader.proposeConfigChange({ type: 'add-learner', id: 'n5' })).to.throw().with.property('name', 'MembershipChangeInProgressError')
    cluster.stabilize()
    expect(() => leader.proposeConfigChange({ type: 'add-learner', id: 'n5' })).to.not.throw()
  })

  it('refuses changes that change nothing or leave no voter', () => {
    const cluster = new Cluster({ size: 1, seed: 4 })
    cluster.campaign('n1')
    cluster.stabilize()
    const leader = cluster.core('n1')
    expect(() => leader.proposeConfigChange({ type: 'remove', id: 'n1' })).to.throw().with.property('name', 'InvalidParametersError')
    expect(() => leader.proposeConfigChange({ type: 'add-voter', id: 'n1' })).to.throw(/already a voter/)
    expect(() => leader.proposeConfigChange({ type: 'remove', id: 'n9' })).to.throw(/not a member/)
    expect(() => cluster.core('n1').proposeConfigChange({ type: 'add-learner', id: 'n2' })).to.not.throw()
  })

  it('a removed follower learns it was removed and never campaigns', () => {
    const cluster = ledCluster(5)
    const leader = cluster.core('n1')
    leader.proposeConfigChange({ type: 'remove', id: 'n3' })
    const seen: Notification[] = []
    const n3 = cluster.node('n3')
    for (let i = 0; i < 50 && cluster.queue.length > 0; i++) {
      const m = cluster.queue.shift() as Message
      if (m.to === 'n3' && n3.core.hasReady()) {
        seen.push(...n3.core.ready().notifications)
      }
      cluster.deliver(m)
    }
    cluster.stabilize()
    expect(n3.core.config).to.deep.equal({ voters: ['n1', 'n2'], learners: [] })
    expect(leader.progressOf('n3')).to.be.undefined()
    const term = n3.core.term
    cluster.tick('n3', 200)
    expect(n3.core.role).to.equal('follower')
    expect(n3.core.term).to.equal(term)
    expect(configNotifications(seen)).to.have.lengthOf.at.most(1)
  })

  it('a leader that removed itself steps down once the change commits, and the rest elect a leader', () => {
    const cluster = ledCluster(6)
    const leader = cluster.core('n1')
    const { index } = leader.proposeConfigChange({ type: 'remove', id: 'n1' })
    // From now on it takes no commands: only the next leader would apply them.
    expect(() => leader.propose(new TextEncoder().encode('late'))).to.throw().with.property('name', 'NotLeaderError')
    cluster.stabilize()
    expect(leader.commitIndex).to.be.at.least(index)
    expect(leader.role).to.equal('follower')
    for (let i = 0; i < 100 && cluster.leader() === undefined; i++) {
      cluster.tickAll()
    }
    expect(cluster.leader()).to.be.oneOf(['n2', 'n3'])
    const { index: next } = cluster.propose(cluster.leader() ?? '', 'after')
    cluster.stabilize()
    expect(cluster.core('n2').commitIndex).to.be.at.least(next)
    expect(leader.role).to.equal('follower')
  })
})

describe('core: leadership transfer', () => {
  it('hands leadership to a caught-up voter, which wins at once in the next term', () => {
    const cluster = ledCluster(7)
    const leader = cluster.core('n1')
    const term = leader.term
    expect(leader.transferLeadership('n3')).to.equal('n3')
    cluster.stabilize()
    expect(cluster.core('n3').role).to.equal('leader')
    expect(cluster.core('n3').term).to.equal(term + 1)
    expect(leader.role).to.equal('follower')
  })

  it('catches a lagging transferee up first, and refuses commands meanwhile', () => {
    const cluster = ledCluster(8)
    const leader = cluster.core('n1')
    cluster.isolate('n3')
    for (let i = 0; i < 5; i++) {
      cluster.propose('n1', `c${i}`)
    }
    cluster.stabilize()
    cluster.heal()
    leader.transferLeadership('n3')
    expect(() => leader.propose(new TextEncoder().encode('during'))).to.throw().with.property('name', 'LeadershipTransferInProgressError')
    cluster.stabilize()
    cluster.tickAll()
    expect(cluster.leader()).to.equal('n3')
    expect(cluster.core('n3').log.lastIndex()).to.be.at.least(8)
  })

  it('picks the most up-to-date voter when none is named', () => {
    const cluster = ledCluster(9)
    cluster.isolate('n2')
    cluster.propose('n1', 'x')
    cluster.stabilize()
    cluster.heal()
    expect(cluster.core('n1').transferLeadership()).to.equal('n3')
  })

  it('says TimeoutNow again when the transferee answers a heartbeat, in case it was lost', () => {
    const cluster = ledCluster(14)
    const leader = cluster.core('n1')
    leader.transferLeadership('n3')
    // Lose the first TimeoutNow.
    cluster.queue = cluster.queue.filter(m => m.type !== 'timeout-now')
    leader.ready()
    cluster.tick('n1')
    cluster.stabilize()
    expect(cluster.leader()).to.equal('n3')
  })

  it('gives up after an election timeout and leads on', () => {
    const cluster = ledCluster(10)
    const leader = cluster.core('n1')
    cluster.isolate('n3')
    leader.transferLeadership('n3')
    const ended: Notification[] = []
    for (let i = 0; i < 12; i++) {
      leader.tick()
      ended.push(...leader.ready().notifications)
    }
    expect(ended).to.deep.include({ type: 'transfer', to: undefined })
    expect(leader.role).to.equal('leader')
    expect(() => leader.propose(new TextEncoder().encode('again'))).to.not.throw()
  })

  it('voters let a transfer campaign through although they heard from the leader lately', () => {
    const cluster = ledCluster(11)
    cluster.tickAll(1)
    // Without the transfer flag n2 would ignore n3's request: it heard from n1 a tick ago.
    cluster.core('n1').transferLeadership('n3')
    cluster.stabilize()
    expect(cluster.core('n2').leader).to.equal('n3')
  })

  it('a leader handing over stops serving lease reads for the rest of its term', () => {
    const cluster = new Cluster({ size: 3, seed: 13, readMode: 'lease' })
    // Freshly started members refuse votes for an election timeout (they may back an old lease).
    for (let i = 0; i < 100 && cluster.leader() === undefined; i++) {
      cluster.tickAll()
    }
    cluster.tickAll(2)
    const id = cluster.leader() ?? ''
    const leader = cluster.core(id)
    // With a valid lease a read is answered at once…
    leader.readIndex(1)
    expect(leader.ready().readStates).to.deep.equal([{ id: 1, index: leader.commitIndex }])
    // …but not once the transferee may win a vote that ignores leases.
    leader.transferLeadership(id === 'n3' ? 'n2' : 'n3')
    leader.readIndex(2)
    expect(leader.ready().readStates).to.deep.equal([])
  })

  it('refuses a target that is not another voter', () => {
    const cluster = new Cluster({ size: 3, learners: 1, seed: 12 })
    cluster.campaign('n1')
    cluster.stabilize()
    const leader = cluster.core('n1')
    expect(() => leader.transferLeadership('l1')).to.throw().with.property('name', 'InvalidParametersError')
    expect(() => leader.transferLeadership('n1')).to.throw().with.property('name', 'InvalidParametersError')
    expect(() => cluster.core('n2').transferLeadership('n3')).to.throw().with.property('name', 'NotLeaderError')
  })
})
