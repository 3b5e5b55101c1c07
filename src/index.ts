/**
 * @packageDocumentation
 *
 * Raft consensus for js-libp2p.
 *
 * This release ships the deterministic Raft core: the whole algorithm as a
 * pure state machine with no clock, I/O or randomness of its own. The
 * `raft()` libp2p service that drives it over real streams and the host's
 * datastore is built on top of it.
 *
 * @example Driving the core by hand
 *
 * ```TypeScript
 * import { RaftCore, bootstrapState } from 'libp2p-raft'
 *
 * const core = new RaftCore({ id: 'a', state: bootstrapState(['a']), random: Math.random })
 * while (core.role !== 'leader') {
 *   core.tick()
 *   const ready = core.ready()
 *   // write ready.hardState and ready.entries, send the messages, apply ready.committed …
 *   core.advance(ready)
 * }
 * ```
 */

export { RaftCore, bootstrapState, CORE_DEFAULTS } from './core/index.ts'
export type * from './core/index.ts'
export { InvalidParametersError, NotLeaderError } from './errors.ts'
