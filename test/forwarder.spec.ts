import { expect } from 'aegir/chai'
import { afterRefusal } from '../src/service/forwarder.ts'

describe('forwarder: the retry policy for refused forwards', () => {
  it('a refused command fails only as invalid; any other refusal proves nothing, and it waits for its outcome', () => {
    const invalid = afterRefusal('command', 'InvalidParametersError')
    expect(invalid).to.have.nested.property('fail.name', 'InvalidParametersError')
    expect(afterRefusal('command', 'LeadershipTransferInProgressError')).to.deep.equal({ wait: 'outcome' })
    expect(afterRefusal('command', 'NotLeaderError')).to.deep.equal({ wait: 'outcome' })
    expect(afterRefusal('command', 'SomethingElseError')).to.deep.equal({ wait: 'outcome' })
  })

  it('a refused membership change waits for the next leader when sent to a non-leader, and fails with anything else', () => {
    expect(afterRefusal('membership', 'NotLeaderError')).to.deep.equal({ retry: 'next-leader' })
    expect(afterRefusal('membership', 'MembershipChangeInProgressError')).to.have.nested.property('fail.name', 'MembershipChangeInProgressError')
    expect(afterRefusal('membership', 'NotVoterError')).to.have.nested.property('fail.name', 'NotVoterError')
  })

  it('a refused join fails with the refusal, whatever it is', () => {
    expect(afterRefusal('join', 'JoinRefusedError')).to.have.nested.property('fail.name', 'JoinRefusedError')
    expect(afterRefusal('join', 'NotLeaderError')).to.have.nested.property('fail.name', 'NotLeaderError')
  })
})
