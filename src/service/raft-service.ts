import { NotStartedError, TimeoutError, serviceCapabilities, serviceDependencies } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { Key } from 'interface-datastore'
import { parseBootstrap, parseMember } from '../bootstrap.ts'
import { RECENT_RESULTS } from '../constants.ts'
import { bootstrapState } from '../core/index.ts'
import { CommitTimeoutError, InvalidParametersError, LeadershipTransferInProgressError, NoLeaderError, NotCommittedError, NotVoterError, errorNamed } from '../errors.ts'
import { coreOptions, resolveOptions } from '../options.ts'
import { MembershipRequest as PbMembershipRequest } from '../pb/raft.ts'
import { membershipFromPb, membershipToPb, messageFromPb, messageToPb } from '../pb/translate.ts'
import { RaftStorage } from '../storage/raft-storage.ts'
import { Deadline } from './deadline.ts'
import { Forwards } from './forwards.ts'
import { GuardedEventEmitter } from './guarded-events.ts'
import { MemberAddresses } from './member-addresses.ts'
import { Membership } from './membership.ts'
import { defaultSeams } from './seams.ts'
import { Snapshots } from './snapshots.ts'
import type { BootstrapMember } from '../bootstrap.ts'
import type { Clock, FrameTransport, ServiceSeams, SnapshotChannel } from './seams.ts'
import type { Configuration, Entry, HardState, Message, Notification, RaftCore, SnapshotMeta } from '../core/index.ts'
import type { CommitResult, JoinOptions, MembershipResult, PeerInput, Raft, RaftComponents, RaftEvents, RaftInit, RaftRole, RaftStatus } from '../index.ts'
import type { MembershipRequest } from './membership.ts'
import type { RaftOptions } from '../options.ts'
import type { ProposeRequest, ProposeResponse, Frame } from '../pb/raft.ts'
import type { AbortOptions, IdentifyResult, Logger, PeerId, Startable } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

interface ApplyWaiter {
  term: number
  resolve(result: CommitResult): void
  reject(err: Error): void
}

interface AppliedResult {
  term: number
  result: unknown
  error?: Error
}

/**
 * The shell around the Raft core: it ticks the core on a timer, writes its
 * batches to the datastore, sends its messages over libp2p, applies committed
 * commands to the state machine, settles `commit()` calls and emits events.
 * Batches are handled one at a time; commands proposed while a batch is being
 * written go out together in the next one (group commit).
 */
export class RaftService extends GuardedEventEmitter<RaftEvents> implements Raft, Startable {
  readonly [Symbol.toStringTag] = 'libp2p-raft'
  readonly [serviceCapabilities]: string[] = ['libp2p-raft']
  readonly [serviceDependencies]: string[] = ['@libp2p/identify']

  private readonly components: RaftComponents
  private readonly options: RaftOptions
  private readonly log: Logger
  private readonly self: string
  private readonly bootstrap: BootstrapMember[]
  private readonly storage: RaftStorage
  private readonly addresses: MemberAddresses
  private readonly network: FrameTransport
  private readonly transfer: SnapshotChannel
  private readonly clock: Clock
  private readonly seams: ServiceSeams

  private core: RaftCore | undefined
  private snapshots: Snapshots | undefined
  private running = false
  /** Deadlines of the calls in flight */
  private readonly deadlines = new Set<Deadline>()
  private stopTicker: (() => void) | undefined
  private processing: Promise<void> | undefined
  private processScheduled = false
  private failure: Error | undefined
  private _appliedIndex = 0
  /** The hard state last written */
  private written: HardState | undefined
  private reportedRole: RaftRole = 'follower'
  private readonly waiters = new Map<number, ApplyWaiter[]>()
  private readonly recentResults = new Map<number, AppliedResult>()
  private readonly forwards: Forwards
  /** Reads waiting for their read index, by id; `retryAt`: when to ask again if no answer came */
  private readonly readWaiters = new Map<number, { retryAt: number, settle(index: number | undefined): void }>()
  private nextReadId = 1
  private readonly peerIds = new Map<string, PeerId>()
  private readonly membership: Membership
  /** Calls waiting for a condition on this node's state, checked on every tick and batch */
  private readonly conditionWaiters = new Set<{ check(): boolean, resolve(): void }>()
  /** Leaders a member named that this node's configuration does not list yet (it missed their addition) */
  private readonly vouched = new Set<string>()
  /** The members of the configuration last reported, to tell who left */
  private knownMembers = new Set<string>()
  private joining: Promise<void> | undefined
  private readonly rememberedAddresses = new Map<string, string>()

