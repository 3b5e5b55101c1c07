/**
 * The errors this module throws; match on `err.name`. Where js-libp2p has a
 * class for the case, it is libp2p's (`AbortError`, `InvalidParametersError`,
 * `NotStartedError`, `TimeoutError`, re-exported here). For `commit()` the
 * error's class also says what the caller can rely on:
 *
 * - definitely not committed: `NoLeaderError`, `NotCommittedError`,
 * `InvalidParametersError`, `NotStartedError`, `AbortError` before the call;
 * - outcome unknown (the command may still be applied): `CommitTimeoutError`,
 * `AbortError` while waiting, `StorageFailedError`.
 */
export { AbortError, InvalidParametersError, NotStartedError, TimeoutError } from '@libp2p/interface'

/** A call needs the leader, and this node is not it. `leader` names the one it knows of, if any. */
export class NotLeaderError extends Error {
  static name = 'NotLeaderError'
  readonly leader: string | undefined

  constructor (leader?: string, message = leader === undefined ? 'Not the leader, and no leader is known' : `Not the leader; the leader is ${leader}`) {
    super(message)
    this.name = 'NotLeaderError'
    this.leader = leader
  }
}

/**
 * No leader took the command before the deadline (no quorum, or the caller
 * gave up first). The command was never appended: it is definitely not committed.
 */
export class NoLeaderError extends Error {
  static name = 'NoLeaderError'

  constructor (message = 'No leader accepted the command; it was not committed') {
    super(message)
    this.name = 'NoLeaderError'
  }
}

/**
 * The command was appended, but a leader change replaced it with another
 * entry at the same index before it was committed: it is definitely not
 * committed and will never be applied.
 */
export class NotCommittedError extends Error {
  static name = 'NotCommittedError'
  readonly index: number
  readonly term: number

  constructor (index: number, term: number, message = `The command appended at index ${index} in term ${term} was replaced by a leader change; it was not committed`) {
    super(message)
    this.name = 'NotCommittedError'
    this.index = index
    this.term = term
  }
}

/**
 * The command may have been appended, but it was not applied on this node
 * before the deadline (`commitTimeout`, the caller's signal, or `stop()`).
 * The outcome is unknown: it may still be committed and applied later.
 * `index` and `term` say where it was appended, when that is known.
 */
export class CommitTimeoutError extends Error {
  static name = 'CommitTimeoutError'
  readonly index: number | undefined
  readonly term: number | undefined

  constructor (index?: number, term?: number, message = index === undefined
    ? 'The command was sent to the leader but no answer came before the deadline; its outcome is unknown'
    : `The command appended at index ${index} in term ${term ?? '?'} was not applied before the deadline; its outcome is unknown`) {
    super(message)
    this.name = 'CommitTimeoutError'
    this.index = index
    this.term = term
  }
}

/**
 * Raft's datastore failed a write (a full disk, a closed store): this
 * member stopped taking part, since it cannot keep its promises without
 * durable writes. Every call waiting on it and every new call rejects with
 * this error, and `status()` lists a `'storage-failed'` warning, until the
 * member is restarted (stop and start the node) once the datastore works
 * again; it then reloads what was written and catches up from the leader.
 *
 * Nothing this member could not write was acknowledged by it. A waiting
 * `commit()`'s outcome is unknown: the other members may still commit the
 * command. `cause` is the datastore's error.
 */
export class StorageFailedError extends Error {
  static name = 'StorageFailedError'

  constructor (cause: unknown, message = `Raft's datastore failed a write (${String((cause as Error | undefined)?.message ?? cause)}): this member stopped taking commands; restart it once the datastore works again (the outcome of a command in flight is unknown)`) {
    super(message, { cause })
    this.name = 'StorageFailedError'
  }
}

/**
 * A command in the Raft log is not an entry of a consensus helper (it was
 * committed with `raft.commit()` directly, or by another helper version),
 * or its payload cannot be decoded by the configured codec. Every member
 * rejects it alike and leaves its state unchanged.
 */
export class InvalidEntryError extends Error {
  static name = 'InvalidEntryError'

  constructor (message = 'The log entry is not a valid consensus entry') {
    super(message)
    this.name = 'InvalidEntryError'
  }
}

/** A call needs the Raft service, and `attach(raft)` has not been called yet. */
export class NotAttachedError extends Error {
  static name = 'NotAttachedError'

