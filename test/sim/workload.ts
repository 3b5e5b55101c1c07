/**
 * Simulated clients on a replicated key-value store: each client runs one
 * operation at a time (read, write or compare-and-set on a handful of keys)
 * through the node it believes leads, and records it for the
 * linearizability checker: invoked and returned times, and the output, or
 * no output when the outcome is unknown (timeout, crash). An operation that
 * definitely did not happen (refused, or its entry replaced) is not recorded.
 */
import { History } from './history.ts'
import type { KvInput, KvOutput, Operation } from './linearizability.ts'
import type { SimNode, Simulator } from './simulator.ts'
import type { Entry, NodeId } from '../../src/core/index.ts'

/** A read-index read waiting for its confirmation, then for its node to apply up to it. */
interface PendingRead {
  op: Operation
  node: SimNode
  key: string
  index?: number
}

interface Pending {
  op: Operation
  node: SimNode
  incarnation: number
  index: number
  term: number
}

export interface WorkloadOptions {
  clients: number
  keys: number
  /** Give up on an operation after this long (ms): its outcome is then unknown */
  timeout?: number
  /** Pause between a client's operations (ms, range) */
  think?: [number, number]
}

export class KvWorkload {
  readonly history = new History()
  /** Each node's store, rebuilt from its snapshot and log when it restarts */
  private readonly stores = new Map<NodeId, Map<string, string>>()
  private readonly pending = new Map<string, Pending>()
  private readonly reads = new Map<string, PendingRead>()
  private readId = 0
  private readonly sim: Simulator
  private readonly options: Required<WorkloadOptions>
  private running = false
  private sequence = 0

  constructor (sim: Simulator, options: WorkloadOptions) {
    this.sim = sim
    this.options = { timeout: 1000, think: [0, 20], ...options }
    sim.onApply = (node, entry) => {
      this.apply(node, entry)
      this.serveReads(node)
    }
    sim.onRead = (node, read) => {
      const pending = this.reads.get(`${node.id}:${node.incarnation}:${read.id}`)
      if (pending !== undefined) {
        pending.index = read.index
        this.serveReads(node)
      }
    }
    sim.snapshotState = (node) => new TextEncoder().encode(JSON.stringify([...(this.stores.get(node.id) ?? [])].sort()))
    sim.restoreState = (node, data) => {
      this.stores.set(node.id, new Map(JSON.parse(new TextDecoder().decode(data)) as Array<[string, string]>))
      // Entries the snapshot covers are never applied here: whether those operations happened is unknown.
      for (const [key, p] of this.pending) {
        if (p.node === node && p.index <= node.applied) {
          this.settle(key, undefined)
        }
      }
      this.serveReads(node)
    }
    sim.onCrash = (node) => {
      this.stores.delete(node.id)
      for (const [key, p] of this.pending) {
        if (p.node === node) {
          this.settle(key, undefined)
        }
      }
      for (const [key, r] of this.reads) {
        if (r.node === node) {
          this.finishRead(key, undefined)
        }
      }
    }
  }

  start (): void {
    this.running = true
    for (let client = 0; client < this.options.clients; client++) {
      this.next(client)
    }
  }

  stop (): void {
    this.running = false
  }

  /**
   * The run is over: operations still waiting get an unknown outcome (a
   * node removed from the cluster never applies what it took after its
   * removal, though the members may have).
   */
  settleAll (): void {
    for (const key of [...this.pending.keys()]) {
      this.settle(key, undefined)
    }
    for (const key of [...this.reads.keys()]) {
      this.finishRead(key, undefined)
    }
  }

  /** Whether these nodes' stores hold the same values. */
  storesAgree (ids: NodeId[]): boolean {
    const dumps = ids.map(id => JSON.stringify([...(this.stores.get(id) ?? new Map<string, string>())].sort()))
    return dumps.every(d => d === dumps[0])
  }

  private next (client: number): void {
    if (!this.running || client >= this.options.clients) {
      return
    }
    const [min, max] = this.options.think
    this.sim.schedule(min + this.sim.rng.int(max - min + 1), () => { this.invoke(client) })
  }

  private invoke (client: number): void {
    if (!this.running) {
      return
    }
    const input = this.randomInput(client)
    if (input.kind === 'read' && this.sim.rng.chance(0.5)) {
      this.readAnywhere(client, input.key)
      return
    }
    const leader = this.sim.leader()
    if (leader === undefined || !this.submit(leader, client, input)) {
      this.next(client)
    }
  }

