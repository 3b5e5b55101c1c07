/**
 * A deterministic cluster simulator: N nodes built from the real Raft core
 * and the real storage layer (`RaftStorage` on a memory disk that survives
 * crashes), a simulated network, and one seeded RNG and virtual clock
 * driving everything. Faults: message loss, delay, duplication and
 * reordering; symmetric, one-way and bridge partitions; crashes that lose
 * every batch not yet written, or stop a snapshot's storage step part way;
 * slow nodes. Safety invariants are checked on every batch, write, apply
 * and restore. Spare nodes start outside the configuration, with an empty
 * disk, for scenarios that change the membership.
 *
 * Snapshots follow the service's steps: taken in log order right after an
 * apply, persisted in the background (later batches go on), then
 * `snapshotPersisted` and log compaction; sent to a follower as chunks
 * that take time in proportion to their size, staged on the receiver,
 * stepped once whole, and installed when a batch says so.
 */
import { Key } from 'interface-datastore'
import { RaftCore, bootstrapState } from '../../src/core/index.ts'
import { RaftStorage } from '../../src/storage/raft-storage.ts'
import { SafetyChecker } from '../utils/invariants.ts'
import { Links } from '../utils/links.ts'
import { SimDisk, TornWriteError } from './sim-disk.ts'
import { World } from './world.ts'
import type { CoreInit, CoreOptions, Entry, Message, NodeId, ReadState, Ready, SnapshotMeta, SnapshotRequest } from '../../src/core/index.ts'
import type { IncomingSnapshot, StoredSnapshot } from '../../src/storage/raft-storage.ts'

/** Builds a node's core; tests swap in deliberately broken variants. */
export type CoreFactory = (init: CoreInit) => RaftCore

export interface SimOptions extends CoreOptions {
  seed: number
  /** The initial voters, n1 … nN */
  nodes: number
  /** Nodes started outside the configuration with an empty disk, named after the voters: they wait to be added */
  spares?: number
  /** Virtual milliseconds per tick */
  tickMs?: number
  /** One-way message delay range, ms */
  latency?: [number, number]
  /** Probability that a message (or a whole snapshot transfer) is lost */
  drop?: number
  /** Probability that a message (or a snapshot transfer) is delivered twice */
  duplicate?: number
  /** How long a write takes, ms (range) */
  writeLatency?: [number, number]
  /** Applied entries since the latest snapshot that make a node take one; none are taken automatically when undefined */
  snapshotThreshold?: number
  /** Applied entries kept in the log behind a snapshot */
  trailingEntries?: number
  /** How long persisting a snapshot takes, ms (range) */
  snapshotLatency?: [number, number]
  /** Snapshot transfer speed, bytes per virtual ms */
  transferRate?: number
  /** How long a sender waits before it gives up on a transfer it hears nothing more about, ms */
  transferTimeout?: number
  /** Probability that a snapshot storage step (persist, compaction, staging, install) is cut short by a crash */
  tornCrash?: number
  makeCore?: CoreFactory
}

/** Called with each entry a node applies; returns the state machine's output. */
export type Applier = (node: SimNode, entry: Entry) => void

/** The storage steps of snapshots a crash can cut short. */
export type SnapshotStep = 'persist' | 'compact' | 'stage' | 'install'

export class SimNode {
  readonly id: NodeId
  /** The node's disk: survives crashes */
  readonly datastore = new SimDisk()
  core!: RaftCore
  up = false
  /** Bumped on every crash, so events of a dead incarnation do nothing */
  incarnation = 0
  writing = false
  /** Ticks and sends take this many times longer */
  slowness = 1
  /** Last index this incarnation applied (or restored from a snapshot) */
  applied = 0
  /** A snapshot is being persisted and compacted behind; no other is taken meanwhile */
  persisting = false
  /** A scenario asked for a snapshot; it is taken as soon as the state machine is in step with the core */
  snapshotWanted = false
  /** Received snapshots the core chose to install, by `index@term`, until the batch that says so */
  readonly accepted = new Map<string, StoredSnapshot>()
  /** Snapshots installed from a leader, over all incarnations */
  installs = 0
  /** A fault a scenario arms: this incarnation's next storage step of this kind is cut short by a crash */
  tearNext: SnapshotStep | undefined

