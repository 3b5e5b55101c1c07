import { InvalidParametersError, LeadershipTransferInProgressError, MembershipChangeInProgressError, NotLeaderError } from '../errors.ts'
import { LeaderLease } from './leader-lease.ts'
import { RaftLog } from './log.ts'
import { Progress } from './progress.ts'
import { quorumIndex, voteOutcome } from './quorum.ts'
import { ReadIndexTracker } from './read-index.ts'
import type { ConfirmedRead } from './read-index.ts'
import type { AddressBook, AppendRequest, AppendResponse, CommandEntry, ConfigChange, ConfigEntry, Configuration, Entry, HardState, HeartbeatRequest, Message, NodeId, Notification, ReadState, Ready, Role, SessionStamp, SnapshotMeta, SnapshotRequest, VoteRequest, VoteResponse } from './types.ts'

/** Tuning of the core, in ticks and counts. */
export interface CoreOptions {
  /**
   * Ticks without hearing from a leader before a follower campaigns. The
   * actual timeout is drawn from [electionTicks, 2 × electionTicks).
   *
   * @default 10
   */
  electionTicks?: number
  /**
   * Ticks between a leader's heartbeats; must be below `electionTicks`.
   *
   * @default 1
   */
  heartbeatTicks?: number
  /**
   * Run a pre-vote round before raising the term, so a node that was cut off
   * cannot depose a healthy leader when it returns (thesis §9.6).
   *
   * @default true
   */
  preVote?: boolean
  /**
   * A leader that has not heard from a quorum within an election timeout
   * steps down, and followers that hear from a live leader ignore votes.
   *
   * @default true
   */
  checkQuorum?: boolean
  /**
   * Most entries in one AppendEntries request.
   *
   * @default 256
   */
  maxEntriesPerAppend?: number
  /**
   * Most command bytes in one AppendEntries request (one entry is always sent).
   *
   * @default 1048576
   */
  maxBytesPerAppend?: number
  /**
   * Most unacknowledged AppendEntries requests in flight to one follower.
   *
   * @default 16
   */
  maxInflightAppends?: number
  /**
   * How a leader confirms a read. `'safe'`: a heartbeat round acknowledged
   * by a quorum (ReadIndex). `'lease'`: no round; the leader trusts that
   * check-quorum deposes it within an election timeout, which assumes
   * bounded clock drift between members. Requires `checkQuorum`, and every
   * member must use the same mode: with leases, a node that just started
   * refuses votes for an election timeout, since it may have backed a
   * leader's lease just before.
   *
   * @default 'safe'
   */
  readMode?: 'safe' | 'lease'
}

/** What a node recovered from durable storage (all empty for a new node). */
export interface CoreState {
  hardState?: HardState
  /**
   * The stored entries, contiguous, starting right after the snapshot, or at
   * or before it when compaction kept entries behind it (the first one then
   * only marks where the log starts)
   */
  entries?: Entry[]
  /** The latest durable snapshot; the state machine holds its state */
  snapshot?: SnapshotMeta
}

export interface CoreInit extends CoreOptions {
  id: NodeId
  state?: CoreState
  /**
   * The last index the state machine already holds (it kept its state across
   * a restart): committed entries up to it are not handed out again.
   *
   * @default 0
   */
  applied?: number
  /** The only source of randomness: returns a number in [0, 1) */
  random(): number
}

export const CORE_DEFAULTS: Required<CoreOptions> = {
  electionTicks: 10,
  heartbeatTicks: 1,
  preVote: true,
  checkQuorum: true,
  maxEntriesPerAppend: 256,
  maxBytesPerAppend: 1024 * 1024,
  maxInflightAppends: 16,
  readMode: 'safe'
}

/**
 * The durable state a brand-new cluster starts from: a configuration entry
 * at index 1, term 1. Every initial voter must start from the same one.
 */
export function bootstrapState (voters: NodeId[]): Required<Omit<CoreState, 'snapshot'>> {
  if (voters.length === 0) {
    throw new InvalidParametersError('a cluster needs at least one voter')
  }
  const config: Configuration = { voters: [...new Set(voters)], learners: [] }
  return {
    hardState: { term: 1, commit: 0 },
    entries: [{ type: 'config', index: 1, term: 1, config }]
  }
}

/**
 * The Raft algorithm as a deterministic state machine, after etcd-io/raft.
 * It has no clock, no I/O and no randomness of its own: the shell calls
 * `tick()`, `step()` and `propose()`, then collects the resulting work with
 * `ready()` and reports it done with `advance()`.
 *
 * It is one long class on purpose, like etcd's `raft.go`: every rule of the
 * protocol reads and writes the same term, role, vote and configuration, so
 * splitting it would spread one invariant over several files. The concepts
 * that stand alone live beside it: the log, per-follower progress and its
 * in-flight window, quorum math, read-index rounds and the leader lease.
 */
export class RaftCore {
  readonly id: NodeId
  private readonly options: Required<CoreOptions>
  private readonly random: () => number
  readonly log: RaftLog

