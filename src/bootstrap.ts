import { isPeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { isMultiaddr, multiaddr } from '@multiformats/multiaddr'
import { InvalidParametersError } from './errors.ts'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** A member named in `bootstrap`, with the address it was given at, if any. */
export interface BootstrapMember {
  id: string
  address?: Multiaddr
}

/**
 * Reads a `bootstrap` list: peer ids (objects or strings) and multiaddrs that
 * end in `/p2p/<id>`, given as objects or strings.
 */
export function parseBootstrap (list: Array<PeerId | string | Multiaddr>): BootstrapMember[] {
  const members = new Map<string, BootstrapMember>()
  for (const item of list) {
    const member = parseMember(item)
    members.set(member.id, { ...members.get(member.id), ...member })
  }
  return [...members.values()]
}

/** Reads one peer given as a peer id (object or string) or a multiaddr ending in `/p2p/<id>`. */
export function parseMember (item: PeerId | string | Multiaddr): BootstrapMember {
  if (isMultiaddr(item) || (typeof item === 'string' && item.startsWith('/'))) {
    const address = typeof item === 'string' ? parseMultiaddr(item) : item
    const id = address.getComponents().findLast(c => c.name === 'p2p')?.value
    if (id === undefined) {
      throw new InvalidParametersError(`bootstrap address ${address.toString()} does not end in /p2p/<peer id>`)
    }
    return { id: checkedPeerId(id), address }
  }
  if (typeof item === 'string') {
    return { id: checkedPeerId(item) }
  }
  if (isPeerId(item)) {
    return { id: item.toString() }
  }
  throw new InvalidParametersError(`bootstrap entries must be peer ids or multiaddrs, got ${String(item)}`)
}

function parseMultiaddr (text: string): Multiaddr {
  try {
    return multiaddr(text)
  } catch (err: any) {
    throw new InvalidParametersError(`bootstrap address ${text} is not a valid multiaddr: ${String(err.message)}`)
  }
}

function checkedPeerId (id: string): string {
  try {
    return peerIdFromString(id).toString()
  } catch {
    throw new InvalidParametersError(`${id} is not a valid peer id`)
  }
}
