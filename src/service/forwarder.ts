import { CommitTimeoutError, LeadershipTransferInProgressError, NotMemberError } from '../errors.ts'
import { Refusal } from '../pb/raft.ts'
import { refusalFromPb, refusalOf } from '../pb/refusal.ts'
import { membershipToPb } from '../pb/translate.ts'
import { provenNotCommitted } from './waiters.ts'
import type { Deadline } from './deadline.ts'
import type { Driver } from './driver.ts'
import type { LeaderSightings } from './leader-sightings.ts'
import type { Membership, MembershipRequest, Slot } from './membership.ts'
import type { Clock, FrameTransport } from './seams.ts'
import type { Waiters } from './waiters.ts'
import type { NodeId, SessionStamp } from '../core/index.ts'
import type { CommitResult } from '../index.ts'
import type { RaftOptions } from '../options.ts'
import type { ProposeRequest, ProposeResponse } from '../pb/raft.ts'
import type { Logger } from '@libp2p/interface'

export interface ForwarderInit {
  /** Reads the core, and appends commands while this node leads */
  driver: Driver
  waiters: Waiters
  /** Runs membership changes while this node leads */
  membership: Membership
  /** Says what this node saw when no leader takes an errand */
  sightings: LeaderSightings
  network: FrameTransport
  clock: Clock
  /** Draws forwarded commands' request ids */
  random(): number
  options: Pick<RaftOptions, 'electionTimeout'>
  self: NodeId
  log: Logger
}

/** What the forwarder carries: a command or a membership change to the leader, or a join to the member named. */
type Errand =
  | { kind: 'command', command: Uint8Array, session?: SessionStamp }
  | { kind: 'membership', request: MembershipRequest }
  | { kind: 'join', to: NodeId, request: MembershipRequest }

/** Where an errand landed; a membership change also says who led after it. */
export interface Landed extends Slot {
  leader?: NodeId
}

/** What a forward does after the node asked refused it. */
export type AfterRefusal =
  /** Give up with this error */
  | { fail: Error }
  /** Ask again once the leader changes */
  | { retry: 'next-leader' }
  /** Proves nothing: an earlier copy may have been appended; wait until the command is applied or proven lost */
  | { wait: 'outcome' }

/**
 * The retry policy, by what a forward carried and why it was refused. A
 * membership change is safe to ask again (the leader skips a change
 * already in effect), so it is retried once a leader can take it. A
 * command is sent again (under a new request id) only once it is proven
 * not committed (`NotCommittedError`), so it is never applied twice: a
 * refusal of one proves nothing unless the command itself is invalid. A
 * forward that gets no answer at all is never retried. A final refusal
 * fails with the error the refusing node named, fields and all.
 */
export function afterRefusal (kind: Errand['kind'], refusal: Refusal): AfterRefusal {
  switch (kind) {
    case 'command':
      return refusal.reason === Refusal.Reason.INVALID_PARAMETERS ? { fail: refusalFromPb(refusal) } : { wait: 'outcome' }
    case 'membership':
      return refusal.reason === Refusal.Reason.NOT_LEADER ? { retry: 'next-leader' } : { fail: refusalFromPb(refusal) }
    default:
      // The member asked relays a join to its leader and the leader's answer back: a refusal is final.
      return { fail: refusalFromPb(refusal) }
  }
}

/** A membership change or join sent to another node and waiting for its answer. */
interface Pending {
  to: NodeId
  /** Sent to `to` as the leader: the answer is void once it no longer leads */
  toLeader: boolean
  answer(response: ProposeResponse): void
  abandon(): void
}

/** A command forwarded under a request id, until its outcome is known. */
interface Forwarded {
  /** The leader it was sent to: only it may answer */
  to: NodeId
  request: ProposeRequest
  /** When it was last sent */
  sentAt: number
  /** The leader answered: it is not sent again */
  answered: boolean
}

/** A random request id below 2^53 (exact in a JavaScript number), from two draws: one draw of `Math.random` holds 52 bits at most. */
function requestId (random: () => number): number {
  return Math.floor(random() * 2 ** 21) * 2 ** 32 + Math.floor(random() * 2 ** 32)
}

/**
 * Carries commands, membership changes and joins to the node that can
 * carry them out, and brings back the outcome. Commands and membership
 * changes go to the leader: this node when it leads, a forward otherwise,
 * waiting for a leader while none is known and retrying as `afterRefusal`
 * says. A join goes to the member named. Only the node asked may answer.
 *
 * A forwarded command goes under a random request id that the leader
 * writes into its entry, for the term this node knows the leader in; it is
 * sent again every election timeout until the leader answers (the leader
 * appends an id once, however often it arrives). The caller learns the
 * outcome from this node's own log: the entry with its id applied, or an
 * entry of a later term applied without it (then it can never commit, and
 * it is sent again under a new id). So a command a leader took before it
 * failed is neither lost nor applied twice.
 */
