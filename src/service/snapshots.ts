import { InvalidSnapshotError } from '../errors.ts'
import { messageFromPb, messageToPb } from '../pb/translate.ts'
import type { Driver } from './driver.ts'
import type { Inbound } from './inbound.ts'
import type { PeerIds } from './peer-ids.ts'
import type { SnapshotChannel } from './seams.ts'
import type { NodeId, SnapshotMeta, SnapshotRequest } from '../core/index.ts'
import type { RaftEvents } from '../index.ts'
import type { SnapshotSink } from '../network/snapshot-transfer.ts'
import type { RaftOptions } from '../options.ts'
import type { SnapshotOffer } from '../pb/raft.ts'
import type { RaftStorage, StoredSnapshot } from '../storage/raft-storage.ts'
import type { AbortOptions, Logger, PeerId } from '@libp2p/interface'
import type { TypedEventTarget } from 'main-event'

export interface SnapshotsInit {
  /** Reads and changes the core */
  driver: Driver
  /** Decides whether a peer may offer snapshots (members only) */
  inbound: Pick<Inbound, 'isMember'>
  storage: RaftStorage
  transfer: SnapshotChannel
  peerIds: PeerIds
  /** Where `raft:snapshot` is emitted */
  events: TypedEventTarget<RaftEvents>
  options: Pick<RaftOptions, 'stateMachine' | 'snapshotThreshold' | 'trailingEntries'>
  self: NodeId
  log: Logger
}

/** A caller of `snapshot()` waiting for a durable snapshot covering `index`. */
export interface SnapshotWaiter {
  index: number
  resolve(snapshot: SnapshotMeta): void
  reject(err: Error): void
}

/**
 * Everything about snapshots on one node: taking them in log order and
 * persisting them without holding up later applies, compacting the log
 * behind them, sending them to followers the log can no longer serve,
 * receiving one from the leader and installing it, and restoring the state
 * machine from the stored one at start. One instance serves one run of the
 * service (from `start()` to `stop()`); it reaches the core only through
 * the driver, which calls `due()`, `take()`, `install()` and `send()` from
 * its drive loop.
 */
export class Snapshots {
  private readonly driver: Driver
  private readonly inbound: Pick<Inbound, 'isMember'>
  private readonly storage: RaftStorage
  private readonly transfer: SnapshotChannel
  private readonly peerIds: PeerIds
  private readonly events: TypedEventTarget<RaftEvents>
  private readonly options: SnapshotsInit['options']
  private readonly self: NodeId
  private readonly log: Logger
  /** The snapshot being persisted, if any (one at a time) */
  private persisting: Promise<void> | undefined
  private readonly waiters = new Set<SnapshotWaiter>()
  /** A received snapshot the core decided to install, until the drive loop installs it */
  private staged: StoredSnapshot | undefined
  /** Where taking a snapshot last failed: the next automatic try waits for another threshold's worth of entries */
  private failedAt = -Infinity
  /** The transfer being received (one at a time), and how to abandon it for a newer leader's */
  private receiving: { term: number, abandon: AbortController } | undefined
  /** Transfers running to followers, by follower */
  private readonly sending = new Map<string, AbortController>()
  private readonly shutdown = new AbortController()

  constructor (init: SnapshotsInit) {
    this.driver = init.driver
    this.inbound = init.inbound
    this.storage = init.storage
    this.transfer = init.transfer
    this.peerIds = init.peerIds
    this.events = init.events
    this.options = init.options
    this.self = init.self
    this.log = init.log
  }

  /** Puts the stored snapshot's state into a state machine that holds less (a fresh start). */
  async restoreStored (options?: AbortOptions): Promise<void> {
    const stored = this.storage.snapshot
    if (stored === undefined || stored.meta.index <= this.driver.appliedIndex) {
      return
    }
    await this.options.stateMachine.restore(await this.storage.snapshotData(stored, options))
    this.log('restored the state machine from the snapshot at %d', stored.meta.index)
    this.driver.restored(stored.meta)
  }

  async stop (): Promise<void> {
    this.shutdown.abort()
    await this.persisting
    if (this.staged !== undefined) {
      await this.discard(this.staged)
      this.staged = undefined
    }
    for (const waiter of this.waiters) {
      waiter.reject(new Error('libp2p-raft stopped'))
    }
    this.waiters.clear()
  }

  // ---- taking snapshots ---------------------------------------------------

