import { InvalidEntryError, InvalidParametersError, NotAttachedError } from '../errors.ts'
import { GuardedEventEmitter } from '../service/guarded-events.ts'
import { decodeEntry, encodeEntry } from './entry.ts'
import type { Codec } from './codec.ts'
import type { ConsensusEntryType } from './entry.ts'
import type { Raft, StateMachine } from '../index.ts'
import type { AbortOptions, ComponentLogger, Logger, PeerId } from '@libp2p/interface'
import type { EventHandler } from 'main-event'

/** Where an entry sits in the Raft log. */
export interface EntryInfo {
  index: number
  term: number
}

/** The `detail` of a `consensus:update` event: one applied entry. */
export interface ConsensusUpdate<State, Op, Result = unknown> {
  /** The entry's log index */
  index: number
  /** The term the entry was appended in */
  term: number
  /** `'op'` for `commitOp`/`commitState`, `'rollback'` for `rollback` */
  type: ConsensusEntryType
  /**
   * The state after the entry: the helper's live object, to read, not to
   * mutate (copy what you keep). Unchanged when `error` is set.
   */
  state: State
  /** The decoded op (type `'op'`; for `StateConsensus`, the committed state) */
  op?: Op
  /** What `apply` returned (type `'op'`, when it did not throw) */
  result?: Result
  /** What `apply` threw: the op was rejected on every member and the state is unchanged */
  error?: Error
}

export interface ConsensusEvents<State, Op, Result = unknown> {
  /**
   * Every op and rollback entry applied on this node, in log order,
   * including rejected ops (with `error`). Dispatched synchronously as the
   * entry is applied, before `commitOp()`/`commitState()`/`rollback()` resolve,
   * so none is ever dropped; listeners that throw are logged and ignored.
   */
  'consensus:update': CustomEvent<ConsensusUpdate<State, Op, Result>>
  /** The state was replaced by a Raft snapshot (`stateMachine.restore`). */
  'consensus:restore': CustomEvent<{ state: State }>
}

export interface GetCurrentStateOptions extends AbortOptions {
  /**
   * Wait for `raft.read()` first, so the state includes every entry
   * committed, by any member, before the call. Needs `attach()`.
   *
   * @default false - this node's state as applied so far
   */
  linearizable?: boolean
}

/** Options shared by `OpLogConsensus` and `StateConsensus`. */
export interface ConsensusInit<State> {
  /**
   * Creates the state every member starts from, before the first entry.
   * Must return the same value on every member.
   */
  initialState(): State
  /**
   * Encodes states in rollback entries and snapshots.
   *
   * @default jsonCodec()
   */
  stateCodec?: Codec<State>
  /**
   * Logs errors thrown by event listeners (under `libp2p:raft:consensus`),
   * e.g. `defaultLogger()` from `@libp2p/logger`.
   *
   * @default nothing is logged
   */
  logger?: ComponentLogger
}

/**
 * How an op turns the current state into the next one. It returns the next
 * state (which may be the same, mutated object) and the op's result, or
 * throws to reject the op without having changed the state.
 */
export type Transition<State, Op, Result> = (state: State, op: Op, entry: EntryInfo) => { state: State, result: Result }

/** What the subclasses pass to {@link ReplicatedState}. */
export interface ReplicatedStateInit<State, Op, Result> {
  initialState(): State
  transition: Transition<State, Op, Result>
  stateCodec: Codec<State>
  opCodec: Codec<Op>
  logger?: ComponentLogger
}

/**
 * What `OpLogConsensus` and `StateConsensus` share: a state replicated
 * through a Raft log of tagged entries (ops and rollbacks), the
 * `StateMachine` that applies them, reads (local or linearizable), the
 * actor view of leadership, snapshots through the codec, and events.
 */
export abstract class ReplicatedState<State, Op, Result> extends GuardedEventEmitter<ConsensusEvents<State, Op, Result>> {
  /**
   * Pass it to the service: `raft({ stateMachine: consensus.stateMachine })`.
   * Its `apply` decodes each entry and applies it; its `snapshot`/`restore`
   * encode and decode the whole state with `stateCodec`.
   */
  readonly stateMachine: StateMachine

  protected readonly stateCodec: Codec<State>
  protected readonly opCodec: Codec<Op>
  private readonly transition: Transition<State, Op, Result>
  private current: State
  private raft: Raft | undefined

  protected constructor (init: ReplicatedStateInit<State, Op, Result>) {
    super(init.logger?.forComponent('libp2p:raft:consensus') ?? silentLogger())
    if (typeof init.initialState !== 'function') {
      throw new InvalidParametersError('initialState must be a function')
    }
    assertCodec(init.stateCodec, 'stateCodec')
    assertCodec(init.opCodec, 'opCodec')
    this.transition = init.transition
    this.stateCodec = init.stateCodec
    this.opCodec = init.opCodec
    this.current = init.initialState()
    this.stateMachine = {
      apply: (command, entry) => this.applyEntry(command, entry),
      snapshot: () => this.stateCodec.encode(this.current),
      restore: (snapshot) => {
        this.current = this.stateCodec.decode(snapshot)
        if (this.listenerCount('consensus:restore') > 0) {
          this.safeDispatchEvent('consensus:restore', { detail: { state: this.current } })
        }
      }
    }
  }

