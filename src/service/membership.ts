import { CatchUpTimeoutError, JoinRefusedError, LeadershipTransferError, MembershipChangeInProgressError, NotLeaderError } from '../errors.ts'
import type { Deadline } from './deadline.ts'
import type { Driver } from './driver.ts'
import type { MemberAddresses } from './member-addresses.ts'
import type { PeerIds } from './peer-ids.ts'
import type { Waiters } from './waiters.ts'
import type { ConfigChange, NodeId } from '../core/index.ts'
import type { RaftOptions } from '../options.ts'
import type { Logger } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** Where a change was appended, once committed (for a change already in effect: the configuration in force). */
export interface Slot {
  index: number
  term: number
}

/** A membership request, as the leader runs it (from this node or forwarded by a member). */
export type MembershipRequest =
  | { change: 'add-learner' | 'add-voter' | 'remove', peer: NodeId, addrs?: Multiaddr[] }
  | { change: 'transfer', peer?: NodeId }
  | { change: 'join', peer: NodeId, voter: boolean, addrs?: Multiaddr[] }

export interface MembershipInit {
  /** Reads and changes the core */
  driver: Driver
  /** Waits for changes to be applied and for learners to catch up */
  waiters: Waiters
  /** Where new members' addresses are stored */
  addresses: MemberAddresses
  peerIds: PeerIds
  options: Pick<RaftOptions, 'authorizeJoin' | 'maxEntriesPerAppend'>
  self: NodeId
  log: Logger
}

/**
 * The leader's side of membership changes: single-server changes one at a
 * time, a new voter caught up as a learner before it is promoted (so adding
 * a slow node never stalls commits), joins checked by `authorizeJoin`, and
 * leadership transfer. The core enforces the rules of each single step;
 * this runs the steps and waits for them to commit.
 */
export class Membership {
  private readonly driver: Driver
  private readonly waiters: Waiters
  private readonly addresses: MemberAddresses
  private readonly peerIds: PeerIds
  private readonly options: MembershipInit['options']
  private readonly self: NodeId
  private readonly log: Logger
  /** A multi-step change (say, catch up then promote) holds this until it ends */
  private busy = false

  constructor (init: MembershipInit) {
    this.driver = init.driver
    this.waiters = init.waiters
    this.addresses = init.addresses
    this.peerIds = init.peerIds
    this.options = init.options
    this.self = init.self
    this.log = init.log
  }

  /** Runs a request on this node, which must lead. */
  async run (request: MembershipRequest, deadline: Deadline): Promise<Slot> {
    if (request.change === 'transfer') {
      return this.transfer(request.peer, deadline)
    }
    if (request.change === 'join') {
      // Before anything else: a refused node leaves no trace, and a slow hook holds no change up.
      await this.authorize(request.peer, request.voter, deadline)
    }
    if (this.busy) {
      throw new MembershipChangeInProgressError()
    }
    this.busy = true
    try {
      if (request.addrs !== undefined && request.addrs.length > 0) {
        await this.addresses.remember(request.peer, request.addrs)
        await this.addresses.keep(request.peer, request.addrs)
      }
      switch (request.change) {
        case 'add-learner': return await this.addLearner(request.peer, deadline)
        case 'add-voter': return await this.addVoter(request.peer, deadline)
        case 'remove': return await this.remove(request.peer, deadline)
        default: return await this.join(request.peer, request.voter, deadline)
      }
    } finally {
      this.busy = false
    }
  }

  private async addLearner (id: NodeId, deadline: Deadline): Promise<Slot> {
    if (this.driver.inConfig(id)) {
      return this.current()
    }
    return this.commitChange({ type: 'add-learner', id }, deadline)
  }

  /**
   * A new or lagging node first follows as a learner, and votes only once
   * it has caught up. One that does not catch up in time is not left behind
   * as a learner this call added: it is removed again (a learner from
   * before stays one).
   */
  private async addVoter (id: NodeId, deadline: Deadline): Promise<Slot> {
    if (this.driver.config.voters.includes(id)) {
      return this.current()
    }
    const wasLearner = this.driver.inConfig(id)
    await this.addLearner(id, deadline)
    try {
      await this.waiters.until(() => this.caughtUp(id), deadline, () => new CatchUpTimeoutError(id))
    } catch (err) {
      if (!wasLearner) {
        await this.withdraw(id)
      }
      throw err
    }
    return this.commitChange({ type: 'add-voter', id }, deadline)
  }