  private _term: number
  private _vote: NodeId | undefined
  private _role: Role = 'follower'
  private _leader: NodeId | undefined
  private _config: Configuration
  /** The log entry the configuration comes from (undefined: from the snapshot) */
  private configEntry: ConfigEntry | undefined
  /**
   * The latest snapshot: what a follower without the compacted entries is
   * sent, and the configuration in force when the log holds no
   * configuration entry
   */
  private _snapshot: SnapshotMeta
  /** A snapshot received from the leader that the shell has yet to install */
  private snapshotToInstall: SnapshotMeta | undefined

  private electionElapsed = 0
  private heartbeatElapsed = 0
  private randomizedElectionTimeout = 0
  private readonly votes = new Map<NodeId, boolean>()
  private readonly progress = new Map<NodeId, Progress>()
  /**
   * On the leader: members a configuration change removed, by the index of
   * that change. They still get the log until they hold the change (so they
   * learn they were removed), or for an election timeout after it commits.
   */
  private readonly departing = new Map<NodeId, number>()
  /** On the leader: the voter it is handing leadership to, and ticks since it started */
  private transferee: NodeId | undefined
  private transferElapsed = 0
  /**
   * Set once this leader started handing over: its transferee may win a
   * vote that ignores leases (and a late TimeoutNow can still make it), so
   * the lease cannot vouch for reads for the rest of the term.
   */
  private leaseRevoked = false
  /** Set when new entries or a new commit index should go out to followers at the next ready */
  private broadcastPending = false

  private readonly reads = new ReadIndexTracker()
  private readonly lease: LeaderLease
  /** Ticks since this node started: the leader's clock for its lease */
  private ticks = 0
  private readStates: ReadState[] = []
  private messages: Message[] = []
  private messagesAfterPersist: Message[] = []
  private notifications: Notification[] = []
  private persisted: HardState
  private reported: { role: Role, leader: NodeId | undefined }

  constructor (init: CoreInit) {
    this.id = init.id
    this.options = resolveCoreOptions(init)
    this.random = init.random
    this.lease = new LeaderLease(this.options.electionTicks)
    const state = init.state ?? {}
    this._snapshot = state.snapshot ?? { index: 0, term: 0, config: { voters: [], learners: [] } }
    const hardState = state.hardState ?? { term: 0, commit: 0 }
    this.log = new RaftLog(this._snapshot, state.entries ?? [], hardState.commit, init.applied)
    this._term = hardState.term
    this._vote = hardState.vote
    this.persisted = { ...hardState }
    this.configEntry = this.log.lastConfigEntry()
    this._config = this.configEntry?.config ?? this._snapshot.config
    this.reported = { role: this._role, leader: undefined }
    this.resetElectionTimeout()
  }

  get term (): number { return this._term }
  get vote (): NodeId | undefined { return this._vote }
  get role (): Role { return this._role }
  get leader (): NodeId | undefined { return this._leader }
  get config (): Configuration { return this._config }
  get commitIndex (): number { return this.log.committed }
  /** The latest snapshot this node has taken or received */
  get snapshot (): SnapshotMeta { return this._snapshot }
  /** A snapshot received from the leader that this core took and the shell has yet to install */
  get pendingInstall (): SnapshotMeta | undefined { return this.snapshotToInstall }

  /** The leader's view of a follower's replication, for status reports. */
  progressOf (id: NodeId): Readonly<Progress> | undefined {
    return this.progress.get(id)
  }

  private isVoter (id: NodeId = this.id): boolean {
    return this._config.voters.includes(id)
  }

  private peers (): NodeId[] {
    return [...this._config.voters, ...this._config.learners].filter(id => id !== this.id)
  }

  // ---- inputs -------------------------------------------------------------

  /** Advances the logical clock by one tick. */
  tick (): void {
    this.ticks++
    this.electionElapsed++
    if (this._role === 'leader') {
      this.tickLeader()
    } else if (this.electionElapsed >= this.randomizedElectionTimeout && this.isVoter()) {
      this.campaign(this.options.preVote ? 'pre-vote' : 'vote')
    }
  }

  private tickLeader (): void {
    this.heartbeatElapsed++
    if (this.transferee !== undefined && ++this.transferElapsed >= this.options.electionTicks) {
      // The transferee did not take over in time: stay leader and accept commands again.
      this.endTransfer()
    }
    if (this.electionElapsed >= this.options.electionTicks) {
      this.electionElapsed = 0
      this.forgetDeparted()
      if (this.options.checkQuorum) {
        if (!this.quorumActive()) {
          this.becomeFollower(this._term, undefined)
          return
        }
        for (const pr of this.progress.values()) {
          pr.recentActive = false
        }
      }
    }
    if (this.heartbeatElapsed >= this.options.heartbeatTicks) {
      this.heartbeatElapsed = 0
      this.broadcastHeartbeat()
    }
  }

  /**
   * Appends a command to the leader's log, marked with the id of the
   * forwarded `request` that carried it and its client `session` stamp, if
   * any. Throws `NotLeaderError`
   * elsewhere, and `LeadershipTransferInProgressError` while handing
   * leadership over.
   */
  propose (data: Uint8Array, request?: number, session?: SessionStamp): { index: number, term: number } {
    if (this._role !== 'leader') {
      throw new NotLeaderError(this._leader)
    }
    if (this.transferee !== undefined) {
      throw new LeadershipTransferInProgressError(this.transferee)
    }
    if (!this.isVoter()) {
      // It removed itself and steps down once that commits: what it took now only the next leader would apply.
      throw new NotLeaderError(undefined)
    }
    const entry: CommandEntry = { type: 'command', index: this.log.lastIndex() + 1, term: this._term, data }
    if (request !== undefined) {
      entry.request = request
    }
    if (session !== undefined) {
      entry.session = session
    }
    this.appendAsLeader(entry)
    return { index: entry.index, term: entry.term }
  }

