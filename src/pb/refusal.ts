import { CatchUpTimeoutError, CommitTimeoutError, InvalidParametersError, JoinRefusedError, LeadershipTransferError, LeadershipTransferInProgressError, MembershipChangeInProgressError, NoLeaderError, NotCommittedError, NotLeaderError, NotMemberError, NotVoterError } from '../errors.ts'
import { Refusal } from './raft.ts'
import type { ProposeResponse } from './raft.ts'

const { Reason } = Refusal

/**
 * The one mapping between the errors a node refuses a forwarded request
 * with and their wire form, both ways: the reason, the message and the
 * error's fields travel, so the asker rejects with the same class, message
 * and fields as a call made on the refusing node. An error of no class
 * here travels as `OTHER` with its message.
 */
export function refusalToPb (err: any): Refusal {
  const message = String(err?.message ?? err)
  switch (err?.name) {
    case 'NotLeaderError': return { reason: Reason.NOT_LEADER, message, leader: err.leader }
    case 'NoLeaderError': return { reason: Reason.NO_LEADER, message }
    case 'NotVoterError': return { reason: Reason.NOT_VOTER, message }
    case 'NotMemberError': return { reason: Reason.NOT_MEMBER, message }
    case 'InvalidParametersError': return { reason: Reason.INVALID_PARAMETERS, message }
    case 'NotCommittedError': return { reason: Reason.NOT_COMMITTED, message, index: err.index, term: err.term }
    case 'CommitTimeoutError': return { reason: Reason.COMMIT_TIMEOUT, message, index: err.index, term: err.term }
    case 'MembershipChangeInProgressError': return { reason: Reason.MEMBERSHIP_CHANGE_IN_PROGRESS, message }
    case 'LeadershipTransferInProgressError': return { reason: Reason.LEADERSHIP_TRANSFER_IN_PROGRESS, message, transferee: err.transferee }
    case 'CatchUpTimeoutError': return { reason: Reason.CATCH_UP_TIMEOUT, message, peer: err.peer }
    case 'JoinRefusedError': return { reason: Reason.JOIN_REFUSED, message, peer: err.peer }
    case 'LeadershipTransferError': return { reason: Reason.LEADERSHIP_TRANSFER, message, peer: err.peer }
    default: return { reason: Reason.OTHER, message }
  }
}

/** The error a refusal stands for, rebuilt with its class, message and fields. */
export function refusalFromPb (refusal: Refusal): Error {
  // An empty message (a refusal without one) gives the class's own.
  const message = refusal.message === '' ? undefined : refusal.message
  switch (refusal.reason) {
    case Reason.NOT_LEADER: return new NotLeaderError(refusal.leader, message)
    case Reason.NO_LEADER: return new NoLeaderError(message)
    case Reason.NOT_VOTER: return new NotVoterError(message)
    case Reason.NOT_MEMBER: return new NotMemberError(message)
    case Reason.INVALID_PARAMETERS: return new InvalidParametersError(message)
    case Reason.NOT_COMMITTED: return new NotCommittedError(refusal.index ?? 0, refusal.term ?? 0, message)
    case Reason.COMMIT_TIMEOUT: return new CommitTimeoutError(refusal.index, refusal.term, message)
    // Whether the command was appended is unknown: its outcome is.
    case Reason.REQUEST_FORGOTTEN: return new CommitTimeoutError(undefined, undefined, message)
    case Reason.MEMBERSHIP_CHANGE_IN_PROGRESS: return new MembershipChangeInProgressError(message)
    case Reason.LEADERSHIP_TRANSFER_IN_PROGRESS: return new LeadershipTransferInProgressError(refusal.transferee, message)
    case Reason.CATCH_UP_TIMEOUT: return new CatchUpTimeoutError(refusal.peer, message)
    case Reason.JOIN_REFUSED: return new JoinRefusedError(refusal.peer, message)
    case Reason.LEADERSHIP_TRANSFER: return new LeadershipTransferError(refusal.peer, message)
    default: return new Error(message ?? 'The request was refused')
  }
}

/**
 * Why an answer refused its request, or undefined when it did not. An
 * older node's refusal names only its error: it reads as `OTHER`.
 */
export function refusalOf (response: ProposeResponse): Refusal | undefined {
  if (response.refusal !== undefined) {
    return response.refusal
  }
  return response.error === undefined ? undefined : { reason: Reason.OTHER, message: `The request was refused: ${response.error}` }
}
