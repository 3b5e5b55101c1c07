import { NotStartedError, TimeoutError, serviceCapabilities, serviceDependencies } from '@libp2p/interface'
import { parseBootstrap, parseMember } from '../bootstrap.ts'
import { bootstrapState } from '../core/index.ts'
import { CommitTimeoutError, InvalidParametersError, NoLeaderError } from '../errors.ts'
import { resolveOptions } from '../options.ts'
import { RaftStorage, storageRoot } from '../storage/raft-storage.ts'
import { ClientSession } from './client-session.ts'
import { Driver } from './driver.ts'
import { Forwarder } from './forwarder.ts'
import { GuardedEventEmitter } from './guarded-events.ts'
import { Inbound } from './inbound.ts'
import { LeaderSightings } from './leader-sightings.ts'
import { MemberAddresses } from './member-addresses.ts'
import { MemberTracker } from './member-tracker.ts'
import { Membership } from './membership.ts'
import { PeerIds } from './peer-ids.ts'
import { defaultSeams } from './seams.ts'
import { Snapshots } from './snapshots.ts'
import { Warnings } from './warnings.ts'
import type { BootstrapMember } from '../bootstrap.ts'
import type { Landed } from './forwarder.ts'
import type { Clock, FrameTransport, ServiceSeams, SnapshotChannel } from './seams.ts'
import type { Waiters } from './waiters.ts'
import type { Notification, RaftCore, SessionStamp, SnapshotMeta } from '../core/index.ts'
import type { CommitResult, JoinOptions, MembershipResult, PeerInput, Raft, RaftComponents, RaftEvents, RaftInit, RaftRole, RaftSession, RaftStatus } from '../index.ts'
import type { MembershipRequest } from './membership.ts'
import type { RaftOptions } from '../options.ts'
import type { AbortOptions, Logger, PeerId, Startable } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Datastore } from 'interface-datastore'

/**
 * The `Raft` service: what users call and listen to. It checks what callers
 * pass, wires the parts together and starts and stops them, and turns what
 * the core reports into events. The work is done by the parts: the
 * `Driver` (the only owner of the core), the `Waiters` registry, `Inbound`
 * routing (and whom to trust), the `Forwarder`, `Membership`, `Snapshots`
 * and the `MemberTracker`. Time, randomness, the network and the core come
 * through `ServiceSeams`.
 */
export class RaftService<R = unknown> extends GuardedEventEmitter<RaftEvents<R>> implements Raft<R>, Startable {
  readonly [Symbol.toStringTag] = 'libp2p-raft'
  readonly [serviceCapabilities]: string[] = ['libp2p-raft']
  readonly [serviceDependencies]: string[] = ['@libp2p/identify']

  private readonly components: RaftComponents
  private readonly options: RaftOptions
  private readonly log: Logger
  private readonly self: string
  private readonly bootstrap: BootstrapMember[]
  /** Where Raft keeps its state: `init.datastore`, or the host's */
  private readonly datastore: Datastore
  private readonly storage: RaftStorage
  private readonly peerIds: PeerIds
  private readonly clock: Clock
  private readonly network: FrameTransport
  private readonly transfer: SnapshotChannel
  private readonly driver: Driver
  private readonly waiters: Waiters
  private readonly forwarder: Forwarder
  private readonly inbound: Inbound
  private readonly tracker: MemberTracker
  private readonly warnings: Warnings
  private readonly sightings: LeaderSightings
  /** This run's snapshot work */
  private snapshots: Snapshots | undefined
  private reportedRole: RaftRole = 'follower'
  /** Started with `join` and nothing stored: asks to be let in once libp2p listens */
  private mustJoin = false
  private joining: Promise<void> | undefined