  constructor (id: NodeId) {
    this.id = id
  }
}

/** A snapshot on its way from a leader's shell to a follower's. */
interface Transfer {
  m: SnapshotRequest
  from: SimNode
  to: SimNode
  fromIncarnation: number
  toIncarnation?: number
  stored: StoredSnapshot
  /** The sender's read of its stored snapshot, one chunk per pull */
  chunks: AsyncGenerator<Uint8Array>
  /** The receiver's staging, from the moment the offer arrived */
  incoming?: IncomingSnapshot
  /** Only the original, not a duplicate, tells the sender how it ended */
  reports: boolean
}

/** What happened to snapshots over a run, for scenarios' expectations. */
export interface SnapshotStats {
  /** Snapshots taken (their state captured) */
  taken: number
  /** Snapshots durable and reported to the core */
  persisted: number
  /** Compactions of the disk's log (past its first entry) completed */
  compactions: number
  /** Transfers started (duplicates not counted) */
  transfers: number
  /** Snapshots installed from a leader */
  installs: number
  /** Storage steps cut short by a crash */
  torn: number
}

const ROOT = new Key('/raft/sim')

function metaKey (meta: Pick<SnapshotMeta, 'index' | 'term'>): string {
  return `${meta.index}@${meta.term}`
}

export class Simulator extends World {
  readonly options: Required<Pick<SimOptions, 'tickMs' | 'latency' | 'drop' | 'duplicate' | 'writeLatency' | 'trailingEntries' | 'snapshotLatency' | 'transferRate' | 'transferTimeout' | 'tornCrash'>> & SimOptions
  readonly nodes = new Map<NodeId, SimNode>()
  readonly safety = new SafetyChecker()
  readonly stats: SnapshotStats = { taken: 0, persisted: 0, compactions: 0, transfers: 0, installs: 0, torn: 0 }
  private readonly transfers = new Set<Transfer>()
  /** Directed links that lose every message */
  readonly links = new Links()
  /** Called with each applied entry (the workload's state machines hook in here) */
  onApply: Applier = () => {}
  /** Called with each read a node's core confirms */
  onRead: (node: SimNode, read: ReadState) => void = () => {}
  /** Called when a node crashes */
  onCrash: (node: SimNode) => void = () => {}
  /** The node's state machine state, for a snapshot at its last applied entry */
  snapshotState: (node: SimNode) => Uint8Array = () => new Uint8Array(0)
  /** Replaces the node's state machine state with a snapshot's (`node.applied` is already its index) */
  restoreState: (node: SimNode, data: Uint8Array) => void = () => {}

  constructor (options: SimOptions) {
    super(options.seed)
    this.options = {
      tickMs: 10,
      latency: [1, 5],
      drop: 0,
      duplicate: 0,
      writeLatency: [0, 2],
      trailingEntries: 5,
      snapshotLatency: [1, 20],
      transferRate: 2,
      transferTimeout: 500,
      tornCrash: 0,
      ...options
    }
    for (let i = 1; i <= options.nodes + (options.spares ?? 0); i++) {
      this.nodes.set(`n${i}`, new SimNode(`n${i}`))
    }
  }

  ids (): NodeId[] {
    return [...this.nodes.keys()]
  }

  node (id: NodeId): SimNode {
    const node = this.nodes.get(id)
    if (node === undefined) {
      throw new Error(`no node ${id}`)
    }
    return node
  }

  /** Writes every initial voter's bootstrap state and starts all nodes (spares from an empty disk). */
  async boot (): Promise<void> {
    const voters = this.ids().slice(0, this.options.nodes)
    const state = bootstrapState(voters)
    for (const node of this.nodes.values()) {
      if (voters.includes(node.id)) {
        await new RaftStorage(node.datastore, ROOT).write(state.hardState, state.entries)
      }
      await this.restart(node.id)
    }
  }

