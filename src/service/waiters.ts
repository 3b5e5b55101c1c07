import { AbortError } from '@libp2p/interface'
import { equals } from 'uint8arrays/equals'
import { CommitTimeoutError, NotCommittedError } from '../errors.ts'
import { Deadline } from './deadline.ts'
import type { Clock } from './seams.ts'
import type { CommitResult } from '../index.ts'
import type { RaftOptions } from '../options.ts'
import type { AbortOptions } from '@libp2p/interface'

/** How long a call may wait: the caller's signal, and a time limit in ms shorter than `commitTimeout` */
export interface WaitOptions extends AbortOptions {
  timeout?: number
}

/** What applying one entry produced: the state machine's result or error, and the entry's term. */
export interface ApplyOutcome {
  term: number
  result: unknown
  error?: Error
}

/** How far this node has applied its log, as the waiters for applied entries need to know. */
export interface AppliedLog {
  /** The last entry the state machine holds */
  readonly appliedIndex: number
}

interface ApplyWaiter {
  term: number
  resolve(result: CommitResult): void
  reject(err: Error): void
}

/** A command forwarded to the leader of `term` under a request id, waiting to learn its fate. */
interface ForwardWaiter {
  term: number
  command: Uint8Array
  resolve(result: CommitResult): void
  reject(err: Error): void
}

/** A forwarded command's request: its id, and the command (an entry with the id must carry it too). */
export interface ForwardedRequest {
  id: number
  command: Uint8Array
}

/** The rejections this registry made because an entry was proven not committed (a state machine may throw its own of that name). */
const notCommitted = new WeakSet<Error>()

/** Whether `err` proves that the command it rejects was not committed, so it may be sent again. */
export function provenNotCommitted (err: unknown): boolean {
  return err instanceof Error && notCommitted.has(err)
}

function notCommittedError (index: number, term: number, message?: string): NotCommittedError {
  const err = new NotCommittedError(index, term, message)
  notCommitted.add(err)
  return err
}

interface ReadWaiter {
  /** When to ask again if no answer came */
  retryAt: number
  settle(index: number | undefined): void
}

interface ConditionWaiter {
  check(): boolean
  resolve(): void
}

/**
 * Every call in flight that waits on this node, in one registry: for an
 * entry to be applied, for a forwarded command's request id to be applied
 * or proven lost, for a read index, for a condition on the node's state
 * (checked on every tick and batch), and for the next leader. Each wait ends at its call's `Deadline`, which this
 * registry creates (`commitTimeout` from now, or the caller's signal),
 * expires on the tick and releases. The driver settles the waits as its
 * batches are applied; nothing here touches the core.
 */
export class Waiters {
  private readonly clock: Clock
  private readonly options: Pick<RaftOptions, 'commitTimeout' | 'electionTimeout'>
  private readonly log: AppliedLog
  private readonly deadlines = new Set<Deadline>()
  private readonly applies = new Map<number, ApplyWaiter[]>()
  /** By request id */
  private readonly forwards = new Map<number, ForwardWaiter>()
  /** The lowest term among `forwards`: entries of no later term can prove any lost */
  private lowestForwardTerm = Infinity
  /** By read id */
  private readonly reads = new Map<number, ReadWaiter>()
  private readonly conditions = new Set<ConditionWaiter>()
  private readonly leaderWaiters = new Set<() => void>()

  constructor (clock: Clock, options: Pick<RaftOptions, 'commitTimeout' | 'electionTimeout'>, log: AppliedLog) {
    this.clock = clock
    this.options = options
    this.log = log
  }

  // ---- deadlines ----------------------------------------------------------

  /** The caller's signal, bounded by `commitTimeout` or a shorter `timeout` (checked on each tick) and by `stop()`. */
  deadline (options: WaitOptions): Deadline {
    const deadline = new Deadline(this.clock.now() + Math.min(this.options.commitTimeout, options.timeout ?? Infinity), options.signal)
    this.deadlines.add(deadline)
    return deadline
  }

  release (deadline: Deadline): void {
    deadline.dispose()
    this.deadlines.delete(deadline)
  }