  constructor (message = 'No Raft service is attached; call attach(node.services.raft) first') {
    super(message)
    this.name = 'NotAttachedError'
  }
}

/**
 * Snapshot data does not match what its metadata promises (size, chunk
 * count or SHA-256 checksum): it was cut short or corrupted, and is not used.
 */
export class InvalidSnapshotError extends Error {
  static name = 'InvalidSnapshotError'

  constructor (message = 'The snapshot data does not match its size or checksum') {
    super(message)
    this.name = 'InvalidSnapshotError'
  }
}

/** Sending a snapshot to a member failed: it refused it, the stream broke, or the transfer took too long. */
export class SnapshotTransferError extends Error {
  static name = 'SnapshotTransferError'

  constructor (message = 'The snapshot could not be sent') {
    super(message)
    this.name = 'SnapshotTransferError'
  }
}

/**
 * A membership change was asked for while the previous one is not yet
 * committed, or before the leader committed an entry of its own term.
 * Nothing was changed; try again shortly.
 */
export class MembershipChangeInProgressError extends Error {
  static name = 'MembershipChangeInProgressError'

  constructor (message = 'Another membership change is in progress') {
    super(message)
    this.name = 'MembershipChangeInProgressError'
  }
}

/** The leader is handing leadership over and accepts no commands or changes until that ends. */
export class LeadershipTransferInProgressError extends Error {
  static name = 'LeadershipTransferInProgressError'
  readonly transferee: string | undefined

  constructor (transferee?: string, message = `Leadership is being handed to ${transferee ?? 'another member'}`) {
    super(message)
    this.name = 'LeadershipTransferInProgressError'
    this.transferee = transferee
  }
}

/**
 * A new voter did not catch up with the leader's log in time. A peer that
 * was a learner before stays one; one that `addVoter` added as a learner is
 * removed again, so a failed call leaves the membership as it was.
 */
export class CatchUpTimeoutError extends Error {
  static name = 'CatchUpTimeoutError'
  readonly peer: string | undefined

  constructor (peer?: string, message = `${peer ?? 'The new member'} did not catch up with the leader's log in time; it was not made a voter`) {
    super(message)
    this.name = 'CatchUpTimeoutError'
    this.peer = peer
  }
}

/** The leader's `authorizeJoin` refused a node that asked to join (or none is set: joins are refused by default). */
export class JoinRefusedError extends Error {
  static name = 'JoinRefusedError'
  readonly peer: string | undefined

  constructor (peer?: string, message = `The leader refused to let ${peer ?? 'this node'} join`) {
    super(message)
    this.name = 'JoinRefusedError'
    this.peer = peer
  }
}

/** The chosen voter did not take over leadership in time; the old leader leads on. */
export class LeadershipTransferError extends Error {
  static name = 'LeadershipTransferError'
  readonly peer: string | undefined

  constructor (peer?: string, message = `${peer ?? 'The transferee'} did not take over leadership in time; the leader leads on`) {
    super(message)
    this.name = 'LeadershipTransferError'
    this.peer = peer
  }
}

/** Only voters may change the membership (a learner or a node outside the group may only ask to join). */
export class NotVoterError extends Error {
  static name = 'NotVoterError'

  constructor (message = 'Only a voter may change the membership') {
    super(message)
    this.name = 'NotVoterError'
  }
}

/**
 * A copy of a command sent within a client session was not applied,
 * because the session is no longer kept (it was never opened, or the
 * limits pushed it out) or because the result of that sequence is no
 * longer kept. This copy was not applied, but an earlier copy of the same
 * sequence may have been: the command's outcome is unknown. Open a new
 * session for new commands.
 */
export class SessionExpiredError extends Error {
  static name = 'SessionExpiredError'
  readonly client: number | undefined

  constructor (client?: number, message = `Client session ${client ?? '?'} has expired; open a new session`) {
    super(message)
    this.name = 'SessionExpiredError'
    this.client = client
  }
}

/**
 * A call needs a member of the group, and this node belongs to no
 * configuration (it was started without `bootstrap`, or was removed): ask a
 * member instead, or let this node in first with `join`.
 */
export class NotMemberError extends Error {
  static name = 'NotMemberError'

  constructor (message = 'This node belongs to no configuration; ask a member, or use join to let this node in first') {
    super(message)
    this.name = 'NotMemberError'
  }
}
