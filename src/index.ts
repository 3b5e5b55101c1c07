/**
 * @packageDocumentation
 *
 * `libp2p-raft` brings Raft consensus to [js-libp2p](https://github.com/libp2p/js-libp2p): a
 * replicated log, and the state machine you build on it, shared by a group of libp2p peers. It is
 * the JavaScript counterpart of go-libp2p-raft, written natively for js-libp2p v3 as a service:
 *
 * - register `raft()` in `createLibp2p({ services })`;
 * - call `libp2p.services.raft.commit(command)` on **any** member (followers forward to the leader);
 * - read linearizably with `libp2p.services.raft.read()`;
 * - change the membership with `addVoter`, `addLearner`, `removeMember`, `transferLeadership`, `join`;
 * - subscribe to typed events (`raft:leader`, `raft:role`, `raft:apply`, `raft:membership`, `raft:snapshot`).
 *
 * It reuses the host: the **datastore** holds the log, term, vote and snapshots under
 * `/raft/<group>/` (the log is compacted behind snapshots), the **peer store** holds members'
 * addresses and keeps their connections alive, and the **protocol registry** carries Raft on
 * `/libp2p-raft/<group>/1.0.0` (and snapshots on `/libp2p-raft/<group>/snapshot/1.0.0`). It opens no
 * sockets and no files itself.
 *
 * Inside, a **pure, deterministic Raft core** (`src/core/`: no clock, no I/O, no randomness of its
 * own) is driven by an I/O shell (`src/service/`), which takes its clock, timers, randomness,
 * network and core through internal seams: the deterministic simulator runs that very shell, so
 * both the algorithm and the service that ships are tested exhaustively, every run seeded and
 * replayable. See "Usage" in the README for a complete program.
 */

import { RaftService } from './service/raft-service.ts'
import type { AbortOptions, ComponentLogger, Libp2pEvents, Metrics, PeerId, PeerStore, TypedEventTarget, TypedEventEmitter } from '@libp2p/interface'
import type { AddressManager, ConnectionManager, Registrar } from '@libp2p/interface-internal'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Datastore } from 'interface-datastore'

/**
 * The replicated state. Every member applies the same commands in the same
 * order, so `apply` must be deterministic: the same command on the same state
 * gives the same result and the same new state everywhere.
 */
export interface StateMachine<R = unknown> {
  /**
   * Applies a committed command. Its return value (or the value its promise
   * resolves to) is what `commit()` resolves with on this node. Commands are
   * applied one at a time, in log order. (`R`, the result type, types
   * `commit()`'s results and `raft:apply` events.)
   */
  apply(command: Uint8Array, entry: { index: number, term: number }): R | Promise<R>
  /**
   * Serialises the whole current state, for log compaction and for
   * followers too far behind to catch up from the log. It is called between
   * two applies (in log order), so it must capture exactly the state after
   * the last applied command: copy it, or serialise it, before returning (a
   * returned promise may finish later, but must resolve to that state). It
   * must be complete (`restore` of it alone rebuilds the state) and
   * deterministic in meaning: every member's snapshot at the same index
   * restores to the same state.
   */
  snapshot(): Uint8Array | Promise<Uint8Array>
  /**
   * Replaces the whole state with a snapshot's (one this node or another
   * member took). Called at start when a snapshot is stored, and when the
   * leader sends one; commands after the snapshot's index are applied next.
   */
  restore(snapshot: Uint8Array): void | Promise<void>
}

/** Options of the `raft()` service. Timing is in milliseconds. `R` is what the state machine's `apply` returns. */
export interface RaftInit<R = unknown> {
  /**
   * The Raft group this node belongs to. Namespaces the protocol
   * (`/libp2p-raft/<group>/1.0.0`) and the datastore keys, so one host can
   * run several groups.
   *
   * @default 'default'
   */
  group?: string

  /**
   * The initial voters, this node included: peer ids (objects or strings) or
   * multiaddrs ending in `/p2p/<id>` (whose addresses also go to the peer
   * store), or `'self'` for a group of this node alone (handy before
   * `createLibp2p` has made the peer id). Used only when nothing is
   * persisted yet; every initial voter must be given the same list. A stored
   * configuration that lists other voters stays in force, with a
   * `'bootstrap-ignored'` warning (see `status().warnings`).
   *
   * Without `bootstrap` (or with an empty list), and without `join`, a node
   * founds no group: it belongs to no configuration and waits for a leader to
   * add it (`addVoter`, `addLearner`), with a `'no-configuration'` warning
   * when neither option was given. So nodes started without a word never
   * each lead a group of their own.
   *
   * @default [] - no group: wait to be added
   */
  bootstrap?: PeerInput[] | 'self'

