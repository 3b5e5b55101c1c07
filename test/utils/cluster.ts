/**
 * A deterministic in-memory cluster of Raft cores for tests: each node has a
 * memory "disk" that holds only what its shell wrote, messages travel through
 * a queue the test controls, and every batch of work is checked against
 * Raft's safety invariants as it is produced.
 */
import { RaftCore, bootstrapState } from '../../src/core/index.ts'
import { Rng } from './rng.ts'
import type { CoreOptions, Entry, HardState, Message, NodeId, Ready } from '../../src/core/index.ts'

/** What survives a crash: the writes a node's shell completed. */
export class MemoryDisk {
  hardState: HardState
  entries: Entry[]

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
      this.entries.length = first.index - 1
      this.entries.push(...ready.entries)
    }
  }
}

export class SimNode {
  core: RaftCore
  readonly disk: MemoryDisk
  /** Entries this incarnation applied, in order */
  applied: Entry[] = []
  /** A batch taken from the core whose write has not completed (asynchronous mode only) */
  pending: Ready | undefined
  up = true

  constructor (readonly id: NodeId, disk: MemoryDisk, private readonly makeCore: (id: NodeId, disk: MemoryDisk) => RaftCore) {
    this.disk = disk
    this.core = makeCore(id, disk)
  }

  /** Loses everything not yet written, then starts again from the disk. */
  restart (): void {
    this.core = this.makeCore(this.id, this.disk)
    this.applied = []
    this.pending = undefined
    this.up = true
  }
}

export interface ClusterInit extends CoreOptions {
  /** Number of voters, named n1, n2, … */
  size?: number
  /** Learners, named l1, l2, … */
  learners?: number
  seed?: number
  /**
   * Writes complete only when the test calls `completeWrite`, so a crash can
   * lose a batch whose messages already left. Off: each batch is written at once.
   */
  asyncWrites?: boolean
}

/** A violated safety property, with enough context to debug it. */
export class InvariantError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'InvariantError'
  }
}

export class Cluster {
  readonly rng: Rng
  readonly nodes = new Map<NodeId, SimNode>()
  /** Messages sent and not yet delivered, in send order */
  queue: Message[] = []
  /** Directed links that lose every message: `from->to` */
  private readonly cut = new Set<string>()

  // Invariant bookkeeping across all nodes and all time.
  private readonly leaders = new Map<number, NodeId>()
  private readonly seen = new Map<string, { entry: string, prevTerm: number | undefined }>()
  readonly committed: Entry[] = []
  private readonly lastTerm = new Map<NodeId, number>()
  private readonly lastCommit = new Map<NodeId, number>()

  readonly asyncWrites: boolean

  constructor (init: ClusterInit = {}) {
    const { size = 3, learners = 0, seed = 1, asyncWrites = false, ...options } = init
    this.rng = new Rng(seed)
    this.asyncWrites = asyncWrites
    const voters = Array.from({ length: size }, (_, i) => `n${i + 1}`)
    const learnerIds = Array.from({ length: learners }, (_, i) => `l${i + 1}`)
    const boot = bootstrapState(voters)
    const bootEntries: Entry[] = learners === 0
      ? boot.entries
      : [{ type: 'config', index: 1, term: 1, config: { voters, learners: learnerIds } }]
    const makeCore = (id: NodeId, disk: MemoryDisk): RaftCore => new RaftCore({
      ...options,
      id,
      random: () => this.rng.next(),
      state: { hardState: disk.hardState, entries: disk.entries }
    })
    for (const id of [...voters, ...learnerIds]) {
      this.nodes.set(id, new SimNode(id, new MemoryDisk({ hardState: boot.hardState, entries: bootEntries }), makeCore))
    }
  }