  /**
   * Asks for a linearizable read; its confirmation comes back as a
   * `ReadState` with the same `id` in a later batch. A follower forwards the
   * request to its leader. Returns false when no leader is known (nothing
   * will come back). A request can be lost with a leader change; callers
   * retry after a timeout.
   */
  readIndex (id: number): boolean {
    if (this._role === 'leader') {
      this.reads.add({ id, from: this.id })
      return true
    }
    if (this._leader === undefined) {
      return false
    }
    this.send({ type: 'read-index-request', from: this.id, to: this._leader, term: this._term, id })
    return true
  }

  // ---- membership ---------------------------------------------------------

  /**
   * Whether the leader may append a configuration change now: one change at
   * a time (the last one is committed), and only once an entry of its own
   * term is committed, so a change never builds on one a previous leader
   * left uncommitted (the 2015 single-server membership fix).
   */
  canChangeConfig (): boolean {
    return this._role === 'leader' &&
      this.log.term(this.log.committed) === this._term &&
      (this.configEntry === undefined || this.configEntry.index <= this.log.committed)
  }

  /**
   * Appends a configuration entry with one member added, promoted or
   * removed; it takes effect at once. Throws `NotLeaderError` off the
   * leader, `MembershipChangeInProgressError` until `canChangeConfig()`,
   * and `InvalidParametersError` for a change that changes nothing or would
   * leave no voter. The new configuration keeps the members' addresses,
   * updated with `addresses`.
   */
  proposeConfigChange (change: ConfigChange, addresses: AddressBook = {}): { index: number, term: number } {
    if (this._role !== 'leader') {
      throw new NotLeaderError(this._leader)
    }
    if (this.transferee !== undefined) {
      throw new LeadershipTransferInProgressError(this.transferee)
    }
    if (!this.canChangeConfig()) {
      throw new MembershipChangeInProgressError()
    }
    const config = withAddresses(applyChange(this._config, change), { ...this._config.addresses, ...addresses })
    const entry: Entry = { type: 'config', index: this.log.lastIndex() + 1, term: this._term, config }
    this.appendAsLeader(entry)
    return { index: entry.index, term: entry.term }
  }

  /**
   * Hands leadership to the voter `to` (by default the one whose log is the
   * most up to date): once its log matches, it is told to campaign at once.
   * Commands are refused meanwhile; after an election timeout without a new
   * leader this node leads on as before. Returns the transferee.
   */
  transferLeadership (to?: NodeId): NodeId {
    if (this._role !== 'leader') {
      throw new NotLeaderError(this._leader)
    }
    const target = to ?? this.mostUpToDateVoter()
    if (target === undefined || target === this.id || !this.isVoter(target)) {
      throw new InvalidParametersError(target === undefined ? 'there is no other voter to hand leadership to' : `${target} is not another voter`)
    }
    this.transferee = target
    this.transferElapsed = 0
    this.leaseRevoked = true
    this.notifications.push({ type: 'transfer', to: target })
    const pr = this.progress.get(target)
    if (pr !== undefined) {
      if (pr.match === this.log.lastIndex()) {
        this.sendTimeoutNow(target)
      } else {
        this.sendAppend(target, pr, true)
      }
    }
    return target
  }

  /** The index of the entry the configuration in force comes from */
  get configIndex (): number {
    return this.configEntry?.index ?? this._snapshot.index
  }

  /** The voter handed leadership to, while a transfer is under way */
  get transferTarget (): NodeId | undefined { return this.transferee }

  private mostUpToDateVoter (): NodeId | undefined {
    let best: NodeId | undefined
    let bestMatch = -1
    for (const id of this._config.voters) {
      const match = this.progress.get(id)?.match ?? -1
      if (id !== this.id && match > bestMatch) {
        best = id
        bestMatch = match
      }
    }
    return best
  }

  private sendTimeoutNow (to: NodeId): void {
    this.send({ type: 'timeout-now', from: this.id, to, term: this._term })
  }

  private endTransfer (): void {
    if (this.transferee !== undefined) {
      this.transferee = undefined
      this.notifications.push({ type: 'transfer', to: undefined })
    }
  }

  /** Stops sending to removed members that had their chance to learn of it. */
  private forgetDeparted (): void {
    for (const [id, index] of this.departing) {
      if (index <= this.log.committed) {
        this.departing.delete(id)
        this.progress.delete(id)
      }
    }
  }

  // ---- snapshots ----------------------------------------------------------

  /**
   * What a snapshot of the state machine taken now covers: the last applied
   * entry and the configuration in force at it. Take the state machine's
   * snapshot before applying anything newer.
   */
  snapshotMeta (): SnapshotMeta {
    const index = this.log.applied
    const term = this.log.term(index)
    if (term === undefined) {
      throw new Error(`entry ${index} is no longer in the log`)
    }
    const config = index === this._snapshot.index ? this._snapshot.config : (this.log.lastConfigEntry(index)?.config ?? this._snapshot.config)
    return { index, term, config }
  }

