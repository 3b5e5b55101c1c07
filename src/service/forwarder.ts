import { CommitTimeoutError, InvalidParametersError, LeadershipTransferInProgressError, NoLeaderError, errorNamed } from '../errors.ts'
import { membershipToPb } from '../pb/translate.ts'
import type { Deadline } from './deadline.ts'
import type { Driver } from './driver.ts'
import type { Membership, MembershipRequest } from './membership.ts'
import type { Clock, FrameTransport } from './seams.ts'
import type { Waiters } from './waiters.ts'
import type { NodeId } from '../core/index.ts'
import type { MembershipResult } from '../index.ts'
import type { RaftOptions } from '../options.ts'
import type { Frame, ProposeResponse } from '../pb/raft.ts'
import type { Logger } from '@libp2p/interface'

export interface ForwarderInit {
  /** Reads the core, and appends commands while this node leads */
  driver: Driver
  waiters: Waiters
  /** Runs membership changes while this node leads */
  membership: Membership
  network: FrameTransport
  clock: Clock
  options: Pick<RaftOptions, 'electionTimeout'>
  self: NodeId
  log: Logger
}

/** What the forwarder carries: a command or a membership change to the leader, or a join to the member named. */
type Errand =
  | { kind: 'command', command: Uint8Array }
  | { kind: 'membership', request: MembershipRequest }
  | { kind: 'join', to: NodeId, request: MembershipRequest }

/** Where an errand landed: its entry's index and term; a membership change also says who led after it. */
interface Landed {
  index: number
  term: number
  leader?: NodeId
}

/** What a forward does after the node asked refused it. */
export type AfterRefusal =
  /** Give up with this error */
  | { fail: Error }
  /** Ask again once the leader changes */
  | { retry: 'next-leader' }
  /** Ask again, but never the node that refused (wait for another leader) */
  | { retry: 'another-leader' }
  /** The leader is handing leadership over: ask again once it has, or after an election timeout */
  | { retry: 'after-hand-over' }

/**
 * The retry policy: what a forward does when the node asked refuses it, by
 * what the forward carried and the name of the error it was refused with.
 * (A forward that gets no answer at all, because its deadline passed or the
 * leader asked lost office, is never retried: it may have been carried out.)
 */
export function afterRefusal (kind: Errand['kind'], refusal: string): AfterRefusal {
  switch (kind) {
    case 'command':
      if (refusal === 'InvalidParametersError') {
        return { fail: new InvalidParametersError('The leader refused the command as invalid') }
      }
      return refusal === 'LeadershipTransferInProgressError' ? { retry: 'after-hand-over' } : { retry: 'another-leader' }
    case 'membership':
      return refusal === 'NotLeaderError' ? { retry: 'next-leader' } : { fail: errorNamed(refusal) }
    default:
      // The member asked relays a join to its leader and the leader's answer back: a refusal is final.
      return { fail: errorNamed(refusal) }
  }
}

/** A request sent to another node and waiting for its answer. */
interface Pending {
  to: NodeId
  /** Sent to `to` as the leader: the answer is void once it no longer leads */
  toLeader: boolean
  answer(response: ProposeResponse): void
  abandon(): void
}

/**
 * Carries commands, membership changes and joins to the node that can
 * carry them out, and brings back the answer. Commands and membership
 * changes go to the leader: this node when it leads, a forward otherwise,
 * waiting for a leader while none is known and retrying as `afterRefusal`
 * says. A join goes to the member named. Each request carries an id the
 * answer echoes back; only the node asked may answer it.
 */
export class Forwarder {
  private readonly driver: Driver
  private readonly waiters: Waiters
  private readonly membership: Membership
  private readonly network: FrameTransport
  private readonly clock: Clock
  private readonly options: ForwarderInit['options']
  private readonly self: NodeId
  private readonly log: Logger
  private readonly pending = new Map<number, Pending>()
  private nextId = 1

  constructor (init: ForwarderInit) {
    this.driver = init.driver
    this.waiters = init.waiters
    this.membership = init.membership
    this.network = init.network
    this.clock = init.clock
    this.options = init.options
    this.self = init.self
    this.log = init.log
  }

  /** Appends a command through the leader; resolves with where it landed. */
  async append (command: Uint8Array, deadline: Deadline): Promise<{ index: number, term: number }> {
    return this.forward({ kind: 'command', command }, deadline)
  }

  /** Runs a membership change on the leader; resolves with where it landed and who leads after it. */
  async changeMembership (request: MembershipRequest, deadline: Deadline): Promise<Landed> {
    return this.forward({ kind: 'membership', request }, deadline)
  }

  /** Asks member `to` to let this node join; resolves with where the change landed. */
  async join (to: NodeId, request: MembershipRequest, deadline: Deadline): Promise<MembershipResult> {
    return this.forward({ kind: 'join', to, request }, deadline)
  }

  /** Passes a membership request on to `to` once, and resolves with its answer (refusals included). */
  async relay (to: NodeId, request: MembershipRequest, deadline: Deadline): Promise<ProposeResponse> {
    return this.request(to, { kind: 'membership', request }, deadline, true)
  }