  /** `seams` replace what the service takes from outside the process; only the simulator passes them. */
  constructor (components: RaftComponents, init: RaftInit = {}, seams: Partial<ServiceSeams> = {}) {
    const log = components.logger.forComponent('libp2p:raft')
    super(log)
    this.components = components
    this.log = log
    this.options = resolveOptions(init)
    this.seams = { ...defaultSeams(components, this.options), ...seams }
    this.clock = this.seams.clock
    this.self = components.peerId.toString()
    this.bootstrap = parseBootstrap(this.options.bootstrap ?? [components.peerId])
    if (this.bootstrap.length > 0 && !this.bootstrap.some(member => member.id === this.self)) {
      throw new InvalidParametersError(`bootstrap must include this node (${this.self})`)
    }
    const root = new Key(`${this.options.datastorePrefix}/${this.options.group}`)
    this.storage = new RaftStorage(components.datastore, root)
    this.addresses = new MemberAddresses(components.datastore, components.peerStore, root, this.log)
    components.metrics?.registerMetricGroup('libp2p_raft_state', {
      label: 'field',
      help: 'Raft state of this node: term, commit and applied index, last log index, whether it leads',
      calculate: () => ({
        term: this.term,
        commit_index: this.commitIndex,
        applied_index: this._appliedIndex,
        last_index: this.core?.log.lastIndex() ?? 0,
        snapshot_index: this.core?.snapshot.index ?? 0,
        is_leader: this.role === 'leader' ? 1 : 0
      })
    })
    this.network = this.seams.transport((from, frame) => { this.onFrame(from, frame) })
    this.forwards = new Forwards((to, frame) => { this.network.send(to, frame) })
    this.membership = new Membership({
      log: this.log,
      authorizeJoin: this.options.authorizeJoin,
      catchUpSlack: this.options.maxEntriesPerAppend,
      core: () => this.liveCore(),
      peerId: (id) => this.peerId(id),
      schedule: () => { this.schedule() },
      waitApplied: async (index, term, deadline) => this.waitApplied(index, term, deadline),
      until: async (condition, deadline, onExpire) => { await this.until(condition, deadline, onExpire) },
      rememberAddresses: async (id, addrs) => {
        await this.addresses.remember(id, addrs)
        await this.addresses.keep(id, addrs)
      }
    })
    this.transfer = this.seams.snapshotChannel(async (from, offer) => {
      this.assertRunning()
      return this.liveSnapshots().onOffer(from, offer)
    })
  }

  // ---- lifecycle ----------------------------------------------------------

  isStarted (): boolean {
    return this.running
  }

  async start (): Promise<void> {
    if (this.running) {
      return
    }
    let state = await this.storage.load()
    const joining = state === undefined && this.options.join.length > 0
    // With nothing stored, a node either founds the cluster or waits to be let in.
    if (state === undefined && !joining && this.bootstrap.length > 0) {
      state = bootstrapState(this.bootstrap.map(member => member.id))
      await this.storage.write(state.hardState, state.entries ?? [])
      this.log('bootstrapped group %s with %d voters', this.options.group, this.bootstrap.length)
    }
    state ??= {}
    for (const member of this.bootstrap) {
      if (member.address !== undefined && member.id !== this.self) {
        await this.addresses.remember(member.id, [member.address])
      }
    }
    this.written = state.hardState ?? { term: 0, commit: 0 }
    const snapshots = this.createSnapshots()
    const restored = await snapshots.restoreStored(this._appliedIndex)
    if (restored !== undefined) {
      this.restored(restored)
    }
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
    this.reportedRole = 'follower'
    this.failure = undefined
    await this.addresses.restore(this.otherMembers())
    this.knownMembers = new Set(this.otherMembers())
    await this.network.start()
    await this.transfer.start()
    this.components.events.addEventListener('peer:identify', this.onIdentify)
    this.components.events.addEventListener('peer:reconnect-failure', this.onReconnectFailure)
    this.components.events.addEventListener('peer:connect', this.onConnect)
    this.running = true
    this.stopTicker = this.clock.every(this.options.heartbeatInterval, () => { this.tick() })
    // Re-apply what was committed before the restart.
    this.schedule()
    this.log('started in group %s at term %d', this.options.group, this.core.term)
    if (joining) {
      this.joining = this.joinUntilMember()
    }
  }

  async stop (): Promise<void> {
    if (!this.running) {
      return
    }
    this.running = false
    this.stopTicker?.()
    this.components.events.removeEventListener('peer:identify', this.onIdentify)
    this.components.events.removeEventListener('peer:reconnect-failure', this.onReconnectFailure)
    this.components.events.removeEventListener('peer:connect', this.onConnect)
    for (const deadline of [...this.deadlines]) {
      deadline.expire()
    }
    await this.joining
    await this.network.stop()
    await this.transfer.stop()
    await this.processing
    await this.snapshots?.stop()
    this.log('stopped')
  }

  // ---- state --------------------------------------------------------------

  /** `follower` while stopped. */
  get role (): RaftRole {
    return this.running ? toRaftRole(this.liveCore().role) : 'follower'
  }