  /** The leader of the highest term among running nodes, if any. */
  leader (): SimNode | undefined {
    let best: SimNode | undefined
    for (const node of this.nodes.values()) {
      if (node.up && node.core.role === 'leader' && (best === undefined || node.core.term > best.core.term)) {
        best = node
      }
    }
    return best
  }

  // ---- time -------------------------------------------------------------------

  /** The core shell's work is awaited as it runs: nothing is left for later to drain. */
  protected async runEvent (run: () => void | Promise<void>): Promise<void> {
    await run()
  }

  // ---- a node's shell -----------------------------------------------------------

  private scheduleTick (node: SimNode): void {
    const incarnation = node.incarnation
    this.schedule(this.options.tickMs * node.slowness, () => {
      if (node.up && node.incarnation === incarnation) {
        node.core.tick()
        this.pump(node)
        this.scheduleTick(node)
      }
    })
  }

  /** Takes the node's next batch and starts writing it; the write completes later. */
  pump (node: SimNode): void {
    if (!node.up || node.writing || !node.core.hasReady()) {
      return
    }
    const ready = node.core.ready()
    this.safety.onReady(node.id, node.core, ready)
    this.sendAll(node, ready.messages)
    node.writing = true
    const incarnation = node.incarnation
    this.schedule(this.between(this.options.writeLatency), async () => {
      if (node.incarnation !== incarnation) {
        return
      }
      await this.complete(node, ready)
    })
  }

  private async complete (node: SimNode, ready: Ready): Promise<void> {
    const incarnation = node.incarnation
    if (ready.snapshot !== undefined) {
      await this.install(node, ready.snapshot)
      if (node.incarnation !== incarnation) {
        return
      }
    }
    await this.storageOf(node).write(ready.hardState, ready.entries)
    this.safety.onWrite(node.id, ready.hardState)
    this.sendAll(node, ready.messagesAfterPersist)
    this.safety.onApply(node.id, ready.committed)
    for (const entry of ready.committed) {
      node.applied = entry.index
      this.onApply(node, entry)
    }
    for (const read of ready.readStates) {
      this.onRead(node, read)
    }
    node.core.advance(ready)
    node.writing = false
    this.maybeSnapshot(node)
    this.pump(node)
  }

  private readonly storages = new WeakMap<SimNode, RaftStorage>()

  private storageOf (node: SimNode): RaftStorage {
    const storage = this.storages.get(node)
    if (storage === undefined) {
      throw new Error(`${node.id} has no storage open`)
    }
    return storage
  }

  /**
   * Runs one storage step of a snapshot. When a crash is due (armed by a
   * scenario, or by chance) the disk stops after a random number of key
   * writes and the node crashes: the step leaves a prefix of its writes.
   * Returns undefined when the node crashed.
   */
  private async storageStep<T> (node: SimNode, step: SnapshotStep, work: () => Promise<T>): Promise<T | undefined> {
    const armed = node.tearNext === step
    if (!armed && !this.rng.chance(this.options.tornCrash)) {
      return work()
    }
    node.tearNext = undefined
    this.stats.torn++
    // Mostly early, where the interesting half-done states are.
    node.datastore.tearAfter(this.rng.int(1 + this.rng.int(40)))
    try {
      await work()
    } catch (err) {
      if (!(err instanceof TornWriteError)) {
        throw err
      }
    } finally {
      node.datastore.mend()
    }
    this.crash(node.id)
    if (!armed) {
      // Nothing in the scenario knows of this crash: the node comes back by itself.
      const incarnation = node.incarnation
      this.schedule(this.between([10, 200]), async () => {
        if (!node.up && node.incarnation === incarnation) {
          await this.restart(node.id)
        }
      })
    }
    return undefined
  }

  // ---- snapshots: taking and persisting -------------------------------------------

  /** Asks a node's shell for a snapshot of everything it applied (taken once its state machine is in step with its core). */
  snapshot (id: NodeId): void {
    const node = this.node(id)
    if (!node.up) {
      return
    }
    node.snapshotWanted = true
    this.maybeSnapshot(node)
  }