export class Forwarder {
  private readonly driver: Driver
  private readonly waiters: Waiters
  private readonly membership: Membership
  private readonly sightings: LeaderSightings
  private readonly network: FrameTransport
  private readonly clock: Clock
  private readonly random: () => number
  private readonly options: ForwarderInit['options']
  private readonly self: NodeId
  private readonly log: Logger
  private readonly pending = new Map<number, Pending>()
  private readonly forwarded = new Map<number, Forwarded>()
  /** Sends unanswered forwarded commands again; runs only while there are any (one timer, not one per command) */
  private stopResending: (() => void) | undefined
  private nextId = 1

  constructor (init: ForwarderInit) {
    this.driver = init.driver
    this.waiters = init.waiters
    this.membership = init.membership
    this.sightings = init.sightings
    this.network = init.network
    this.clock = init.clock
    this.random = init.random
    this.options = init.options
    this.self = init.self
    this.log = init.log
  }

  /**
   * Commits a command (stamped with its client `session`, if sent within
   * one) through the leader and resolves once this node has applied it,
   * with this node's result; a command proven not committed is sent again
   * while the deadline allows.
   */
  async commit (command: Uint8Array, deadline: Deadline, session?: SessionStamp): Promise<CommitResult> {
    for (;;) {
      try {
        return await this.commitOnce(command, deadline, session)
      } catch (err: any) {
        if (!provenNotCommitted(err) || deadline.expired) {
          throw err
        }
        this.log('a command was not committed (%s); sending it again', err.message)
      }
    }
  }

  /** Runs a membership change on the leader; resolves with where it landed and who leads after it. */
  async changeMembership (request: MembershipRequest, deadline: Deadline): Promise<Landed> {
    return this.forward({ kind: 'membership', request }, deadline)
  }

  /** Asks member `to` to let this node join; resolves with where the change landed. */
  async join (to: NodeId, request: MembershipRequest, deadline: Deadline): Promise<Landed> {
    return this.forward({ kind: 'join', to, request }, deadline)
  }

  /** Passes a membership request on to `to` once, and resolves with its answer (refusals included). */
  async relay (to: NodeId, request: MembershipRequest, deadline: Deadline): Promise<ProposeResponse> {
    return this.request(to, { kind: 'membership', request }, deadline, true)
  }

  /** An answer from `sender`; ignored unless it answers a request sent to `sender`. */
  answered (sender: NodeId, response: ProposeResponse): void {
    const forwarded = this.forwarded.get(response.id)
    if (forwarded?.to === sender) {
      this.commandAnswered(response, forwarded)
      return
    }
    const pending = this.pending.get(response.id)
    if (pending?.to === sender) {
      this.pending.delete(response.id)
      pending.answer(response)
    }
  }

  /**
   * Requests sent to a leader that lost office will get no answer: their
   * callers learn now (outcome unknown) instead of at their deadline.
   * (Forwarded commands learn their outcome from the log instead.)
   */
  leaderChanged (leader: NodeId | undefined): void {
    for (const pending of [...this.pending.values()]) {
      if (pending.toLeader && pending.to !== leader) {
        pending.abandon()
      }
    }
  }

  /** One try: append here while leading, or forward; resolves once applied here. */
  private async commitOnce (command: Uint8Array, deadline: Deadline, session: SessionStamp | undefined): Promise<CommitResult> {
    for (;;) {
      // Decided synchronously, so that what a call sends or appends goes out at once.
      const route = this.route({ kind: 'command', command, session }, deadline)
      if ('here' in route) {
        const slot = await route.here
        return this.waiters.waitApplied(slot.index, slot.term, deadline)
      }
      if ('wait' in route) {
        await route.wait
        continue
      }
      return this.forwardCommand(route.to, command, deadline, session)
    }
  }

  /** Forwards a command to `to`, the leader of this node's term, and waits for its outcome in this node's log. */
  private async forwardCommand (to: NodeId, command: Uint8Array, deadline: Deadline, session: SessionStamp | undefined): Promise<CommitResult> {
    const id = requestId(this.random)
    const term = this.driver.term
    const forwarded: Forwarded = { to, request: { id, term, command: command as Uint8Array<ArrayBuffer>, again: false, session }, sentAt: 0, answered: false }
    const outcome = this.waiters.waitForwarded({ id, command }, term, deadline)
    this.forwarded.set(id, forwarded)
    this.stopResending ??= this.clock.every(this.options.electionTimeout, () => { this.resendUnanswered() })
    this.send(forwarded)
    try {
      return await outcome
    } finally {
      this.forwarded.delete(id)
      if (this.forwarded.size === 0) {
        this.stopResending?.()
        this.stopResending = undefined
      }
    }
  }

