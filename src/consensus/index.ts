/**
 * go-libp2p-consensus style helpers on top of the Raft service: op-log and
 * whole-state consensus with pluggable codecs, rollbacks, linearizable reads
 * and lossless update events.
 */
export { JsonCodec, jsonCodec } from './codec.ts'
export { consensusEntryType } from './entry.ts'
export { InvalidEntryError, NotAttachedError } from '../errors.ts'
export { OpLogConsensus } from './op-log-consensus.ts'
export { ReplicatedState } from './replicated-state.ts'
export { StateConsensus } from './state-consensus.ts'
export type { Codec } from './codec.ts'
export type { ConsensusEntryType } from './entry.ts'
export type { OpLogConsensusInit } from './op-log-consensus.ts'
export type { ConsensusEvents, ConsensusInit, ConsensusUpdate, EntryInfo, GetCurrentStateOptions, ReplicatedStateInit, Transition } from './replicated-state.ts'
export type { StateConsensusInit } from './state-consensus.ts'