  get term (): number {
    return this.core?.term ?? 0
  }

  /** `undefined` while stopped. */
  get leader (): PeerId | undefined {
    const leader = this.running ? this.core?.leader : undefined
    return leader === undefined ? undefined : this.peerId(leader)
  }

  get commitIndex (): number {
    return this.core?.commitIndex ?? 0
  }

  get appliedIndex (): number {
    return this._appliedIndex
  }

  members (): { voters: PeerId[], learners: PeerId[] } {
    const config = this.core?.config ?? { voters: [], learners: [] }
    return { voters: config.voters.map(id => this.peerId(id)), learners: config.learners.map(id => this.peerId(id)) }
  }

  status (): RaftStatus {
    const core = this.core
    const status: RaftStatus = {
      peerId: this.components.peerId,
      group: this.options.group,
      role: this.role,
      term: this.term,
      leader: this.leader,
      commitIndex: this.commitIndex,
      appliedIndex: this._appliedIndex,
      lastIndex: core?.log.lastIndex() ?? 0,
      snapshotIndex: core?.snapshot.index ?? 0,
      firstIndex: core?.log.firstIndex() ?? 1,
      ...this.members()
    }
    if (core?.role === 'leader') {
      status.followers = this.otherMembers().flatMap(id => {
        const pr = core.progressOf(id)
        return pr === undefined ? [] : [{ peerId: this.peerId(id), match: pr.match, next: pr.next, state: pr.state }]
      })
    }
    return status
  }

  // ---- commands -----------------------------------------------------------

  async commit (command: Uint8Array, options: AbortOptions = {}): Promise<CommitResult> {
    this.assertRunning()
    if (!(command instanceof Uint8Array)) {
      throw new InvalidParametersError('command must be a Uint8Array')
    }
    if (command.byteLength > this.options.maxCommandSize) {
      throw new InvalidParametersError(`command of ${command.byteLength} bytes exceeds maxCommandSize (${this.options.maxCommandSize})`)
    }
    const deadline = this.deadline(options)
    try {
      const slot = await this.append(command, deadline)
      return await this.waitApplied(slot.index, slot.term, deadline)
    } finally {
      this.release(deadline)
    }
  }

  async waitForLeader (options: AbortOptions = {}): Promise<PeerId> {
    this.assertRunning()
    const deadline = this.deadline(options)
    try {
      for (;;) {
        const leader = this.leader
        if (leader !== undefined) {
          return leader
        }
        await this.nextLeaderEvent(deadline, () => new NoLeaderError('No leader was elected before the deadline'))
      }
    } finally {
      this.release(deadline)
    }
  }

  async read (options: AbortOptions = {}): Promise<{ index: number }> {
    this.assertRunning()
    const deadline = this.deadline(options)
    try {
      for (;;) {
        if (deadline.expired) {
          throw new NoLeaderError('No leader confirmed the read before the deadline')
        }
        const id = this.nextReadId++
        if (!this.liveCore().readIndex(id)) {
          await this.nextLeaderEvent(deadline, () => new NoLeaderError('No leader confirmed the read before the deadline'))
          continue
        }
        this.schedule()
        const index = await this.readIndexOf(id, deadline)
        if (index !== undefined) {
          await this.appliedUpTo(index, deadline)
          return { index }
        }
      }
    } finally {
      this.release(deadline)
    }
  }

  async barrier (options: AbortOptions = {}): Promise<{ index: number }> {
    this.assertRunning()
    const deadline = this.deadline(options)
    try {
      const index = this.commitIndex
      await this.appliedUpTo(index, deadline)
      return { index }
    } finally {
      this.release(deadline)
    }
  }

  async snapshot (options: AbortOptions = {}): Promise<{ index: number, term: number }> {
    this.assertRunning()
    const deadline = this.deadline(options)
    try {
      const index = this._appliedIndex
      // What storage holds: a snapshot the core received may not be installed yet.
      let meta: SnapshotMeta | { index: number, term: number } = this.storage.snapshot?.meta ?? { index: 0, term: 0 }
      if (meta.index < index) {
        const snapshots = this.liveSnapshots()
        meta = await deadline.wait<SnapshotMeta>(() => new TimeoutError(`No snapshot up to index ${index} was durable before the deadline`), (resolve, reject) => snapshots.addWaiter({ index, resolve, reject }))
      }
      return { index: meta.index, term: meta.term }
    } finally {
      this.release(deadline)
    }
  }

  // ---- membership -----------------------------------------------------------

  async addLearner (peer: PeerInput, options: AbortOptions = {}): Promise<MembershipResult> {
    const member = parseMember(peer)
    return this.changeMembership({ change: 'add-learner', peer: member.id, addrs: addressesOf(member) }, options)
  }