  /**
   * The replicated state machine.
   *
   * @default one that stores nothing and returns `undefined`
   */
  stateMachine?: StateMachine<R>

  /**
   * A follower that hears nothing from a leader for this long starts an
   * election; the actual timeout is drawn from [electionTimeout, 2 × electionTimeout).
   *
   * @default 1000
   */
  electionTimeout?: number

  /**
   * How often a leader sends heartbeats; also the tick of Raft's clock. Must
   * be well below `electionTimeout` (at most half of it).
   *
   * @default 100
   */
  heartbeatInterval?: number

  /**
   * Run a pre-vote before an election, so a node that was cut off cannot
   * depose a healthy leader when it returns.
   *
   * @default true
   */
  preVote?: boolean

  /**
   * A leader that cannot reach a quorum for an election timeout steps down,
   * and followers that hear from a live leader ignore vote requests.
   *
   * @default true
   */
  checkQuorum?: boolean

  /**
   * How long `commit()`, `waitForLeader()` and the other waiting calls wait
   * when the caller passes no signal.
   *
   * @default 10000
   */
  commitTimeout?: number

  /**
   * How `read()` is confirmed. `'safe'`: the leader checks with a quorum
   * heartbeat round (ReadIndex). `'lease'`: the leader serves reads at once
   * while check-quorum has not deposed it, which is faster but assumes the
   * members' clocks drift by less than the election timeout. Requires
   * `checkQuorum`; use the same mode on every member.
   *
   * @default 'safe'
   */
  readMode?: 'safe' | 'lease'

  /**
   * Most entries in one replication message.
   *
   * @default 256
   */
  maxEntriesPerAppend?: number

  /**
   * Most command bytes in one replication message (a single larger command still goes alone).
   *
   * @default 1048576
   */
  maxBytesPerAppend?: number

  /**
   * Most unacknowledged replication messages in flight to one follower.
   *
   * @default 16
   */
  maxInflightAppends?: number

  /**
   * Largest command `commit()` accepts, in bytes.
   *
   * @default 1048576
   */
  maxCommandSize?: number

  /**
   * Largest frame accepted from a member, in bytes; larger ones reset the
   * stream. Must exceed `maxCommandSize` and `maxBytesPerAppend` by at least
   * 64 KiB. Peers outside the group may send one frame of at most 8 KiB per
   * stream (a join request).
   *
   * @default 4194304
   */
  maxMessageSize?: number

  /**
   * Inbound Raft streams allowed per connection.
   *
   * @default 4
   */
  maxInboundStreams?: number

  /**
   * Outbound frames queued per member before the oldest are dropped.
   *
   * @default 4096
   */
  maxQueuedFrames?: number

  /**
   * Take a snapshot of the state machine, and compact the log behind it,
   * once this many entries were applied since the previous snapshot. Bounds
   * the log in memory and in the datastore, and how much a restart replays.
   *
   * @default 8192
   */
  snapshotThreshold?: number

  /**
   * Applied entries kept in the log behind a snapshot when compacting, so a
   * follower that is only a little behind catches up from the log rather
   * than with a whole snapshot. `0` keeps none.
   *
   * @default 4096
   */
  trailingEntries?: number

  /**
   * Members to ask, in turn, to let this node in when it starts without any
   * stored state: peer ids or multiaddrs ending in `/p2p/<id>`. With `join`
   * set, `bootstrap` is not used; the node waits, outside any configuration,
   * until the leader adds it (see `authorizeJoin`). Ignored once the node
   * has state.
   *
   * @default []
   */
  join?: PeerInput[]

  /**
   * Whether a node joining through `join` asks to become a voter (it joins
   * as a learner, and is promoted once it has caught up) rather than a
   * learner.
   *
   * @default false
   */
  joinAsVoter?: boolean

