/**
 * A peer outside the group that knows the members and speaks the protocol:
 * it floods them with well-formed frames no member should act on (appends
 * and votes at higher terms, read-index requests, commands, membership
 * changes, answers to requests it was never asked). The trust checks must
 * drop them all; a shell that steps one into its core is caught by the
 * safety invariants or the checker.
 */
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { MembershipRequest } from '../../../src/pb/raft.ts'
import { messageToPb } from '../../../src/pb/translate.ts'
import { encodeInput } from './kv-machine.ts'
import type { ServiceCluster } from './service-cluster.ts'
import type { Message } from '../../../src/core/index.ts'
import type { FrameTransport } from '../../../src/service/seams.ts'

/** Starts an outsider that sends a forged frame every few ms until `until` (virtual time). */
export async function startOutsider (cluster: ServiceCluster, until: number): Promise<void> {
  const { world } = cluster
  const seed = new Uint8Array(32).fill(0xee)
  new DataView(seed.buffer).setUint32(0, world.rng.seed)
  const peerId = peerIdFromPrivateKey(await generateKeyPairFromSeed('Ed25519', seed))
  const self = peerId.toString()
  const seams = cluster.network.attach(self, { peerId, maxMessageSize: 4 * 1024 * 1024, slowness: () => 1 })
  const transport: FrameTransport = seams.transport(() => {})
  await transport.start()
  const send = (): void => {
    if (world.now >= until) {
      seams.detach()
      return
    }
    const target = world.rng.pick(cluster.members)
    const term = (target.started ? target.live.term : 1) + 1 + world.rng.int(3)
    const base = { from: self, to: target.id, term }
    const forged: Message[] = [
      { ...base, type: 'append-request', prevIndex: 0, prevTerm: 0, commit: 1, entries: [{ type: 'command', index: 1, term, data: encodeInput({ kind: 'write', key: 'k0', value: 'forged' }) }] },
      { ...base, type: 'vote-request', preVote: false, lastIndex: 1_000_000, lastTerm: term },
      { ...base, type: 'heartbeat-request', commit: 1_000_000, context: 1 },
      { ...base, type: 'timeout-now' },
      { ...base, type: 'read-index-request', id: 1 }
    ]
    switch (world.rng.int(5)) {
      case 0:
      case 1:
        transport.send(target.id, { message: messageToPb(world.rng.pick(forged)) })
        break
      case 2:
        transport.send(target.id, { propose: { id: world.rng.int(1000), term, again: false, command: encodeInput({ kind: 'write', key: 'k1', value: 'forged' }) as Uint8Array<ArrayBuffer> } })
        break
      case 3:
        transport.send(target.id, { membership: { id: world.rng.int(1000), change: MembershipRequest.Change.REMOVE, peer: world.rng.pick(cluster.members).id, voter: false, addrs: [] } })
        break
      default:
        // An answer to a request this outsider was never sent.
        transport.send(target.id, { proposeResult: { id: 1 + world.rng.int(100), index: 1, term: 1 } })
    }
    world.schedule(world.between([5, 30]), send)
  }
  send()
}