  /** Whether the drive loop should take a snapshot now: enough applied since the last, or a caller asked. */
  due (): boolean {
    if (this.persisting !== undefined || this.shutdown.signal.aborted) {
      return false
    }
    const latest = this.driver.snapshotIndex
    const applied = this.driver.logApplied
    if (applied <= latest) {
      return false
    }
    const threshold = this.options.snapshotThreshold
    const thresholdReached = applied - latest >= threshold && applied - this.failedAt >= threshold
    return thresholdReached || [...this.waiters].some(waiter => waiter.index > latest)
  }

  /**
   * Takes a snapshot of the state machine as it is now. The drive loop calls
   * this between batches, so the state is exactly that after the last
   * applied entry; persisting it runs on while later entries are applied.
   */
  take (): void {
    const meta = this.driver.snapshotMeta()
    let data: Uint8Array | Promise<Uint8Array>
    try {
      data = this.options.stateMachine.snapshot()
    } catch (err: any) {
      this.failed(meta.index, err)
      return
    }
    this.persisting = this.persist(meta, data)
      .catch((err: Error) => { this.failed(meta.index, err) })
      .finally(() => {
        this.persisting = undefined
        // Another snapshot may be due now.
        this.driver.schedule()
      })
  }

  private async persist (meta: SnapshotMeta, pending: Uint8Array | Promise<Uint8Array>): Promise<void> {
    const data = await pending
    if (!(data instanceof Uint8Array)) {
      throw new InvalidSnapshotError('StateMachine.snapshot() must return a Uint8Array')
    }
    const options = { signal: this.shutdown.signal }
    const stored = await this.storage.saveSnapshot(meta, data, options)
    const compactedTo = this.driver.snapshotPersisted(stored.meta, this.options.trailingEntries)
    await this.storage.compactLog(compactedTo, options)
    if (stored.meta.index === meta.index) {
      this.log('snapshot at %d (%d bytes), log compacted up to %d', meta.index, data.byteLength, compactedTo)
      this.snapshotted(meta, false)
    }
    this.settleWaiters(stored.meta)
  }

  /** Callers waiting for a snapshot that `durable` covers get it. */
  private settleWaiters (durable: SnapshotMeta): void {
    for (const waiter of this.waiters) {
      if (waiter.index <= durable.index) {
        this.waiters.delete(waiter)
        waiter.resolve(durable)
      }
    }
  }

  private failed (index: number, err: Error): void {
    this.failedAt = index
    if (this.shutdown.signal.aborted) {
      return
    }
    this.log.error('cannot take a snapshot - %e', err)
    for (const waiter of this.waiters) {
      waiter.reject(err)
    }
    this.waiters.clear()
  }

  /** Registers a caller waiting for a snapshot covering `index`; returns how to unregister. */
  addWaiter (waiter: SnapshotWaiter): () => void {
    this.waiters.add(waiter)
    // A snapshot may be due now.
    this.driver.schedule()
    return () => { this.waiters.delete(waiter) }
  }

  /** A new snapshot is this node's latest. */
  private snapshotted (snapshot: SnapshotMeta, installed: boolean): void {
    this.events.safeDispatchEvent('raft:snapshot', { detail: { index: snapshot.index, term: snapshot.term, installed } })
  }

  // ---- sending ------------------------------------------------------------

  /**
   * Streams the latest snapshot to a follower, as the core asked, and tells
   * the core how it ended. The core only asks for a snapshot it knows to be
   * durable; if the stored one is not that one any more, the core is told
   * at once and asks again later.
   */
  send (m: SnapshotRequest): void {
    const stored = this.storage.snapshot
    if (stored === undefined || stored.meta.index !== m.snapshot.index || stored.meta.term !== m.snapshot.term) {
      this.driver.snapshotSent(m.to, false)
      return
    }
    if (this.sending.has(m.to)) {
      return
    }
    const abandon = new AbortController()
    this.sending.set(m.to, abandon)
    this.log('sending the snapshot at %d (%d bytes) to %s', stored.meta.index, stored.size, m.to)
    const options = { signal: AbortSignal.any([this.shutdown.signal, abandon.signal]) }
    this.transfer.send(this.peerIds.get(m.to), {
      message: messageToPb(m),
      size: stored.size,
      chunks: stored.chunks,
      checksum: stored.checksum,
      data: this.storage.readSnapshot(stored, options)
    }, options).then(() => true, (err: Error) => {
      this.log('the snapshot at %d did not reach %s - %e', stored.meta.index, m.to, err)
      return false
    }).then(delivered => {
      this.sending.delete(m.to)
      if (!this.shutdown.signal.aborted && !abandon.signal.aborted) {
        this.driver.snapshotSent(m.to, delivered)
      }
    }, () => {})
  }

