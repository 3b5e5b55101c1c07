/**
 * What the service takes from outside the process, behind internal seams:
 * its clock and timers, its randomness, the network that carries its frames
 * and snapshots, and the core it drives. Users always get the real ones
 * (`defaultSeams`); the deterministic simulator passes a virtual clock, a
 * seeded random source, a simulated network and, to prove that its checks
 * bite, deliberately broken cores. They are not part of `RaftInit`.
 */
import { DIAL_TIMEOUT, OUTSIDER_READ_TIMEOUT, SESSION_LIMITS, SNAPSHOT_CHUNK_SIZE, SNAPSHOT_MIN_RATE, SNAPSHOT_TIMEOUT, raftProtocol, snapshotProtocol } from '../constants.ts'
import { RaftCore } from '../core/index.ts'
import { RaftNetwork } from '../network/raft-network.ts'
import { SnapshotTransfer } from '../network/snapshot-transfer.ts'
import { systemClock } from './system-clock.ts'
import type { SessionLimits } from './session-table.ts'
import type { CoreInit, NodeId } from '../core/index.ts'
import type { RaftComponents } from '../index.ts'
import type { FrameHandler, MemberCheck } from '../network/raft-network.ts'
import type { OutgoingSnapshot, SnapshotOfferHandler } from '../network/snapshot-transfer.ts'
import type { RaftOptions } from '../options.ts'
import type { Frame } from '../pb/raft.ts'
import type { AbortOptions, PeerId } from '@libp2p/interface'

/** A node's time and timers. Every wait in the service goes through it. */
export interface Clock {
  /** The current time in milliseconds */
  now(): number
  /** Calls `fn` every `ms` milliseconds; returns a function that stops it */
  every(ms: number, fn: () => void): () => void
  /** Calls `fn` once, `ms` milliseconds from now; returns a function that cancels it */
  after(ms: number, fn: () => void): () => void
  /** Calls `fn` once the work running now, and the I/O callbacks already due, are done */
  soon(fn: () => void): void
}

/** Carries frames to and from the other members; the service decides what to trust. */
export interface FrameTransport {
  start(): Promise<void>
  stop(): Promise<void>
  /** Queues a frame for a member; never waits and never throws (Raft tolerates loss) */
  send(to: NodeId, frame: Frame): void
  /** `peer` connected again: stop waiting out the pause after a failed send */
  reconnected(peer: NodeId): void
}

/** Carries snapshots, each over a channel of its own, so their size never delays Raft's frames. */
export interface SnapshotChannel {
  start(): Promise<void>
  /** Ends every transfer in flight; once it resolves, no sink it was given is used again */
  stop(): Promise<void>
  /** Resolves once the receiver accepted the snapshot; rejects with why not */
  send(peer: PeerId, snapshot: OutgoingSnapshot, options?: AbortOptions): Promise<void>
}

export interface ServiceSeams {
  clock: Clock
  /** The only randomness: returns a number in [0, 1) */
  random(): number
  /**
   * Builds the frame transport; `onFrame` is called with each frame and its
   * authenticated sender, and `isMember` tells whose frames may be large
   */
  transport(onFrame: FrameHandler, isMember: MemberCheck): FrameTransport
  /** Builds the snapshot channel; `onOffer` decides on each snapshot offered */
  snapshotChannel(onOffer: SnapshotOfferHandler): SnapshotChannel
  /** Builds the core, at every start */
  makeCore(init: CoreInit): RaftCore
  /** The client session table's limits (the simulator lowers them to make sessions expire) */
  sessionLimits: SessionLimits
}

/** The seams users run with: the system clock, `Math.random`, libp2p streams and the real core. */
export function defaultSeams (components: RaftComponents, options: RaftOptions): ServiceSeams {
  return {
    clock: systemClock,
    random: Math.random,
    sessionLimits: SESSION_LIMITS,
    transport: (onFrame, isMember) => new RaftNetwork(components, {
      protocol: raftProtocol(options.group),
      maxMessageSize: options.maxMessageSize,
      maxQueuedFrames: options.maxQueuedFrames,
      maxInboundStreams: options.maxInboundStreams,
      outsiderReadTimeout: OUTSIDER_READ_TIMEOUT,
      dialTimeout: DIAL_TIMEOUT
    }, onFrame, isMember),
    snapshotChannel: (onOffer) => new SnapshotTransfer(components, {
      protocol: snapshotProtocol(options.group),
      maxChunkSize: SNAPSHOT_CHUNK_SIZE,
      timeout: SNAPSHOT_TIMEOUT,
      minBytesPerSecond: SNAPSHOT_MIN_RATE
    }, onOffer),
    makeCore: (init) => new RaftCore(init)
  }
}
