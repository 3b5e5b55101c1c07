import { expect } from 'aegir/chai'
import { Cluster } from '../utils/cluster.ts'

describe('core: election basics', () => {
  it('elects a leader in a three-node cluster and commits a proposal everywhere', () => {
    const cluster = new Cluster({ size: 3, seed: 7 })
    cluster.campaign('n1')
    expect(cluster.core('n1').role).to.equal('leader')
    expect(cluster.core('n2').leader).to.equal('n1')
    cluster.propose('n1', 'x=1')
    cluster.stabilize()
    for (const id of cluster.ids()) {
      expect(cluster.node(id).applied.map(e => e.type)).to.deep.equal(['config', 'noop', 'command'])
    }
  })
})
