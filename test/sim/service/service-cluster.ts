/**
 * N real `RaftService` instances, the shell that ships, in one simulated
 * world: each has its own virtual clock, a disk that survives its crashes
 * (and refuses the writes of a dead incarnation) and, unless its store
 * syncs, loses its unflushed writes to a power loss, the simulated network as
 * its frame transport and snapshot channel, and a seeded random source.
 * Peer ids derive from the seed, so a run replays exactly. Every batch the
 * cores produce is checked against Raft's safety invariants as it is made.
 * Spare nodes start with `bootstrap: []`, outside the configuration, for
 * runs that change the membership.
 */
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { TypedEventEmitter } from 'main-event'
import { RaftCore } from '../../../src/core/index.ts'
import { RaftService } from '../../../src/service/raft-service.ts'
import { SafetyChecker } from '../../utils/invariants.ts'
import { World } from '../world.ts'
import { CrashableDisk } from './crashable-disk.ts'
import { KvMachine } from './kv-machine.ts'
import { MemberDisk } from './member-disk.ts'
import { SimNetwork } from './sim-network.ts'
import { TraceLog } from './trace-logger.ts'
import { VirtualClock } from './virtual-clock.ts'
import type { DiskMode } from './member-disk.ts'
import type { CoreInit, Ready } from '../../../src/core/index.ts'
import type { RaftComponents, RaftInit } from '../../../src/index.ts'
import type { SessionLimits } from '../../../src/service/session-table.ts'
import type { PeerId } from '@libp2p/interface'

/** Builds a node's core; the broken-core tests swap in deliberately wrong variants. */
export type CoreFactory = (init: CoreInit) => RaftCore

export interface ServiceSimOptions {
  seed: number
  /** The initial voters */
  nodes: number
  /** Nodes started outside the configuration, waiting to be added */
  spares?: number
  /** The service's options, on every node (the state machine and bootstrap are the simulator's) */
  init?: Omit<RaftInit, 'stateMachine' | 'bootstrap'>
  /** How long a disk write takes, ms */
  writeLatency?: [number, number]
  /**
   * Whether every member's store syncs its writes, so that they survive
   * power loss once they resolve (see `MemberDisk`)
   *
   * @default 'synced'
   */
  disk?: DiskMode
  /**
   * Whether every batch is checked against Raft's safety invariants; off,
   * only what the clients saw judges a run
   *
   * @default true
   */
  safetyChecks?: boolean
  makeCore?: CoreFactory
  /** The client session table's limits (the service's own by default) */
  sessionLimits?: SessionLimits
}

/** The simulator's defaults: a 10 ms tick, elections after 100–200 ms. */
export const SIM_INIT: RaftInit = {
  heartbeatInterval: 10,
  electionTimeout: 100,
  commitTimeout: 2000
}

export class SimMember {
  readonly name: string
  readonly peerId: PeerId
  readonly id: string
  /** What survives crashes, and power loss once flushed */
  readonly disk: MemberDisk
  readonly voter: boolean
  service: RaftService | undefined
  kv: KvMachine | undefined
  /** Running: started, or starting */
  up = false
  started = false
  incarnation = 0
  /** Timers and sends take this many times longer */
  slowness = 1
  writeLatency: [number, number]
  /** How to kill the running incarnation */
  kill: (() => void) | undefined

  constructor (name: string, peerId: PeerId, voter: boolean, writeLatency: [number, number], disk: MemberDisk) {
    this.name = name
    this.peerId = peerId
    this.id = peerId.toString()
    this.voter = voter
    this.writeLatency = writeLatency
    this.disk = disk
  }

  /** The running, started service; throws when there is none. */
  get live (): RaftService {
    if (this.service === undefined || !this.started) {
      throw new Error(`${this.name} is not running`)
    }
    return this.service
  }
}

export class ServiceCluster {
  readonly world: World
  readonly network: SimNetwork
  readonly safety = new SafetyChecker()
  readonly trace: TraceLog
  readonly members: SimMember[] = []
  private readonly options: ServiceSimOptions
  private readonly byId = new Map<string, SimMember>()

  private constructor (options: ServiceSimOptions) {
    this.options = options
    this.world = new World(options.seed)
    this.network = new SimNetwork(this.world)
    this.trace = new TraceLog(this.world)
  }

  /** Builds the members, with keys derived from the seed, and starts them all. */
  static async boot (options: ServiceSimOptions): Promise<ServiceCluster> {
    const cluster = new ServiceCluster(options)
    const total = options.nodes + (options.spares ?? 0)
    for (let i = 1; i <= total; i++) {
      const seed = new Uint8Array(32)
      new DataView(seed.buffer).setUint32(0, options.seed)
      new DataView(seed.buffer).setUint32(4, i)
      const peerId = peerIdFromPrivateKey(await generateKeyPairFromSeed('Ed25519', seed))
      const disk = new MemberDisk(options.disk ?? 'synced', cluster.world)
      const member = new SimMember(`n${i}`, peerId, i <= options.nodes, options.writeLatency ?? [0, 2], disk)
      cluster.members.push(member)
      cluster.byId.set(member.id, member)
    }
    for (const member of cluster.members) {
      cluster.start(member)
    }
    return cluster
  }

  /** The member with this peer id (string). */
  member (id: string): SimMember {
    const member = this.byId.get(id)
    if (member === undefined) {
      throw new Error(`no member ${id}`)
    }
    return member
  }

  /** A short name for a peer id, for messages. */
  name (id: string | PeerId | undefined): string {
    return id === undefined ? 'none' : this.byId.get(id.toString())?.name ?? id.toString()
  }

