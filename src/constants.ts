/** Defaults of `RaftInit`; each is documented where `RaftInit` declares it. */

export const GROUP = 'default'
export const DATASTORE_PREFIX = '/raft'
const PROTOCOL_PREFIX = '/libp2p-raft'
const PROTOCOL_VERSION = '1.0.0'

/** A follower campaigns after hearing nothing for this long (randomized up to twice as long). */
export const ELECTION_TIMEOUT = 1000
/** A leader's heartbeat period; also the tick of Raft's logical clock. */
export const HEARTBEAT_INTERVAL = 100
/** How long `commit()` and the other waiting calls wait by default. */
export const COMMIT_TIMEOUT = 10_000

/** Largest command `commit()` accepts. */
export const MAX_COMMAND_SIZE = 1024 * 1024
/** Largest frame read from a stream; must leave room for a command plus framing. */
export const MAX_MESSAGE_SIZE = 4 * 1024 * 1024
/** Inbound Raft streams allowed per connection (one is normal; more covers reconnect overlap). */
export const MAX_INBOUND_STREAMS = 4
/** Frames queued for one peer before the oldest are dropped (Raft re-sends what matters). */
export const MAX_QUEUED_FRAMES = 4096
/** How long opening a stream to a member may take. */
export const DIAL_TIMEOUT = 5000

/** Largest frame read from a peer that is not a member: room for a join request, nothing more. */
export const MAX_OUTSIDER_FRAME = 8 * 1024
/** Streams from peers that are not members read at once, over all connections; more are reset at once. */
export const MAX_OUTSIDER_STREAMS = 64
/** How long a stream from a non-member may take to deliver its one frame, so idle ones do not hold those places. */
export const OUTSIDER_READ_TIMEOUT = 5000
/** Applied entries since the latest snapshot that trigger a new one. */
export const SNAPSHOT_THRESHOLD = 8192
/** Applied entries kept in the log behind a snapshot, so slightly slow followers catch up without one. */
export const TRAILING_ENTRIES = 4096
/** Bytes per snapshot chunk, in the datastore and on a snapshot stream. */
export const SNAPSHOT_CHUNK_SIZE = 256 * 1024
/** The protocol suffix of snapshot streams: `/libp2p-raft/<group>/snapshot/<version>`. */
const SNAPSHOT_PROTOCOL_SUFFIX = 'snapshot'

/** The protocol a group's Raft frames travel on: `/libp2p-raft/<group>/1.0.0` */
export function raftProtocol (group: string): string {
  return `${PROTOCOL_PREFIX}/${group}/${PROTOCOL_VERSION}`
}

/** The protocol a group's snapshots travel on: `/libp2p-raft/<group>/snapshot/1.0.0` */
export function snapshotProtocol (group: string): string {
  return `${PROTOCOL_PREFIX}/${group}/${SNAPSHOT_PROTOCOL_SUFFIX}/${PROTOCOL_VERSION}`
}
/** A snapshot transfer may take this long plus the time its size needs at `SNAPSHOT_MIN_RATE`. */
export const SNAPSHOT_TIMEOUT = 10_000
/** The slowest transfer rate (bytes per second) a snapshot's timeout allows for. */
export const SNAPSHOT_MIN_RATE = 1024 * 1024

/** Forwarded commands a leader remembers having appended, so one that arrives again is not appended twice. */
export const RECENT_FORWARDS = 65_536

/** The peer store tag that keeps connections to members open (the `keep-alive` prefix makes libp2p redial them). */
export const KEEP_ALIVE_TAG = 'keep-alive-libp2p-raft'

/**
 * The client session table's limits. Part of the protocol, not options:
 * every member must apply the same ones, or their tables (and so what they
 * apply) would differ.
 */
export const SESSION_LIMITS = {
  /** Sessions kept; the least recently used are dropped first */
  sessions: 1024,
  /** Unacknowledged results kept per session; the oldest are dropped first */
  results: 64,
  /** Bytes the table may take in snapshot metadata (it rides in the snapshot offer frame) */
  bytes: 256 * 1024
}
