/**
 * A deterministic cluster simulator: N nodes built from the real Raft core
 * and the real storage layer (`RaftStorage` on a `MemoryDatastore` that
 * survives crashes), a simulated network, and one seeded RNG and virtual
 * clock driving everything. Faults: message loss, delay, duplication and
 * reordering; symmetric, one-way and bridge partitions; crashes that lose
 * every batch not yet written; slow nodes. Safety invariants are checked on
 * every batch, write and apply.
 */
import { MemoryDatastore } from 'datastore-core/memory'
import { Key } from 'interface-datastore'
import { RaftCore, bootstrapState } from '../../src/core/index.ts'
import { RaftStorage } from '../../src/storage/raft-storage.ts'
import { SafetyChecker } from '../utils/invariants.ts'
import { Links } from '../utils/links.ts'
import { Rng } from '../utils/rng.ts'
import { EventQueue } from './event-queue.ts'
import type { CoreInit, CoreOptions, Entry, Message, NodeId, ReadState, Ready } from '../../src/core/index.ts'

/** Builds a node's core; tests swap in deliberately broken variants. */
export type CoreFactory = (init: CoreInit) => RaftCore

export interface SimOptions extends CoreOptions {
  seed: number
  nodes: number
  /** Virtual milliseconds per tick */
  tickMs?: number
  /** One-way message delay range, ms */
  latency?: [number, number]
  /** Probability that a message is lost */
  drop?: number
  /** Probability that a message is delivered twice */
  duplicate?: number
  /** How long a write takes, ms (range) */
  writeLatency?: [number, number]
  makeCore?: CoreFactory
}

/** Called with each entry a node applies; returns the state machine's output. */
export type Applier = (node: SimNode, entry: Entry) => void

export class SimNode {
  readonly id: NodeId
  /** The node's disk: survives crashes */
  readonly datastore = new MemoryDatastore()
  core!: RaftCore
  up = false
  /** Bumped on every crash, so events of a dead incarnation do nothing */
  incarnation = 0
  writing = false
  /** Ticks and sends take this many times longer */
  slowness = 1
  /** Last index this incarnation applied */
  applied = 0

  constructor (id: NodeId) {
    this.id = id
  }
}

const ROOT = new Key('/raft/sim')

export class Simulator {
  readonly rng: Rng
  readonly options: Required<Pick<SimOptions, 'tickMs' | 'latency' | 'drop' | 'duplicate' | 'writeLatency'>> & SimOptions
  readonly nodes = new Map<NodeId, SimNode>()
  readonly safety = new SafetyChecker()
  private readonly events = new EventQueue()
  /** Directed links that lose every message */
  readonly links = new Links()
  /** Called with each applied entry (the workload's state machines hook in here) */
  onApply: Applier = () => {}
  /** Called with each read a node's core confirms */
  onRead: (node: SimNode, read: ReadState) => void = () => {}
  /** Called when a node crashes */
  onCrash: (node: SimNode) => void = () => {}
  now = 0

  constructor (options: SimOptions) {
    this.options = { tickMs: 10, latency: [1, 5], drop: 0, duplicate: 0, writeLatency: [0, 2], ...options }
    this.rng = new Rng(options.seed)
    for (let i = 1; i <= options.nodes; i++) {
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

  /** Writes every node's bootstrap state and starts them. */
  async boot (): Promise<void> {
    const state = bootstrapState(this.ids())
    for (const node of this.nodes.values()) {
      await new RaftStorage(node.datastore, ROOT).write(state.hardState, state.entries)
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

  schedule (delay: number, run: () => void | Promise<void>): void {
    this.events.push(this.now + delay, run)
  }

  /** Runs events until virtual time `until` (or until `stop` says so). Returns whether `stop` fired. */
  async run (until: number, stop?: () => boolean): Promise<boolean> {
    for (;;) {
      if (stop?.() === true) {
        return true
      }
      const at = this.events.peek()
      if (at === undefined || at > until) {
        this.now = until
        return false
      }
      const event = this.events.pop()
      if (event !== undefined) {
        this.now = event.at
        await event.run()
      }
    }
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
    const [min, max] = this.options.writeLatency
    this.schedule(min + this.rng.int(max - min + 1), async () => {
      if (node.incarnation !== incarnation) {
        return
      }
      await this.complete(node, ready)
    })
  }

  private async complete (node: SimNode, ready: Ready): Promise<void> {
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

  // ---- network ------------------------------------------------------------------

  private sendAll (from: SimNode, messages: Message[]): void {
    for (const m of messages) {
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
    node.incarnation++
    this.onCrash(node)
  }

  /** Starts a node from what its disk holds (a crashed node's unwritten batches are gone). */
  async restart (id: NodeId): Promise<void> {
    const node = this.node(id)
    if (node.up) {
      return
    }
    const storage = new RaftStorage(node.datastore, ROOT)
    const state = await storage.load()
    this.storages.set(node, storage)
    const make = this.options.makeCore ?? ((init: CoreInit) => new RaftCore(init))
    node.core = make({ ...this.options, id, state, random: () => this.rng.next() })
    node.incarnation++
    node.applied = 0
    node.up = true
    this.safety.restarted(id)
    this.scheduleTick(node)
    this.pump(node)
  }
}