  /**
   * A linearizable read through ReadIndex on any running node (leader or
   * not, current or deposed): it asks for a read index, waits until its
   * node has applied up to it, then reads that node's store.
   */
  private readAnywhere (client: number, key: string): void {
    const up = this.sim.ids().map(id => this.sim.node(id)).filter(n => n.up)
    if (up.length === 0 || !this.readAt(this.sim.rng.pick(up), client, key)) {
      this.next(client)
    }
  }

  /** Starts a ReadIndex read of `key` on `node` for `client`; returns false when the node cannot take it. */
  readAt (node: SimNode, client: number, key: string): boolean {
    const id = ++this.readId
    if (!node.up || !node.core.readIndex(id)) {
      return false
    }
    const readKey = `${node.id}:${node.incarnation}:${id}`
    this.reads.set(readKey, { op: { client, input: { kind: 'read', key }, invoked: this.history.now() }, node, key })
    this.sim.pump(node)
    this.sim.schedule(this.options.timeout, () => { this.finishRead(readKey, undefined) })
    return true
  }

  /** Answers the confirmed reads whose index this node has now applied. */
  private serveReads (node: SimNode): void {
    for (const [key, r] of this.reads) {
      if (r.node === node && r.index !== undefined && node.applied >= r.index) {
        this.finishRead(key, { kind: 'read', value: this.stores.get(node.id)?.get(r.key) })
      }
    }
  }

  private finishRead (key: string, output: KvOutput | undefined): void {
    const r = this.reads.get(key)
    if (r === undefined) {
      return
    }
    this.reads.delete(key)
    this.record(r.op, output)
  }

  /**
   * Proposes an operation on `node` on behalf of `client` and tracks it like
   * any other (scenarios use it to feed a node directly, e.g. a cut-off
   * leader). Returns false when the node refused it (it never happened).
   */
  submit (node: SimNode, client: number, input: KvInput): boolean {
    let slot: { index: number, term: number }
    try {
      slot = node.core.propose(new TextEncoder().encode(JSON.stringify(input)))
    } catch {
      return false
    }
    const op: Operation = { client, input, invoked: this.history.now() }
    const key = `${node.id}:${node.incarnation}:${slot.index}`
    this.pending.set(key, { op, node, incarnation: node.incarnation, ...slot })
    this.sim.pump(node)
    this.sim.schedule(this.options.timeout, () => {
      if (this.pending.has(key)) {
        this.settle(key, undefined)
      }
    })
    return true
  }

  private randomInput (client: number): KvInput {
    const rng = this.sim.rng
    const key = `k${rng.int(this.options.keys)}`
    const value = `c${client}v${this.sequence++}`
    const roll = rng.next()
    if (roll < 0.4) {
      return { kind: 'read', key }
    }
    if (roll < 0.75) {
      return { kind: 'write', key, value }
    }
    const store = this.stores.get(this.sim.leader()?.id ?? '')
    // Expect a value that is plausibly current, so some CAS operations succeed.
    const expected = rng.chance(0.7) ? store?.get(key) : `c${client}v${rng.int(this.sequence)}`
    return { kind: 'cas', key, expected, value }
  }

  /** Applies an entry to a node's store, and completes the operation waiting on it there. */
  private apply (node: SimNode, entry: Entry): void {
    let store = this.stores.get(node.id)
    if (store === undefined) {
      store = new Map()
      this.stores.set(node.id, store)
    }
    const output = entry.type === 'command' ? execute(store, JSON.parse(new TextDecoder().decode(entry.data)) as KvInput) : undefined
    const key = `${node.id}:${node.incarnation}:${entry.index}`
    const p = this.pending.get(key)
    if (p === undefined) {
      return
    }
    if (p.term !== entry.term || output === undefined) {
      // Its slot went to another entry: it never happened.
      this.pending.delete(key)
      this.next(p.op.client)
      return
    }
    this.settle(key, output)
  }

  private settle (key: string, output: KvOutput | undefined): void {
    const p = this.pending.get(key)
    if (p === undefined) {
      return
    }
    this.pending.delete(key)
    this.record(p.op, output)
  }

  private record (op: Operation, output: KvOutput | undefined): void {
    this.history.record(op, output)
    this.next(op.client)
  }

  /** Client numbers for operations scenarios submit themselves, after the workload's own clients. */
  scriptedClient (n: number): number {
    return this.options.clients + n
  }
}

/** The key-value state machine: what an operation returns and how it changes the store. */
export function execute (store: Map<string, string>, input: KvInput): KvOutput {
  if (input.kind === 'read') {
    return { kind: 'read', value: store.get(input.key) }
  }
  if (input.kind === 'write') {
    store.set(input.key, input.value)
    return { kind: 'write' }
  }
  const ok = store.get(input.key) === input.expected
  if (ok) {
    store.set(input.key, input.value)
  }
  return { kind: 'cas', ok }
}