  /** `seams` replace what the service takes from outside the process; only the simulator passes them. */
  constructor (components: RaftComponents, init: RaftInit<R> = {}, seams: Partial<ServiceSeams> = {}) {
    const log = components.logger.forComponent('libp2p:raft')
    super(log)
    this.components = components
    this.log = log
    this.options = resolveOptions(init)
    const { clock, random, makeCore, transport, snapshotChannel, sessionLimits } = { ...defaultSeams(components, this.options), ...seams }
    this.clock = clock
    this.self = components.peerId.toString()
    this.warnings = new Warnings(log)
    this.bootstrap = this.options.bootstrap === 'self' ? [{ id: this.self }] : parseBootstrap(this.options.bootstrap ?? [])
    if (this.bootstrap.length > 0 && !this.bootstrap.some(member => member.id === this.self)) {
      throw new InvalidParametersError(`bootstrap must include this node (${this.self})`)
    }
    const root = storageRoot(this.options.datastorePrefix, this.options.group)
    this.datastore = init.datastore ?? components.datastore
    this.storage = new RaftStorage(this.datastore, root)
    const addresses = new MemberAddresses({ datastore: this.datastore, peerStore: components.peerStore, addressManager: components.addressManager, self: components.peerId, root, log: this.log })
    this.peerIds = new PeerIds(components.peerId)
    components.metrics?.registerMetricGroup('libp2p_raft_state', {
      label: 'field',
      help: 'Raft state of this node: term, commit and applied index, last log index, whether it leads',
      calculate: () => ({
        term: this.term,
        commit_index: this.commitIndex,
        applied_index: this.appliedIndex,
        last_index: this.driver.lastIndex,
        snapshot_index: this.driver.snapshotIndex,
        is_leader: this.role === 'leader' ? 1 : 0
      })
    })
    this.network = transport((from, frame) => { this.inbound.onFrame(from, frame) }, (peer) => this.inbound.isMember(peer))
    const common = { options: this.options, self: this.self, log: this.log }
    this.driver = new Driver({
      ...common,
      seams: { clock, random, makeCore, sessionLimits },
      storage: this.storage,
      network: this.network,
      events: this,
      onNotification: (notification) => { this.notify(notification) },
      onStorageFailed: (error) => { this.warnings.raise({ code: 'storage-failed', message: error.message }) }
    })
    this.waiters = this.driver.waiters
    const { driver, waiters, network } = this
    const membership = new Membership({ ...common, driver, waiters, addresses, peerIds: this.peerIds })
    const warnings = this.warnings
    this.sightings = new LeaderSightings({ ...common, driver, clock, warnings })
    const sightings = this.sightings
    this.forwarder = new Forwarder({ ...common, driver, waiters, network, clock, random, membership, sightings })
    this.inbound = new Inbound({ ...common, driver, waiters, network, clock, membership, sightings, forwarder: this.forwarder })
    this.tracker = new MemberTracker({ ...common, driver, network, addresses, warnings, peerIds: this.peerIds, events: components.events })
    this.transfer = snapshotChannel(async (from, offer) => {
      this.assertRunning()
      return this.liveSnapshots().onOffer(from, offer)
    })
  }

  // ---- lifecycle ----------------------------------------------------------

  isStarted (): boolean {
    return this.driver.running
  }

  async start (): Promise<void> {
    if (this.isStarted()) {
      return
    }
    let state = await this.storage.load()
    const stored = state !== undefined
    const joining = state === undefined && this.options.join.length > 0
    // With nothing stored, a node either founds the cluster or waits to be let in.
    if (state === undefined && !joining && this.bootstrap.length > 0) {
      state = bootstrapState(this.bootstrap.map(member => member.id))
      await this.storage.write(state.hardState, state.entries ?? [])
      this.log('bootstrapped group %s with %d voters', this.options.group, this.bootstrap.length)
    }
    await this.tracker.rememberBootstrap(this.bootstrap)
    const { driver, inbound, storage, transfer, peerIds, options, self, log } = this
    const snapshots = new Snapshots({ driver, inbound, storage, transfer, peerIds, events: this, options, self, log })
    await snapshots.restoreStored()
    this.snapshots = snapshots
    this.driver.load(state ?? {}, snapshots)
    this.warnAtStart(stored)
    this.reportedRole = 'follower'
    await this.tracker.restore()
    await this.network.start()
    await this.transfer.start()
    this.tracker.start()
    this.driver.start()
    this.log('started in group %s at term %d', this.options.group, this.driver.term)
    this.mustJoin = joining
  }

  /** Joins (with `join`) only now that libp2p listens, so the request carries this node's addresses. */
  afterStart (): void {
    if (this.mustJoin && this.joining === undefined) {
      this.joining = this.joinUntilMember()
    }
  }

  async stop (): Promise<void> {
    if (!this.isStarted()) {
      return
    }
    this.driver.stop()
    this.tracker.stop()
    this.waiters.expireAll()
    this.mustJoin = false
    await this.joining
    this.joining = undefined
    await this.network.stop()
    await this.transfer.stop()
    await this.driver.drain()
    await this.driver.flush()
    await this.snapshots?.stop()
    this.log('stopped')
  }