  async addVoter (peer: PeerInput, options: AbortOptions = {}): Promise<MembershipResult> {
    const member = parseMember(peer)
    return this.changeMembership({ change: 'add-voter', peer: member.id, addrs: addressesOf(member) }, options)
  }

  async removeMember (peer: PeerInput, options: AbortOptions = {}): Promise<MembershipResult> {
    return this.changeMembership({ change: 'remove', peer: parseMember(peer).id }, options)
  }

  async transferLeadership (peer?: PeerInput, options: AbortOptions = {}): Promise<PeerId> {
    const target = peer === undefined ? undefined : parseMember(peer).id
    const { leader } = await this.changeMembership({ change: 'transfer', peer: target }, options)
    if (leader === undefined) {
      throw new NoLeaderError('Leadership was handed over, but the new leader is not known')
    }
    return this.peerId(leader)
  }

  async join (peer: PeerInput, options: JoinOptions = {}): Promise<MembershipResult> {
    this.assertRunning()
    const member = parseMember(peer)
    if (member.address !== undefined) {
      await this.components.peerStore.merge(this.peerId(member.id), { multiaddrs: [member.address] })
    }
    const deadline = this.deadline(options)
    try {
      const request: MembershipRequest = { change: 'join', peer: this.self, voter: options.voter === true, addrs: this.components.addressManager?.getAddresses() }
      const answer = await this.forwards.request(member.id, (id) => ({ membership: membershipToPb(id, request) }), deadline, false)
      if (answer.error !== undefined) {
        throw errorNamed(answer.error)
      }
      // Resolve once the change reached this node too.
      await this.until(() => this.isInConfig(this.self), deadline, () => new CommitTimeoutError(answer.index, answer.term, 'This node was added, but has not received the change before the deadline'))
      return { index: answer.index, term: answer.term }
    } finally {
      this.release(deadline)
    }
  }

  /** Runs a membership request on the leader (this node or a forward), retrying while leaders change. */
  /** Runs a membership request on the leader (this node or a forward); resolves with where it landed and who leads after it. */
  private async changeMembership (request: MembershipRequest, options: AbortOptions): Promise<MembershipResult & { leader?: string }> {
    this.assertRunning()
    const deadline = this.deadline(options)
    try {
      for (;;) {
        if (deadline.expired) {
          throw new NoLeaderError()
        }
        const core = this.liveCore()
        if (core.role === 'leader') {
          return { ...await this.membership.run(request, deadline), leader: core.leader }
        }
        const leader = core.leader
        if (leader === undefined) {
          await this.nextLeaderEvent(deadline, () => new NoLeaderError())
          continue
        }
        // A transfer changes the leader on purpose: its answer still matters then.
        const answer = await this.forwards.request(leader, (id) => ({ membership: membershipToPb(id, request) }), deadline, request.change !== 'transfer')
        if (answer.error === undefined) {
          return { index: answer.index, term: answer.term, leader: answer.leader }
        }
        if (answer.error !== 'NotLeaderError') {
          throw errorNamed(answer.error)
        }
        await this.nextLeaderEvent(deadline, () => new NoLeaderError())
      }
    } finally {
      this.release(deadline)
    }
  }