  /**
   * Decides, on the leader, whether a node that asks to join may: return
   * true to add it (as a learner, or as a voter if it asked to and you
   * allow that). A refused node gets a `JoinRefusedError`.
   *
   * @default refuses every join
   */
  authorizeJoin?(peer: PeerId, request: { voter: boolean }): boolean | Promise<boolean>

  /**
   * Prefix of every datastore key this service writes.
   *
   * @default '/raft'
   */
  datastorePrefix?: string

  /**
   * Where Raft alone keeps its log, term, vote, snapshots and members'
   * addresses, apart from the host's datastore. What an acknowledged commit
   * survives depends on it (docs/durability.md): for one that survives an
   * OS crash or a power loss, pass a `SyncedLevelDatastore` from
   * `libp2p-raft/level`, opened before libp2p starts. Raft does not open
   * or close it.
   *
   * @default the host's datastore (`components.datastore`)
   */
  datastore?: Datastore
}

/** A peer: its id (object or string), or a multiaddr ending in `/p2p/<id>` (whose address goes to the peer store). */
export type PeerInput = PeerId | string | Multiaddr

/** Where a membership change was appended, once committed (for a change already in effect: the configuration in force). */
export interface MembershipResult {
  index: number
  term: number
  /** The leader after the change, when known */
  leader?: PeerId
}

export interface JoinOptions extends AbortOptions {
  /**
   * Ask to become a voter, not only a learner.
   *
   * @default false
   */
  voter?: boolean
}

/** What `raft()` needs from the libp2p node. */
export interface RaftComponents {
  peerId: PeerId
  registrar: Registrar
  connectionManager: ConnectionManager
  peerStore: PeerStore
  datastore: Datastore
  events: TypedEventTarget<Libp2pEvents>
  logger: ComponentLogger
  /** When present, Raft's state is reported as the `libp2p_raft_state` metric group */
  metrics?: Metrics
  /** Where this node listens, told to the leader when it joins */
  addressManager?: AddressManager
}

/**
 * A member's role. A follower running a pre-vote is still reported as a
 * follower: it has not raised its term.
 */
export type RaftRole = 'leader' | 'follower' | 'candidate'

export interface RaftEvents<R = unknown> {
  /** This node's role changed. */
  'raft:role': CustomEvent<{ role: RaftRole, term: number }>
  /** The leader this node knows of changed (`undefined`: none known). */
  'raft:leader': CustomEvent<{ leader: PeerId | undefined, term: number }>
  /** A committed command was applied to this node's state machine. */
  'raft:apply': CustomEvent<{ index: number, term: number, command: Uint8Array, result: R }>
  /** The configuration this node follows changed (it takes effect when appended). */
  'raft:membership': CustomEvent<{ voters: PeerId[], learners: PeerId[], index: number }>
  /**
   * A new snapshot is this node's latest, durable, and the log before it
   * compacted: taken here (`installed: false`), or received from the leader
   * and restored (`installed: true`).
   */
  'raft:snapshot': CustomEvent<{ index: number, term: number, installed: boolean }>
}

/** A snapshot of the node's Raft state, for monitoring. */
export interface RaftStatus {
  peerId: PeerId
  group: string
  role: RaftRole
  term: number
  leader: PeerId | undefined
  /** Highest index known to be committed */
  commitIndex: number
  /** Highest index applied to the state machine on this node */
  appliedIndex: number
  /** Index of the last entry in this node's log */
  lastIndex: number
  /** The last entry this node's latest snapshot covers (0: none yet) */
  snapshotIndex: number
  /** The first entry still in this node's log (earlier ones are compacted into the snapshot) */
  firstIndex: number
  voters: PeerId[]
  learners: PeerId[]
  /** On the leader: how far each follower's log matches */
  followers?: Array<{ peerId: PeerId, match: number, next: number, state: 'probe' | 'replicate' | 'snapshot' }>
  /** Conditions that hold now and may need an operator (each is also logged once, when it arises) */
  warnings: RaftWarning[]
}

/**
 * What a status warning is about:
 *
 * - `'no-configuration'`: this node belongs to no configuration and was given neither `bootstrap` nor `join`; it waits to be added;
 * - `'bootstrap-ignored'`: `bootstrap` lists other voters than the stored configuration, which stays in force;
 * - `'protocol-unsupported'`: a member (`peer`) was identified and does not speak this group's protocol;
 * - `'memory-datastore'`: Raft's state is kept in a datastore that does not survive a restart;
 * - `'storage-failed'`: Raft's datastore failed a write, and this member stopped taking part until it is restarted (see `StorageFailedError`).
 */