  /** What the node starts with that an operator should know of: see `RaftWarningCode`. */
  private warnAtStart (stored: boolean): void {
    const warnings = this.warnings
    warnings.reset()
    if (isMemoryDatastore(this.datastore)) {
      warnings.raise({ code: 'memory-datastore', message: 'Raft keeps its log, term and vote in a MemoryDatastore, which a restart loses: give Raft a persistent datastore (raft({ datastore }) or libp2p\'s; SyncedLevelDatastore from libp2p-raft/level survives power loss too) so a restarted member keeps its promises' })
    }
    const voters = this.driver.config.voters
    const bootstrap = this.bootstrap.map(member => member.id)
    if (stored && bootstrap.length > 0 && !sameMembers(voters, bootstrap)) {
      warnings.raise({ code: 'bootstrap-ignored', message: `bootstrap (${bootstrap.join(', ')}) is used only on a first start; the stored configuration, with voters ${voters.join(', ') || 'none'}, stays in force` })
    }
    if (this.options.bootstrap === undefined && this.options.join.length === 0 && !this.driver.inConfig(this.self)) {
      warnings.raise({ code: 'no-configuration', message: 'This node belongs to no configuration and waits to be added by a leader. To found a group, give every initial voter the same bootstrap list (or bootstrap: \'self\' for a group of one); to enter one, use join' })
    }
  }

  // ---- state --------------------------------------------------------------

  /** `follower` while stopped. */
  get role (): RaftRole {
    return this.driver.running ? toRaftRole(this.driver.role) : 'follower'
  }

  get term (): number {
    return this.driver.term
  }

  /** `undefined` while stopped. */
  get leader (): PeerId | undefined {
    const leader = this.driver.running ? this.driver.leader : undefined
    return leader === undefined ? undefined : this.peerIds.get(leader)
  }

  get commitIndex (): number {
    return this.driver.commitIndex
  }

  get appliedIndex (): number {
    return this.driver.appliedIndex
  }

  members (): { voters: PeerId[], learners: PeerId[] } {
    const config = this.driver.config
    return { voters: config.voters.map(id => this.peerIds.get(id)), learners: config.learners.map(id => this.peerIds.get(id)) }
  }

  status (): RaftStatus {
    const driver = this.driver
    const status: RaftStatus = {
      peerId: this.components.peerId,
      group: this.options.group,
      role: this.role,
      term: this.term,
      leader: this.leader,
      commitIndex: this.commitIndex,
      appliedIndex: this.appliedIndex,
      lastIndex: driver.lastIndex,
      snapshotIndex: driver.snapshotIndex,
      firstIndex: driver.firstIndex,
      ...this.members(),
      warnings: this.warnings.list()
    }
    if (status.role === 'leader') {
      status.followers = driver.otherMembers().flatMap(id => {
        const pr = driver.progressOf(id)
        return pr === undefined ? [] : [{ peerId: this.peerIds.get(id), match: pr.match, next: pr.next, state: pr.state }]
      })
    }
    return status
  }

  // ---- commands and reads -------------------------------------------------

  async commit (command: Uint8Array, options: AbortOptions = {}): Promise<CommitResult<R>> {
    this.checkCommand(command)
    return this.waiters.within(options, async (deadline) => this.forwarder.commit(command, deadline)) as Promise<CommitResult<R>>
  }

  async openSession (options: AbortOptions = {}): Promise<RaftSession<R>> {
    this.assertRunning()
    const { index } = await this.waiters.within(options, async (deadline) => this.forwarder.commit(OPENS_SESSION_COMMAND, deadline, OPENS_SESSION))
    this.log('opened client session %d', index)
    return new ClientSession({
      id: index,
      check: (command) => { this.checkCommand(command) },
      commit: async (command, deadline, stamp) => this.forwarder.commit(command, deadline, stamp),
      waiters: this.waiters,
      clock: this.clock,
      retryPause: this.options.heartbeatInterval
    }) as RaftSession<R>
  }

  /** A command `commit()` can take, on a running node. */
  private checkCommand (command: Uint8Array): void {
    this.assertRunning()
    if (!(command instanceof Uint8Array)) {
      throw new InvalidParametersError('command must be a Uint8Array')
    }
    if (command.byteLength > this.options.maxCommandSize) {
      throw new InvalidParametersError(`command of ${command.byteLength} bytes exceeds maxCommandSize (${this.options.maxCommandSize})`)
    }
  }

  async waitForLeader (options: AbortOptions = {}): Promise<PeerId> {
    this.assertRunning()
    return this.waiters.within(options, async (deadline) => {
      for (;;) {
        const leader = this.leader
        if (leader !== undefined) {
          return leader
        }
        await this.waiters.nextLeader(deadline, () => this.sightings.noLeader('No leader was elected before the deadline'))
      }
    })
  }

