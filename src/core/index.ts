/**
 * The Raft algorithm as a pure, deterministic state machine.
 */
export { RaftCore, bootstrapState, resolveCoreOptions, CORE_DEFAULTS } from './raft.ts'
export type { CoreInit, CoreOptions, CoreState } from './raft.ts'
export type * from './types.ts'