export type RaftWarningCode = 'no-configuration' | 'bootstrap-ignored' | 'protocol-unsupported' | 'memory-datastore' | 'storage-failed'

/** A condition worth an operator's attention, in `status().warnings`. */
export interface RaftWarning {
  code: RaftWarningCode
  message: string
  /** The member concerned, if the warning is about one */
  peer?: PeerId
}

/** The result of a committed command. */
export interface CommitResult<R = unknown> {
  index: number
  term: number
  /** What this node's `StateMachine.apply` returned for the command */
  result: R
}

/** Options of `RaftSession.commit()`. */
export interface SessionCommitOptions extends AbortOptions {
  /**
   * Send again the command this session numbered `sequence` (a rejection
   * whose outcome was unknown carries it as `err.sequence`), with the same
   * command bytes: it is applied at most once, and the call resolves with
   * its first result.
   *
   * @default the session's next sequence: a new command
   */
  sequence?: number
}

/** The result of a command committed within a session: its sequence, beside the usual result. */
export interface SessionCommitResult<R = unknown> extends CommitResult<R> {
  sequence: number
}

/**
 * A client session (Raft thesis §6.3): commands committed through it are
 * applied at most once, however often they are sent, and exactly once when
 * a call resolves. Each command gets the next sequence number; the session
 * sends it, under the same (session, sequence), as often as it takes before
 * the deadline (across leader changes, lost answers and timeouts), and
 * every member's session table applies it once and answers the copies with
 * the first result, so the state machine never sees a duplicate. Every
 * rejection carries the command's `sequence` on the error; when its outcome
 * is unknown (`CommitTimeoutError`, `NoLeaderError`, an abort while
 * waiting, ...) pass it in `options.sequence` with the same command to send
 * it again and get the original result.
 *
 * The members keep a session's results until the client has them, within
 * limits every member applies alike: 64 results per session (counted from
 * its oldest unanswered sequence), 1024 sessions (the least recently used
 * go first) and 256 KiB for the whole table (it travels in snapshots). A
 * copy whose session or result is no longer kept is refused with
 * `SessionExpiredError`: that copy was not applied, but an earlier one may
 * have been, so the outcome stays unknown. Retry soon, not much later.
 * Results are kept as tagged JSON: plain data (JSON values, `undefined`,
 * `bigint`, `Uint8Array`) comes back to a copy as it was, anything else as
 * `undefined`; an error comes back with its name and message.
 */
export interface RaftSession<R = unknown> {
  /** The session's id: the index of the log entry that opened it */
  readonly id: number

  /** Commits a command exactly once (see the interface); waits at most `commitTimeout`, or until `options.signal` aborts. */
  commit(command: Uint8Array, options?: SessionCommitOptions): Promise<SessionCommitResult<R>>
}

/** `R` is what the state machine's `apply` returns (`unknown` unless you type it). */
export interface Raft<R = unknown> extends TypedEventEmitter<RaftEvents<R>> {
  readonly role: RaftRole
  readonly term: number
  readonly leader: PeerId | undefined
  readonly commitIndex: number
  readonly appliedIndex: number

  /** The configuration this node follows. */
  members(): { voters: PeerId[], learners: PeerId[] }

  /**
   * Replicates a command and resolves once it is committed and applied on
   * this node, with this node's apply result. Works on any member: a
   * follower forwards the command to the leader. Waits at most `commitTimeout`
   * (or until `options.signal` aborts). Rejects with `NoLeaderError` or
   * `NotCommittedError` when the command is definitely not committed, and
   * with `CommitTimeoutError` when its outcome is unknown. When
   * `options.signal` aborts (as with every call here that waits) it rejects
   * with libp2p's `AbortError`: before the call, nothing was done; during it,
   * the outcome is unknown unless the message says it was not appended.
   */
  commit(command: Uint8Array, options?: AbortOptions): Promise<CommitResult<R>>

  /**
   * Opens a client session, whose commands are applied exactly once even
   * when retried across leader changes and timeouts (see `RaftSession`).
   * Appends one entry (through the leader, like `commit()`); its index is
   * the session's id.
   */
  openSession(options?: AbortOptions): Promise<RaftSession<R>>