  /**
   * Runs `fn` under a fresh deadline, released once it settles. A call whose
   * signal aborted, before it started or while it waited, rejects with
   * libp2p's `AbortError`; its message says what the call had reached (a
   * commit appended but not applied has an unknown outcome).
   */
  async within<T> (options: WaitOptions, fn: (deadline: Deadline) => Promise<T>): Promise<T> {
    const aborted = (): boolean => options.signal?.aborted === true
    if (aborted()) {
      throw new AbortError('The call was aborted before it started')
    }
    const deadline = this.deadline(options)
    try {
      return await fn(deadline)
    } catch (err: any) {
      if (deadline.failure !== undefined) {
        // Whatever the call made of its wait ending, the node's failure is why.
        throw deadline.failure
      }
      if (aborted() && deadline.expired) {
        throw new AbortError(`The call was aborted: ${String(err?.message ?? err)}`)
      }
      throw err
    } finally {
      this.release(deadline)
    }
  }

  /** The service stops: every call in flight gives up now. */
  expireAll (): void {
    for (const deadline of [...this.deadlines]) {
      deadline.expire()
    }
  }

  /** The node cannot go on (its storage failed): every call in flight ends with `err`. */
  failAll (err: Error): void {
    for (const deadline of [...this.deadlines]) {
      deadline.fail(err)
    }
  }

  /** On every tick: overdue deadlines expire, reads left unanswered ask again, conditions are checked. */
  tick (): void {
    const now = this.clock.now()
    for (const deadline of this.deadlines) {
      if (deadline.expiresAt <= now) {
        deadline.expire()
      }
    }
    for (const waiter of this.reads.values()) {
      if (waiter.retryAt <= now) {
        waiter.settle(undefined)
      }
    }
    this.checkConditions()
  }

  // ---- conditions and leaders ---------------------------------------------

  /** Resolves once `condition` holds (checked on every tick and batch), or rejects with `onExpire()` at the deadline. */
  async until (condition: () => boolean, deadline: Deadline, onExpire: () => Error): Promise<void> {
    if (condition()) {
      return
    }
    await deadline.wait<void>(onExpire, (resolve) => {
      const waiter = { check: condition, resolve }
      this.conditions.add(waiter)
      return () => { this.conditions.delete(waiter) }
    })
  }

  /** Resolves once this node has applied up to `index`. */
  async appliedUpTo (index: number, deadline: Deadline): Promise<void> {
    await this.until(() => this.log.appliedIndex >= index, deadline, () => new CommitTimeoutError(index, undefined, `This node had not applied up to index ${index} before the deadline`))
  }

  /** After every batch. */
  checkConditions (): void {
    for (const waiter of [...this.conditions]) {
      if (waiter.check()) {
        this.conditions.delete(waiter)
        waiter.resolve()
      }
    }
  }

  /** Resolves at the next change of leader (to one or to none). */
  async nextLeader (deadline: Deadline, onExpire: () => Error): Promise<void> {
    await deadline.wait<void>(onExpire, (resolve) => {
      this.leaderWaiters.add(resolve)
      return () => { this.leaderWaiters.delete(resolve) }
    })
  }

  /** The leader changed: reads asked of the previous one were dropped with its office, and ask again. */
  leaderChanged (): void {
    for (const waiter of [...this.reads.values()]) {
      waiter.settle(undefined)
    }
    const waiters = [...this.leaderWaiters]
    this.leaderWaiters.clear()
    for (const resolve of waiters) {
      resolve()
    }
  }

  // ---- reads --------------------------------------------------------------

  /** The read index for read `id`, or undefined when no answer came within an election timeout (ask again). */
  async readIndex (id: number, deadline: Deadline, onExpire: () => Error): Promise<number | undefined> {
    return deadline.wait(onExpire, (resolve) => {
      this.reads.set(id, {
        retryAt: this.clock.now() + this.options.electionTimeout,
        settle: (index) => {
          this.reads.delete(id)
          resolve(index)
        }
      })
      return () => { this.reads.delete(id) }
    })
  }

  /** The core confirmed read `id` at `index`. */
  readState (id: number, index: number): void {
    this.reads.get(id)?.settle(index)
  }

  // ---- applied entries ----------------------------------------------------

  /**
   * Resolves once the entry at `index` is applied here: ours if its term is
   * `term`, someone else's otherwise. Called right after this node appended
   * the entry, so it is never applied yet.
   */
  async waitApplied (index: number, term: number, deadline: Deadline): Promise<CommitResult> {
    return deadline.wait(() => new CommitTimeoutError(index, term), (resolve, reject) => {
      const waiter: ApplyWaiter = { term, resolve, reject }
      this.applies.set(index, [...(this.applies.get(index) ?? []), waiter])
      return () => {
        const rest = this.applies.get(index)?.filter(w => w !== waiter) ?? []
        if (rest.length === 0) {
          this.applies.delete(index)
        } else {
          this.applies.set(index, rest)
        }
      }
    })
  }

