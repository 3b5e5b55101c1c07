import { NotStartedError } from '@libp2p/interface'
import { StorageFailedError } from '../errors.ts'
import { coreOptions } from '../options.ts'
import { messageToPb } from '../pb/translate.ts'
import { ClientSessionTable } from './session-table.ts'
import { Waiters } from './waiters.ts'
import type { FrameTransport, ServiceSeams } from './seams.ts'
import type { Applied } from './session-table.ts'
import type { Snapshots } from './snapshots.ts'
import type { AppliedLog, ApplyOutcome } from './waiters.ts'
import type { AddressBook, CommandEntry, ConfigChange, Configuration, CoreState, Entry, HardState, Message, NodeId, Notification, RaftCore, SessionStamp, SnapshotMeta } from '../core/index.ts'
import type { RaftEvents } from '../index.ts'
import type { RaftOptions } from '../options.ts'
import type { RaftStorage } from '../storage/raft-storage.ts'
import type { Logger } from '@libp2p/interface'
import type { TypedEventTarget } from 'main-event'

export interface DriverInit {
  seams: Pick<ServiceSeams, 'clock' | 'random' | 'makeCore' | 'sessionLimits'>
  storage: RaftStorage
  network: FrameTransport
  /** Where `raft:apply` is emitted */
  events: TypedEventTarget<RaftEvents>
  options: RaftOptions
  self: NodeId
  log: Logger
  /** Told each of the core's notifications, once the batch that carried it is durable and sent */
  onNotification(notification: Notification): void
  /** Told once when a write failed and this node stopped taking part */
  onStorageFailed(error: StorageFailedError): void
}

const NO_MEMBERS: Configuration = { voters: [], learners: [] }

/**
 * The one owner of the Raft core. It ticks the core on the clock, hands its
 * batches out one at a time (write to storage, send, install a received
 * snapshot, apply committed commands to the state machine, settle the
 * waiters) and takes the snapshots the core's log calls for between
 * batches. Commands proposed while a batch is being written go out together
 * in the next one (group commit).
 *
 * Everything else reads the core through its views and changes it only
 * through its methods, each of which schedules the processing its change
 * needs. A core exists from the first `load()` on; before that the views
 * read as an empty node's, and the rest throws `NotStartedError`.
 */
export class Driver implements AppliedLog {
  /** The calls waiting on this node, which the driver settles */
  readonly waiters: Waiters
  private readonly seams: DriverInit['seams']
  private readonly storage: RaftStorage
  private readonly network: FrameTransport
  private readonly events: TypedEventTarget<RaftEvents>
  private readonly options: RaftOptions
  private readonly self: NodeId
  private readonly log: Logger
  private readonly onNotification: (notification: Notification) => void
  private readonly onStorageFailed: (error: StorageFailedError) => void

  private core: RaftCore | undefined
  private snapshots: Snapshots | undefined
  private _running = false
  private _failure: StorageFailedError | undefined
  private stopTicker: (() => void) | undefined
  private processing: Promise<void> | undefined
  private processScheduled = false
  /** The hard state last written */
  private written: HardState | undefined
  /** The core's latest hard state: ahead of `written` by a commit index not yet worth a write */
  private latest: HardState | undefined
  private _appliedIndex = 0
  private nextReadId = 1
  /** The client sessions, as applied up to `appliedIndex` */
  private readonly sessions: ClientSessionTable

  constructor (init: DriverInit) {
    this.seams = init.seams
    this.storage = init.storage
    this.network = init.network
    this.events = init.events
    this.options = init.options
    this.self = init.self
    this.log = init.log
    this.onNotification = init.onNotification
    this.onStorageFailed = init.onStorageFailed
    this.waiters = new Waiters(init.seams.clock, init.options, this)
    this.sessions = new ClientSessionTable(init.seams.sessionLimits)
  }

  // ---- lifecycle ----------------------------------------------------------

