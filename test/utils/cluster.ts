/**
 * A deterministic in-memory cluster of Raft cores for tests: each node has a
 * memory "disk" that holds only what its shell wrote, messages travel through
 * a queue the test controls, and every batch of work is checked against
 * Raft's safety invariants as it is produced.
 */
import { RaftCore, bootstrapState } from '../../src/core/index.ts'
import { SafetyChecker } from './invariants.ts'
import { Links } from './links.ts'
import { Rng } from './rng.ts'
import type { CoreOptions, Entry, HardState, Message, NodeId, ReadState, Ready, SnapshotMeta } from '../../src/core/index.ts'

/** A snapshot: its metadata and the state it holds (the commands applied up to it, in order). */
export interface DiskSnapshot {
  meta: SnapshotMeta
  commands: string[]
}

/** What survives a crash: the writes a node's shell completed. */
export class MemoryDisk {
  hardState: HardState
  entries: Entry[]
  snapshot: DiskSnapshot | undefined

  constructor (state: { hardState: HardState, entries: Entry[] }) {
    this.hardState = { ...state.hardState }
    this.entries = [...state.entries]
  }

  write (ready: Ready): void {
    if (ready.hardState !== undefined) {
      this.hardState = { ...ready.hardState }
    }
    const first = ready.entries[0]
    if (first !== undefined) {
      this.entries = [...this.entries.filter(entry => entry.index < first.index), ...ready.entries]
    }
  }
}

export class ClusterNode {
  core: RaftCore
  readonly disk: MemoryDisk
  /** Entries this incarnation applied, in order */
  applied: Entry[] = []
  /** Reads confirmed to this incarnation, in order */
  reads: ReadState[] = []
  /** The state machine: every command it holds, from its snapshot and applied since */
  state: string[] = []
  /** A snapshot received from a leader, until the core decides what to do with it */
  received: DiskSnapshot | undefined
  up = true

  constructor (readonly id: NodeId, disk: MemoryDisk, private readonly makeCore: (id: NodeId, disk: MemoryDisk) => RaftCore) {
    this.disk = disk
    this.core = makeCore(id, disk)
  }

  /** Loses everything not yet written, then starts again from the disk. */
  restart (): void {
    this.core = this.makeCore(this.id, this.disk)
    this.applied = []
    this.reads = []
    this.state = [...(this.disk.snapshot?.commands ?? [])]
    this.up = true
  }
}

export interface ClusterInit extends CoreOptions {
  /** Number of voters, named n1, n2, … */
  size?: number
  /** Learners, named l1, l2, … */
  learners?: number
  seed?: number
}

export class Cluster {
  readonly rng: Rng
  readonly nodes = new Map<NodeId, ClusterNode>()
  /** Messages sent and not yet delivered, in send order */
  queue: Message[] = []
  /** Directed links that lose every message */
  readonly links = new Links()

  readonly safety = new SafetyChecker()
  private readonly makeCore: (id: NodeId, disk: MemoryDisk) => RaftCore

  constructor (init: ClusterInit = {}) {
    const { size = 3, learners = 0, seed = 1, ...options } = init
    this.rng = new Rng(seed)
    const voters = Array.from({ length: size }, (_, i) => `n${i + 1}`)
    const learnerIds = Array.from({ length: learners }, (_, i) => `l${i + 1}`)
    const boot = bootstrapState(voters)
    const bootEntries: Entry[] = learners === 0
      ? boot.entries
      : [{ type: 'config', index: 1, term: 1, config: { voters, learners: learnerIds } }]
    this.makeCore = (id: NodeId, disk: MemoryDisk): RaftCore => new RaftCore({
      ...options,
      id,
      random: () => this.rng.next(),
      state: { hardState: disk.hardState, entries: disk.entries, snapshot: disk.snapshot?.meta }
    })
    for (const id of [...voters, ...learnerIds]) {
      this.nodes.set(id, new ClusterNode(id, new MemoryDisk({ hardState: boot.hardState, entries: bootEntries }), this.makeCore))
    }
  }

  /** Adds a node that belongs to no configuration yet (it waits to be added), with an empty disk. */
  addNode (id: NodeId): ClusterNode {
    const node = new ClusterNode(id, new MemoryDisk({ hardState: { term: 0, commit: 0 }, entries: [] }), this.makeCore)
    this.nodes.set(id, node)
    return node
  }

  node (id: NodeId): ClusterNode {
    const node = this.nodes.get(id)
    if (node === undefined) {
      throw new Error(`no node ${id}`)
    }
    return node
  }

  core (id: NodeId): RaftCore {
    return this.node(id).core
  }

  ids (): NodeId[] {
    return [...this.nodes.keys()]
  }

  /** The leader with the highest term among running nodes, if any. */
  leader (): NodeId | undefined {
    let best: ClusterNode | undefined
    for (const node of this.nodes.values()) {
      if (node.up && node.core.role === 'leader' && (best === undefined || node.core.term > best.core.term)) {
        best = node
      }
    }
    return best?.id
  }

  // ---- the shell's job, synchronously ---------------------------------------

