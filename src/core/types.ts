/**
 * The data the Raft core reads and writes: log entries, hard state, the
 * cluster configuration and the messages peers exchange. Plain objects only,
 * so the shell can encode them however it likes.
 */

/** A member's identity. The service uses the peer id's string form. */
export type NodeId = string

/** The core's roles; `pre-candidate` is a follower running a pre-vote (thesis §9.6). */
export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader'

/** Multiaddrs (string form, without `/p2p/<id>`) by member. */
export type AddressBook = Record<NodeId, string[]>

/** Who votes and who only receives the log. */
export interface Configuration {
  voters: NodeId[]
  learners: NodeId[]
  /**
   * Where members listened, as the leader knew when it made this
   * configuration: replicated with it, so every member can reach every other
   * one, however it joined. The core carries it and never reads it.
   */
  addresses?: AddressBook
}

interface EntryBase {
  index: number
  term: number
}

/** A user command to apply to the state machine. */
export interface CommandEntry extends EntryBase {
  type: 'command'
  data: Uint8Array
  /**
   * The id of the forwarded request that proposed it, if a member forwarded
   * it: that member recognises the entry when it applies it, whatever its
   * index, so it learns the outcome even when the leader's answer is lost.
   */
  request?: number
  /** Where the command belongs in a client session, if it was sent within one */
  session?: SessionStamp
}

/**
 * Marks a command sent within a client session (Raft thesis §6.3), so that
 * a command retried under the same stamp is applied once. The core carries
 * it and never reads it. Sequence 0 opens a session, whose id is then the
 * entry's index.
 */
export interface SessionStamp {
  client: number
  sequence: number
  /** Every sequence up to this one has its answer: their results need not be kept */
  acknowledged: number
}

/** The empty entry a new leader appends so that it can commit entries of earlier terms. */
export interface NoopEntry extends EntryBase {
  type: 'noop'
}

/** A new configuration; it takes effect as soon as it is appended to a log. */
export interface ConfigEntry extends EntryBase {
  type: 'config'
  config: Configuration
}

export type Entry = CommandEntry | NoopEntry | ConfigEntry

/** What must survive a crash before the node may speak again. */
export interface HardState {
  term: number
  /** The candidate this node voted for in `term`, if any */
  vote?: NodeId
  /** The highest index known to be committed (lets a restart re-apply without waiting for a leader) */
  commit: number
}

/** The last entry a snapshot covers and the configuration in force at it. */
export interface SnapshotMeta {
  index: number
  term: number
  config: Configuration
  /** The client sessions' table at this index, encoded by the shell; the core carries it and never reads it */
  sessions?: Uint8Array
}

interface MessageBase {
  from: NodeId
  to: NodeId
  term: number
}

/** RequestVote, or its pre-vote probe (which changes no term or vote). */
export interface VoteRequest extends MessageBase {
  type: 'vote-request'
  preVote: boolean
  lastIndex: number
  lastTerm: number
  /** The leader asked this candidate to take over: voters must not ignore it for having a live leader */
  transfer?: boolean
}

export interface VoteResponse extends MessageBase {
  type: 'vote-response'
  preVote: boolean
  granted: boolean
  /** On a refusal for having a live leader: who that leader is */
  leader?: NodeId
}

/** AppendEntries. `entries` may be empty: it then only carries the commit index. */
export interface AppendRequest extends MessageBase {
  type: 'append-request'
  prevIndex: number
  prevTerm: number
  entries: Entry[]
  commit: number
}

/**
 * The answer to AppendEntries. On success `index` is the last index now known
 * to match the leader's log. On rejection `index` is the rejected `prevIndex`
 * and `hintIndex`/`hintTerm` name the last entry of the follower's log that
 * may still match, so the leader can skip a whole divergent term at once.
 */
export interface AppendResponse extends MessageBase {
  type: 'append-response'
  success: boolean
  index: number
  hintIndex: number
  hintTerm: number
}

/**
 * A leader's liveness beacon. It carries no log position, so it is never
 * rejected and never disturbs pipelined replication.
 */
export interface HeartbeatRequest extends MessageBase {
  type: 'heartbeat-request'
  /** The leader's commit index, capped at what this follower is known to hold */
  commit: number
  /** The newest read-index round; echoed back, it confirms the reads up to it */
  context: number
}

export interface HeartbeatResponse extends MessageBase {
  type: 'heartbeat-response'
  /** The context of the heartbeat answered (0 for a reply to a stale leader) */
  context: number
}

/** A follower asks the leader for a read index on behalf of its read `id`. */
export interface ReadIndexRequest extends MessageBase {
  type: 'read-index-request'
  id: number
}

/** The leader's answer: read `id` may be served once `index` is applied. */
export interface ReadIndexResponse extends MessageBase {
  type: 'read-index-response'
  id: number
  index: number
}

/**
 * InstallSnapshot, for a follower whose next entry the leader has compacted
 * away. The shells move the snapshot's data on the side: the receiving shell
 * steps this message only once the data arrived whole and verified. The
 * follower answers with an `AppendResponse`.
 */
export interface SnapshotRequest extends MessageBase {
  type: 'snapshot-request'
  snapshot: SnapshotMeta
}

/** A leader hands over: the receiver, caught up, campaigns at once (leadership transfer, thesis §3.10). */
export interface TimeoutNow extends MessageBase {
  type: 'timeout-now'
}

/** A change of membership, made one at a time by the leader. */
export type ConfigChange =
  | { type: 'add-learner', id: NodeId }
  | { type: 'add-voter', id: NodeId }
  | { type: 'remove', id: NodeId }

export type Message = TimeoutNow | VoteRequest | VoteResponse | AppendRequest | AppendResponse | HeartbeatRequest | HeartbeatResponse | ReadIndexRequest | ReadIndexResponse | SnapshotRequest

/** A confirmed linearizable read: state may be read once `index` is applied. */
export interface ReadState {
  id: number
  index: number
}

/** Something the shell should tell its users about. */
export type Notification =
  | { type: 'role', role: Role, term: number }
  | { type: 'leader', leader: NodeId | undefined, term: number }
  | { type: 'config', config: Configuration, index: number }
  /** A leadership transfer started (`to`) or ended (`to` undefined: done, or abandoned) */
  | { type: 'transfer', to: NodeId | undefined }

/**
 * One batch of work for the shell. Handle batches one at a time, in order:
 * send `messages` (they depend on nothing unwritten, and a `snapshot-request`
 * among them asks the shell to stream its latest snapshot's data); install
 * `snapshot` (if set); durably write `hardState` (if set) and `entries`
 * (they replace every stored entry from `entries[0].index` on, so a stored
 * tail beyond the last one must be deleted); then send
 * `messagesAfterPersist`; apply `committed` in order; and call
 * `advance(ready)`.
 */
export interface Ready {
  /**
   * A snapshot received from the leader that replaces this node's log: make
   * its (already received) data this node's latest snapshot, delete every
   * stored log entry, and restore the state machine from it.
   */
  snapshot?: SnapshotMeta
  hardState?: HardState
  entries: Entry[]
  messages: Message[]
  messagesAfterPersist: Message[]
  committed: Entry[]
  notifications: Notification[]
  /** Reads confirmed since the last batch */
  readStates: ReadState[]
}