  /** Builds the core from the stored state, with this run's snapshot work. */
  load (state: CoreState, snapshots: Snapshots): void {
    this.written = state.hardState ?? { term: 0, commit: 0 }
    this.latest = this.written
    this.snapshots = snapshots
    this.core = this.seams.makeCore({
      id: this.self,
      state,
      // Restarted in the same process: the state machine still holds what it applied.
      applied: this._appliedIndex,
      random: this.seams.random,
      ...coreOptions(this.options)
    })
    this._appliedIndex = this.core.log.applied
    this._failure = undefined
  }

  /** Starts ticking, and processes what is ready (at start: re-applies what was committed before a restart). */
  start (): void {
    this._running = true
    this.stopTicker = this.seams.clock.every(this.options.heartbeatInterval, () => { this.tick() })
    this.schedule()
  }

  /** Stops ticking; no batch starts after this. */
  stop (): void {
    this._running = false
    this.stopTicker?.()
  }

  /** Resolves once the batch in hand, if any, is done. */
  async drain (): Promise<void> {
    await this.processing
  }

  get running (): boolean {
    return this._running
  }

  /** Why this node stopped taking part (a write failed), if it did */
  get failure (): StorageFailedError | undefined {
    return this._failure
  }

  // ---- views --------------------------------------------------------------

  get role (): RaftCore['role'] {
    return this.core?.role ?? 'follower'
  }

  get term (): number {
    return this.core?.term ?? 0
  }

  get leader (): NodeId | undefined {
    return this.core?.leader
  }

  get commitIndex (): number {
    return this.core?.commitIndex ?? 0
  }

  /** The last entry the state machine holds */
  get appliedIndex (): number {
    return this._appliedIndex
  }

  /** The last entry handed out to be applied; between batches, the same as `appliedIndex` */
  get logApplied (): number {
    return this.core?.log.applied ?? 0
  }

  get firstIndex (): number {
    return this.core?.log.firstIndex() ?? 1
  }

  get lastIndex (): number {
    return this.core?.log.lastIndex() ?? 0
  }

  get snapshotIndex (): number {
    return this.core?.snapshot.index ?? 0
  }

  get config (): Configuration {
    return this.core?.config ?? NO_MEMBERS
  }

  get configIndex (): number {
    return this.core?.configIndex ?? 0
  }

  /** The member leadership is being handed to, while this node leads and hands it over */
  get transferTarget (): NodeId | undefined {
    return this.core?.transferTarget
  }

  /** A received snapshot the core chose to install, until a batch installs it */
  get pendingInstall (): SnapshotMeta | undefined {
    return this.core?.pendingInstall
  }

  progressOf (id: NodeId): ReturnType<RaftCore['progressOf']> {
    return this.core?.progressOf(id)
  }

  canChangeConfig (): boolean {
    return this.core?.canChangeConfig() ?? false
  }

  needsSnapshot (snapshot: Pick<SnapshotMeta, 'index' | 'term'>): boolean {
    return this.live().needsSnapshot(snapshot)
  }

  /** What a snapshot of the state machine taken now covers, the client sessions' table included */
  snapshotMeta (): SnapshotMeta {
    const meta = this.live().snapshotMeta()
    return this.sessions.size === 0 ? meta : { ...meta, sessions: this.sessions.encode() }
  }

  inConfig (id: NodeId): boolean {
    const config = this.config
    return config.voters.includes(id) || config.learners.includes(id)
  }

  /** The members of the configuration but this node */
  otherMembers (): NodeId[] {
    const config = this.config
    return [...config.voters, ...config.learners].filter(id => id !== this.self)
  }

  // ---- changes (each schedules the processing it needs) ------------------

  /** Appends a command while this node leads, marked with the forwarded `request` that carried it and its client `session` stamp, if any. */
  propose (command: Uint8Array, request?: number, session?: SessionStamp): { index: number, term: number } {
    const slot = this.live().propose(command, request, session)
    this.schedule()
    return slot
  }

