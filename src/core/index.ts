/**
 * The Raft algorithm as a pure, deterministic state machine.
 */
export { RaftCore, bootstrapState, resolveCoreOptions, CORE_DEFAULTS } from './raft-core.ts'
export type { CoreInit, CoreOptions, CoreState } from './raft-core.ts'
export type * from './types.ts'