  /** This node's leadership changed: transfers it started as leader serve no one now. */
  leaderChanged (): void {
    for (const abandon of this.sending.values()) {
      abandon.abort(new Error('no longer the leader'))
    }
    this.sending.clear()
  }

  // ---- receiving ----------------------------------------------------------

  /**
   * An offer from a peer. It must be an InstallSnapshot request from a
   * member to this node. When the core can decide without the data (the
   * snapshot is stale, or this log already holds its last entry) the request
   * is stepped at once and the data refused; otherwise the data is staged
   * in the datastore and the request stepped once it is complete and
   * verified.
   */
  readonly onOffer = async (from: PeerId, offer: SnapshotOffer): Promise<SnapshotSink> => {
    const sender = from.toString()
    const m = offer.message === undefined ? undefined : messageFromPb(offer.message)
    if (m?.type !== 'snapshot-request' || m.from !== sender || m.to !== this.self || !this.inbound.isMember(sender)) {
      throw new InvalidSnapshotError(`${sender} offered something other than a snapshot for this node`)
    }
    if (m.term < this.driver.term || !this.driver.needsSnapshot(m.snapshot)) {
      this.driver.step(m)
      throw new SnapshotNotNeededError()
    }
    if (this.receiving !== undefined) {
      if (this.receiving.term >= m.term) {
        throw new SnapshotBusyError()
      }
      // A newer leader's snapshot replaces one from a leader that lost office.
      this.receiving.abandon.abort(new SnapshotBusyError())
    }
    const receiving = { term: m.term, abandon: new AbortController() }
    this.receiving = receiving
    const done = (): void => {
      if (this.receiving === receiving) {
        this.receiving = undefined
      }
    }
    const incoming = this.storage.receiveSnapshot(m.snapshot, offer.size, offer.chunks, offer.checksum)
    return {
      write: async (chunk, options) => {
        receiving.abandon.signal.throwIfAborted()
        await incoming.write(chunk, options)
      },
      finish: async (options) => {
        try {
          receiving.abandon.signal.throwIfAborted()
          this.accept(m, await incoming.finish(options))
        } finally {
          done()
        }
      },
      discard: async (options) => {
        done()
        await incoming.discard(options)
      }
    }
  }

  /** A complete, verified snapshot: the core decides whether to install it. */
  private accept (m: SnapshotRequest, received: StoredSnapshot): void {
    this.driver.step(m)
    const installing = this.driver.pendingInstall === m.snapshot
    const obsolete = installing ? this.staged : received
    if (installing) {
      this.staged = received
    }
    if (obsolete !== undefined) {
      void this.discard(obsolete)
    }
  }

  /**
   * Installs a received snapshot the core chose (`Ready.snapshot`): it
   * replaces the stored log, then the state machine's state.
   */
  async install (meta: SnapshotMeta): Promise<void> {
    const staged = this.staged
    if (staged === undefined || staged.meta.index !== meta.index || staged.meta.term !== meta.term) {
      throw new InvalidSnapshotError(`the snapshot at ${meta.index} to install was not received`)
    }
    this.staged = undefined
    await this.storage.installSnapshot(staged)
    this.settleWaiters(meta)
    await this.options.stateMachine.restore(await this.storage.snapshotData(staged))
    this.log('installed the snapshot at %d (%d bytes) from the leader', meta.index, staged.size)
    this.driver.restored(meta)
    this.snapshotted(meta, true)
  }

  private async discard (snapshot: StoredSnapshot): Promise<void> {
    await this.storage.discardSnapshot(snapshot).catch((err: Error) => {
      this.log('cannot delete an unused snapshot - %e', err)
    })
  }
}

/** The receiver already has what the offered snapshot holds; its request was handled without the data. */
class SnapshotNotNeededError extends Error {
  static name = 'SnapshotNotNeededError'

  constructor () {
    super('The snapshot is not needed')
    this.name = 'SnapshotNotNeededError'
  }
}

/** The receiver is taking in another snapshot; the leader tries again later. */
class SnapshotBusyError extends Error {
  static name = 'SnapshotBusyError'

  constructor () {
    super('Another snapshot is being received')
    this.name = 'SnapshotBusyError'
  }
}