  proposeConfigChange (change: ConfigChange, addresses?: AddressBook): { index: number, term: number } {
    const slot = this.live().proposeConfigChange(change, addresses)
    this.schedule()
    return slot
  }

  /** Asks for a read index; returns the read's id to wait on, or undefined when no leader can be asked. */
  readIndex (): number | undefined {
    const id = this.nextReadId++
    if (!this.live().readIndex(id)) {
      return undefined
    }
    this.schedule()
    return id
  }

  step (m: Message): void {
    this.live().step(m)
    this.schedule()
  }

  /** Starts handing leadership over; returns to whom. */
  transferLeadership (to?: NodeId): NodeId {
    const target = this.live().transferLeadership(to)
    this.schedule()
    return target
  }

  snapshotSent (to: NodeId, delivered: boolean): void {
    this.live().snapshotSent(to, delivered)
    this.schedule()
  }

  /**
   * A snapshot is durable: returns the index before which stored entries can
   * be deleted. (The core only forgets entries: there is nothing to process.)
   */
  snapshotPersisted (snapshot: SnapshotMeta, trailingEntries: number): number {
    return this.live().snapshotPersisted(snapshot, trailingEntries)
  }

  /** The state machine now holds a snapshot's state. */
  restored (snapshot: SnapshotMeta): void {
    this._appliedIndex = snapshot.index
    this.sessions.restore(snapshot.sessions)
    this.waiters.restored(snapshot.index, snapshot.term)
  }

  /**
   * Processes the core's work (and a snapshot that fell due) soon, once
   * whatever else is running now has stepped its messages and proposals
   * into the core, so they share one batch. The changes above call it;
   * the snapshot work calls it when a snapshot may have fallen due.
   */
  schedule (): void {
    if (this.processScheduled || this.processing !== undefined || !this._running || this._failure !== undefined) {
      return
    }
    this.processScheduled = true
    this.seams.clock.soon(() => {
      if (this.processing === undefined && this._running) {
        this.processing = this.process().finally(() => {
          this.processing = undefined
          if (this.core?.hasReady() === true || this.snapshots?.due() === true) {
            this.schedule()
          }
        })
      }
      // Cleared only now: a change made in the batch's first, synchronous steps is picked up by its own loop.
      this.processScheduled = false
    })
  }

  // ---- the drive loop -----------------------------------------------------

  private tick (): void {
    this.core?.tick()
    this.schedule()
    this.waiters.tick()
  }

  private async process (): Promise<void> {
    const core = this.live()
    const snapshots = this.liveSnapshots()
    try {
      while (this._running && (core.hasReady() || snapshots.due())) {
        if (snapshots.due()) {
          // Between batches, the state machine holds exactly what was applied.
          snapshots.take()
        }
        if (!core.hasReady()) {
          continue
        }
        const ready = core.ready()
        this.sendAll(ready.messages)
        if (ready.snapshot !== undefined) {
          await snapshots.install(ready.snapshot)
        }
        this.latest = ready.hardState ?? this.latest
        if (this.mustWrite(this.latest, ready.entries)) {
          await this.writeHardState(ready.entries)
        }
        if (!this._running) {
          return
        }
        this.sendAll(ready.messagesAfterPersist)
        for (const notification of ready.notifications) {
          this.onNotification(notification)
        }
        await this.applyAll(ready.committed)
        for (const { id, index } of ready.readStates) {
          this.waiters.readState(id, index)
        }
        core.advance(ready)
        this.waiters.checkConditions()
      }
    } catch (err: any) {
      // Without durable writes this node cannot take part safely any more:
      // nothing after the failed write is sent, applied or acknowledged.
      const failure = new StorageFailedError(err)
      this._failure = failure
      this.stopTicker?.()
      // Nothing will settle the calls in flight now (not even the tick that expires them).
      this.waiters.failAll(failure)
      this.log.error('stopped taking part in group %s: %e', this.options.group, err)
      this.onStorageFailed(failure)
    }
  }

