import { SessionExpiredError } from '../errors.ts'
import { SessionTable as PbSessionTable } from '../pb/raft.ts'
import { decodeResult, encodeResult } from './result-codec.ts'
import type { ApplyOutcome } from './waiters.ts'
import type { SessionStamp } from '../core/index.ts'

/** What applying a command gave, without its term (the caller's entry has it). */
export type Applied = Omit<ApplyOutcome, 'term'>

/** A kept result, in the form snapshots carry: the same on every member, whatever the state machine does with the value later. */
type Kept = { value: string } | { errorName: string, errorMessage: string }

/** The limits every member applies alike: they decide which retried commands are still recognised. */
export interface SessionLimits {
  /** Sessions kept; opening one more drops the least recently used */
  sessions: number
  /** Unacknowledged results kept per session; the oldest go first */
  results: number
  /** Bytes the whole table may take in snapshot metadata; the least recently used sessions go first, then the current one's oldest results */
  bytes: number
}

interface Session {
  /**
   * No sequence up to this one is applied any more: the client acknowledged
   * it, or the result of it or of a later one was dropped (a late first
   * copy of a sequence below a dropped one is refused too: refusing is safe,
   * applying twice is not)
   */
  closedUpTo: number
  /** What each applied, unacknowledged sequence gave, oldest first */
  results: Map<number, Kept>
  /** What the session takes in the encoded table (roughly, erring high) */
  bytes: number
}

/** Rough encoded size of a session's entry and of one result, beside their strings. */
const SESSION_OVERHEAD = 24
const RESULT_OVERHEAD = 16

/**
 * The client sessions of Raft thesis §6.3, as every member keeps them: for
 * each session, what each of its commands gave, so that a command retried
 * under the same (client, sequence) gets its first result instead of being
 * applied again. The table changes only as entries are applied, in log
 * order, and keeps results only in their encoded form, so it is the same on
 * every member at the same index, restored from a snapshot or not; it
 * travels in snapshot metadata.
 *
 * It is bounded by `SessionLimits`, which every member applies alike. A
 * command of a session no longer kept, or of a sequence whose result was
 * dropped, is not applied again: it fails with `SessionExpiredError` (an
 * earlier copy may have been applied).
 */
export class ClientSessionTable {
  private readonly limits: SessionLimits
  /** In order of last use, least recent first */
  private sessions = new Map<number, Session>()
  private bytes = 0

  constructor (limits: SessionLimits) {
    this.limits = limits
  }

  get size (): number {
    return this.sessions.size
  }