  /** A node started with `join` asks the members it was given, in turn, until one lets it in. */
  private async joinUntilMember (): Promise<void> {
    const candidates = this.options.join.map(peer => parseMember(peer))
    const done = (): boolean => this.options.joinAsVoter ? this.liveCore().config.voters.includes(this.self) : this.isInConfig(this.self)
    for (let attempt = 0; this.running && !done(); attempt++) {
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

  /** Resolves once `condition` holds (checked on every tick and batch), or rejects with `onExpire()` at the deadline. */
  private async until (condition: () => boolean, deadline: Deadline, onExpire: () => Error): Promise<void> {
    if (condition()) {
      return
    }
    await deadline.wait<void>(onExpire, (resolve) => {
      const waiter = { check: condition, resolve }
      this.conditionWaiters.add(waiter)
      return () => { this.conditionWaiters.delete(waiter) }
    })
  }

  private checkConditions (): void {
    for (const waiter of [...this.conditionWaiters]) {
      if (waiter.check()) {
        this.conditionWaiters.delete(waiter)
        waiter.resolve()
      }
    }
  }

  private isInConfig (id: string): boolean {
    const config = this.core?.config
    return config !== undefined && (config.voters.includes(id) || config.learners.includes(id))
  }

  /** The read index for read `id`, or undefined when no answer came within an election timeout (ask again). */
  private async readIndexOf (id: number, deadline: Deadline): Promise<number | undefined> {
    return deadline.wait(() => new NoLeaderError('No leader confirmed the read before the deadline'), (resolve) => {
      this.readWaiters.set(id, {
        retryAt: this.clock.now() + this.options.electionTimeout,
        settle: (index) => {
          this.readWaiters.delete(id)
          resolve(index)
        }
      })
      return () => { this.readWaiters.delete(id) }
    })
  }

  /** Resolves once this node has applied up to `index`. */
  private async appliedUpTo (index: number, deadline: Deadline): Promise<void> {
    await this.until(() => this._appliedIndex >= index, deadline, () => new CommitTimeoutError(index, undefined, `This node had not applied up to index ${index} before the deadline`))
  }

  /** Appends the command through the leader (this node or a forward), retrying while leaders refuse. */
  private async append (command: Uint8Array, deadline: Deadline): Promise<{ index: number, term: number }> {
    let refusedBy: string | undefined
    for (;;) {
      if (deadline.expired) {
        throw new NoLeaderError()
      }
      const core = this.liveCore()
      if (core.role === 'leader' && core.transferTarget !== undefined) {
        // Commands wait while leadership is handed over, then go to whoever leads.
        await this.until(() => core.transferTarget === undefined || core.role !== 'leader', deadline, () => new LeadershipTransferInProgressError(core.transferTarget))
        continue
      }
      const stepping = core.role === 'leader' && !core.config.voters.includes(this.self)
      if (core.role === 'leader' && !stepping) {
        const slot = core.propose(command)
        this.schedule()
        return slot
      }
      const leader = stepping ? undefined : core.leader
      if (leader === undefined || leader === refusedBy) {
        await this.nextLeaderEvent(deadline, () => new NoLeaderError())
        continue
      }
      const answer = await this.forwards.request(leader, (id) => ({ propose: { id, command: command as Uint8Array<ArrayBuffer> } }), deadline)
      if (answer.error === undefined) {
        return { index: answer.index, term: answer.term }
      }
      if (answer.error === 'InvalidParametersError') {
        throw new InvalidParametersError('The leader refused the command as invalid')
      }
      if (answer.error === 'LeadershipTransferInProgressError') {
        // Wait for the hand-over to end (a new leader, or the old one leading on), then ask again.
        const retryAt = this.clock.now() + this.options.electionTimeout
        await this.until(() => core.leader !== leader || this.clock.now() >= retryAt, deadline, () => new LeadershipTransferInProgressError(leader))
        continue
      }
      this.log('%s refused a forwarded command (%s)', leader, answer.error)
      refusedBy = leader
    }
  }

  /** Resolves once the entry at `index` is applied here: ours if its term is `term`, someone else's otherwise. */
  private async waitApplied (index: number, term: number, deadline: Deadline): Promise<CommitResult> {
    if (index <= this._appliedIndex) {
      const applied = this.recentResults.get(index)
      if (applied === undefined) {
        // Applied too long ago to remember its result; the log may still tell whether it was ours.
        const logTerm = this.core?.log.term(index)
        if (logTerm === undefined) {
          throw new CommitTimeoutError(index, term, `The entry at index ${index} was compacted into a snapshot before its outcome could be read; it is unknown`)
        }
        if (logTerm === term) {
          return { index, term, result: undefined }
        }
        throw new NotCommittedError(index, term)
      }
      return settled(index, term, applied)
    }
    return deadline.wait(() => new CommitTimeoutError(index, term), (resolve, reject) => {
      const waiter: ApplyWaiter = { term, resolve, reject }
      this.waiters.set(index, [...(this.waiters.get(index) ?? []), waiter])
      return () => {
        const rest = this.waiters.get(index)?.filter(w => w !== waiter) ?? []
        if (rest.length === 0) {
          this.waiters.delete(index)
        } else {
          this.waiters.set(index, rest)
        }
      }
    })
  }

  private async nextLeaderEvent (deadline: Deadline, onExpire: () => Error): Promise<void> {
    await deadline.wait<void>(onExpire, (resolve) => {
      const done = (): void => {
        this.removeEventListener('raft:leader', done)
        resolve()
      }
      this.addEventListener('raft:leader', done)
      return () => { this.removeEventListener('raft:leader', done) }
    })
  }

  // ---- the drive loop -----------------------------------------------------

  private tick (): void {
    this.core?.tick()
    this.schedule()
    const now = this.clock.now()
    for (const deadline of this.deadlines) {
      if (deadline.expiresAt <= now) {
        deadline.expire()
      }
    }
    for (const waiter of this.readWaiters.values()) {
      if (waiter.retryAt <= now) {
        waiter.settle(undefined)
      }
    }
    this.checkConditions()
  }

  /**
   * Processes the core's work soon, once whatever else is running now has
   * stepped its messages and proposals into it, so they share one batch.
   */
  private schedule (): void {
    if (this.processScheduled || this.processing !== undefined || !this.running || this.failure !== undefined) {
      return
    }
    this.processScheduled = true
    this.clock.soon(() => {
      this.processScheduled = false
      if (this.processing === undefined && this.running) {
        this.processing = this.process().finally(() => {
          this.processing = undefined
          if (this.core?.hasReady() === true || this.snapshots?.due() === true) {
            this.schedule()
          }
        })
      }
    })
  }

  private async process (): Promise<void> {
    const core = this.liveCore()
    const snapshots = this.liveSnapshots()
    try {
      while (this.running && (core.hasReady() || snapshots.due())) {
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
        if (this.mustWrite(ready.hardState, ready.entries)) {
          await this.storage.write(ready.hardState, ready.entries)
          this.written = ready.hardState ?? this.written
        }
        if (!this.running) {
          return
        }
        this.sendAll(ready.messagesAfterPersist)
        this.notify(ready.notifications)
        await this.applyAll(ready.committed)
        for (const { id, index } of ready.readStates) {
          this.readWaiters.get(id)?.settle(index)
        }
        core.advance(ready)
        this.checkConditions()
      }
    } catch (err: any) {
      // Without durable writes this node cannot take part safely any more.
      this.failure = err
      this.stopTicker?.()
      this.log.error('stopped taking part in group %s: %e', this.options.group, err)
    }
  }

  /**
   * Entries, a new term and a vote must be durable before anything depends
   * on them. A commit index alone need not be: a stored one that lags only
   * means a restart re-applies less and learns the rest from the leader, so
   * commit-only changes ride along with the next real write.
   */
  private mustWrite (hardState: HardState | undefined, entries: Entry[]): boolean {
    return entries.length > 0 ||
      (hardState !== undefined && (hardState.term !== this.written?.term || hardState.vote !== this.written.vote))
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
      const applied: AppliedResult = { term: entry.term, result: undefined }
      if (entry.type === 'command') {
        try {
          applied.result = this.options.stateMachine.apply(entry.data, { index: entry.index, term: entry.term })
          if (applied.result instanceof Promise) {
            // Await only real promises: most state machines apply synchronously.
            applied.result = await applied.result
          }
        } catch (err: any) {
          applied.error = err
          this.log.error('the state machine threw applying entry %d - %e', entry.index, err)
        }
      }
      this._appliedIndex = entry.index
      this.recentResults.set(entry.index, applied)
      if (this.recentResults.size > RECENT_RESULTS) {
        this.recentResults.delete(entry.index - RECENT_RESULTS)
      }
      const waiters = this.waiters.get(entry.index)
      this.waiters.delete(entry.index)
      for (const waiter of waiters ?? []) {
        try {
          waiter.resolve(settled(entry.index, waiter.term, applied))
        } catch (err: any) {
          waiter.reject(err)
        }
      }
      if (entry.type === 'command' && this.listenerCount('raft:apply') > 0) {
        this.safeDispatchEvent('raft:apply', { detail: { index: entry.index, term: entry.term, command: entry.data, result: applied.result } })
      }
    }
  }

  /**
   * The state machine now holds a snapshot's state. Commands waiting for an
   * entry the snapshot covers cannot learn whether that entry was theirs.
   */
  private restored (snapshot: SnapshotMeta): void {
    this._appliedIndex = snapshot.index
    this.recentResults.clear()
    for (const [index, waiters] of this.waiters) {
      if (index <= snapshot.index) {
        this.waiters.delete(index)
        for (const waiter of waiters) {
          waiter.reject(new CommitTimeoutError(index, waiter.term, `The entry at index ${index} arrived inside a snapshot; whether it was this command is unknown`))
        }
      }
    }
  }

  private createSnapshots (): Snapshots {
    return new Snapshots({
      log: this.log,
      storage: this.storage,
      stateMachine: this.options.stateMachine,
      transfer: this.transfer,
      self: this.self,
      snapshotThreshold: this.options.snapshotThreshold,
      trailingEntries: this.options.trailingEntries,
      core: () => this.liveCore(),
      isMember: (id) => this.isMember(id),
      peerId: (id) => this.peerId(id),
      schedule: () => { this.schedule() },
      restored: (snapshot) => { this.restored(snapshot) },
      snapshotted: (snapshot, installed) => {
        this.safeDispatchEvent('raft:snapshot', { detail: { index: snapshot.index, term: snapshot.term, installed } })
      }
    })
  }

  private notify (notifications: Notification[]): void {
    for (const n of notifications) {
      if (n.type === 'role') {
        const role = toRaftRole(n.role)
        if (role !== this.reportedRole) {
          this.reportedRole = role
          this.log('%s at term %d', role, n.term)
          this.safeDispatchEvent('raft:role', { detail: { role, term: n.term } })
        }
      } else if (n.type === 'leader') {
        this.log('leader is %s at term %d', n.leader ?? 'unknown', n.term)
        this.forwards.leaderChanged(n.leader)
        this.snapshots?.leaderChanged()
        // Reads asked of the previous leader were dropped with its office: ask again now.
        for (const waiter of [...this.readWaiters.values()]) {
          waiter.settle(undefined)
        }
        this.safeDispatchEvent('raft:leader', { detail: { leader: n.leader === undefined ? undefined : this.peerId(n.leader), term: n.term } })
      } else if (n.type === 'transfer') {
        this.log(n.to === undefined ? 'leadership transfer ended' : 'handing leadership to %s', n.to)
      } else {
        this.followMembers(n.config)
        this.safeDispatchEvent('raft:membership', {
          detail: { voters: n.config.voters.map(id => this.peerId(id)), learners: n.config.learners.map(id => this.peerId(id)), index: n.index }
        })
      }
    }
  }

  /** Keeps the members tagged and their addresses stored; forgets those that left. */
  private followMembers (config: Configuration): void {
    const members = new Set([...config.voters, ...config.learners].filter(id => id !== this.self))
    for (const id of members) {
      this.addresses.keep(id).catch((err: unknown) => { this.log.error('cannot tag member %s - %e', id, err) })
    }
    for (const id of this.knownMembers) {
      if (!members.has(id)) {
        this.log('%s left the group', id)
        this.rememberedAddresses.delete(id)
        this.addresses.forget(id).catch((err: unknown) => { this.log.error('cannot forget member %s - %e', id, err) })
      }
    }
    this.knownMembers = members
    this.vouched.clear()
  }

  // ---- inbound ------------------------------------------------------------

  private onFrame (from: PeerId, frame: Frame): void {
    if (!this.running || this.failure !== undefined) {
      return
    }
    const sender = from.toString()
    if (!this.isMember(sender)) {
      // An outsider may only ask to join, in a frame that carries nothing else.
      const bareJoin = frame.membership?.change === PbMembershipRequest.Change.JOIN && frame.membership.peer === sender &&
        frame.message === undefined && frame.propose === undefined && frame.proposeResult === undefined
      if (bareJoin) {
        this.onMembershipRequest(sender, frame.membership as PbMembershipRequest)
      } else {
        this.log('dropping a frame from %p, which is not a member of group %s', from, this.options.group)
      }
      return
    }
    if (frame.message !== undefined) {
      let m: Message
      try {
        m = messageFromPb(frame.message)
      } catch (err) {
        this.log('dropping an invalid message from %p - %e', from, err)
        return
      }
      if (m.from !== sender || m.to !== this.self) {
        this.log('dropping a message from %p that claims to be from %s to %s', from, m.from, m.to)
        return
      }
      if (m.type === 'snapshot-request') {
        // Only valid with its data, on a snapshot stream.
        this.log('dropping a snapshot request from %p that came without its data', from)
        return
      }
      if (m.type === 'vote-response' && m.leader !== undefined && !this.isMember(m.leader)) {
        // A member vouches for a leader this node does not know: it missed a change of membership.
        this.vouched.add(m.leader)
      }
      this.liveCore().step(m)
      this.schedule()
    } else if (frame.propose !== undefined) {
      this.onProposeRequest(sender, frame.propose)
    } else if (frame.membership !== undefined) {
      this.onMembershipRequest(sender, frame.membership)
    } else if (frame.proposeResult !== undefined) {
      this.forwards.answered(sender, frame.proposeResult)
    }
  }

  /** The leader's side of forwarding: append a member's command and say where. */
  private onProposeRequest (sender: string, request: ProposeRequest): void {
    const core = this.liveCore()
    const reply = (answer: Omit<ProposeResponse, 'id'>): void => {
      this.network.send(sender, { proposeResult: { id: request.id, ...answer } })
    }
    if (core.role !== 'leader') {
      reply({ index: 0, term: 0, error: 'NotLeaderError', leader: core.leader })
      return
    }
    if (request.command.byteLength > this.options.maxCommandSize) {
      reply({ index: 0, term: 0, error: 'InvalidParametersError' })
      return
    }
    if (core.transferTarget !== undefined) {
      reply({ index: 0, term: 0, error: 'LeadershipTransferInProgressError', leader: core.leader })
      return
    }
    if (!core.config.voters.includes(this.self)) {
      // Removed itself: the next leader takes commands.
      reply({ index: 0, term: 0, error: 'NotLeaderError' })
      return
    }
    const slot = core.propose(request.command)
    this.schedule()
    reply(slot)
  }

  /**
   * A member's request to change the membership (or a node's request to
   * join): the leader carries it out and answers once it is committed; a
   * follower relays a join to its leader and the answer back.
   */
  private onMembershipRequest (sender: string, pb: PbMembershipRequest): void {
    const core = this.liveCore()
    const reply = (answer: Omit<ProposeResponse, 'id'>): void => {
      this.network.send(sender, { proposeResult: { id: pb.id, ...answer } })
    }
    const fail = (err: any): void => { reply({ index: 0, term: 0, error: err?.name ?? 'Error', leader: core.leader }) }
    let request: MembershipRequest
    try {
      request = membershipFromPb(pb)
    } catch (err) {
      fail(err)
      return
    }
    // Anyone may ask to join (authorizeJoin decides); only voters may change the membership.
    if (request.change !== 'join' && !core.config.voters.includes(sender)) {
      fail(new NotVoterError())
      return
    }
    const deadline = this.deadline({})
    const run = async (): Promise<Omit<ProposeResponse, 'id'>> => {
      if (core.role === 'leader') {
        return { ...await this.membership.run(request, deadline), leader: core.leader }
      }
      if (request.change === 'join' && core.leader !== undefined) {
        const answer = await this.forwards.request(core.leader, (id) => ({ membership: membershipToPb(id, request) }), deadline)
        return { index: answer.index, term: answer.term, error: answer.error, leader: answer.leader }
      }
      return { index: 0, term: 0, error: 'NotLeaderError', leader: core.leader }
    }
    run().then(reply, fail).finally(() => { this.release(deadline) })
  }

  /**
   * Members may talk to us, and so may members just removed that the leader
   * still tells of their removal; anyone may while we belong to no
   * configuration yet (waiting to be added).
   */
  private isMember (id: string): boolean {
    const core = this.liveCore()
    const config = core.config
    return config.voters.includes(id) || config.learners.includes(id) || core.progressOf(id) !== undefined ||
      core.leader === id || this.vouched.has(id) || (config.voters.length === 0 && config.learners.length === 0)
  }

  /** Remembers where members listen, so a restart can re-dial them. */
  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    const id = evt.detail.peerId.toString()
    if (id === this.self || !this.otherMembers().includes(id)) {
      return
    }
    const addrs = evt.detail.listenAddrs
    const key = addrs.map(a => a.toString()).sort().join(' ')
    if (this.rememberedAddresses.get(id) === key) {
      return
    }
    this.rememberedAddresses.set(id, key)
    this.addresses.remember(id, addrs).catch((err: unknown) => { this.log.error('cannot store the addresses of %s - %e', id, err) })
  }