  node (id: NodeId): SimNode {
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

  /** How many terms have had a leader so far. */
  leaderTerms (): number {
    return this.leaders.size
  }

  /** The leader with the highest term among running nodes, if any. */
  leader (): NodeId | undefined {
    let best: SimNode | undefined
    for (const node of this.nodes.values()) {
      if (node.up && node.core.role === 'leader' && (best === undefined || node.core.term > best.core.term)) {
        best = node
      }
    }
    return best?.id
  }

  // ---- the shell's job, synchronously ---------------------------------------

  /**
   * Runs a node's batches: write, send, apply, advance, until it has no more
   * work. With asynchronous writes it only takes the next batch and leaves
   * its write pending.
   */
  process (id: NodeId): void {
    const node = this.node(id)
    for (let i = 0; node.up && node.pending === undefined && node.core.hasReady(); i++) {
      if (i > 1000) {
        throw new Error(`${id} never stops producing work`)
      }
      const ready = this.take(node)
      if (this.asyncWrites) {
        node.pending = ready
        return
      }
      this.complete(node, ready)
    }
  }

  /** Asynchronous writes: completes a node's pending write, then takes its next batch. */
  completeWrite (id: NodeId): void {
    const node = this.node(id)
    if (node.up && node.pending !== undefined) {
      const ready = node.pending
      node.pending = undefined
      this.complete(node, ready)
      this.process(id)
    }
  }

  /** Takes a batch and sends what may leave before the write (asynchronous mode: the write completes later). */
  take (node: SimNode): Ready {
    const ready = node.core.ready()
    this.check(node, ready)
    this.queue.push(...ready.messages)
    return ready
  }

  /** Completes a batch's write, then sends, applies and advances. */
  complete (node: SimNode, ready: Ready): void {
    this.checkWrite(node, ready)
    node.disk.write(ready)
    this.queue.push(...ready.messagesAfterPersist)
    this.apply(node, ready.committed)
    node.core.advance(ready)
  }

  processAll (): void {
    for (const id of this.nodes.keys()) {
      this.process(id)
    }
  }

  /** Delivers one message (if its link is up and its target running) and lets the target react. */
  deliver (m: Message): void {
    const node = this.nodes.get(m.to)
    if (node === undefined || !node.up || !(this.nodes.get(m.from)?.up ?? false) || this.cut.has(`${m.from}->${m.to}`)) {
      return
    }
    node.core.step(m)
    this.process(m.to)
  }

  /** Delivers queued messages (and completes pending writes) until none are left. */
  stabilize (limit = 100_000): void {
    this.processAll()
    for (let i = 0; ; i++) {
      if (i >= limit) {
        throw new Error('the cluster did not go quiet')
      }
      const m = this.queue.shift()
      if (m !== undefined) {
        this.deliver(m)
        continue
      }
      const writing = [...this.nodes.values()].find(node => node.up && node.pending !== undefined)
      if (writing === undefined) {
        return
      }
      this.completeWrite(writing.id)
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

  /** Cuts both directions between the two groups. */
  partition (...groups: NodeId[][]): void {
    for (const a of groups) {
      for (const b of groups) {
        if (a === b) {
          continue
        }
        for (const x of a) {
          for (const y of b) {
            this.cut.add(`${x}->${y}`)
          }
        }
      }
    }
  }

  /** Cuts one direction only. */
  cutLink (from: NodeId, to: NodeId): void {
    this.cut.add(`${from}->${to}`)
  }

  isolate (id: NodeId): void {
    this.partition([id], this.ids().filter(other => other !== id))
  }

  heal (): void {
    this.cut.clear()
  }

  crash (id: NodeId): void {
    const node = this.node(id)
    node.up = false
    node.pending = undefined
  }

  restart (id: NodeId): void {
    const node = this.node(id)
    node.restart()
    this.process(id)
  }

  // ---- invariants -------------------------------------------------------------

  private apply (node: SimNode, entries: Entry[]): void {
    for (const entry of entries) {
      const expectedIndex = node.applied.length + 1
      if (entry.index !== expectedIndex) {
        throw new InvariantError(`${node.id} applied index ${entry.index}, expected ${expectedIndex}`)
      }
      node.applied.push(entry)
      const first = this.committed[entry.index - 1]
      if (first === undefined) {
        this.committed.push(entry)
      } else if (describe(first) !== describe(entry)) {
        throw new InvariantError(`state machine safety: ${node.id} applied ${describe(entry)} at ${entry.index}, another node applied ${describe(first)}`)
      }
    }
  }

  /** Checks a batch the moment a node produces it. */
  check (node: SimNode, ready: Ready): void {
    const core = node.core
    // Election safety: at most one leader per term.
    if (core.role === 'leader') {
      const known = this.leaders.get(core.term)
      if (known === undefined) {
        this.leaders.set(core.term, node.id)
        // Leader completeness: a new leader holds every committed entry.
        for (const entry of this.committed) {
          if (core.log.term(entry.index) !== entry.term) {
            throw new InvariantError(`leader completeness: ${node.id}, leader of term ${core.term}, lacks committed entry ${describe(entry)}`)
          }
        }
      } else if (known !== node.id) {
        throw new InvariantError(`election safety: ${known} and ${node.id} both lead term ${core.term}`)
      }
    }
    // Log matching: an (index, term) pair names one entry and one history.
    for (const entry of ready.entries) {
      const key = `${entry.index}:${entry.term}`
      const record = { entry: describe(entry), prevTerm: core.log.term(entry.index - 1) }
      const known = this.seen.get(key)
      if (known === undefined) {
        this.seen.set(key, record)
      } else if (known.entry !== record.entry || known.prevTerm !== record.prevTerm) {
        throw new InvariantError(`log matching: ${node.id} holds ${record.entry} after term ${record.prevTerm}; elsewhere ${known.entry} after term ${known.prevTerm}`)
      }
    }
  }

  /** Durable term and commit index never go back, across crashes too. */
  private checkWrite (node: SimNode, ready: Ready): void {
    if (ready.hardState !== undefined) {
      const { term, commit } = ready.hardState
      if (term < (this.lastTerm.get(node.id) ?? 0)) {
        throw new InvariantError(`${node.id}'s durable term went back to ${term}`)
      }
      if (commit < (this.lastCommit.get(node.id) ?? 0)) {
        throw new InvariantError(`${node.id}'s durable commit index went back to ${commit}`)
      }
      this.lastTerm.set(node.id, term)
      this.lastCommit.set(node.id, commit)
    }
  }
}

/** A short, comparable text form of an entry, e.g. `7@3:command(x=1)`. */
export function describe (entry: Entry): string {
  const head = `${entry.index}@${entry.term}:${entry.type}`
  if (entry.type === 'command') {
    return `${head}(${new TextDecoder().decode(entry.data)})`
  }
  return entry.type === 'config' ? `${head}(${JSON.stringify(entry.config)})` : head
}