  /**
   * Takes a snapshot if one is due: the state machine's state and the
   * core's meta, at once, so they describe the same applied entry; then
   * persists it in the background.
   */
  private maybeSnapshot (node: SimNode): void {
    // The core's applied index runs ahead of the state machine while a batch, or an install, is pending.
    if (!node.up || node.persisting || node.core.log.applied !== node.applied) {
      return
    }
    const since = node.applied - node.core.snapshot.index
    if (since <= 0) {
      node.snapshotWanted = false
      return
    }
    const threshold = this.options.snapshotThreshold
    if (!node.snapshotWanted && (threshold === undefined || since < threshold)) {
      return
    }
    node.snapshotWanted = false
    node.persisting = true
    this.stats.taken++
    const meta = node.core.snapshotMeta()
    const data = this.snapshotState(node)
    const incarnation = node.incarnation
    this.schedule(this.between(this.options.snapshotLatency), async () => {
      if (node.incarnation === incarnation) {
        await this.persist(node, meta, data)
      }
    })
  }

  /**
   * The service's steps: make the snapshot durable, tell the core (which
   * compacts its log and says how far the disk's may go), then compact the
   * disk's log a moment later, never past what the disk's snapshot covers.
   */
  private async persist (node: SimNode, meta: SnapshotMeta, data: Uint8Array): Promise<void> {
    const storage = this.storageOf(node)
    const stored = await this.storageStep(node, 'persist', async () => storage.saveSnapshot(meta, data))
    if (stored === undefined) {
      return
    }
    this.stats.persisted++
    const upTo = node.core.snapshotPersisted(stored.meta, this.options.trailingEntries)
    const incarnation = node.incarnation
    this.schedule(this.between(this.options.writeLatency), async () => {
      if (node.incarnation !== incarnation) {
        return
      }
      const compacted = await this.storageStep(node, 'compact', async () => { await storage.compactLog(upTo); return true })
      if (compacted === undefined) {
        return
      }
      if (upTo > 1) {
        this.stats.compactions++
      }
      node.persisting = false
      this.maybeSnapshot(node)
      this.pump(node)
    })
  }

  // ---- snapshots: transfer and install ----------------------------------------------

  /** The latest snapshot on a node's disk, as its storage knows it. */
  storedSnapshot (id: NodeId): SnapshotMeta | undefined {
    return this.storages.get(this.node(id))?.snapshot?.meta
  }

  /** Transfers in flight to `to`: who sends, and whether the receiver has started staging. */
  transfersTo (to: NodeId): Array<{ from: NodeId, staging: boolean }> {
    return [...this.transfers].filter(t => t.to.id === to).map(t => ({ from: t.from.id, staging: t.incoming !== undefined }))
  }

  /**
   * The sender's shell streams its stored snapshot, which must be the one
   * the core asked for (else the core hears at once that it failed).
   */
  private startTransfer (from: SimNode, m: SnapshotRequest): void {
    const incarnation = from.incarnation
    const to = this.nodes.get(m.to)
    const stored = this.storageOf(from).snapshot
    if (to === undefined || stored === undefined || metaKey(stored.meta) !== metaKey(m.snapshot)) {
      this.schedule(0, () => { this.reportSent(from, incarnation, m.to, false) })
      return
    }
    this.stats.transfers++
    const copies = this.rng.chance(this.options.duplicate) ? 2 : 1
    for (let copy = 0; copy < copies; copy++) {
      // Like the service, the read is set up now and starts with the first pull.
      const t: Transfer = { m, from, to, fromIncarnation: incarnation, stored, chunks: this.storageOf(from).readSnapshot(stored), reports: copy === 0 }
      this.transfers.add(t)
      if (this.rng.chance(this.options.drop)) {
        // Lost on the way: the sender only learns of it from its timeout.
        this.schedule(0, async () => this.failTransfer(t, this.options.transferTimeout))
      } else {
        this.schedule(this.latency(from, to), async () => this.offer(t))
      }
    }
  }

  private latency (from: SimNode, to: SimNode): number {
    return this.between(this.options.latency) * Math.max(from.slowness, to.slowness)
  }