  running (): SimMember[] {
    return this.members.filter(m => m.started)
  }

  /** The leader of the highest term among running members, if any. */
  leader (): SimMember | undefined {
    let best: SimMember | undefined
    for (const m of this.running()) {
      if (m.live.role === 'leader' && (best === undefined || m.live.term > best.live.term)) {
        best = m
      }
    }
    return best
  }

  /** Starts a new incarnation of `member` from what its disk holds. */
  start (member: SimMember): void {
    if (member.up) {
      return
    }
    const incarnation = ++member.incarnation
    const clock = new VirtualClock(this.world, () => member.slowness)
    const disk = new CrashableDisk(member.disk, this.world, () => member.writeLatency)
    const seams = this.network.attach(member.id, {
      peerId: member.peerId,
      maxMessageSize: this.options.init?.maxMessageSize ?? 4 * 1024 * 1024,
      slowness: () => member.slowness
    })
    const events = new TypedEventEmitter()
    const components = {
      peerId: member.peerId,
      datastore: disk,
      events,
      logger: this.trace.for(member.name),
      peerStore: { merge: async () => {} },
      addressManager: { getAddresses: () => [] },
      registrar: {},
      connectionManager: {}
    } as unknown as RaftComponents
    const kv = new KvMachine()
    kv.onDuplicate = (value) => { this.world.fail(new Error(`${member.name} applied the command that writes ${value.slice(0, 40)} twice`)) }
    const bootstrap = member.voter ? this.members.filter(m => m.voter).map(m => m.id) : []
    const service = new RaftService(components, { ...SIM_INIT, ...this.options.init, stateMachine: kv, bootstrap }, {
      clock,
      random: () => this.world.rng.next(),
      transport: seams.transport,
      snapshotChannel: seams.snapshotChannel,
      makeCore: (init) => this.checkedCore(member, init),
      ...(this.options.sessionLimits === undefined ? {} : { sessionLimits: this.options.sessionLimits })
    })
    member.service = service
    member.kv = kv
    member.up = true
    member.started = false
    member.kill = () => {
      clock.stop()
      disk.crash()
      seams.detach()
    }
    service.start().then(() => {
      if (member.incarnation === incarnation) {
        member.started = true
        service.afterStart()
      }
    }, (err: unknown) => {
      if (member.incarnation === incarnation) {
        this.world.fail(err)
      }
    })
  }

  /** Kills the running incarnation at once: no stop(), writes in flight torn, timers dead. */
  crash (member: SimMember): void {
    if (!member.up) {
      return
    }
    member.kill?.()
    member.kill = undefined
    member.up = false
    member.started = false
    member.incarnation++
  }

  /**
   * Stops the running service the way `libp2p.stop()` does and starts it
   * again in the same process, so its state machine keeps what it applied.
   */
  async restartInPlace (member: SimMember): Promise<void> {
    const service = member.service
    if (!member.started || service === undefined) {
      return
    }
    const incarnation = member.incarnation
    member.started = false
    await service.stop()
    if (member.incarnation === incarnation) {
      await service.start()
      service.afterStart()
      member.started = member.incarnation === incarnation
    }
  }

  /** A crash, and a new incarnation after `downFor` virtual ms. */
  crashFor (member: SimMember, downFor: number): void {
    this.crash(member)
    const incarnation = member.incarnation
    this.world.schedule(downFor, () => {
      if (member.incarnation === incarnation) {
        this.start(member)
      }
    })
  }

  /**
   * Cuts the power of `members` at once: each process dies as in a crash,
   * each machine loses its page cache, and each comes back after `downFor`
   * virtual ms from what reached its disk.
   */
  powerLoss (members: SimMember[], downFor: number): void {
    for (const member of members) {
      this.crashFor(member, downFor)
      member.disk.powerLoss()
    }
  }

  /** Power losses so far, over every member. */
  get powerLosses (): number {
    return this.members.reduce((n, m) => n + m.disk.powerLosses, 0)
  }

  /**
   * The member's core, checked: every batch against the safety invariants,
   * every applied entry against what every other node applied there.
   */
  private checkedCore (member: SimMember, init: CoreInit): RaftCore {
    const core = (this.options.makeCore ?? ((i: CoreInit) => new RaftCore(i)))(init)
    if (this.options.safetyChecks === false) {
      return core
    }
    const id = member.name
    this.check(() => {
      this.safety.restarted(id)
      // What the disk holds: the durable term and commit index never go back, across crashes too.
      this.safety.onWrite(id, init.state?.hardState)
      // The state machine holds what it applied: restored from the stored snapshot, or kept by a restart in place.
      const applied = init.applied ?? 0
      if (applied > 0) {
        this.safety.onRestore(id, { ...core.snapshot, index: applied, term: core.log.term(applied) ?? core.snapshot.term })
      }
    })
    const ready = core.ready.bind(core)
    const advance = core.advance.bind(core)
    core.ready = (): Ready => {
      const batch = ready()
      this.check(() => { this.safety.onReady(id, core, batch) })
      return batch
    }
    core.advance = (batch: Ready): void => {
      this.check(() => {
        if (batch.snapshot !== undefined) {
          this.safety.onRestore(id, batch.snapshot)
        }
        this.safety.onApply(id, batch.committed)
      })
      advance(batch)
    }
    return core
  }

  /** Runs a safety check; a violation fails the run even where the shell would catch it. */
  private check (fn: () => void): void {
    try {
      fn()
    } catch (err) {
      this.world.fail(err)
      throw err
    }
  }
}
