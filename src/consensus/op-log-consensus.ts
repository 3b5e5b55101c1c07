import { InvalidParametersError } from '../errors.ts'
import { jsonCodec } from './codec.ts'
import { ReplicatedState } from './replicated-state.ts'
import type { Codec } from './codec.ts'
import type { ConsensusInit, EntryInfo } from './replicated-state.ts'
import type { AbortOptions } from '@libp2p/interface'

export interface OpLogConsensusInit<State, Op, Result = unknown> extends ConsensusInit<State> {
  /**
   * Applies a committed op to the state, in log order on every member, and
   * returns the op's result (what `commitOp()` resolves with). It must be
   * synchronous and deterministic, and it **mutates `state` in place**.
   *
   * To reject an op, throw **before changing anything**: check first, then
   * mutate (or compute the new values, then assign them). A thrown op
   * leaves the state as it was on every member and rejects the committing
   * caller with that very error; later ops are applied normally. No copy of
   * the state is ever made, so ops cost the same on a state of any size.
   */
  apply(state: State, op: Op, entry: EntryInfo): Result
  /**
   * Encodes ops in the log.
   *
   * @default jsonCodec()
   */
  opCodec?: Codec<Op>
}

/**
 * Op-log consensus (go-libp2p-consensus `OpLogConsensus`): a state that
 * members change by committing ops, which every member applies in the same
 * order with the same `apply`.
 *
 * @example
 *
 * ```TypeScript
 * const pins = new OpLogConsensus<{ pins: Record<string, string> }, PinOp, number>({
 *   initialState: () => ({ pins: {} }),
 *   apply (state, op) {
 *     if (op.type === 'unpin' && state.pins[op.cid] === undefined) {
 *       throw new Error('not pinned') // check first…
 *     }
 *     if (op.type === 'pin') { // …then mutate
 *       state.pins[op.cid] = op.name
 *     } else {
 *       delete state.pins[op.cid]
 *     }
 *     return Object.keys(state.pins).length
 *   }
 * })
 * const node = await createLibp2p({ services: { raft: raft({ bootstrap, stateMachine: pins.stateMachine }) } })
 * pins.attach(node.services.raft)
 * const count = await pins.commitOp({ type: 'pin', cid, name: 'logo' })
 * ```
 */
export class OpLogConsensus<State, Op, Result = unknown> extends ReplicatedState<State, Op, Result> {
  constructor (init: OpLogConsensusInit<State, Op, Result>) {
    if (typeof init?.apply !== 'function') {
      throw new InvalidParametersError('apply must be a function')
    }
    const apply = init.apply
    super({
      initialState: init.initialState,
      transition: (state, op, entry) => ({ state, result: apply(state, op, entry) }),
      stateCodec: init.stateCodec ?? jsonCodec<State>(),
      opCodec: init.opCodec ?? jsonCodec<Op>(),
      logger: init.logger
    })
  }

  /**
   * Commits an op, from any member (followers forward to the leader), and
   * resolves with this node's `apply` result once it is applied here. If
   * `apply` threw, rejects with that error (the state is unchanged
   * everywhere). Otherwise rejects as `raft.commit()` does.
   */
  async commitOp (op: Op, options?: AbortOptions): Promise<Result> {
    return await this.commitEntry('op', this.opCodec.encode(op), options) as Result
  }
}