  /**
   * A snapshot is durable: remember it, and drop the log up to
   * `trailingEntries` entries behind it (they let followers that are only a
   * little behind catch up without a snapshot). Entries after a snapshot
   * still being sent to a follower stay: it will need them next, and a
   * follower slower than the snapshots would otherwise never catch up.
   * Returns the index before which stored entries can be deleted: where the
   * log now starts, but not past this snapshot (the log may already start
   * after a received snapshot the shell has yet to install).
   */
  snapshotPersisted (snapshot: SnapshotMeta, trailingEntries: number): number {
    if (snapshot.index > this._snapshot.index) {
      this._snapshot = snapshot
    }
    let compactTo = Math.min(this._snapshot.index - trailingEntries, this.log.applied)
    for (const pr of this.progress.values()) {
      if (pr.state === 'snapshot') {
        compactTo = Math.min(compactTo, pr.pendingSnapshot)
      }
    }
    if (compactTo > this.log.firstIndex() - 1) {
      this.log.compact(compactTo)
    }
    return Math.min(this.log.firstIndex() - 1, snapshot.index + 1)
  }

  /**
   * Whether a snapshot from the leader would replace this log, so its data
   * is needed: it is not stale (at or below the commit index) and this log
   * does not already hold its last entry.
   */
  needsSnapshot (snapshot: Pick<SnapshotMeta, 'index' | 'term'>): boolean {
    return snapshot.index > this.log.committed && !this.log.matchTerm(snapshot.index, snapshot.term)
  }

  /** The shell's transfer of a snapshot to `to` ended, delivered or not. */
  snapshotSent (to: NodeId, delivered: boolean): void {
    const pr = this.progress.get(to)
    if (this._role === 'leader' && pr?.state === 'snapshot') {
      pr.snapshotEnded(delivered)
    }
  }

  /** Handles a message from a peer. */
  step (m: Message): void {
    if (m.to !== this.id || m.from === this.id || !this.stepTerm(m)) {
      return
    }
    if (m.type === 'vote-request') {
      this.handleVoteRequest(m)
    } else if (this._role === 'leader') {
      this.stepLeader(m)
    } else if (this._role === 'follower') {
      this.stepFollower(m)
    } else {
      this.stepCandidate(m)
    }
  }

  /**
   * Applies the term rules every message is subject to (§5.1): a newer term
   * makes this node a follower of it, a stale message is answered or dropped.
   * Returns whether the message should be handled further.
   */
  private stepTerm (m: Message): boolean {
    if (m.term > this._term) {
      if (m.type === 'vote-request' && m.transfer !== true && this.inLease(m.preVote)) {
        // A live leader is known: a node that was cut off must not disturb it.
        // The refusal (in our term, so it changes nothing there) names the
        // leader, which a member that missed a change of membership may not know.
        this.send({ type: 'vote-response', from: this.id, to: m.from, term: this._term, preVote: m.preVote, granted: false, leader: this._leader })
        return false
      }
      const keepsTerm = (m.type === 'vote-request' && m.preVote) ||
        (m.type === 'vote-response' && m.preVote && m.granted)
      if (!keepsTerm) {
        const fromLeader = m.type === 'append-request' || m.type === 'heartbeat-request' || m.type === 'snapshot-request'
        this.becomeFollower(m.term, fromLeader ? m.from : undefined)
      }
    } else if (m.term < this._term) {
      if (m.type === 'append-request' || m.type === 'heartbeat-request' || m.type === 'snapshot-request') {
        // Tell a deposed leader about the newer term, so it steps down even
        // if pre-vote keeps the rest of the cluster from contacting it.
        this.send({ type: 'heartbeat-response', from: this.id, to: m.from, term: this._term, context: 0 })
      } else if (m.type === 'vote-request' && m.preVote) {
        this.send({ type: 'vote-response', from: this.id, to: m.from, term: this._term, preVote: true, granted: false })
      }
      return false
    }
    return true
  }

  /** Whether this node has recently heard from a leader and so should ignore a vote request. */
  private inLease (preVote: boolean): boolean {
    const heardFromLeader = this._leader !== undefined && this.electionElapsed < this.options.electionTicks
    // With leases, a node that just (re)started may have acknowledged a
    // leader's heartbeat right before: it must keep refusing votes as long as
    // that leader's lease could still count on it.
    const justStarted = this.options.readMode === 'lease' && this.ticks < this.options.electionTicks
    return (this.options.checkQuorum || preVote) && (heardFromLeader || justStarted)
  }

  // ---- elections ----------------------------------------------------------

  private campaign (kind: 'pre-vote' | 'vote', transfer = false): void {
    const preVote = kind === 'pre-vote'
    if (preVote) {
      this.becomePreCandidate()
    } else {
      this.becomeCandidate()
    }
    // A pre-vote asks "would you vote for me in the next term?" without entering it.
    const term = preVote ? this._term + 1 : this._term
    this.votes.set(this.id, true)
    if (this.tallyVotes()) {
      return
    }
    for (const id of this._config.voters) {
      if (id !== this.id) {
        const request: VoteRequest = { type: 'vote-request', from: this.id, to: id, term, preVote, lastIndex: this.log.lastIndex(), lastTerm: this.log.lastTerm() }
        this.send(transfer ? { ...request, transfer } : request)
      }
    }
  }

