import { RECENT_FORWARDS } from '../constants.ts'
import { InvalidParametersError, LeadershipTransferInProgressError, NotLeaderError, NotVoterError } from '../errors.ts'
import { MembershipRequest as PbMembershipRequest, Refusal } from '../pb/raft.ts'
import { refusalOf, refusalToPb } from '../pb/refusal.ts'
import { membershipFromPb, messageFromPb } from '../pb/translate.ts'
import { AppendedRequests } from './appended-requests.ts'
import { JoinLimiter } from './join-limiter.ts'
import type { Driver } from './driver.ts'
import type { Forwarder } from './forwarder.ts'
import type { LeaderSightings } from './leader-sightings.ts'
import type { Membership, MembershipRequest } from './membership.ts'
import type { Clock, FrameTransport } from './seams.ts'
import type { Waiters } from './waiters.ts'
import type { Message, NodeId } from '../core/index.ts'
import type { RaftOptions } from '../options.ts'
import type { Frame, ProposeRequest, ProposeResponse, RaftMessage } from '../pb/raft.ts'
import type { Logger, PeerId } from '@libp2p/interface'

export interface InboundInit {
  /** Steps messages into the core, and appends forwarded commands while this node leads */
  driver: Driver
  waiters: Waiters
  /** Takes answers to this node's forwards, and relays joins to the leader */
  forwarder: Forwarder
  /** Runs forwarded membership changes while this node leads */
  membership: Membership
  /** Told whom this node hears from */
  sightings: LeaderSightings
  network: FrameTransport
  clock: Clock
  options: Pick<RaftOptions, 'group' | 'maxCommandSize' | 'electionTimeout'>
  self: NodeId
  log: Logger
}

/**
 * Where every frame from another node arrives, and the one place that
 * decides whom to trust: only members (see `isMember`) may talk Raft,
 * forward commands and change the membership, while anyone may ask to
 * join. Raft messages go to the driver; the leader's side of forwarding
 * (commands and membership changes from members, joins from outsiders) is
 * answered here; answers to this node's own forwards go to the forwarder.
 */
export class Inbound {
  private readonly driver: Driver
  private readonly waiters: Waiters
  private readonly forwarder: Forwarder
  private readonly membership: Membership
  private readonly sightings: LeaderSightings
  private readonly network: FrameTransport
  private readonly options: InboundInit['options']
  private readonly self: NodeId
  private readonly log: Logger
  /** Leaders a member named that this node's configuration does not list yet (it missed their addition) */
  private readonly vouched = new Set<NodeId>()
  /** The forwarded commands this node appended as leader: each is appended once */
  private readonly appended = new AppendedRequests(RECENT_FORWARDS)
  /** What non-members' joins may cost */
  private readonly joins: JoinLimiter

  constructor (init: InboundInit) {
    this.driver = init.driver
    this.waiters = init.waiters
    this.forwarder = init.forwarder
    this.membership = init.membership
    this.sightings = init.sightings
    this.network = init.network
    this.options = init.options
    this.joins = new JoinLimiter(init.clock, init.options.electionTimeout / 2)
    this.self = init.self
    this.log = init.log
  }

  /**
   * Members may talk to us, and so may members just removed that the leader
   * still tells of their removal; anyone may while we belong to no
   * configuration yet (waiting to be added).
   */
  isMember (id: NodeId): boolean {
    const driver = this.driver
    const config = driver.config
    return driver.inConfig(id) || driver.progressOf(id) !== undefined ||
      driver.leader === id || this.vouched.has(id) || (config.voters.length === 0 && config.learners.length === 0)
  }

  /** The configuration changed: whom members vouched for is listed now, or not a member after all. */
  configChanged (): void {
    this.vouched.clear()
  }

  onFrame (from: PeerId, frame: Frame): void {
    if (!this.driver.running || this.driver.failure !== undefined) {
      return
    }
    const sender = from.toString()
    if (!this.isMember(sender)) {
      // An outsider may only ask to join, in a frame that carries nothing else.
      const bareJoin = frame.membership?.change === PbMembershipRequest.Change.JOIN && frame.membership.peer === sender &&
        frame.message === undefined && frame.propose === undefined && frame.proposeResult === undefined
      const answered = bareJoin ? this.joins.admit(sender) : undefined
      if (answered !== undefined) {
        void this.onMembershipRequest(sender, frame.membership as PbMembershipRequest).finally(answered)
      } else if (bareJoin) {
        this.log('dropping a join from %p: it asked too recently, or too many joins are pending', from)
      } else {
        this.log('dropping a frame from %p, which is not a member of group %s', from, this.options.group)
      }
      return
    }
    if (frame.message !== undefined) {
      this.onMessage(from, frame.message)
    } else if (frame.propose !== undefined) {
      this.onProposeRequest(sender, frame.propose)
    } else if (frame.membership !== undefined) {
      void this.onMembershipRequest(sender, frame.membership)
    } else if (frame.proposeResult !== undefined) {
      this.forwarder.answered(sender, frame.proposeResult)
    }
  }

