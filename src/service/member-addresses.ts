import { peerIdFromString } from '@libp2p/peer-id'
import { CODE_P2P, multiaddr } from '@multiformats/multiaddr'
import { Key } from 'interface-datastore'
import { KEEP_ALIVE_TAG } from '../constants.ts'
import { PeerAddresses } from '../pb/raft.ts'
import type { AddressBook, NodeId } from '../core/index.ts'
import type { Logger, PeerId, PeerStore } from '@libp2p/interface'
import type { AddressManager } from '@libp2p/interface-internal'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Datastore } from 'interface-datastore'

/** At most this many addresses per member go into a configuration, to keep its entries small. */
const MAX_ADDRESSES_PER_MEMBER = 8

export interface MemberAddressesInit {
  datastore: Datastore
  peerStore: PeerStore
  /** Where this node listens; absent in the simulator */
  addressManager?: AddressManager
  self: PeerId
  /** Raft's datastore namespace */
  root: Key
  log: Logger
}

/**
 * Keeps members reachable. Raft stores each member's addresses in its own
 * namespace (`<root>/peers/<id>`), because the peer store forgets addresses
 * after an hour, and merges them back on start so a restarted node can
 * re-dial. Members carry a keep-alive tag, so libp2p keeps their
 * connections open and redials them. A leader writes the addresses it knows
 * into every configuration it makes (`book`), and every member puts a
 * configuration's addresses in its peer store (`keep`), so members learn
 * where the others are however they joined.
 */
export class MemberAddresses {
  private readonly datastore: Datastore
  private readonly peerStore: PeerStore
  private readonly addressManager: AddressManager | undefined
  private readonly self: PeerId
  private readonly prefix: string
  private readonly log: Logger

  constructor (init: MemberAddressesInit) {
    this.datastore = init.datastore
    this.peerStore = init.peerStore
    this.addressManager = init.addressManager
    this.self = init.self
    this.prefix = init.root.child(new Key('peers')).toString() + '/'
    this.log = init.log
  }

  /** The addresses this node knows for `members` (its own included), for a new configuration. */
  async book (members: NodeId[]): Promise<AddressBook> {
    const book: AddressBook = {}
    for (const id of new Set(members)) {
      const addrs = id === this.self.toString() ? this.own() : await this.known(id)
      if (addrs.length > 0) {
        book[id] = addrs.slice(0, MAX_ADDRESSES_PER_MEMBER).map(a => a.toString())
      }
    }
    return book
  }

  /** Stores addresses a member can be reached at (replacing earlier ones). */
  async remember (id: string, addresses: Multiaddr[]): Promise<void> {
    if (addresses.length === 0) {
      return
    }
    const record = PeerAddresses.encode({ multiaddrs: addresses.map(a => a.bytes) })
    await this.datastore.put(new Key(this.prefix + id), record)
  }

  /** Puts the stored addresses of `members`, and those `book` gives, in the peer store and tags them keep-alive. */
  async restore (members: string[], book: AddressBook = {}): Promise<void> {
    for (const id of members) {
      let multiaddrs = parseAll(book[id])
      try {
        const record = PeerAddresses.decode(await this.datastore.get(new Key(this.prefix + id)))
        multiaddrs = [...multiaddrs, ...record.multiaddrs.map(bytes => multiaddr(bytes))]
      } catch (err: any) {
        if (err.name !== 'NotFoundError') {
          this.log.error('cannot read the stored addresses of %s - %e', id, err)
        }
      }
      await this.keep(id, multiaddrs)
    }
  }

  /** Tags a member keep-alive (again: libp2p drops the tag when redialling gives up), adding addresses if given. */
  async keep (id: string, multiaddrs: Multiaddr[] = []): Promise<void> {
    await this.peerStore.merge(peerIdFromString(id), {
      multiaddrs,
      tags: { [KEEP_ALIVE_TAG]: { value: 1 } }
    })
  }

  /** Tags a member keep-alive and adds the addresses a configuration gives for it. */
  async keepListed (id: string, book: AddressBook = {}): Promise<void> {
    await this.keep(id, parseAll(book[id]))
  }

  /** A member left: drop its keep-alive tag and the addresses Raft kept for it. */
  async forget (id: string): Promise<void> {
    await this.datastore.delete(new Key(this.prefix + id))
    await this.peerStore.merge(peerIdFromString(id), { tags: { [KEEP_ALIVE_TAG]: undefined } })
  }

  /** Where this node listens, without its own trailing `/p2p/<id>` (a relay's `/p2p/` inside a circuit address stays). */
  private own (): Multiaddr[] {
    return (this.addressManager?.getAddresses() ?? []).map(a => a.getComponents().at(-1)?.code === CODE_P2P ? a.decapsulateCode(CODE_P2P) : a)
  }

  /** What the peer store has for a member. */
  private async known (id: NodeId): Promise<Multiaddr[]> {
    try {
      const peer = await this.peerStore.get(peerIdFromString(id))
      return peer.addresses.map(a => a.multiaddr)
    } catch (err: any) {
      if (err.name !== 'NotFoundError') {
        this.log.error('cannot read the addresses of %s - %e', id, err)
      }
      return []
    }
  }
}

/** Multiaddrs from their string form; ones that do not parse (from a newer member, say) are skipped. */
function parseAll (addrs: string[] = []): Multiaddr[] {
  return addrs.flatMap(text => {
    try {
      return [multiaddr(text)]
    } catch {
      return []
    }
  })
}
