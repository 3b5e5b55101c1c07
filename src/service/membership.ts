import { CatchUpTimeoutError, JoinRefusedError, LeadershipTransferError, MembershipChangeInProgressError, NotLeaderError } from '../errors.ts'
import type { Deadline } from './deadline.ts'
import type { ConfigChange, NodeId, RaftCore } from '../core/index.ts'
import type { MembershipResult } from '../index.ts'
import type { Logger, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** A membership request, as the leader runs it (from this node or forwarded by a member). */
export type MembershipRequest =
  | { change: 'add-learner' | 'add-voter' | 'remove', peer: NodeId, addrs?: Multiaddr[] }
  | { change: 'transfer', peer?: NodeId }
  | { change: 'join', peer: NodeId, voter: boolean, addrs?: Multiaddr[] }

/** What membership changes need from the service around them. */
export interface MembershipHost {
  readonly log: Logger
  /** Decides on joins; the default refuses every one */
  authorizeJoin(peer: PeerId, request: { voter: boolean }): boolean | Promise<boolean>
  /** A learner within this many entries of the leader's log counts as caught up */
  readonly catchUpSlack: number
  core(): RaftCore
  peerId(id: NodeId): PeerId
  schedule(): void
  /** Resolves once the entry at (index, term) is applied here; rejects if another entry took its place */
  waitApplied(index: number, term: number, deadline: Deadline): Promise<unknown>
  /** Resolves once `condition` holds (checked on every tick and batch), or rejects with `onExpire()` at the deadline */
  until(condition: () => boolean, deadline: Deadline, onExpire: () => Error): Promise<void>
  /** Stores where a new member listens */
  rememberAddresses(id: NodeId, addrs: Multiaddr[]): Promise<void>
}

/**
 * The leader's side of membership changes: single-server changes one at a
 * time, a new voter caught up as a learner before it is promoted (so adding
 * a slow node never stalls commits), joins checked by `authorizeJoin`, and
 * leadership transfer. The core enforces the rules of each single step;
 * this runs the steps and waits for them to commit.
 */
export class Membership {
  private readonly host: MembershipHost
  /** A multi-step change (say, catch up then promote) holds this until it ends */
  private busy = false

  constructor (host: MembershipHost) {
    this.host = host
  }

  /** Runs a request on this node, which must lead. */
  async run (request: MembershipRequest, deadline: Deadline): Promise<MembershipResult> {
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
        await this.host.rememberAddresses(request.peer, request.addrs)
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

  private async addLearner (id: NodeId, deadline: Deadline): Promise<MembershipResult> {
    const config = this.host.core().config
    if (config.learners.includes(id) || config.voters.includes(id)) {
      return this.current()
    }
    return this.commitChange({ type: 'add-learner', id }, deadline)
  }

  /** A new or lagging node first follows as a learner, and votes only once it has caught up. */
  private async addVoter (id: NodeId, deadline: Deadline): Promise<MembershipResult> {
    if (this.host.core().config.voters.includes(id)) {
      return this.current()
    }
    await this.addLearner(id, deadline)
    await this.host.until(() => this.caughtUp(id), deadline, () => new CatchUpTimeoutError(id))
    return this.commitChange({ type: 'add-voter', id }, deadline)
  }

  private async remove (id: NodeId, deadline: Deadline): Promise<MembershipResult> {
    const config = this.host.core().config
    if (!config.voters.includes(id) && !config.learners.includes(id)) {
      return this.current()
    }
    return this.commitChange({ type: 'remove', id }, deadline)
  }

  private async join (id: NodeId, voter: boolean, deadline: Deadline): Promise<MembershipResult> {
    this.host.log('%s joins as a %s', id, voter ? 'voter' : 'learner')
    return voter ? this.addVoter(id, deadline) : this.addLearner(id, deadline)
  }

  /** Asks `authorizeJoin`, within the deadline; anything but `true` refuses. */
  private async authorize (id: NodeId, voter: boolean, deadline: Deadline): Promise<void> {
    const allowed = await deadline.wait<unknown>(() => new JoinRefusedError(id, `authorizeJoin did not decide on ${id} before the deadline`), (resolve, reject) => {
      Promise.resolve().then(async () => this.host.authorizeJoin(this.host.peerId(id), { voter })).then(resolve, reject)
      return () => {}
    })
    if (allowed !== true) {
      throw new JoinRefusedError(id)
    }
  }

  /** Hands leadership over and resolves once the transferee leads; this node leads on if it does not. */
  private async transfer (to: NodeId | undefined, deadline: Deadline): Promise<MembershipResult> {
    const core = this.host.core()
    const target = core.transferLeadership(to)
    this.host.schedule()
    this.host.log('handing leadership to %s', target)
    // Done once some leader is known again: the transferee, this node (it gave up), or another.
    const settled = (): boolean => core.leader === target || (core.role === 'leader' ? core.transferTarget !== target : core.leader !== undefined)
    await this.host.until(settled, deadline, () => new LeadershipTransferError(target))
    if (core.leader !== target) {
      throw new LeadershipTransferError(target)
    }
    return { index: core.commitIndex, term: core.term }
  }

  /** Appends one change once the core allows it, and waits until it is committed and applied here. */
  private async commitChange (change: ConfigChange, deadline: Deadline): Promise<MembershipResult> {
    const core = this.host.core()
    // A new leader first commits an entry of its term, and a change an earlier call left must commit first.
    await this.host.until(() => core.role !== 'leader' || core.canChangeConfig(), deadline, () => new MembershipChangeInProgressError('The previous change, or an entry of the leader\'s term, was not committed before the deadline'))
    if (core.role !== 'leader') {
      throw new NotLeaderError(core.leader)
    }
    const slot = core.proposeConfigChange(change)
    this.host.schedule()
    this.host.log('membership change %s %s appended at %d', change.type, change.id, slot.index)
    await this.host.waitApplied(slot.index, slot.term, deadline)
    return slot
  }

  private caughtUp (id: NodeId): boolean {
    const core = this.host.core()
    const pr = core.progressOf(id)
    return pr !== undefined && pr.state === 'replicate' && pr.match + this.host.catchUpSlack >= core.log.lastIndex()
  }

  private current (): MembershipResult {
    const core = this.host.core()
    return { index: core.configIndex, term: core.term }
  }
}