  /**
   * Removes a learner that did not catch up, past the call's deadline: the
   * removal is appended now and commits on its own (a later change waits
   * for it), so the caller hears why at once.
   */
  private async withdraw (id: NodeId): Promise<void> {
    const addresses = await this.addresses.book([this.self, ...this.driver.otherMembers().filter(member => member !== id)])
    if (this.driver.role !== 'leader' || !this.driver.canChangeConfig() || !this.driver.config.learners.includes(id)) {
      this.log('cannot remove %s, which did not catch up, now: it stays a learner', id)
      return
    }
    const slot = this.driver.proposeConfigChange({ type: 'remove', id }, addresses)
    this.log('%s did not catch up; its removal was appended at %d', id, slot.index)
  }

  private async remove (id: NodeId, deadline: Deadline): Promise<Slot> {
    if (!this.driver.inConfig(id)) {
      return this.current()
    }
    return this.commitChange({ type: 'remove', id }, deadline)
  }

  private async join (id: NodeId, voter: boolean, deadline: Deadline): Promise<Slot> {
    this.log('%s joins as a %s', id, voter ? 'voter' : 'learner')
    return voter ? this.addVoter(id, deadline) : this.addLearner(id, deadline)
  }

  /** Asks `authorizeJoin`, within the deadline; anything but `true` refuses. */
  private async authorize (id: NodeId, voter: boolean, deadline: Deadline): Promise<void> {
    const allowed = await deadline.wait<unknown>(() => new JoinRefusedError(id, `authorizeJoin did not decide on ${id} before the deadline`), (resolve, reject) => {
      Promise.resolve().then(async () => this.options.authorizeJoin(this.peerIds.get(id), { voter })).then(resolve, reject)
      return () => {}
    })
    if (allowed !== true) {
      throw new JoinRefusedError(id)
    }
  }

  /** Hands leadership over and resolves once the transferee leads; this node leads on if it does not. */
  private async transfer (to: NodeId | undefined, deadline: Deadline): Promise<Slot> {
    const target = this.driver.transferLeadership(to)
    this.log('handing leadership to %s', target)
    // Done once some leader is known again: the transferee, this node (it gave up), or another.
    const settled = (): boolean => this.driver.leader === target || (this.driver.role === 'leader' ? this.driver.transferTarget !== target : this.driver.leader !== undefined)
    await this.waiters.until(settled, deadline, () => new LeadershipTransferError(target))
    if (this.driver.leader !== target) {
      throw new LeadershipTransferError(target)
    }
    return { index: this.driver.commitIndex, term: this.driver.term }
  }

  /**
   * Appends one change once the core allows it, and waits until it is
   * committed and applied here. The new configuration lists where this node
   * knows its members to be, so they can all reach each other.
   */
  private async commitChange (change: ConfigChange, deadline: Deadline): Promise<Slot> {
    // A new leader first commits an entry of its term, and a change an earlier call left must commit first.
    await this.waiters.until(() => this.driver.role !== 'leader' || this.driver.canChangeConfig(), deadline, () => new MembershipChangeInProgressError('The previous change, or an entry of the leader\'s term, was not committed before the deadline'))
    const addresses = await this.addresses.book([this.self, ...this.driver.otherMembers(), change.id])
    if (this.driver.role !== 'leader') {
      throw new NotLeaderError(this.driver.leader)
    }
    const slot = this.driver.proposeConfigChange(change, addresses)
    this.log('membership change %s %s appended at %d', change.type, change.id, slot.index)
    await this.waiters.waitApplied(slot.index, slot.term, deadline)
    return slot
  }

  /** Replicating, and within one append's worth of entries of the leader's log. */
  private caughtUp (id: NodeId): boolean {
    const pr = this.driver.progressOf(id)
    return pr !== undefined && pr.state === 'replicate' && pr.match + this.options.maxEntriesPerAppend >= this.driver.lastIndex
  }

  private current (): Slot {
    return { index: this.driver.configIndex, term: this.driver.term }
  }
}