  async read (options: AbortOptions = {}): Promise<{ index: number }> {
    this.assertRunning()
    const noLeader = (): Error => this.sightings.noLeader('No leader confirmed the read before the deadline')
    return this.waiters.within(options, async (deadline) => {
      for (;;) {
        if (deadline.expired) {
          throw noLeader()
        }
        const id = this.driver.readIndex()
        if (id === undefined) {
          await this.waiters.nextLeader(deadline, noLeader)
          continue
        }
        const index = await this.waiters.readIndex(id, deadline, noLeader)
        if (index !== undefined) {
          await this.waiters.appliedUpTo(index, deadline)
          return { index }
        }
      }
    })
  }

  async barrier (options: AbortOptions = {}): Promise<{ index: number }> {
    this.assertRunning()
    return this.waiters.within(options, async (deadline) => {
      const index = this.commitIndex
      await this.waiters.appliedUpTo(index, deadline)
      return { index }
    })
  }

  async snapshot (options: AbortOptions = {}): Promise<{ index: number, term: number }> {
    this.assertRunning()
    return this.waiters.within(options, async (deadline) => {
      const index = this.appliedIndex
      // What storage holds: a snapshot the core received may not be installed yet.
      let meta: SnapshotMeta | { index: number, term: number } = this.storage.snapshot?.meta ?? { index: 0, term: 0 }
      if (meta.index < index) {
        const snapshots = this.liveSnapshots()
        meta = await deadline.wait<SnapshotMeta>(() => new TimeoutError(`No snapshot up to index ${index} was durable before the deadline`), (resolve, reject) => snapshots.addWaiter({ index, resolve, reject }))
      }
      return { index: meta.index, term: meta.term }
    })
  }

  // ---- membership -----------------------------------------------------------

  async addLearner (peer: PeerInput, options: AbortOptions = {}): Promise<MembershipResult> {
    const member = parseMember(peer)
    return this.result(await this.changeMembership({ change: 'add-learner', peer: member.id, addrs: addressesOf(member) }, options))
  }

  async addVoter (peer: PeerInput, options: AbortOptions = {}): Promise<MembershipResult> {
    const member = parseMember(peer)
    return this.result(await this.changeMembership({ change: 'add-voter', peer: member.id, addrs: addressesOf(member) }, options))
  }

  async removeMember (peer: PeerInput, options: AbortOptions = {}): Promise<MembershipResult> {
    return this.result(await this.changeMembership({ change: 'remove', peer: parseMember(peer).id }, options))
  }

  async transferLeadership (peer?: PeerInput, options: AbortOptions = {}): Promise<PeerId> {
    const target = peer === undefined ? undefined : parseMember(peer).id
    const { leader } = this.result(await this.changeMembership({ change: 'transfer', peer: target }, options))
    if (leader === undefined) {
      throw new NoLeaderError('Leadership was handed over, but the new leader is not known')
    }
    return leader
  }

  async join (peer: PeerInput, options: JoinOptions = {}): Promise<MembershipResult> {
    this.assertRunning()
    const member = parseMember(peer)
    if (member.address !== undefined) {
      await this.components.peerStore.merge(this.peerIds.get(member.id), { multiaddrs: [member.address] })
    }
    const driver = this.driver
    if (driver.inConfig(this.self) && (options.voter !== true || driver.config.voters.includes(this.self))) {
      // Already in: nothing to ask anyone.
      return this.result({ index: driver.configIndex, term: driver.term, leader: driver.leader })
    }
    if (member.id === this.self) {
      throw new InvalidParametersError('join asks a member of the group to let this node in: name that member, not this node')
    }
    return this.waiters.within(options, async (deadline) => {
      const request: MembershipRequest = { change: 'join', peer: this.self, voter: options.voter === true, addrs: this.components.addressManager?.getAddresses() }
      const landed = await this.forwarder.join(member.id, request, deadline)
      // Resolve once the change reached this node too.
      await this.waiters.until(() => driver.inConfig(this.self), deadline, () => new CommitTimeoutError(landed.index, landed.term, 'This node was added, but has not received the change before the deadline'))
      return this.result(landed)
    })
  }

  /** Runs a membership request on the leader; resolves with where it landed and who leads after it. */
  private async changeMembership (request: MembershipRequest, options: AbortOptions): Promise<Landed> {
    this.assertRunning()
    return this.waiters.within(options, async (deadline) => this.forwarder.changeMembership(request, deadline))
  }

  /** What a membership call resolves with: where the change landed, and who leads after it. */
  private result ({ index, term, leader }: Landed): MembershipResult {
    return leader === undefined ? { index, term } : { index, term, leader: this.peerIds.get(leader) }
  }

