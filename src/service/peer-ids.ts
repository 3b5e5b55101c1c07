import { peerIdFromString } from '@libp2p/peer-id'
import type { NodeId } from '../core/index.ts'
import type { PeerId } from '@libp2p/interface'

/**
 * The core names nodes by the string form of their peer id; libp2p and the
 * public API take `PeerId` objects. This parses each id once and hands out
 * the same object every time after (this node's own is the one it runs as).
 */
export class PeerIds {
  private readonly known = new Map<NodeId, PeerId>()

  constructor (self: PeerId) {
    this.known.set(self.toString(), self)
  }

  get (id: NodeId): PeerId {
    let peerId = this.known.get(id)
    if (peerId === undefined) {
      peerId = peerIdFromString(id)
      this.known.set(id, peerId)
    }
    return peerId
  }
}
