import { CommitTimeoutError, InvalidParametersError } from '../errors.ts'
import type { Deadline } from './deadline.ts'
import type { Clock } from './seams.ts'
import type { Waiters } from './waiters.ts'
import type { SessionStamp } from '../core/index.ts'
import type { CommitResult, RaftSession, SessionCommitOptions, SessionCommitResult } from '../index.ts'

export interface ClientSessionInit {
  /** The session's id: the index of the entry that opened it */
  id: number
  /** Checks a command as `commit()` does, and that the service runs */
  check(command: Uint8Array): void
  /** Commits a stamped command through the leader (the forwarder) */
  commit(command: Uint8Array, deadline: Deadline, stamp: SessionStamp): Promise<CommitResult>
  waiters: Waiters
  clock: Clock
  /** How long to pause before sending a command again */
  retryPause: number
}

/** Errors that leave a command's outcome unknown: the command may yet be applied, so its sequence stays open for a retry. */
const OUTCOME_UNKNOWN = new Set(['CommitTimeoutError', 'NoLeaderError', 'NotCommittedError', 'NotLeaderError', 'LeadershipTransferInProgressError', 'AbortError', 'TimeoutError', 'NotStartedError'])

/** Errors after which sending the same (client, sequence) again, before the deadline, is worth it. */
const RETRIED = new Set(['CommitTimeoutError', 'NoLeaderError', 'NotCommittedError', 'NotLeaderError', 'LeadershipTransferInProgressError'])

/**
 * The client's half of a session (Raft thesis §6.3): numbers its commands
 * and sends each, until its deadline, as often as it takes, always under
 * the same (client, sequence); every member's session table applies it once
 * and answers the copies with the first result. It also tells the members
 * which results they may forget: those of every sequence up to the first
 * one whose outcome this client does not know yet.
 */
export class ClientSession implements RaftSession {
  readonly id: number
  private readonly init: ClientSessionInit
  private nextSequence = 1
  /** Sequences handed out whose outcome no caller has been told */
  private readonly open = new Set<number>()

  constructor (init: ClientSessionInit) {
    this.id = init.id
    this.init = init
  }

  async commit (command: Uint8Array, options: SessionCommitOptions = {}): Promise<SessionCommitResult> {
    this.init.check(command)
    if (options.sequence !== undefined && (!Number.isSafeInteger(options.sequence) || options.sequence < 1 || options.sequence >= this.nextSequence)) {
      throw new InvalidParametersError(`sequence must be one this session handed out (1 to ${this.nextSequence - 1}), got ${String(options.sequence)}`)
    }
    let sequence: number | undefined
    try {
      // Taken inside the wait: a call aborted before it started takes no sequence and keeps none open.
      return await this.init.waiters.within(options, async (deadline) => {
        sequence = options.sequence ?? this.nextSequence++
        this.open.add(sequence)
        const result = await this.commitUntilKnown(command, sequence, deadline)
        this.open.delete(sequence)
        return { ...result, sequence }
      })
    } catch (err: any) {
      if (sequence !== undefined) {
        if (!OUTCOME_UNKNOWN.has(err?.name)) {
          this.open.delete(sequence)
        }
        if (err instanceof Error && Object.isExtensible(err)) {
          Object.assign(err, { sequence })
        }
      }
      throw err
    }
  }

  /** Sends the command under its stamp until its outcome is known or the deadline passes. */
  private async commitUntilKnown (command: Uint8Array, sequence: number, deadline: Deadline): Promise<CommitResult> {
    for (;;) {
      try {
        // Never below this very sequence: another call for it may have finished meanwhile.
        return await this.init.commit(command, deadline, { client: this.id, sequence, acknowledged: Math.min(this.acknowledged(), sequence - 1) })
      } catch (err: any) {
        if (deadline.expired || !RETRIED.has(err?.name)) {
          throw err
        }
        await this.pause(deadline)
      }
    }
  }

  /** Every sequence below the lowest still open has its answer. */
  private acknowledged (): number {
    let lowest = this.nextSequence
    for (const sequence of this.open) {
      lowest = Math.min(lowest, sequence)
    }
    return lowest - 1
  }

  private async pause (deadline: Deadline): Promise<void> {
    await deadline.wait<void>(() => new CommitTimeoutError(undefined, undefined, 'The command was sent within a session, but its outcome was not known before the deadline'), (resolve) => this.init.clock.after(this.init.retryPause, resolve))
  }
}