  /** A node started with `join` asks the members it was given, in turn, until one lets it in. */
  private async joinUntilMember (): Promise<void> {
    await this.listening()
    const candidates = this.options.join.map(peer => parseMember(peer))
    const done = (): boolean => this.options.joinAsVoter ? this.driver.config.voters.includes(this.self) : this.driver.inConfig(this.self)
    for (let attempt = 0; this.driver.running && !done(); attempt++) {
      const member = candidates[attempt % candidates.length]
      try {
        await this.join(member.address ?? member.id, { voter: this.options.joinAsVoter })
        this.log('joined group %s', this.options.group)
        continue
      } catch (err: any) {
        this.log('%s did not let this node join - %e', member.id, err)
      }
      await new Promise<void>(resolve => { this.clock.after(this.options.electionTimeout, resolve) })
    }
  }

  /**
   * Resolves once libp2p listens somewhere (transports start listening
   * beside `afterStart`), so a join tells the leader where this node is; or
   * after an election timeout, for a node that listens nowhere.
   */
  private async listening (): Promise<void> {
    const events = this.components.events
    if ((this.components.addressManager?.getAddresses() ?? []).length > 0) {
      return
    }
    await new Promise<void>(resolve => {
      const done = (): void => {
        events.removeEventListener('transport:listening', done)
        cancel()
        resolve()
      }
      const cancel = this.clock.after(this.options.electionTimeout, done)
      events.addEventListener('transport:listening', done)
    })
  }

  // ---- events -------------------------------------------------------------

  /** What the core reported, once durable: events, and the parts that follow leaders and members. */
  private notify (n: Notification): void {
    if (n.type === 'role') {
      const role = toRaftRole(n.role)
      if (role !== this.reportedRole) {
        this.reportedRole = role
        this.log('%s at term %d', role, n.term)
        this.safeDispatchEvent('raft:role', { detail: { role, term: n.term } })
      }
    } else if (n.type === 'leader') {
      this.log('leader is %s at term %d', n.leader ?? 'unknown', n.term)
      this.sightings.leaderChanged(n.leader, n.term)
      this.forwarder.leaderChanged(n.leader)
      this.snapshots?.leaderChanged()
      this.waiters.leaderChanged()
      this.safeDispatchEvent('raft:leader', { detail: { leader: n.leader === undefined ? undefined : this.peerIds.get(n.leader), term: n.term } })
    } else if (n.type === 'transfer') {
      this.log(n.to === undefined ? 'leadership transfer ended' : 'handing leadership to %s', n.to)
    } else {
      this.tracker.follow(n.config)
      if (this.driver.inConfig(this.self)) {
        this.warnings.clear('no-configuration')
      }
      this.inbound.configChanged()
      this.sightings.configChanged()
      this.safeDispatchEvent('raft:membership', {
        detail: { voters: n.config.voters.map(id => this.peerIds.get(id)), learners: n.config.learners.map(id => this.peerIds.get(id)), index: n.index }
      })
    }
  }

  // ---- helpers ------------------------------------------------------------

  private liveSnapshots (): Snapshots {
    if (this.snapshots === undefined) {
      throw new NotStartedError('libp2p-raft has not been started')
    }
    return this.snapshots
  }

  private assertRunning (): void {
    if (!this.driver.running) {
      throw new NotStartedError('libp2p-raft is not running')
    }
    if (this.driver.failure !== undefined) {
      throw this.driver.failure
    }
  }
}

/** The stamp of the entry that opens a client session (sequence 0), whose index becomes the session's id */
const OPENS_SESSION: SessionStamp = { client: 0, sequence: 0, acknowledged: 0 }
const OPENS_SESSION_COMMAND = new Uint8Array(0)

function toRaftRole (role: RaftCore['role']): RaftRole {
  return role === 'pre-candidate' ? 'follower' : role
}

/**
 * Whether the datastore loses everything on a restart: datastore-core's
 * `MemoryDatastore` (libp2p's default), known by its constructor's name so
 * that datastore-core need not be loaded at run time. A subclass or wrapper
 * of it under another name is not recognised.
 */
function isMemoryDatastore (datastore: unknown): boolean {
  return (datastore as { constructor?: { name?: string } } | undefined)?.constructor?.name === 'MemoryDatastore'
}

function sameMembers (a: string[], b: string[]): boolean {
  return a.length === b.length && a.every(id => b.includes(id))
}

function addressesOf (member: { address?: Multiaddr }): Multiaddr[] {
  return member.address === undefined ? [] : [member.address]
}