  /**
   * A linearizable read barrier: resolves once this node has applied
   * everything committed before the call began, so reading local state
   * afterwards is linearizable. The leader confirms it still leads with a
   * quorum heartbeat round (ReadIndex, batched across concurrent reads) or,
   * with `readMode: 'lease'`, its lease; a follower asks the leader. A
   * deposed or partitioned leader never completes a read: it rejects with
   * `NoLeaderError` at the deadline.
   */
  read(options?: AbortOptions): Promise<{ index: number }>

  /**
   * Resolves once this node has applied every entry it knew to be committed
   * when called. Local and cheap; not a linearizable read (see `read`).
   */
  barrier(options?: AbortOptions): Promise<{ index: number }>

  /** Resolves with the leader once one is known (at most `commitTimeout` without a signal). */
  waitForLeader(options?: AbortOptions): Promise<PeerId>

  /**
   * Takes a snapshot of everything applied so far (unless the latest one
   * already covers it), compacts the log behind it and resolves once it is
   * durable, with the last entry it covers. Snapshots are also taken
   * automatically (see `snapshotThreshold`).
   */
  snapshot(options?: AbortOptions): Promise<{ index: number, term: number }>

  /**
   * Adds a learner: a member that receives the log (or a snapshot) but does
   * not vote or count for the quorum. Runs on the leader (a follower
   * forwards it) and resolves once the change is committed. One change at a
   * time: rejects with `MembershipChangeInProgressError` while another runs.
   */
  addLearner(peer: PeerInput, options?: AbortOptions): Promise<MembershipResult>

  /**
   * Adds a voter. A new or lagging peer first follows as a learner and is
   * promoted only once it has caught up, so adding a slow node never stalls
   * commits; rejects with `CatchUpTimeoutError` if it does not catch up
   * before the deadline. Then a peer this call added as a learner is
   * removed again (the removal commits on its own, shortly after), while a
   * peer that was a learner before stays one. Promotes a learner the same
   * way. On a follower (which forwards it) it rejects with the same errors
   * as on the leader: the leader gives up a little before the follower's
   * deadline, so its answer arrives.
   */
  addVoter(peer: PeerInput, options?: AbortOptions): Promise<MembershipResult>

  /**
   * Removes a voter or learner. Removing the leader itself is allowed: it
   * commits the change, then steps down. Refuses to remove the last voter.
   */
  removeMember(peer: PeerInput, options?: AbortOptions): Promise<MembershipResult>

  /**
   * Hands leadership to `peer`, or to the most up-to-date voter: the leader
   * catches it up, then tells it to campaign at once. Commits wait meanwhile.
   * Resolves with the new leader; rejects with `LeadershipTransferError` if
   * it did not take over within an election timeout (the old leader leads on).
   */
  transferLeadership(peer?: PeerInput, options?: AbortOptions): Promise<PeerId>

  /**
   * Asks `peer`, a member, to let this node (which belongs to no
   * configuration yet) in; the leader's `authorizeJoin` decides. Resolves
   * once this node is in the configuration; rejects with `JoinRefusedError`
   * when refused. A node already in the configuration (a voter, if `voter`
   * is asked for) resolves at once with the configuration in force. Nodes
   * started with `join` do this by themselves.
   */
  join(peer: PeerInput, options?: JoinOptions): Promise<MembershipResult>

  status(): RaftStatus
}

/**
 * Creates the Raft service factory for `createLibp2p({ services: { raft: raft(init) } })`.
 */
export function raft<R = unknown> (init: RaftInit<R> = {}): (components: RaftComponents) => Raft<R> {
  return (components) => new RaftService<R>(components, init)
}

export { AbortError, CatchUpTimeoutError, CommitTimeoutError, InvalidParametersError, InvalidSnapshotError, JoinRefusedError, LeadershipTransferError, LeadershipTransferInProgressError, MembershipChangeInProgressError, NoLeaderError, NotCommittedError, NotLeaderError, NotMemberError, NotStartedError, NotVoterError, SessionExpiredError, SnapshotTransferError, StorageFailedError, TimeoutError } from './errors.ts'
export { recoverCluster, type RecoverClusterOptions, type RecoveryResult } from './tools/recover-cluster.ts'
