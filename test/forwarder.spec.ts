import { expect } from 'aegir/chai'
import { LeadershipTransferInProgressError, MembershipChangeInProgressError, NotLeaderError, NotVoterError } from '../src/errors.ts'
import { Refusal } from '../src/pb/raft.ts'
import { refusalToPb } from '../src/pb/refusal.ts'
import { afterRefusal } from '../src/service/forwarder.ts'

const { Reason } = Refusal

describe('forwarder: the retry policy for refused forwards', () => {
  it('a refused command fails only as invalid; any other refusal proves nothing, and it waits for its outcome', () => {
    const invalid = afterRefusal('command', { reason: Reason.INVALID_PARAMETERS, message: 'command too large' })
    expect(invalid).to.have.nested.property('fail.name', 'InvalidParametersError')
    expect(invalid).to.have.nested.property('fail.message', 'command too large')
    expect(afterRefusal('command', refusalToPb(new LeadershipTransferInProgressError('x')))).to.deep.equal({ wait: 'outcome' })
    expect(afterRefusal('command', refusalToPb(new NotLeaderError()))).to.deep.equal({ wait: 'outcome' })
    expect(afterRefusal('command', { reason: Reason.REQUEST_FORGOTTEN, message: '' })).to.deep.equal({ wait: 'outcome' })
    expect(afterRefusal('command', { reason: Reason.OTHER, message: 'something else' })).to.deep.equal({ wait: 'outcome' })
  })

  it('a refused membership change waits for the next leader when sent to a non-leader, and fails with anything else', () => {
    expect(afterRefusal('membership', refusalToPb(new NotLeaderError('a')))).to.deep.equal({ retry: 'next-leader' })
    expect(afterRefusal('membership', refusalToPb(new MembershipChangeInProgressError()))).to.have.nested.property('fail.name', 'MembershipChangeInProgressError')
    expect(afterRefusal('membership', refusalToPb(new NotVoterError()))).to.have.nested.property('fail.name', 'NotVoterError')
  })

  it('a refused join fails with the refusal, whatever it is', () => {
    expect(afterRefusal('join', { reason: Reason.JOIN_REFUSED, message: '', peer: 'p' })).to.have.nested.property('fail.peer', 'p')
    expect(afterRefusal('join', refusalToPb(new NotLeaderError('l')))).to.have.nested.property('fail.leader', 'l')
  })
})
