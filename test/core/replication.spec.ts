import { expect } from 'aegir/chai'
import { Cluster } from '../utils/cluster.ts'

describe('core: replication flow control', () => {
  it('a probe answered at the follower\'s match index resumes replication at once', () => {
    const cluster = new Cluster({ size: 3, seed: 3 })
    cluster.campaign('n1')
    cluster.stabilize()
    const leader = cluster.core('n1')
    const match = leader.progressOf('n2')?.match ?? 0
    expect(match).to.equal(leader.log.lastIndex())
    // A rejection beyond the match index sends n2 back to probing: an empty probe at its match.
    leader.step({ type: 'append-response', from: 'n2', to: 'n1', term: leader.term, success: false, index: match + 1, hintIndex: match, hintTerm: leader.term })
    expect(leader.progressOf('n2')?.state).to.equal('probe')
    cluster.queue.length = 0
    leader.step({ type: 'append-response', from: 'n2', to: 'n1', term: leader.term, success: true, index: match, hintIndex: 0, hintTerm: 0 })
    expect(leader.progressOf('n2')?.state).to.equal('replicate')
    // A new entry goes to n2 right away, without waiting for a heartbeat round.
    leader.propose(new TextEncoder().encode('next'))
    const ready = leader.ready()
    expect(ready.messages.some(m => m.type === 'append-request' && m.to === 'n2' && m.entries.length === 1)).to.be.true()
  })
})