  /** A member that connects again gets our queued messages at once, not after the pause a failed send set. */
  private readonly onConnect = (evt: CustomEvent<PeerId>): void => {
    this.network.reconnected(evt.detail.toString())
  }

  /** libp2p drops keep-alive tags when redialling gives up; members must stay tagged. */
  private readonly onReconnectFailure = (evt: CustomEvent<PeerId>): void => {
    const id = evt.detail.toString()
    if (this.otherMembers().includes(id)) {
      this.addresses.keep(id).catch((err: unknown) => { this.log.error('cannot tag member %s - %e', id, err) })
    }
  }

  // ---- helpers ------------------------------------------------------------

  private otherMembers (): string[] {
    const config = this.core?.config ?? { voters: [], learners: [] }
    return [...config.voters, ...config.learners].filter(id => id !== this.self)
  }

  private peerId (id: string): PeerId {
    let peerId = this.peerIds.get(id)
    if (peerId === undefined) {
      peerId = id === this.self ? this.components.peerId : peerIdFromString(id)
      this.peerIds.set(id, peerId)
    }
    return peerId
  }

  private liveSnapshots (): Snapshots {
    if (this.snapshots === undefined) {
      throw new NotStartedError('libp2p-raft has not been started')
    }
    return this.snapshots
  }