  /** Whether both ends of a transfer are the same incarnations and the link still carries it. */
  private alive (t: Transfer): boolean {
    return t.from.up && t.from.incarnation === t.fromIncarnation &&
      t.to.up && (t.toIncarnation === undefined || t.to.incarnation === t.toIncarnation) &&
      !this.links.isCut(t.from.id, t.to.id)
  }

  /** The offer reaches the receiver, which starts staging. */
  private async offer (t: Transfer): Promise<void> {
    if (!this.alive(t)) {
      await this.abort(t)
      return
    }
    t.toIncarnation = t.to.incarnation
    const { meta, size, chunks, checksum } = t.stored
    t.incoming = this.storageOf(t.to).receiveSnapshot(meta, size, chunks, checksum)
    await this.nextChunk(t)
  }

  /** Pulls the sender's next chunk and stages it when it arrives, later in proportion to its size. */
  private async nextChunk (t: Transfer): Promise<void> {
    let next: IteratorResult<Uint8Array>
    try {
      next = await t.chunks.next()
    } catch (err: any) {
      // A newer snapshot replaced this one before the read began: the transfer fails, as it would in the service.
      if (err.name !== 'InvalidSnapshotError') {
        throw err
      }
      await this.abort(t)
      return
    }
    const delay = next.done === true ? 1 : 1 + Math.ceil(next.value.byteLength / this.options.transferRate)
    this.schedule(delay, async () => {
      if (!this.alive(t)) {
        await this.abort(t)
      } else if (next.done === true) {
        await this.finish(t)
      } else if (await this.storageStep(t.to, 'stage', async () => { await t.incoming?.write(next.value); return true }) === undefined) {
        await this.abort(t)
      } else {
        await this.nextChunk(t)
      }
    })
  }

  /**
   * The data is whole: the receiver verifies it, steps the request, and
   * keeps the snapshot only if the core chose to install it. The sender
   * hears back, unless the answer is lost.
   */
  private async finish (t: Transfer): Promise<void> {
    const { to, incoming } = t
    const stored = incoming === undefined ? undefined : await this.storageStep(to, 'stage', async () => incoming.finish())
    if (stored === undefined) {
      await this.abort(t)
      return
    }
    this.transfers.delete(t)
    const before = to.core.snapshot
    to.core.step(t.m)
    if (to.core.snapshot !== before && metaKey(to.core.snapshot) === metaKey(t.m.snapshot)) {
      to.accepted.set(metaKey(stored.meta), stored)
    } else {
      await this.storageOf(to).discardSnapshot(stored)
    }
    this.pump(to)
    const heard = !this.rng.chance(this.options.drop) && !this.links.isCut(to.id, t.from.id)
    if (t.reports) {
      this.schedule(heard ? this.latency(to, t.from) : this.options.transferTimeout, () => {
        this.reportSent(t.from, t.fromIncarnation, to.id, heard)
      })
    }
  }

  /** The transfer broke: the receiver drops what it staged; the sender notices a little later. */
  private async abort (t: Transfer): Promise<void> {
    if (t.incoming !== undefined && t.to.up && t.to.incarnation === t.toIncarnation) {
      await t.incoming.discard()
    }
    await this.failTransfer(t, this.latency(t.from, t.to) + this.rng.int(this.options.transferTimeout))
  }

  private async failTransfer (t: Transfer, after: number): Promise<void> {
    this.transfers.delete(t)
    if (t.from.up && t.from.incarnation === t.fromIncarnation) {
      // Ends the sender's read, so its storage may delete the snapshot if a newer one replaced it meanwhile.
      await t.chunks.return(undefined)
    }
    if (t.reports) {
      this.schedule(after, () => { this.reportSent(t.from, t.fromIncarnation, t.to.id, false) })
    }
  }

  private reportSent (from: SimNode, incarnation: number, to: NodeId, delivered: boolean): void {
    if (from.up && from.incarnation === incarnation) {
      from.core.snapshotSent(to, delivered)
      this.pump(from)
    }
  }