  /**
   * Resolves once the command forwarded under `request` to the leader of
   * `term` is applied here, with this node's result. Rejects with
   * `NotCommittedError` once an entry of a later term is applied without it
   * (a leader appends a forwarded command only in the term it was sent for,
   * and a later term's entries follow all of that term's), with
   * `CommitTimeoutError` when a snapshot may have covered it or at the
   * deadline (its outcome is unknown then), and with `refuse`'s error.
   */
  async waitForwarded (request: ForwardedRequest, term: number, deadline: Deadline): Promise<CommitResult> {
    const onExpire = (): Error => new CommitTimeoutError(undefined, term, `The command was forwarded to the leader of term ${term}; whether it was committed was not known here before the deadline`)
    return deadline.wait(onExpire, (resolve, reject) => {
      this.forwards.set(request.id, { term, command: request.command, resolve, reject })
      this.lowestForwardTerm = Math.min(this.lowestForwardTerm, term)
      return () => { this.forwards.delete(request.id) }
    })
  }

  /** The leader refused the forwarded command outright: it can never be appended. */
  refuse (request: number, err: Error): void {
    const waiter = this.forwards.get(request)
    this.forwards.delete(request)
    waiter?.reject(err)
  }

  /**
   * The entry at `index` was applied: its waiters learn the outcome; so do
   * the waiters of the forwarded `request` it carries, if any, and those its
   * term proves lost.
   */
  applied (index: number, outcome: ApplyOutcome, request?: ForwardedRequest): void {
    const waiters = this.applies.get(index)
    this.applies.delete(index)
    for (const waiter of waiters ?? []) {
      settle(waiter, index, outcome)
    }
    if (this.forwards.size > 0) {
      this.appliedForForwards(index, outcome, request)
    }
  }

  private appliedForForwards (index: number, outcome: ApplyOutcome, request: ForwardedRequest | undefined): void {
    const mine = request === undefined ? undefined : this.forwards.get(request.id)
    // The id is random: the command must match too, or another member's request drew the same id.
    if (request !== undefined && mine !== undefined && equals(mine.command, request.command)) {
      this.forwards.delete(request.id)
      settle(mine, index, outcome)
    }
    if (outcome.term <= this.lowestForwardTerm) {
      return
    }
    this.lowestForwardTerm = Infinity
    for (const [id, waiter] of this.forwards) {
      if (waiter.term < outcome.term) {
        this.forwards.delete(id)
        waiter.reject(notCommittedError(index, waiter.term, `The command forwarded to the leader of term ${waiter.term} is not among that term's entries, which all precede the entry of term ${outcome.term} at index ${index}; it was not committed`))
      } else {
        this.lowestForwardTerm = Math.min(this.lowestForwardTerm, waiter.term)
      }
    }
  }

  /**
   * The state machine now holds a snapshot's state, up to `index` (of
   * `term`). Commands waiting for an entry the snapshot covers cannot learn
   * whether that entry was theirs, nor can forwarded commands whose term's
   * entries it may cover.
   */
  restored (index: number, term: number): void {
    for (const [id, waiter] of this.forwards) {
      if (waiter.term <= term) {
        this.forwards.delete(id)
        waiter.reject(new CommitTimeoutError(undefined, waiter.term, `The entries of term ${waiter.term} may have arrived inside a snapshot; whether one was this command is unknown`))
      }
    }
    for (const [waited, waiters] of this.applies) {
      if (waited <= index) {
        this.applies.delete(waited)
        for (const waiter of waiters) {
          waiter.reject(new CommitTimeoutError(waited, waiter.term, `The entry at index ${waited} arrived inside a snapshot; whether it was this command is unknown`))
        }
      }
    }
  }
}

/** Settles a waiter for the entry of its term at `index`, now applied. */
function settle (waiter: { term: number, resolve(result: CommitResult): void, reject(err: Error): void }, index: number, outcome: ApplyOutcome): void {
  try {
    waiter.resolve(settled(index, waiter.term, outcome))
  } catch (err: any) {
    waiter.reject(err)
  }
}

/** What a waiter for (index, term) gets once the entry at index is applied. */
function settled (index: number, term: number, outcome: ApplyOutcome): CommitResult {
  if (outcome.term !== term) {
    throw notCommittedError(index, term)
  }
  if (outcome.error !== undefined) {
    throw outcome.error
  }
  return { index, term, result: outcome.result }
}
