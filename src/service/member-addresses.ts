import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { Key } from 'interface-datastore'
import { KEEP_ALIVE_TAG } from '../constants.ts'
import { PeerAddresses } from '../pb/raft.ts'
import type { Logger, PeerStore } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Datastore } from 'interface-datastore'

/**
 * Keeps members reachable. Raft stores each member's addresses in its own
 * namespace (`<root>/peers/<id>`), because the peer store forgets addresses
 * after an hour, and merges them back on start so a restarted node can
 * re-dial. Members carry a keep-alive tag, so libp2p keeps their
 * connections open and redials them.
 */
export class MemberAddresses {
  private readonly datastore: Datastore
  private readonly peerStore: PeerStore
  private readonly prefix: string
  private readonly log: Logger

  constructor (datastore: Datastore, peerStore: PeerStore, root: Key, log: Logger) {
    this.datastore = datastore
    this.peerStore = peerStore
    this.prefix = root.child(new Key('peers')).toString() + '/'
    this.log = log
  }

  /** Stores addresses a member can be reached at (replacing earlier ones). */
  async remember (id: string, addresses: Multiaddr[]): Promise<void> {
    if (addresses.length === 0) {
      return
    }
    const record = PeerAddresses.encode({ multiaddrs: addresses.map(a => a.bytes) })
    await this.datastore.put(new Key(this.prefix + id), record)
  }

  /** Puts the stored addresses of `members` in the peer store and tags them keep-alive. */
  async restore (members: string[]): Promise<void> {
    for (const id of members) {
      let multiaddrs: Multiaddr[] = []
      try {
        const record = PeerAddresses.decode(await this.datastore.get(new Key(this.prefix + id)))
        multiaddrs = record.multiaddrs.map(bytes => multiaddr(bytes))
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

  /** A member left: drop its keep-alive tag and the addresses Raft kept for it. */
  async forget (id: string): Promise<void> {
    await this.datastore.delete(new Key(this.prefix + id))
    await this.peerStore.merge(peerIdFromString(id), { tags: { [KEEP_ALIVE_TAG]: undefined } })
  }
}
