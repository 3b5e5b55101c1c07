import { expect } from 'aegir/chai'
import { CatchUpTimeoutError, CommitTimeoutError, InvalidParametersError, JoinRefusedError, LeadershipTransferError, LeadershipTransferInProgressError, MembershipChangeInProgressError, NoLeaderError, NotCommittedError, NotLeaderError, NotMemberError, NotVoterError } from '../src/errors.ts'
import { ProposeResponse, Refusal } from '../src/pb/raft.ts'
import { refusalFromPb, refusalOf, refusalToPb } from '../src/pb/refusal.ts'

/** An error as a remote asker sees it: refused, encoded, decoded and rebuilt. */
function acrossTheWire (err: Error): Error {
  const bytes = ProposeResponse.encode({ id: 1, index: 0, term: 0, refusal: refusalToPb(err) })
  const refusal = refusalOf(ProposeResponse.decode(bytes))
  if (refusal === undefined) {
    throw new Error('the answer decoded as no refusal')
  }
  return refusalFromPb(refusal)
}

describe('refusals: errors across the wire', () => {
  const errors: Error[] = [
    new NotLeaderError('12D3KooWleader'),
    new NotLeaderError(),
    new NoLeaderError('No leader: term 4, follower, heard from 1 of 3 voters'),
    new NotVoterError(),
    new NotMemberError(),
    new InvalidParametersError('cannot remove the last voter'),
    new NotCommittedError(7, 2),
    new CommitTimeoutError(9, 3),
    new CommitTimeoutError(),
    new MembershipChangeInProgressError('The previous change was not committed before the deadline'),
    new LeadershipTransferInProgressError('12D3KooWtransferee'),
    new CatchUpTimeoutError('12D3KooWnewcomer'),
    new JoinRefusedError('12D3KooWjoiner'),
    new LeadershipTransferError('12D3KooWtarget')
  ]

  for (const err of errors) {
    it(`${err.name} keeps its class, message and fields (${err.message})`, () => {
      const rebuilt = acrossTheWire(err)
      expect(rebuilt).to.be.an.instanceOf(err.constructor)
      expect(rebuilt.name).to.equal(err.name)
      expect(rebuilt.message).to.equal(err.message)
      expect({ ...rebuilt }).to.deep.equal({ ...err })
    })
  }

  it('an error of no known class travels as OTHER with its message', () => {
    const rebuilt = acrossTheWire(new TypeError('the disk is full'))
    expect(rebuilt.name).to.equal('Error')
    expect(rebuilt.message).to.equal('the disk is full')
  })

  it('a refusal without a message gives the class its own', () => {
    expect(refusalFromPb({ reason: Refusal.Reason.NOT_LEADER, message: '', leader: 'x' }).message).to.equal(new NotLeaderError('x').message)
  })

  it("an older node's refusal by name still reads as a refusal, and an answer without one as none", () => {
    const old = refusalOf(ProposeResponse.decode(ProposeResponse.encode({ id: 1, index: 0, term: 0, error: 'NotLeaderError' })))
    expect(old?.reason).to.equal(Refusal.Reason.OTHER)
    expect(old?.message).to.include('NotLeaderError')
    expect(refusalOf(ProposeResponse.decode(ProposeResponse.encode({ id: 1, index: 5, term: 2 })))).to.be.undefined()
  })
})
