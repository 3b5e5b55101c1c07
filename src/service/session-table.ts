import { SessionExpiredError } from '../errors.ts'
import { SessionTable as PbSessionTable } from '../pb/raft.ts'
import { decodeResult, encodeResult } from './result-codec.ts'
import type { ApplyOutcome } from './waiters.ts'
import type { SessionStamp } from '../core/index.ts'

/** What applying a command gave, without its term (the caller's entry has it). */
export type Applied = Omit<ApplyOutcome, 'term'>

interface Session {
  /**
   * No sequence up to this one is applied any more: the client acknowledged
   * it, or the result of it or of a later one was dropped (a late first
   * copy of a sequence below a dropped one is refused too: refusing is safe,
   * applying twice is not)
   */
  closedUpTo: number
  /** What each applied, unacknowledged sequence gave, oldest first */
  results: Map<number, Applied>
}

/**
 * The client sessions of Raft thesis §6.3, as every member keeps them: for
 * each session, what each of its commands gave, so that a command retried
 * under the same (client, sequence) gets its first result instead of being
 * applied again. The table changes only as entries are applied, in log
 * order, so it is the same on every member at the same index; it travels in
 * snapshot metadata.
 *
 * It is bounded by rules every member applies alike: at most `maxSessions`
 * sessions (opening one more drops the least recently used), and at most
 * `maxResults` unacknowledged results per session (the oldest go first). A
 * command of a session no longer kept, or of a sequence whose result was
 * dropped, is not applied: it fails with `SessionExpiredError`.
 */
export class ClientSessionTable {
  private readonly maxSessions: number
  private readonly maxResults: number
  /** In order of last use, least recent first */
  private sessions = new Map<number, Session>()

  constructor (maxSessions: number, maxResults: number) {
    this.maxSessions = maxSessions
    this.maxResults = maxResults
  }

  get size (): number {
    return this.sessions.size
  }

  /**
   * Applies the command at `index` stamped with `stamp`: opens a session
   * (sequence 0), answers a sequence seen before with its first result, or
   * runs `apply` and keeps what it gave.
   */
  apply (index: number, stamp: SessionStamp, apply: () => Applied | Promise<Applied>): Applied | Promise<Applied> {
    if (stamp.sequence === 0) {
      this.open(index)
      return { result: undefined }
    }
    const session = this.sessions.get(stamp.client)
    if (session === undefined) {
      return { result: undefined, error: new SessionExpiredError(stamp.client) }
    }
    this.sessions.delete(stamp.client)
    this.sessions.set(stamp.client, session)
    this.acknowledge(session, stamp.acknowledged)
    const earlier = session.results.get(stamp.sequence)
    if (earlier !== undefined) {
      return earlier
    }
    if (stamp.sequence <= session.closedUpTo) {
      return { result: undefined, error: new SessionExpiredError(stamp.client, `The result of sequence ${stamp.sequence} of client session ${stamp.client} is no longer kept`) }
    }
    const applied = apply()
    if (applied instanceof Promise) {
      return applied.then(outcome => this.keep(session, stamp.sequence, outcome))
    }
    return this.keep(session, stamp.sequence, applied)
  }

  /** The table as snapshot metadata carries it. */
  encode (): Uint8Array {
    return PbSessionTable.encode({
      sessions: [...this.sessions].map(([client, session]) => ({
        client,
        closedUpTo: session.closedUpTo,
        results: [...session.results].map(([sequence, applied]) => applied.error === undefined
          ? { sequence, value: encodeResult(applied.result) }
          : { sequence, errorName: applied.error.name, errorMessage: applied.error.message })
      }))
    })
  }

  /** Replaces the table with a snapshot's (an empty one when the snapshot carries none). */
  restore (encoded: Uint8Array | undefined): void {
    this.sessions = new Map()
    if (encoded === undefined) {
      return
    }
    for (const session of PbSessionTable.decode(encoded).sessions) {
      const results = new Map<number, Applied>()
      for (const { sequence, value, errorName, errorMessage } of session.results) {
        results.set(sequence, errorName === undefined
          ? { result: value === undefined ? undefined : decodeResult(value) }
          : { result: undefined, error: Object.assign(new Error(errorMessage), { name: errorName }) })
      }
      this.sessions.set(session.client, { closedUpTo: session.closedUpTo, results })
    }
  }

  private open (client: number): void {
    this.sessions.set(client, { closedUpTo: 0, results: new Map() })
    if (this.sessions.size > this.maxSessions) {
      const [leastRecent] = this.sessions.keys()
      this.sessions.delete(leastRecent)
    }
  }

  private acknowledge (session: Session, acknowledged: number): void {
    session.closedUpTo = Math.max(session.closedUpTo, acknowledged)
    for (const sequence of session.results.keys()) {
      if (sequence <= acknowledged) {
        session.results.delete(sequence)
      }
    }
  }

  private keep (session: Session, sequence: number, applied: Applied): Applied {
    session.results.set(sequence, applied)
    if (session.results.size > this.maxResults) {
      const [oldest] = session.results.keys()
      session.results.delete(oldest)
      session.closedUpTo = Math.max(session.closedUpTo, oldest)
    }
    return applied
  }
}