  addEventListener<K extends keyof ConsensusEvents<State, Op, Result>>(type: K, listener: EventHandler<ConsensusEvents<State, Op, Result>[K]> | null, options?: boolean | AddEventListenerOptions): void {
    super.addEventListener(type, listener as EventListenerOrEventListenerObject | null, options)
  }

  removeEventListener<K extends keyof ConsensusEvents<State, Op, Result>>(type: K, listener?: EventHandler<ConsensusEvents<State, Op, Result>[K]> | null, options?: boolean | EventListenerOptions): void {
    super.removeEventListener(type, listener as EventListenerOrEventListenerObject | null | undefined, options)
  }

  /**
   * Connects the helper to the Raft service it is the state machine of, once
   * the node exists: `consensus.attach(node.services.raft)`. Entries are
   * applied before that too; only commits, linearizable reads and the actor
   * view need it.
   */
  attach (raft: Raft): void {
    if (raft == null || typeof raft.commit !== 'function') {
      throw new InvalidParametersError('attach() needs the Raft service (node.services.raft)')
    }
    if (this.raft !== undefined && this.raft !== raft) {
      throw new InvalidParametersError('This helper is already attached to another Raft service')
    }
    this.raft = raft
  }

  /** The leader this node knows of (`undefined`: none, or not attached). */
  get leader (): PeerId | undefined {
    return this.raft?.leader
  }

  /** Whether this node is the leader. Any member can commit; this is for information. */
  get isLeader (): boolean {
    return this.raft?.role === 'leader'
  }

  /**
   * The state as applied on this node so far, without waiting: the live
   * object, to read, not to mutate (change it through commits only).
   */
  get state (): State {
    return this.current
  }

  /**
   * The current state: this node's (`getCurrentState()`), or with
   * `{ linearizable: true }` one that includes every entry committed before
   * the call, whichever member committed it (waits for `raft.read()`; rejects
   * as `read()` does, e.g. when `signal` aborts or there is no leader).
   * Resolves with the live object, to read, not to mutate.
   */
  async getCurrentState (options: GetCurrentStateOptions = {}): Promise<State> {
    if (options.linearizable === true) {
      await this.attached().read(options)
    }
    return this.current
  }

  /**
   * Commits an entry that replaces the state with `state` on every member,
   * tagged as a rollback (`type: 'rollback'` in `consensus:update`, type
   * byte `0x02` in the log). Resolves once applied on this node. Members
   * apply a decoded copy, never `state` itself.
   */
  async rollback (state: State, options?: AbortOptions): Promise<void> {
    await this.commitEntry('rollback', this.stateCodec.encode(state), options)
  }

  /** Commits a tagged entry through the attached service; resolves with this node's apply result. */
  protected async commitEntry (type: ConsensusEntryType, payload: Uint8Array, options?: AbortOptions): Promise<unknown> {
    const { result } = await this.attached().commit(encodeEntry(type, payload), options)
    return result
  }

  private attached (): Raft {
    if (this.raft === undefined) {
      throw new NotAttachedError()
    }
    return this.raft
  }

  /**
   * `StateMachine.apply`: decodes the entry and applies it. A throwing op
   * leaves `current` as it was and is re-thrown, so the service rejects the
   * committing caller with it.
   */
  private applyEntry (command: Uint8Array, entry: EntryInfo): unknown {
    const { type, payload } = decodeEntry(command)
    const index = entry.index
    const term = entry.term
    if (type === 'rollback') {
      this.current = decodeWith(this.stateCodec, payload)
      this.emitUpdate({ index, term, type, state: this.current })
      return undefined
    }
    const op = decodeWith(this.opCodec, payload)
    let next: { state: State, result: Result }
    try {
      next = this.transition(this.current, op, { index, term })
    } catch (err: any) {
      this.emitUpdate({ index, term, type, state: this.current, op, error: err })
      throw err
    }
    this.current = next.state
    this.emitUpdate({ index, term, type, state: this.current, op, result: next.result })
    return next.result
  }

  private emitUpdate (detail: ConsensusUpdate<State, Op, Result>): void {
    if (this.listenerCount('consensus:update') > 0) {
      this.safeDispatchEvent('consensus:update', { detail })
    }
  }
}

function decodeWith<T> (codec: Codec<T>, bytes: Uint8Array): T {
  try {
    return codec.decode(bytes)
  } catch (err: any) {
    throw new InvalidEntryError(`The codec cannot decode the entry: ${err?.message ?? String(err)}`)
  }
}

function assertCodec (codec: Codec<any> | undefined, name: string): void {
  if (typeof codec?.encode !== 'function' || typeof codec.decode !== 'function') {
    throw new InvalidParametersError(`${name} must have encode and decode methods`)
  }
}

/** Without a ComponentLogger nothing is logged (as libp2p loggers do unless `DEBUG` enables them). */
function silentLogger (): Logger {
  return Object.assign((): void => {}, {
    error: (): void => {},
    trace: (): void => {},
    enabled: false,
    newScope: (): Logger => silentLogger()
  })
}
