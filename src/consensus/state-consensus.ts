import { jsonCodec } from './codec.ts'
import { ReplicatedState } from './replicated-state.ts'
import type { ConsensusInit } from './replicated-state.ts'
import type { AbortOptions } from '@libp2p/interface'

/** Options of `StateConsensus`: the initial state, and the codec of the states in the log and in snapshots. */
export type StateConsensusInit<State> = ConsensusInit<State>

/**
 * State consensus (go-libp2p-consensus `Consensus`): members agree on a
 * whole state, which `commitState()` replaces. It is an op log whose only op
 * is "replace with this state", so the entries are `type: 'op'` with the new
 * state as `op`; `rollback()` does the same replacement tagged `'rollback'`.
 */
export class StateConsensus<State> extends ReplicatedState<State, State, undefined> {
  constructor (init: StateConsensusInit<State>) {
    const codec = init?.stateCodec ?? jsonCodec<State>()
    super({
      initialState: init?.initialState,
      transition: (_state, next) => ({ state: next, result: undefined }),
      stateCodec: codec,
      opCodec: codec,
      logger: init?.logger
    })
  }

  /**
   * Replaces the state on every member, from any member. Resolves once
   * applied here; every member, this one included, holds a decoded copy,
   * never `state` itself. Rejects as `raft.commit()` does.
   */
  async commitState (state: State, options?: AbortOptions): Promise<void> {
    await this.commitEntry('op', this.opCodec.encode(state), options)
  }
}