  /** A batch says to install a received snapshot: it replaces the stored log, then the state machine's state. */
  private async install (node: SimNode, meta: SnapshotMeta): Promise<void> {
    const accepted = node.accepted.get(metaKey(meta))
    if (accepted === undefined) {
      throw new Error(`${node.id} was told to install the snapshot at ${metaKey(meta)}, which it never accepted`)
    }
    node.accepted.delete(metaKey(meta))
    const storage = this.storageOf(node)
    const installed = await this.storageStep(node, 'install', async () => { await storage.installSnapshot(accepted); return true })
    if (installed === undefined) {
      return
    }
    // Accepted earlier and superseded before their batch came.
    for (const [key, stored] of node.accepted) {
      if (stored.meta.index <= meta.index) {
        node.accepted.delete(key)
        await storage.discardSnapshot(stored)
      }
    }
    const data = await storage.snapshotData(accepted)
    this.safety.onRestore(node.id, meta)
    node.applied = meta.index
    this.restoreState(node, data)
    node.installs++
    this.stats.installs++
  }

  // ---- network ------------------------------------------------------------------

  private sendAll (from: SimNode, messages: Message[]): void {
    for (const m of messages) {
      if (m.type === 'snapshot-request') {
        this.startTransfer(from, m)
        continue
      }
      if (this.rng.chance(this.options.drop)) {
        continue
      }
      const copies = this.rng.chance(this.options.duplicate) ? 2 : 1
      for (let i = 0; i < copies; i++) {
        const [min, max] = this.options.latency
        const delay = (min + this.rng.int(max - min + 1)) * Math.max(from.slowness, this.nodes.get(m.to)?.slowness ?? 1) * this.delayFactor(m)
        this.schedule(delay, () => { this.deliver(m) })
      }
    }
  }

  /** Extra delay per message type (for slow vote delivery); 1 by default. */
  delayFactor: (m: Message) => number = () => 1

  private deliver (m: Message): void {
    const to = this.nodes.get(m.to)
    if (to === undefined || !to.up || this.links.isCut(m.from, m.to)) {
      return
    }
    to.core.step(m)
    this.pump(to)
  }

  partition (...groups: NodeId[][]): void {
    this.links.partition(...groups)
  }

  cutLink (from: NodeId, to: NodeId): void {
    this.links.cutLink(from, to)
  }

  bridge (left: NodeId[], bridge: NodeId, right: NodeId[]): void {
    this.links.bridge(left, bridge, right)
  }

  isolate (id: NodeId): void {
    this.links.partition([id], this.ids().filter(other => other !== id))
  }

  heal (): void {
    this.links.heal()
  }

  // ---- crashes --------------------------------------------------------------------

  crash (id: NodeId): void {
    const node = this.node(id)
    if (!node.up) {
      return
    }
    node.up = false
    node.writing = false
    node.persisting = false
    node.snapshotWanted = false
    node.tearNext = undefined
    // Their chunks stay on the disk until the next load clears them.
    node.accepted.clear()
    node.incarnation++
    this.onCrash(node)
  }

  /**
   * Starts a node from what its disk holds (a crashed node's unwritten
   * batches are gone): the core from the stored state, the state machine
   * from the stored snapshot, if any.
   */
  async restart (id: NodeId): Promise<void> {
    const node = this.node(id)
    if (node.up) {
      return
    }
    const storage = new RaftStorage(node.datastore, ROOT)
    const state = await storage.load()
    const snapshot = storage.snapshot
    const data = snapshot === undefined ? undefined : await storage.snapshotData(snapshot)
    this.storages.set(node, storage)
    const make = this.options.makeCore ?? ((init: CoreInit) => new RaftCore(init))
    node.core = make({ ...this.options, id, state, random: () => this.rng.next() })
    node.incarnation++
    node.applied = 0
    node.up = true
    this.safety.restarted(id)
    if (snapshot !== undefined && data !== undefined) {
      this.safety.onRestore(id, snapshot.meta)
      node.applied = snapshot.meta.index
      this.restoreState(node, data)
    }
    this.scheduleTick(node)
    this.pump(node)
  }
}