  /** Runs a node's batches (send, write, send, apply, advance) until it has no more work. */
  process (id: NodeId): void {
    const node = this.node(id)
    for (let i = 0; node.up && node.core.hasReady(); i++) {
      if (i > 1000) {
        throw new Error(`${id} never stops producing work`)
      }
      const ready = node.core.ready()
      this.safety.onReady(node.id, node.core, ready)
      this.queue.push(...ready.messages)
      this.complete(node, ready)
    }
  }

  /** Completes a batch's write, then sends, applies and advances. */
  private complete (node: ClusterNode, ready: Ready): void {
    if (ready.snapshot !== undefined) {
      this.install(node, ready.snapshot)
    }
    this.safety.onWrite(node.id, ready.hardState)
    node.disk.write(ready)
    this.queue.push(...ready.messagesAfterPersist)
    this.safety.onApply(node.id, ready.committed)
    node.applied.push(...ready.committed)
    for (const entry of ready.committed) {
      if (entry.type === 'command') {
        node.state.push(new TextDecoder().decode(entry.data))
      }
    }
    node.reads.push(...ready.readStates)
    node.core.advance(ready)
  }

  /** A received snapshot replaces the node's log and state. */
  private install (node: ClusterNode, meta: SnapshotMeta): void {
    const received = node.received
    if (received?.meta.index !== meta.index || received.meta.term !== meta.term) {
      throw new Error(`${node.id} was told to install a snapshot at ${meta.index} it never received`)
    }
    node.received = undefined
    node.disk.snapshot = received
    node.disk.entries = []
    node.state = [...received.commands]
    this.safety.onRestore(node.id, meta)
  }

  /**
   * The shell's snapshot: the state machine's state at the last applied
   * entry, made durable, then the log compacted to `trailingEntries`
   * behind it.
   */
  snapshot (id: NodeId, trailingEntries = 0): SnapshotMeta {
    const node = this.node(id)
    const meta = node.core.snapshotMeta()
    node.disk.snapshot = { meta, commands: [...node.state] }
    const compactedTo = node.core.snapshotPersisted(meta, trailingEntries)
    node.disk.entries = node.disk.entries.filter(entry => entry.index >= compactedTo)
    this.process(id)
    return meta
  }

  processAll (): void {
    for (const id of this.nodes.keys()) {
      this.process(id)
    }
  }

  /** Delivers one message (if its link is up and its target running) and lets the target react. */
  deliver (m: Message): void {
    const node = this.nodes.get(m.to)
    if (node === undefined || !node.up || !(this.nodes.get(m.from)?.up ?? false) || this.links.isCut(m.from, m.to)) {
      return
    }
    if (m.type === 'snapshot-request') {
      this.deliverSnapshot(m.from, node, m.snapshot)
    }
    node.core.step(m)
    this.process(m.to)
    if (m.type === 'snapshot-request') {
      // The transfer ended: the sender learns it arrived.
      this.core(m.from).snapshotSent(m.to, true)
      this.process(m.from)
    }
  }

  /** Hands the receiver the data of the sender's snapshot, which must be the one announced. */
  private deliverSnapshot (from: NodeId, to: ClusterNode, meta: SnapshotMeta): void {
    const snapshot = this.node(from).disk.snapshot
    if (snapshot?.meta.index !== meta.index) {
      throw new Error(`${from} announced a snapshot at ${meta.index} but holds ${snapshot?.meta.index ?? 'none'}`)
    }
    to.received = { meta: snapshot.meta, commands: [...snapshot.commands] }
  }

  /** Delivers queued messages until none are left. */
  stabilize (limit = 100_000): void {
    this.processAll()
    for (let i = 0; this.queue.length > 0; i++) {
      if (i >= limit) {
        throw new Error('the cluster did not go quiet')
      }
      this.deliver(this.queue.shift() as Message)
    }
  }

  tick (id: NodeId, times = 1): void {
    for (let i = 0; i < times; i++) {
      this.core(id).tick()
      this.process(id)
    }
  }

  /** Ticks a node until it starts an election, then lets the cluster settle. */
  campaign (id: NodeId): void {
    const core = this.core(id)
    for (let i = 0; i < 1000 && core.role === 'follower'; i++) {
      this.tick(id)
    }
    this.stabilize()
  }

  /** Ticks every running node `times` times, letting messages flow after each round. */
  tickAll (times = 1): void {
    for (let i = 0; i < times; i++) {
      for (const node of this.nodes.values()) {
        if (node.up) {
          node.core.tick()
        }
      }
      this.stabilize()
    }
  }

  propose (id: NodeId, text: string): { index: number, term: number } {
    const result = this.core(id).propose(new TextEncoder().encode(text))
    this.process(id)
    return result
  }

  // ---- faults ---------------------------------------------------------------

  partition (...groups: NodeId[][]): void {
    this.links.partition(...groups)
  }

  cutLink (from: NodeId, to: NodeId): void {
    this.links.cutLink(from, to)
  }

  isolate (id: NodeId): void {
    this.links.partition([id], this.ids().filter(other => other !== id))
  }

  heal (): void {
    this.links.heal()
  }

  crash (id: NodeId): void {
    const node = this.node(id)
    node.up = false
  }

  restart (id: NodeId): void {
    const node = this.node(id)
    node.restart()
    this.safety.restarted(id)
    if (node.disk.snapshot !== undefined) {
      this.safety.onRestore(id, node.disk.snapshot.meta)
    }
    this.process(id)
  }
}