  /**
   * Entries, a new term and a vote must be durable before anything depends
   * on them. A commit index alone need not be: a stored one is only ever a
   * lower bound of the real one (a restart applies up to it at once and
   * learns the rest from a leader), so a commit-only change rides along with
   * the next real write, or with `flush()` at stop, rather than costing a
   * write of its own after every commit.
   */
  private mustWrite (hardState: HardState | undefined, entries: Entry[]): boolean {
    return entries.length > 0 ||
      (hardState !== undefined && (hardState.term !== this.written?.term || hardState.vote !== this.written.vote))
  }

  /** Writes `entries` with the latest hard state (when it changed since the last write). */
  private async writeHardState (entries: Entry[]): Promise<void> {
    const latest = this.latest
    const changed = latest !== undefined && (latest.term !== this.written?.term || latest.vote !== this.written.vote || latest.commit !== this.written.commit)
    await this.storage.write(changed ? latest : undefined, entries)
    this.written = latest
  }

  /**
   * Once stopped and drained: writes a commit index that only rode in
   * memory, so a member restarted without a leader in reach still applies
   * everything it knew to be committed.
   */
  async flush (): Promise<void> {
    if (this._failure === undefined && this.latest !== undefined && this.latest.commit > (this.written?.commit ?? 0)) {
      try {
        await this.writeHardState([])
      } catch (err: any) {
        // Only a lower bound was lost: the next start applies less at once.
        this.log.error('cannot write the commit index at stop - %e', err)
      }
    }
  }

  private sendAll (messages: Message[]): void {
    for (const m of messages) {
      if (m.type === 'snapshot-request') {
        this.liveSnapshots().send(m)
      } else {
        this.network.send(m.to, { message: messageToPb(m) })
      }
    }
  }

  private async applyAll (entries: Entry[]): Promise<void> {
    for (const entry of entries) {
      let outcome: ApplyOutcome = { term: entry.term, result: undefined }
      /** Whether the state machine ran the command: not for a session's duplicate or bookkeeping */
      let ran = false
      if (entry.type === 'command') {
        let applied: Applied | Promise<Applied>
        if (entry.session === undefined) {
          ran = true
          applied = this.applyCommand(entry)
        } else {
          applied = this.sessions.apply(entry.index, entry.session, () => {
            ran = true
            return this.applyCommand(entry)
          })
        }
        if (applied instanceof Promise) {
          // Await only real promises: most state machines apply synchronously.
          applied = await applied
        }
        outcome = { term: entry.term, ...applied }
      }
      this._appliedIndex = entry.index
      this.waiters.applied(entry.index, outcome, entry.type === 'command' && entry.request !== undefined ? { id: entry.request, command: entry.data } : undefined)
      if (ran && entry.type === 'command' && this.events.listenerCount('raft:apply') > 0) {
        this.events.safeDispatchEvent('raft:apply', { detail: { index: entry.index, term: entry.term, command: entry.data, result: outcome.result } })
      }
    }
  }

  /** Runs a command through the state machine; what it threw becomes the outcome's error. */
  private applyCommand (entry: CommandEntry): Applied | Promise<Applied> {
    const failed = (err: any): Applied => {
      this.log.error('the state machine threw applying entry %d - %e', entry.index, err)
      return { result: undefined, error: err }
    }
    try {
      const result = this.options.stateMachine.apply(entry.data, { index: entry.index, term: entry.term })
      return result instanceof Promise ? result.then(value => ({ result: value }), failed) : { result }
    } catch (err: any) {
      return failed(err)
    }
  }

  private live (): RaftCore {
    if (this.core === undefined) {
      throw new NotStartedError('libp2p-raft has not been started')
    }
    return this.core
  }

  private liveSnapshots (): Snapshots {
    if (this.snapshots === undefined) {
      throw new NotStartedError('libp2p-raft has not been started')
    }
    return this.snapshots
  }
}