  /** Acts on the votes so far; returns whether the election is over. */
  private tallyVotes (): boolean {
    const outcome = voteOutcome(this._config.voters, this.votes)
    if (outcome === 'won') {
      if (this._role === 'pre-candidate') {
        this.campaign('vote')
      } else {
        this.becomeLeader()
      }
      return true
    }
    if (outcome === 'lost') {
      this.becomeFollower(this._term, undefined)
      return true
    }
    return false
  }

  private handleVoteRequest (m: VoteRequest): void {
    const canVote = this._vote === m.from ||
      (this._vote === undefined && this._leader === undefined) ||
      (m.preVote && m.term > this._term)
    if (canVote && this.log.isUpToDate(m.lastIndex, m.lastTerm)) {
      this.send({ type: 'vote-response', from: this.id, to: m.from, term: m.term, preVote: m.preVote, granted: true })
      if (!m.preVote) {
        this._vote = m.from
        this.electionElapsed = 0
      }
    } else {
      this.send({ type: 'vote-response', from: this.id, to: m.from, term: this._term, preVote: m.preVote, granted: false })
    }
  }

  private stepCandidate (m: Message): void {
    if (m.type === 'append-request' || m.type === 'heartbeat-request' || m.type === 'snapshot-request') {
      // Someone won this term.
      this.becomeFollower(this._term, m.from)
      this.stepFollower(m)
    } else if (m.type === 'vote-response' && m.preVote === (this._role === 'pre-candidate')) {
      this.handleVoteResponse(m)
    }
  }

  private handleVoteResponse (m: VoteResponse): void {
    if (!this.isVoter(m.from)) {
      return
    }
    this.votes.set(m.from, m.granted)
    this.tallyVotes()
  }

  // ---- role changes -------------------------------------------------------

  private reset (term: number): void {
    if (term !== this._term) {
      this._term = term
      this._vote = undefined
    }
    this._leader = undefined
    this.electionElapsed = 0
    this.heartbeatElapsed = 0
    this.resetElectionTimeout()
    this.votes.clear()
    this.progress.clear()
    this.departing.clear()
    this.transferee = undefined
    this.leaseRevoked = false
    this.reads.reset()
    this.lease.reset()
    this.broadcastPending = false
  }

  private resetElectionTimeout (): void {
    const base = this.options.electionTicks
    this.randomizedElectionTimeout = base + Math.floor(this.random() * base)
  }

  private becomeFollower (term: number, leader: NodeId | undefined): void {
    this.reset(term)
    this._role = 'follower'
    this._leader = leader
  }

  private becomePreCandidate (): void {
    // Neither the term nor the vote changes: that is the point of a pre-vote.
    this.reset(this._term)
    this._role = 'pre-candidate'
  }

  private becomeCandidate (): void {
    this.reset(this._term + 1)
    this._role = 'candidate'
    this._vote = this.id
  }

  private becomeLeader (): void {
    this.reset(this._term)
    this._role = 'leader'
    this._leader = this.id
    for (const id of this.peers()) {
      this.trackProgress(id)
    }
    // Entries of earlier terms commit only through one of the leader's own (§5.4.2).
    this.appendAsLeader({ type: 'noop', index: this.log.lastIndex() + 1, term: this._term })
  }

  private trackProgress (id: NodeId): void {
    const pr = new Progress(this.log.lastIndex() + 1, this.options.maxInflightAppends)
    // Count as active until the first check-quorum round has given it a chance to answer.
    pr.recentActive = true
    this.progress.set(id, pr)
  }

  // ---- configuration ------------------------------------------------------

  /**
   * Re-reads the configuration in force (the latest in the log) after entries
   * were appended: new configuration entries, or a truncation that removed
   * the one in force.
   */
  private refreshConfig (appended: Entry[]): void {
    const stillThere = this.configEntry === undefined || this.log.entry(this.configEntry.index) === this.configEntry
    if (stillThere && !appended.some(entry => entry.type === 'config')) {
      return
    }
    const entry = this.log.lastConfigEntry()
    if (entry === this.configEntry) {
      return
    }
    this.configEntry = entry
    this.useConfig(entry?.config ?? this._snapshot.config, entry?.index ?? this._snapshot.index)
  }

  private useConfig (config: Configuration, index: number): void {
    this._config = config
    this.notifications.push({ type: 'config', config, index })
    if (this._role === 'leader') {
      for (const id of this.peers()) {
        if (!this.progress.has(id)) {
          this.trackProgress(id)
        }
      }
      for (const id of [...this.progress.keys()]) {
        if (!this.peers().includes(id) && !this.departing.has(id)) {
          this.departing.set(id, index)
        }
      }
      for (const id of this.departing.keys()) {
        if (this.peers().includes(id)) {
          this.departing.delete(id)
        }
      }
    }
  }

  // ---- replication: leader ------------------------------------------------

  private appendAsLeader (entry: Entry): void {
    this.log.append([entry])
    this.refreshConfig([entry])
    this.broadcastPending = true
    // A leader alone commits as soon as its own write is durable (see advance).
  }