  /** A Raft message from a member: stepped into the core if it is what it claims to be. */
  private onMessage (from: PeerId, pb: RaftMessage): void {
    const sender = from.toString()
    let m: Message
    try {
      m = messageFromPb(pb)
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
    this.sightings.heardFrom(sender)
    if (m.type === 'vote-response' && m.leader !== undefined && !this.isMember(m.leader)) {
      // A member vouches for a leader this node does not know: it missed a change of membership.
      this.vouched.add(m.leader)
    }
    this.driver.step(m)
  }

  /**
   * The leader's side of forwarding: append a member's command, marked with
   * its request id, and say where. A request arrives again until answered:
   * one appended already is answered with where it went, not appended
   * twice; and one meant for another term is refused, so that the member
   * can tell from its log which entries could hold it.
   */
  private onProposeRequest (sender: NodeId, request: ProposeRequest): void {
    const driver = this.driver
    const reply = (answer: Omit<ProposeResponse, 'id'>): void => {
      this.network.send(sender, { proposeResult: { id: request.id, ...answer } })
    }
    const refuse = (refusal: Refusal): void => { reply({ index: 0, term: 0, refusal, leader: driver.leader }) }
    const appended = this.appended.get(driver.term, sender, request.id)
    if (appended !== undefined) {
      reply(appended)
      return
    }
    if (driver.role !== 'leader' || request.term !== driver.term) {
      refuse(refusalToPb(new NotLeaderError(driver.leader)))
      return
    }
    if (request.command.byteLength > this.options.maxCommandSize) {
      refuse(refusalToPb(new InvalidParametersError(`command of ${request.command.byteLength} bytes exceeds the leader's maxCommandSize (${this.options.maxCommandSize})`)))
      return
    }
    if (driver.transferTarget !== undefined) {
      refuse(refusalToPb(new LeadershipTransferInProgressError(driver.transferTarget)))
      return
    }
    if (!driver.config.voters.includes(this.self)) {
      // Removed itself: the next leader takes commands.
      refuse(refusalToPb(new NotLeaderError(undefined, 'This leader removed itself from the group; the next leader takes commands')))
      return
    }
    if (!this.appended.mayAppend(driver.term, request.again)) {
      // It may be among those appended and forgotten since: its member learns its fate from its log.
      refuse({ reason: Refusal.Reason.REQUEST_FORGOTTEN, message: 'The request may have been appended already; its outcome is unknown here' })
      return
    }
    const slot = driver.propose(request.command, request.id, request.session)
    this.appended.remember(driver.term, sender, request.id, slot)
    reply(slot)
  }

  /**
   * A member's request to change the membership (or a node's request to
   * join): the leader carries it out and answers once it is committed; a
   * follower relays a join to its leader and the answer back.
   */
  private async onMembershipRequest (sender: NodeId, pb: PbMembershipRequest): Promise<void> {
    const driver = this.driver
    const reply = (answer: Omit<ProposeResponse, 'id'>): void => {
      this.network.send(sender, { proposeResult: { id: pb.id, ...answer } })
    }
    const fail = (err: unknown): void => { reply({ index: 0, term: 0, refusal: refusalToPb(err), leader: driver.leader }) }
    let request: MembershipRequest
    try {
      request = membershipFromPb(pb)
    } catch (err) {
      fail(err)
      return
    }
    // Anyone may ask to join (authorizeJoin decides); only voters may change the membership.
    if (request.change !== 'join' && !driver.config.voters.includes(sender)) {
      fail(new NotVoterError())
      return
    }
    // Give up (and say why) a little before the asker does, so the answer still reaches it.
    const timeout = pb.timeout === undefined ? undefined : pb.timeout - this.options.electionTimeout / 2
    await this.waiters.within({ timeout }, async (deadline): Promise<Omit<ProposeResponse, 'id'>> => {
      if (driver.role === 'leader') {
        return { ...await this.membership.run(request, deadline), leader: driver.leader }
      }
      const leader = driver.leader
      if (request.change === 'join' && leader !== undefined) {
        const answer = await this.forwarder.relay(leader, request, deadline)
        return { index: answer.index, term: answer.term, refusal: refusalOf(answer), leader: answer.leader }
      }
      throw new NotLeaderError(leader)
    }).then(reply, fail)
  }
}