  private liveCore (): RaftCore {
    if (this.core === undefined) {
      throw new NotStartedError('libp2p-raft has not been started')
    }
    return this.core
  }

  private assertRunning (): void {
    if (!this.running) {
      throw new NotStartedError('libp2p-raft is not running')
    }
    if (this.failure !== undefined) {
      throw this.failure
    }
  }

  /** The caller's signal, bounded by `commitTimeout` (checked on each tick) and by `stop()`. */
  private deadline (options: AbortOptions): Deadline {
    const deadline = new Deadline(this.clock.now() + this.options.commitTimeout, options.signal)
    this.deadlines.add(deadline)
    return deadline
  }

  private release (deadline: Deadline): void {
    deadline.dispose()
    this.deadlines.delete(deadline)
  }
}

function toRaftRole (role: RaftCore['role']): RaftRole {
  return role === 'pre-candidate' ? 'follower' : role
}

/** What a waiter for (index, term) gets once the entry at index is applied. */
function settled (index: number, term: number, applied: AppliedResult): CommitResult {
  if (applied.term !== term) {
    throw new NotCommittedError(index, term)
  }
  if (applied.error !== undefined) {
    throw applied.error
  }
  return { index, term, result: applied.result }
}

function addressesOf (member: { address?: Multiaddr }): Multiaddr[] {
  return member.address === undefined ? [] : [member.address]
}