  private stepLeader (m: Message): void {
    const pr = this.progress.get(m.from)
    if (pr === undefined) {
      return
    }
    if (m.type === 'append-response') {
      pr.recentActive = true
      this.handleAppendResponse(m, pr)
    } else if (m.type === 'read-index-request') {
      this.reads.add({ id: m.id, from: m.from })
    } else if (m.type === 'heartbeat-response') {
      this.lease.ack(m.from, m.context)
      this.answerReads(this.reads.ack(m.from, m.context, this._config.voters))
      pr.recentActive = true
      pr.probeSent = false
      if (pr.state === 'replicate' && pr.inflights.full()) {
        pr.inflights.freeFirst()
      }
      if (pr.match < this.log.lastIndex()) {
        this.sendAppend(m.from, pr, true)
      } else if (m.from === this.transferee) {
        // The TimeoutNow may have been lost: say it again while the transfer lasts.
        this.sendTimeoutNow(m.from)
      }
    }
  }

  private handleAppendResponse (m: AppendResponse, pr: Progress): void {
    if (!m.success) {
      let hint = m.hintIndex
      if (m.hintTerm > 0) {
        hint = this.log.findConflictByTerm(m.hintIndex, m.hintTerm)
      }
      if (pr.maybeDecrTo(m.index, hint)) {
        if (pr.state === 'replicate') {
          pr.becomeProbe()
        }
        this.sendAppend(m.from, pr, true)
      }
      return
    }
    const wasPaused = pr.isPaused()
    // A probe answered at the current match index tells nothing new, but the
    // logs agree there: stop probing.
    const agreed = pr.state === 'probe' && m.index === pr.match
    if (!pr.maybeUpdate(m.index) && !agreed) {
      return
    }
    if (pr.state === 'probe' || (pr.state === 'snapshot' && pr.match >= this.log.firstIndex() - 1)) {
      pr.becomeReplicate()
    } else if (pr.state === 'replicate') {
      pr.inflights.freeLE(m.index)
    }
    if (this.maybeCommit()) {
      this.committedAsLeader()
      if (this._role !== 'leader') {
        return
      }
    } else if (wasPaused) {
      this.sendAppend(m.from, pr, true)
    }
    const removedAt = this.departing.get(m.from)
    if (removedAt !== undefined && pr.match >= removedAt) {
      // It holds the change that removed it: it knows.
      this.departing.delete(m.from)
      this.progress.delete(m.from)
      return
    }
    if (m.from === this.transferee && pr.match === this.log.lastIndex()) {
      this.sendTimeoutNow(m.from)
    }
    // Stream whatever is left while the window allows.
    while (this.sendAppend(m.from, pr, false)) {
      // keep going
    }
  }

  /** Sends the follower its next entries; an empty request only when `sendIfEmpty`. Returns whether it sent. */
  private sendAppend (to: NodeId, pr: Progress, sendIfEmpty: boolean): boolean {
    if (pr.isPaused()) {
      return false
    }
    const entries = this.log.slice(pr.next, this.options.maxEntriesPerAppend, this.options.maxBytesPerAppend)
    if (entries.length === 0 && !sendIfEmpty) {
      return false
    }
    const prevIndex = pr.next - 1
    const prevTerm = this.log.term(prevIndex)
    if (prevTerm === undefined) {
      return this.sendSnapshot(to, pr)
    }
    const request: AppendRequest = {
      type: 'append-request',
      from: this.id,
      to,
      term: this._term,
      prevIndex,
      prevTerm,
      entries,
      commit: this.log.committed
    }
    this.send(request)
    pr.sent(entries.length, prevIndex + entries.length)
    return true
  }

  /**
   * The follower needs entries compacted away: send the latest snapshot
   * instead, unless the follower has not been heard from lately (a node
   * that is down gets no transfer started).
   */
  private sendSnapshot (to: NodeId, pr: Progress): boolean {
    if (!pr.recentActive) {
      return false
    }
    const request: SnapshotRequest = { type: 'snapshot-request', from: this.id, to, term: this._term, snapshot: this._snapshot }
    this.send(request)
    pr.becomeSnapshot(this._snapshot.index)
    return true
  }

  private broadcastAppend (): void {
    for (const [id, pr] of this.progress) {
      this.sendAppend(id, pr, true)
    }
  }

  private broadcastHeartbeat (): void {
    const context = this.lease.sent(this.ticks)
    for (const [id, pr] of this.progress) {
      const request: HeartbeatRequest = {
        type: 'heartbeat-request',
        from: this.id,
        to: id,
        term: this._term,
        commit: Math.min(pr.match, this.log.committed),
        context
      }
      this.send(request)
    }
  }

  /** Commits what a quorum holds, but only by counting replicas of an entry of this term (§5.4.2). */
  private maybeCommit (): boolean {
    const index = quorumIndex(this._config.voters, id => id === this.id ? this.log.stable : (this.progress.get(id)?.match ?? 0))
    if (index > this.log.committed && this.log.term(index) === this._term) {
      return this.log.commitTo(index)
    }
    return false
  }