  /** An answer from `sender`; ignored unless it answers a request sent to `sender`. */
  answered (sender: NodeId, response: ProposeResponse): void {
    const pending = this.pending.get(response.id)
    if (pending?.to === sender) {
      this.pending.delete(response.id)
      pending.answer(response)
    }
  }

  /**
   * Requests sent to a leader that lost office will get no answer: their
   * callers learn now (outcome unknown) instead of at their deadline.
   */
  leaderChanged (leader: NodeId | undefined): void {
    for (const pending of [...this.pending.values()]) {
      if (pending.toLeader && pending.to !== leader) {
        pending.abandon()
      }
    }
  }

  /** The one forwarding loop: find where the errand goes, send it, and act on a refusal as the policy says. */
  private async forward (errand: Errand, deadline: Deadline): Promise<Landed> {
    let refusedBy: NodeId | undefined
    for (;;) {
      // Decided synchronously, so that what a call sends or appends goes out at once.
      const route = this.route(errand, deadline, refusedBy)
      if ('here' in route) {
        return route.here
      }
      if ('wait' in route) {
        await route.wait
        continue
      }
      const to = route.to
      // A transfer changes the leader on purpose: its answer still matters then.
      const toLeader = errand.kind === 'command' || (errand.kind === 'membership' && errand.request.change !== 'transfer')
      const answer = await this.request(to, errand, deadline, toLeader)
      if (answer.error === undefined) {
        return errand.kind === 'membership' ? { index: answer.index, term: answer.term, leader: answer.leader } : { index: answer.index, term: answer.term }
      }
      const next = afterRefusal(errand.kind, answer.error)
      if ('fail' in next) {
        throw next.fail
      }
      if (next.retry === 'next-leader') {
        await this.waiters.nextLeader(deadline, () => new NoLeaderError())
      } else if (next.retry === 'after-hand-over') {
        const retryAt = this.clock.now() + this.options.electionTimeout
        await this.waiters.until(() => this.driver.leader !== to || this.clock.now() >= retryAt, deadline, () => new LeadershipTransferInProgressError(to))
      } else {
        this.log('%s refused a forwarded %s (%s)', to, errand.kind, answer.error)
        refusedBy = to
      }
    }
  }

  /**
   * Where the next attempt goes: it is carried out here (this node leads),
   * sent to `to`, or waits for a change and looks again.
   */
  private route (errand: Errand, deadline: Deadline, refusedBy: NodeId | undefined): { here: Landed | Promise<Landed> } | { to: NodeId } | { wait: Promise<void> } {
    if (errand.kind === 'join') {
      return { to: errand.to }
    }
    if (deadline.expired) {
      throw new NoLeaderError()
    }
    const driver = this.driver
    if (driver.role === 'leader') {
      if (errand.kind === 'membership') {
        return { here: this.changeHere(errand.request, deadline) }
      }
      if (driver.transferTarget !== undefined) {
        // Commands wait while leadership is handed over, then go to whoever leads.
        return { wait: this.waiters.until(() => driver.transferTarget === undefined || driver.role !== 'leader', deadline, () => new LeadershipTransferInProgressError(driver.transferTarget)) }
      }
      if (driver.config.voters.includes(this.self)) {
        return { here: driver.propose(errand.command) }
      }
    }
    // A leader that removed itself takes no commands: the next leader does.
    const leader = driver.role === 'leader' ? undefined : driver.leader
    if (leader === undefined || leader === refusedBy) {
      return { wait: this.waiters.nextLeader(deadline, () => new NoLeaderError()) }
    }
    return { to: leader }
  }

  /** Runs a membership change on this node, the leader; says who leads once it is done. */
  private async changeHere (request: MembershipRequest, deadline: Deadline): Promise<Landed> {
    return { ...await this.membership.run(request, deadline), leader: this.driver.leader }
  }

  /**
   * Sends the errand under a fresh id and resolves with the answer; rejects
   * with CommitTimeoutError when none comes before the deadline or, sent
   * `toLeader`, the node asked loses office (the request may have been
   * carried out).
   */
  private async request (to: NodeId, errand: Errand, deadline: Deadline, toLeader: boolean): Promise<ProposeResponse> {
    const id = this.nextId++
    return deadline.wait(() => new CommitTimeoutError(), (resolve, reject) => {
      this.pending.set(id, {
        to,
        toLeader,
        answer: resolve,
        abandon: () => {
          this.pending.delete(id)
          reject(new CommitTimeoutError())
        }
      })
      this.network.send(to, frameOf(errand, id))
      return () => { this.pending.delete(id) }
    })
  }
}

function frameOf (errand: Errand, id: number): Frame {
  return errand.kind === 'command'
    // Leaders do not read `term` yet; 0 leaves it off the wire.
    ? { propose: { id, command: errand.command as Uint8Array<ArrayBuffer>, term: 0 } }
    : { membership: membershipToPb(id, errand.request) }
}
