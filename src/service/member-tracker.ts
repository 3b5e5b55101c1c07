import { raftProtocol } from '../constants.ts'
import type { Driver } from './driver.ts'
import type { MemberAddresses } from './member-addresses.ts'
import type { PeerIds } from './peer-ids.ts'
import type { FrameTransport } from './seams.ts'
import type { Warnings } from './warnings.ts'
import type { BootstrapMember } from '../bootstrap.ts'
import type { Configuration, NodeId } from '../core/index.ts'
import type { RaftOptions } from '../options.ts'
import type { IdentifyResult, Libp2pEvents, Logger, PeerId, TypedEventTarget } from '@libp2p/interface'

export interface MemberTrackerInit {
  /** Tells who the members are */
  driver: Driver
  addresses: MemberAddresses
  network: FrameTransport
  /** Where members that do not speak the group's protocol are reported */
  warnings: Warnings
  peerIds: PeerIds
  options: Pick<RaftOptions, 'group'>
  /** The host's libp2p events */
  events: TypedEventTarget<Libp2pEvents>
  self: NodeId
  log: Logger
}

/**
 * Keeps the members of the configuration reachable as it changes: tags
 * them keep-alive and stores where they listen (learned from identify), so
 * libp2p holds their connections open and a restart can re-dial them;
 * forgets members that left; and on a member's reconnection sends what
 * was queued for it at once. `MemberAddresses` does the storing and
 * tagging; this decides when.
 */
export class MemberTracker {
  private readonly driver: Driver
  private readonly addresses: MemberAddresses
  private readonly network: FrameTransport
  private readonly warnings: Warnings
  private readonly peerIds: PeerIds
  /** The protocol every member must speak */
  private readonly protocol: string
  private readonly events: TypedEventTarget<Libp2pEvents>
  private readonly self: NodeId
  private readonly log: Logger
  /** The members of the configuration last followed, to tell who left */
  private known = new Set<NodeId>()
  /** The listen addresses last stored per member, so identify repeating them writes nothing */
  private readonly remembered = new Map<NodeId, string>()

  constructor (init: MemberTrackerInit) {
    this.driver = init.driver
    this.addresses = init.addresses
    this.network = init.network
    this.warnings = init.warnings
    this.peerIds = init.peerIds
    this.protocol = raftProtocol(init.options.group)
    this.events = init.events
    this.self = init.self
    this.log = init.log
  }

  /** Stores the addresses `bootstrap` gives for the other members. */
  async rememberBootstrap (bootstrap: BootstrapMember[]): Promise<void> {
    for (const member of bootstrap) {
      if (member.address !== undefined && member.id !== this.self) {
        await this.addresses.remember(member.id, [member.address])
      }
    }
  }

  /** At start: puts the stored addresses of the configuration's members back in the peer store, tagged. */
  async restore (): Promise<void> {
    await this.addresses.restore(this.driver.otherMembers(), this.driver.config.addresses)
    this.known = new Set(this.driver.otherMembers())
  }

  /** Starts following the host's peer events. */
  start (): void {
    this.events.addEventListener('peer:identify', this.onIdentify)
    this.events.addEventListener('peer:reconnect-failure', this.onReconnectFailure)
    this.events.addEventListener('peer:connect', this.onConnect)
  }

  stop (): void {
    this.events.removeEventListener('peer:identify', this.onIdentify)
    this.events.removeEventListener('peer:reconnect-failure', this.onReconnectFailure)
    this.events.removeEventListener('peer:connect', this.onConnect)
  }

  /** Keeps the members tagged and reachable at the addresses the configuration lists; forgets those that left. */
  follow (config: Configuration): void {
    const members = new Set([...config.voters, ...config.learners].filter(id => id !== this.self))
    for (const id of members) {
      this.addresses.keepListed(id, config.addresses).catch((err: unknown) => { this.log.error('cannot tag member %s - %e', id, err) })
    }
    for (const id of this.known) {
      if (!members.has(id)) {
        this.log('%s left the group', id)
        this.warnings.clear('protocol-unsupported', id)
        this.remembered.delete(id)
        this.addresses.forget(id).catch((err: unknown) => { this.log.error('cannot forget member %s - %e', id, err) })
      }
    }
    this.known = members
  }

  /** Remembers where members listen, so a restart can re-dial them. */
  private readonly onIdentify = (evt: CustomEvent<IdentifyResult>): void => {
    const id = evt.detail.peerId.toString()
    if (id === this.self || !this.driver.otherMembers().includes(id)) {
      return
    }
    this.checkProtocol(id, evt.detail.protocols)
    const addrs = evt.detail.listenAddrs
    const key = addrs.map(a => a.toString()).sort().join(' ')
    if (this.remembered.get(id) === key) {
      return
    }
    this.remembered.set(id, key)
    this.addresses.remember(id, addrs).catch((err: unknown) => { this.log.error('cannot store the addresses of %s - %e', id, err) })
  }

  /** A member that does not speak the group's protocol can take no part: worth a warning until it does. */
  private checkProtocol (id: NodeId, protocols: string[]): void {
    if (protocols.includes(this.protocol)) {
      this.warnings.clear('protocol-unsupported', id)
    } else if (!this.warnings.has('protocol-unsupported', id)) {
      this.warnings.raise({
        code: 'protocol-unsupported',
        message: `Member ${id} does not speak ${this.protocol}: it runs no Raft service for this group (another group name, or none), so it can neither vote nor follow`,
        peer: this.peerIds.get(id)
      })
    }
  }

  /** A member that connects again gets our queued messages at once, not after the pause a failed send set. */
  private readonly onConnect = (evt: CustomEvent<PeerId>): void => {
    this.network.reconnected(evt.detail.toString())
  }

  /** libp2p drops keep-alive tags when redialling gives up; members must stay tagged. */
  private readonly onReconnectFailure = (evt: CustomEvent<PeerId>): void => {
    const id = evt.detail.toString()
    if (this.driver.otherMembers().includes(id)) {
      this.addresses.keep(id).catch((err: unknown) => { this.log.error('cannot tag member %s - %e', id, err) })
    }
  }
}