  /**
   * The commit index moved: followers hear of it, and a leader whose own
   * removal is now committed steps down (it no longer counts for, or
   * belongs to, the cluster it led).
   */
  private committedAsLeader (): void {
    this.broadcastPending = true
    if (!this.isVoter() && (this.configEntry?.index ?? 0) <= this.log.committed) {
      this.broadcastAppend()
      this.becomeFollower(this._term, undefined)
    }
  }

  private quorumActive (): boolean {
    let active = 0
    for (const id of this._config.voters) {
      if (id === this.id || this.progress.get(id)?.recentActive === true) {
        active++
      }
    }
    return active >= Math.floor(this._config.voters.length / 2) + 1
  }

  // ---- reads --------------------------------------------------------------

  /** Whether reads can be served: a leader knows the commit index only once it has committed an entry of its own term. */
  private readsReady (): boolean {
    return this._role === 'leader' && this.reads.hasWaiting() && this.log.term(this.log.committed) === this._term
  }

  /**
   * Serves the waiting reads: at once while a lease holds (lease mode), else
   * in a round riding on the next heartbeat broadcast. A lease ends a tick
   * early, as a margin for clocks that drift a little.
   */
  private startReads (): void {
    const index = this.log.committed
    const voters = this._config.voters
    if (this.options.readMode === 'lease' && !this.leaseRevoked && this.lease.valid(this.ticks, this.options.electionTicks - 1, this.id, voters)) {
      this.answerReads(this.reads.takeWaiting().map(request => ({ ...request, index })))
      return
    }
    const context = this.lease.latest + 1
    this.reads.startRound(index, this.id, context)
    this.broadcastHeartbeat()
    this.answerReads(this.reads.ack(this.id, context, voters))
  }

  private answerReads (confirmed: ConfirmedRead[]): void {
    for (const { id, from, index } of confirmed) {
      if (from === this.id) {
        this.readStates.push({ id, index })
      } else {
        this.send({ type: 'read-index-response', from: this.id, to: from, term: this._term, id, index })
      }
    }
  }

  // ---- replication: follower ----------------------------------------------

  private stepFollower (m: Message): void {
    if (m.type === 'read-index-response') {
      this.readStates.push({ id: m.id, index: m.index })
      return
    }
    if (m.type === 'timeout-now') {
      // Our leader hands over: campaign now, without a pre-vote (voters let a transfer through).
      if (this.isVoter()) {
        this.campaign('vote', true)
      }
      return
    }
    if (m.type !== 'append-request' && m.type !== 'heartbeat-request' && m.type !== 'snapshot-request') {
      return
    }
    this.electionElapsed = 0
    this._leader = m.from
    if (m.type === 'append-request') {
      this.handleAppend(m)
    } else if (m.type === 'snapshot-request') {
      this.handleSnapshot(m)
    } else {
      this.log.commitTo(m.commit)
      this.send({ type: 'heartbeat-response', from: this.id, to: m.from, term: this._term, context: m.context })
    }
  }

  private handleAppend (m: AppendRequest): void {
    const reply = { type: 'append-response', from: this.id, to: m.from, term: this._term } as const
    if (m.prevIndex < this.log.committed) {
      this.send({ ...reply, success: true, index: this.log.committed, hintIndex: 0, hintTerm: 0 })
      return
    }
    const lastNew = this.log.maybeAppend(m.prevIndex, m.prevTerm, m.commit, m.entries)
    if (lastNew !== undefined) {
      this.refreshConfig(m.entries)
      this.send({ ...reply, success: true, index: lastNew, hintIndex: 0, hintTerm: 0 })
      return
    }
    const hintIndex = this.log.findConflictByTerm(Math.min(m.prevIndex, this.log.lastIndex()), m.prevTerm)
    this.send({ ...reply, success: false, index: m.prevIndex, hintIndex, hintTerm: this.log.term(hintIndex) ?? 0 })
  }

  /**
   * InstallSnapshot on a follower (its data has arrived). A snapshot of
   * committed entries is stale; one whose last entry this log already holds
   * only moves the commit index, and the log's suffix stays; any other
   * replaces the whole log and the state machine's state.
   */
  private handleSnapshot (m: SnapshotRequest): void {
    const { snapshot } = m
    if (this.needsSnapshot(snapshot)) {
      this.log.restore(snapshot)
      this._snapshot = snapshot
      this.snapshotToInstall = snapshot
      this.configEntry = undefined
      this.useConfig(snapshot.config, snapshot.index)
    } else if (snapshot.index > this.log.committed) {
      this.log.commitTo(snapshot.index)
    }
    this.send({ type: 'append-response', from: this.id, to: m.from, term: this._term, success: true, index: this.log.committed, hintIndex: 0, hintTerm: 0 })
  }

  // ---- output -------------------------------------------------------------

  private send (m: Message): void {
    // A leader's replication traffic may leave before its own write is
    // durable (thesis §10.2.1); anything that promises something must not.
    const leaderTraffic = m.type === 'append-request' || m.type === 'heartbeat-request'
    if (leaderTraffic) {
      this.messages.push(m)
    } else {
      this.messagesAfterPersist.push(m)
    }
  }

  private hardState (): HardState {
    return { term: this._term, vote: this._vote, commit: this.log.committed }
  }

  private hardStateChanged (): boolean {
    const hs = this.hardState()
    return hs.term !== this.persisted.term || hs.vote !== this.persisted.vote || hs.commit !== this.persisted.commit
  }

