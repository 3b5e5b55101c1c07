import * as c from './constants.ts'
import { CORE_DEFAULTS, resolveCoreOptions } from './core/index.ts'
import { InvalidParametersError } from './errors.ts'
import type { CoreOptions } from './core/index.ts'
import type { StateMachine, RaftInit } from './index.ts'
import type { Datastore } from 'interface-datastore'

/** Every `RaftInit` field with its default filled in and checked (but the datastore, which the service resolves beside the host's). */
export type RaftOptions = Required<Omit<RaftInit, 'bootstrap' | 'datastore'>> & Pick<RaftInit, 'bootstrap'>

/** Joins are refused unless the leader's `authorizeJoin` says otherwise. */
const REFUSE_JOINS = (): boolean => false

/** A state machine that keeps nothing: useful for a pure replicated log. */
const NOOP_STATE_MACHINE: StateMachine = {
  apply: () => undefined,
  snapshot: () => new Uint8Array(0),
  restore: () => {}
}

const FRAME_OVERHEAD = 64 * 1024

export function resolveOptions (init: RaftInit): RaftOptions {
  const options: RaftOptions = {
    group: init.group ?? c.GROUP,
    bootstrap: init.bootstrap,
    stateMachine: init.stateMachine ?? NOOP_STATE_MACHINE,
    electionTimeout: init.electionTimeout ?? c.ELECTION_TIMEOUT,
    heartbeatInterval: init.heartbeatInterval ?? c.HEARTBEAT_INTERVAL,
    preVote: init.preVote ?? CORE_DEFAULTS.preVote,
    checkQuorum: init.checkQuorum ?? CORE_DEFAULTS.checkQuorum,
    readMode: init.readMode ?? CORE_DEFAULTS.readMode,
    commitTimeout: init.commitTimeout ?? c.COMMIT_TIMEOUT,
    maxEntriesPerAppend: init.maxEntriesPerAppend ?? CORE_DEFAULTS.maxEntriesPerAppend,
    maxBytesPerAppend: init.maxBytesPerAppend ?? CORE_DEFAULTS.maxBytesPerAppend,
    maxInflightAppends: init.maxInflightAppends ?? CORE_DEFAULTS.maxInflightAppends,
    maxCommandSize: init.maxCommandSize ?? c.MAX_COMMAND_SIZE,
    maxMessageSize: init.maxMessageSize ?? c.MAX_MESSAGE_SIZE,
    maxInboundStreams: init.maxInboundStreams ?? c.MAX_INBOUND_STREAMS,
    maxQueuedFrames: init.maxQueuedFrames ?? c.MAX_QUEUED_FRAMES,
    snapshotThreshold: init.snapshotThreshold ?? c.SNAPSHOT_THRESHOLD,
    trailingEntries: init.trailingEntries ?? c.TRAILING_ENTRIES,
    join: init.join ?? [],
    joinAsVoter: init.joinAsVoter ?? false,
    authorizeJoin: init.authorizeJoin ?? REFUSE_JOINS,
    datastorePrefix: init.datastorePrefix ?? c.DATASTORE_PREFIX
  }
  const counts = ['electionTimeout', 'heartbeatInterval', 'commitTimeout', 'maxCommandSize', 'maxMessageSize', 'maxInboundStreams', 'maxQueuedFrames', 'snapshotThreshold'] as const
  for (const key of counts) {
    const value = options[key]
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      throw new InvalidParametersError(`${key} must be a positive integer, got ${String(value)}`)
    }
  }
  if (typeof options.trailingEntries !== 'number' || !Number.isInteger(options.trailingEntries) || options.trailingEntries < 0) {
    throw new InvalidParametersError(`trailingEntries must be a non-negative integer, got ${String(options.trailingEntries)}`)
  }
  if (typeof options.group !== 'string' || !/^[\w.-]+$/.test(options.group)) {
    throw new InvalidParametersError(`group must be a non-empty string of letters, digits, '.', '_' or '-', got ${String(options.group)}`)
  }
  if (typeof options.datastorePrefix !== 'string' || !options.datastorePrefix.startsWith('/')) {
    throw new InvalidParametersError(`datastorePrefix must start with '/', got ${String(options.datastorePrefix)}`)
  }
  if (options.heartbeatInterval * 2 > options.electionTimeout) {
    throw new InvalidParametersError(`heartbeatInterval (${options.heartbeatInterval}) must be at most half of electionTimeout (${options.electionTimeout})`)
  }
  // The core checks its own settings (read mode, booleans, batching limits) the same way it will at start.
  resolveCoreOptions(coreOptions(options))
  if (options.maxMessageSize < Math.max(options.maxCommandSize, options.maxBytesPerAppend) + FRAME_OVERHEAD) {
    throw new InvalidParametersError(`maxMessageSize (${options.maxMessageSize}) must exceed maxCommandSize and maxBytesPerAppend by at least ${FRAME_OVERHEAD} bytes`)
  }
  const sm = options.stateMachine
  if (typeof sm?.apply !== 'function' || typeof sm.snapshot !== 'function' || typeof sm.restore !== 'function') {
    throw new InvalidParametersError('stateMachine must have apply, snapshot and restore methods')
  }
  const store = init.datastore as Partial<Datastore> | null | undefined
  if (store !== undefined && (typeof store?.batch !== 'function' || typeof store.put !== 'function' || typeof store.get !== 'function' || typeof store.query !== 'function')) {
    throw new InvalidParametersError('datastore must be an interface-datastore Datastore (with put, get, query and batch)')
  }
  if (options.bootstrap !== undefined && options.bootstrap !== 'self' && !Array.isArray(options.bootstrap)) {
    throw new InvalidParametersError(`bootstrap must be 'self' or an array of peer ids or multiaddrs, got ${String(options.bootstrap)}`)
  }
  if (!Array.isArray(options.join)) {
    throw new InvalidParametersError('join must be an array of peer ids or multiaddrs')
  }
  if (typeof options.joinAsVoter !== 'boolean') {
    throw new InvalidParametersError(`joinAsVoter must be a boolean, got ${String(options.joinAsVoter)}`)
  }
  if (typeof options.authorizeJoin !== 'function') {
    throw new InvalidParametersError('authorizeJoin must be a function')
  }
  return options
}

/** The settings the core runs with. */
export function coreOptions (options: RaftOptions): CoreOptions {
  const { preVote, checkQuorum, readMode, maxEntriesPerAppend, maxBytesPerAppend, maxInflightAppends } = options
  return { preVote, checkQuorum, readMode, maxEntriesPerAppend, maxBytesPerAppend, maxInflightAppends, ...coreTicks(options) }
}

/** The core's tick-based settings derived from the millisecond ones. */
export function coreTicks (options: RaftOptions): { electionTicks: number, heartbeatTicks: number } {
  return { electionTicks: Math.round(options.electionTimeout / options.heartbeatInterval), heartbeatTicks: 1 }
}