  /** Only to the leader of its term: any other would refuse it, and a later term's entries settle it anyway. */
  private send (forwarded: Forwarded): void {
    const { to, request } = forwarded
    if (this.driver.term === request.term && this.driver.leader === to) {
      this.network.send(to, { propose: request })
      // From now on the leader may have appended it.
      request.again = true
    }
    forwarded.sentAt = this.clock.now()
  }

  /** Commands unanswered for an election timeout go again: the first send, or its answer, may have been lost. */
  private resendUnanswered (): void {
    const due = this.clock.now() - this.options.electionTimeout
    for (const forwarded of this.forwarded.values()) {
      if (!forwarded.answered && forwarded.sentAt <= due) {
        this.send(forwarded)
      }
    }
  }

  private commandAnswered (response: ProposeResponse, forwarded: Forwarded): void {
    const refusal = refusalOf(response)
    if (refusal === undefined) {
      forwarded.answered = true
      return
    }
    const next = afterRefusal('command', refusal)
    if ('fail' in next) {
      this.waiters.refuse(response.id, next.fail)
    } else {
      this.log.trace('%s refused a forwarded command (%s); waiting for its outcome', forwarded.to, refusal.reason)
    }
  }

  /** The one forwarding loop for membership changes and joins: find where it goes, send it, act on a refusal as the policy says. */
  private async forward (errand: Exclude<Errand, { kind: 'command' }>, deadline: Deadline): Promise<Landed> {
    for (;;) {
      // Decided synchronously, so that what a call sends or appends goes out at once.
      const route = this.route(errand, deadline)
      if ('here' in route) {
        return route.here
      }
      if ('wait' in route) {
        await route.wait
        continue
      }
      const to = route.to
      // A transfer changes the leader on purpose: its answer still matters then.
      const toLeader = errand.kind === 'membership' && errand.request.change !== 'transfer'
      const answer = await this.request(to, errand, deadline, toLeader)
      const refusal = refusalOf(answer)
      if (refusal === undefined) {
        return { index: answer.index, term: answer.term, leader: answer.leader }
      }
      const next = afterRefusal(errand.kind, refusal)
      if ('fail' in next) {
        throw next.fail
      }
      await this.waiters.nextLeader(deadline, () => this.noLeader(errand))
    }
  }

  /**
   * Where the next attempt goes: it is carried out here (this node leads),
   * sent to `to`, or waits for a change and looks again.
   */
  private route (errand: Errand, deadline: Deadline): { here: Landed | Promise<Landed> } | { to: NodeId } | { wait: Promise<void> } {
    if (errand.kind === 'join') {
      return { to: errand.to }
    }
    if (deadline.expired) {
      throw this.noLeader(errand)
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
        return { here: driver.propose(errand.command, undefined, errand.session) }
      }
    }
    if (errand.kind === 'membership' && !driver.inConfig(this.self)) {
      // No leader would take it from here: say why at once rather than at the deadline.
      throw new NotMemberError()
    }
    // A leader that removed itself takes no commands: the next leader does.
    const leader = driver.role === 'leader' ? undefined : driver.leader
    if (leader === undefined) {
      return { wait: this.waiters.nextLeader(deadline, () => this.noLeader(errand)) }
    }
    return { to: leader }
  }

  private noLeader (errand: Errand): Error {
    return this.sightings.noLeader(errand.kind === 'command' ? 'No leader accepted the command; it was not committed' : 'No leader took the membership change')
  }

  /** Runs a membership change on this node, the leader; says who leads once it is done. */
  private async changeHere (request: MembershipRequest, deadline: Deadline): Promise<Landed> {
    return { ...await this.membership.run(request, deadline), leader: this.driver.leader }
  }

  /**
   * Sends a membership request under a fresh id and resolves with the
   * answer; rejects with CommitTimeoutError when none comes before the
   * deadline or, sent `toLeader`, the node asked loses office (the request
   * may have been carried out).
   */
  private async request (to: NodeId, errand: Exclude<Errand, { kind: 'command' }>, deadline: Deadline, toLeader: boolean): Promise<ProposeResponse> {
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
      // The time left goes along, so the node asked gives up (and says why) before this one does.
      this.network.send(to, { membership: membershipToPb(id, errand.request, deadline.expiresAt - this.clock.now()) })
      return () => { this.pending.delete(id) }
    })
  }
}