  /** Whether `ready()` has anything to hand out. */
  hasReady (): boolean {
    return this.broadcastPending ||
      this.messages.length > 0 ||
      this.messagesAfterPersist.length > 0 ||
      this.log.hasUnstable() ||
      this.log.hasCommittedToApply() ||
      this.hardStateChanged() ||
      this.readStates.length > 0 ||
      this.snapshotToInstall !== undefined ||
      this.readsReady() ||
      this._role !== this.reported.role ||
      this._leader !== this.reported.leader ||
      this.notifications.length > 0
  }

  /** Collects the work accumulated since the last call. */
  ready (): Ready {
    if (this.broadcastPending) {
      this.broadcastPending = false
      this.broadcastAppend()
    }
    if (this.readsReady()) {
      this.startReads()
    }
    this.reportChanges()
    let hardState: HardState | undefined
    let messages = this.messages
    let messagesAfterPersist = this.messagesAfterPersist
    if (this.hardStateChanged()) {
      hardState = this.hardState()
      if (hardState.term !== this.persisted.term || hardState.vote !== this.persisted.vote) {
        // Nothing may be said in a term, or after a vote, that is not yet durable.
        messagesAfterPersist = [...messages, ...messagesAfterPersist]
        messages = []
      }
      this.persisted = hardState
    }
    const ready: Ready = {
      snapshot: this.snapshotToInstall,
      hardState,
      entries: this.log.takeUnstable(),
      messages,
      messagesAfterPersist,
      committed: this.log.takeCommitted(),
      notifications: this.notifications,
      readStates: this.readStates
    }
    this.snapshotToInstall = undefined
    this.readStates = []
    this.messages = []
    this.messagesAfterPersist = []
    this.notifications = []
    return ready
  }

  private reportChanges (): void {
    if (this._role !== this.reported.role) {
      this.notifications.push({ type: 'role', role: this._role, term: this._term })
    }
    if (this._leader !== this.reported.leader) {
      this.notifications.push({ type: 'leader', leader: this._leader, term: this._term })
    }
    this.reported = { role: this._role, leader: this._leader }
  }

  /** Tells the core that everything in `ready` was written, sent and applied. */
  advance (ready: Ready): void {
    const last = ready.entries.at(-1)
    if (last !== undefined) {
      this.log.stableTo(last.index, last.term)
      if (this._role === 'leader' && this.maybeCommit()) {
        this.committedAsLeader()
      }
    }
  }
}

function describeKind (example: unknown): string {
  if (typeof example === 'number') {
    return 'a positive integer'
  }
  return typeof example === 'boolean' ? 'a boolean' : `a ${typeof example}`
}

/** Fills in defaults and rejects values the algorithm cannot work with. */
export function resolveCoreOptions (init: CoreOptions): Required<CoreOptions> {
  const options: Required<CoreOptions> = { ...CORE_DEFAULTS }
  for (const key of Object.keys(CORE_DEFAULTS) as Array<keyof CoreOptions>) {
    const value = init[key]
    if (value === undefined) {
      continue
    }
    if (typeof value !== typeof CORE_DEFAULTS[key] || (typeof value === 'number' && (!Number.isInteger(value) || value < 1))) {
      throw new InvalidParametersError(`${key} must be ${describeKind(CORE_DEFAULTS[key])}, got ${String(value)}`)
    }
    Object.assign(options, { [key]: value })
  }
  if (options.readMode !== 'safe' && options.readMode !== 'lease') {
    throw new InvalidParametersError(`readMode must be 'safe' or 'lease', got ${String(options.readMode)}`)
  }
  if (options.readMode === 'lease' && !options.checkQuorum) {
    throw new InvalidParametersError('readMode \'lease\' requires checkQuorum: a leader must step down before its lease can be wrong')
  }
  if (options.heartbeatTicks >= options.electionTicks) {
    throw new InvalidParametersError(`heartbeatTicks (${options.heartbeatTicks}) must be below electionTicks (${options.electionTicks})`)
  }
  return options
}

/** `config` with the addresses of its members (only) out of `book`. */
function withAddresses (config: Configuration, book: AddressBook): Configuration {
  const addresses: AddressBook = {}
  for (const id of [...config.voters, ...config.learners]) {
    if (book[id] !== undefined) {
      addresses[id] = book[id]
    }
  }
  return Object.keys(addresses).length > 0 ? { ...config, addresses } : config
}

/** The configuration after one change; refuses a change that changes nothing or leaves no voter. */
function applyChange (config: Configuration, change: ConfigChange): Configuration {
  const voters = config.voters.filter(id => id !== change.id)
  const learners = config.learners.filter(id => id !== change.id)
  if (change.type === 'add-voter') {
    voters.push(change.id)
  } else if (change.type === 'add-learner') {
    learners.push(change.id)
  }
  if (voters.length === 0) {
    throw new InvalidParametersError('cannot remove the last voter')
  }
  if (voters.length === config.voters.length && learners.length === config.learners.length) {
    throw new InvalidParametersError(`${change.id} is already ${change.type === 'remove' ? 'not a member' : change.type === 'add-voter' ? 'a voter' : 'a learner'}`)
  }
  return { voters, learners }
}