  /** What the table takes in snapshot metadata (roughly, erring high) */
  get encodedBytes (): number {
    return this.bytes
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
      return answer(earlier)
    }
    if (stamp.sequence <= session.closedUpTo) {
      return { result: undefined, error: new SessionExpiredError(stamp.client, `The result of sequence ${stamp.sequence} of client session ${stamp.client} is no longer kept; it may have been applied`) }
    }
    const applied = apply()
    if (applied instanceof Promise) {
      return applied.then(outcome => this.keep(stamp.client, session, stamp.sequence, outcome))
    }
    return this.keep(stamp.client, session, stamp.sequence, applied)
  }

  /** The table as snapshot metadata carries it. */
  encode (): Uint8Array {
    return PbSessionTable.encode({
      sessions: [...this.sessions].map(([client, session]) => ({
        client,
        closedUpTo: session.closedUpTo,
        results: [...session.results].map(([sequence, kept]) => ({ sequence, ...kept }))
      }))
    })
  }

  /** Replaces the table with a snapshot's (an empty one when the snapshot carries none). */
  restore (encoded: Uint8Array | undefined): void {
    this.sessions = new Map()
    this.bytes = 0
    if (encoded === undefined) {
      return
    }
    for (const { client, closedUpTo, results } of PbSessionTable.decode(encoded).sessions) {
      const session: Session = { closedUpTo, results: new Map(), bytes: SESSION_OVERHEAD }
      for (const { sequence, value, errorName, errorMessage } of results) {
        const kept: Kept = errorName === undefined ? { value: value ?? encodeResult(undefined) } : { errorName, errorMessage: errorMessage ?? '' }
        session.results.set(sequence, kept)
        session.bytes += keptBytes(kept)
      }
      this.sessions.set(client, session)
      this.bytes += session.bytes
    }
  }

  private open (client: number): void {
    const session: Session = { closedUpTo: 0, results: new Map(), bytes: SESSION_OVERHEAD }
    this.sessions.set(client, session)
    this.bytes += session.bytes
    while (this.sessions.size > this.limits.sessions) {
      this.dropLeastRecent()
    }
  }

  private acknowledge (session: Session, acknowledged: number): void {
    session.closedUpTo = Math.max(session.closedUpTo, acknowledged)
    for (const sequence of session.results.keys()) {
      if (sequence <= acknowledged) {
        this.dropResult(session, sequence)
      }
    }
  }

  /** Keeps what `sequence` gave (in its encoded form), within the limits; the caller gets it as the state machine gave it. */
  private keep (client: number, session: Session, sequence: number, applied: Applied): Applied {
    const kept = keepable(applied)
    session.results.set(sequence, kept)
    const bytes = keptBytes(kept)
    session.bytes += bytes
    this.bytes += bytes
    if (session.results.size > this.limits.results) {
      this.dropOldestResult(session)
    }
    // Over the byte limit: other sessions go first, least recently used first, then this one's oldest results.
    while (this.bytes > this.limits.bytes && this.sessions.size > 1) {
      this.dropLeastRecent()
    }
    while (this.bytes > this.limits.bytes && session.results.size > 0) {
      this.dropOldestResult(session)
    }
    return applied
  }

  private dropLeastRecent (): void {
    const [[client, session]] = this.sessions
    this.sessions.delete(client)
    this.bytes -= session.bytes
  }

  private dropOldestResult (session: Session): void {
    const [oldest] = session.results.keys()
    this.dropResult(session, oldest)
    session.closedUpTo = Math.max(session.closedUpTo, oldest)
  }

  private dropResult (session: Session, sequence: number): void {
    const kept = session.results.get(sequence)
    if (kept !== undefined) {
      session.results.delete(sequence)
      const bytes = keptBytes(kept)
      session.bytes -= bytes
      this.bytes -= bytes
    }
  }
}

/** What an apply gave, as kept: a value as tagged JSON (one that cannot be written is kept as `undefined`), an error as its name and message. */
function keepable (applied: Applied): Kept {
  if (applied.error !== undefined) {
    const error: unknown = applied.error
    if (error instanceof Error) {
      return { errorName: error.name, errorMessage: error.message }
    }
    return { errorName: 'Error', errorMessage: describe(error) }
  }
  try {
    return { value: encodeResult(applied.result) }
  } catch {
    // A circular value, or one whose conversion throws: the same on every member.
    return { value: encodeResult(undefined) }
  }
}

/** A copy's answer: built afresh from the kept form, so no caller can change what the next one gets. */
function answer (kept: Kept): Applied {
  if ('errorName' in kept) {
    return { result: undefined, error: Object.assign(new Error(kept.errorMessage), { name: kept.errorName }) }
  }
  return { result: decodeResult(kept.value) }
}

function describe (value: unknown): string {
  try {
    return String(value)
  } catch {
    return 'a value that is not an Error'
  }
}

function keptBytes (kept: Kept): number {
  return RESULT_OVERHEAD + ('errorName' in kept ? utf8Length(kept.errorName) + utf8Length(kept.errorMessage) : utf8Length(kept.value))
}

/** The UTF-8 length of a string, without encoding it. */
function utf8Length (text: string): number {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : 3
  }
  return bytes
}
