/**
 * Translation between the core's plain objects and their protobuf form, used
 * both on the wire and in the datastore.
 */
import { InvalidMessageError } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { Entry as PbEntry, HardState as PbHardState, MembershipRequest as PbMembershipRequest, RaftMessage as PbMessage } from './raft.ts'
import type { Configuration as PbConfiguration, SnapshotMeta as PbSnapshotMeta } from './raft.ts'
import type { CommandEntry, Configuration, Entry, HardState, Message, SnapshotMeta } from '../core/index.ts'
import type { MembershipRequest } from '../service/membership.ts'

const ENTRY_TYPES = {
  command: PbEntry.Type.COMMAND,
  noop: PbEntry.Type.NOOP,
  config: PbEntry.Type.CONFIG
} as const

const MESSAGE_TYPES = {
  'vote-request': PbMessage.Type.VOTE_REQUEST,
  'vote-response': PbMessage.Type.VOTE_RESPONSE,
  'append-request': PbMessage.Type.APPEND_REQUEST,
  'append-response': PbMessage.Type.APPEND_RESPONSE,
  'heartbeat-request': PbMessage.Type.HEARTBEAT_REQUEST,
  'heartbeat-response': PbMessage.Type.HEARTBEAT_RESPONSE,
  'read-index-request': PbMessage.Type.READ_INDEX_REQUEST,
  'read-index-response': PbMessage.Type.READ_INDEX_RESPONSE,
  'snapshot-request': PbMessage.Type.SNAPSHOT_REQUEST,
  'timeout-now': PbMessage.Type.TIMEOUT_NOW
} as const

const EMPTY = new Uint8Array(0)

export function entryToPb (entry: Entry): PbEntry {
  return {
    index: entry.index,
    term: entry.term,
    type: ENTRY_TYPES[entry.type],
    // protons types bytes as ArrayBuffer-backed; encoding reads any Uint8Array
    data: (entry.type === 'command' ? entry.data : EMPTY) as Uint8Array<ArrayBuffer>,
    config: entry.type === 'config' ? configToPb(entry.config) : undefined,
    request: entry.type === 'command' ? entry.request : undefined,
    session: entry.type === 'command' ? entry.session : undefined
  }
}

export function entryFromPb (pb: PbEntry): Entry {
  const { index, term } = pb
  switch (pb.type) {
    case PbEntry.Type.COMMAND: {
      const entry: CommandEntry = { type: 'command', index, term, data: pb.data }
      if (pb.request !== undefined) {
        entry.request = pb.request
      }
      if (pb.session !== undefined) {
        entry.session = pb.session
      }
      return entry
    }
    case PbEntry.Type.NOOP:
      return { type: 'noop', index, term }
    case PbEntry.Type.CONFIG:
      return { type: 'config', index, term, config: configFromPb(pb.config) }
    default:
      throw new InvalidMessageError(`unknown entry type ${String(pb.type)} at index ${index}`)
  }
}

export function encodeEntry (entry: Entry): Uint8Array {
  return PbEntry.encode(entryToPb(entry))
}

export function decodeEntry (bytes: Uint8Array): Entry {
  return entryFromPb(decodeWith(PbEntry.decode, bytes, 'entry'))
}

export function encodeHardState (state: HardState): Uint8Array {
  return PbHardState.encode(state)
}

export function decodeHardState (bytes: Uint8Array): HardState {
  const { term, vote, commit } = decodeWith(PbHardState.decode, bytes, 'hard state')
  return { term, vote, commit }
}

export function snapshotMetaToPb (meta: SnapshotMeta): PbSnapshotMeta {
  return { index: meta.index, term: meta.term, config: configToPb(meta.config), sessions: meta.sessions as Uint8Array<ArrayBuffer> | undefined }
}

export function snapshotMetaFromPb (pb: PbSnapshotMeta | undefined): SnapshotMeta {
  if (pb === undefined) {
    throw new InvalidMessageError('snapshot metadata is missing')
  }
  const meta: SnapshotMeta = { index: pb.index, term: pb.term, config: configFromPb(pb.config) }
  if (pb.sessions !== undefined) {
    meta.sessions = pb.sessions
  }
  return meta
}

function configToPb (config: Configuration): PbConfiguration {
  return {
    voters: config.voters,
    learners: config.learners,
    addresses: Object.entries(config.addresses ?? {}).map(([id, multiaddrs]) => ({ id, multiaddrs }))
  }
}

function configFromPb (pb: PbConfiguration | undefined): Configuration {
  const config: Configuration = { voters: pb?.voters ?? [], learners: pb?.learners ?? [] }
  if (pb !== undefined && pb.addresses.length > 0) {
    config.addresses = Object.fromEntries(pb.addresses.map(member => [member.id, member.multiaddrs]))
  }
  return config
}

/** Decodes protobuf bytes, reporting any failure as an `InvalidMessageError`. */
export function decodeWith<T, I = Uint8Array> (decode: (input: I) => T, bytes: I, what: string): T {
  try {
    return decode(bytes)
  } catch (err: any) {
    throw new InvalidMessageError(`cannot decode ${what}: ${String(err.message)}`)
  }
}

/** The wire form of a core message. */
export function messageToPb (m: Message): PbMessage {
  const pb: PbMessage = {
    type: MESSAGE_TYPES[m.type],
    from: m.from,
    to: m.to,
    term: m.term,
    preVote: false,
    lastIndex: 0,
    lastTerm: 0,
    granted: false,
    prevIndex: 0,
    prevTerm: 0,
    entries: [],
    commit: 0,
    success: false,
    index: 0,
    hintIndex: 0,
    hintTerm: 0,
    context: 0,
    transfer: false
  }
  switch (m.type) {
    case 'vote-request':
      return { ...pb, preVote: m.preVote, lastIndex: m.lastIndex, lastTerm: m.lastTerm, transfer: m.transfer === true }
    case 'timeout-now':
      return pb
    case 'vote-response':
      return { ...pb, preVote: m.preVote, granted: m.granted, leader: m.leader }
    case 'append-request':
      return { ...pb, prevIndex: m.prevIndex, prevTerm: m.prevTerm, entries: m.entries.map(entryToPb), commit: m.commit }
    case 'append-response':
      return { ...pb, success: m.success, index: m.index, hintIndex: m.hintIndex, hintTerm: m.hintTerm }
    case 'heartbeat-request':
      return { ...pb, commit: m.commit, context: m.context }
    case 'heartbeat-response':
      return { ...pb, context: m.context }
    case 'read-index-request':
      return { ...pb, context: m.id }
    case 'snapshot-request':
      return { ...pb, snapshot: snapshotMetaToPb(m.snapshot) }
    default:
      return { ...pb, context: m.id, index: m.index }
  }
}

/** The core message a wire message stands for. */
export function messageFromPb (pb: PbMessage): Message {
  const base = { from: pb.from, to: pb.to, term: pb.term }
  switch (pb.type) {
    case PbMessage.Type.VOTE_REQUEST:
      return pb.transfer
        ? { ...base, type: 'vote-request', preVote: pb.preVote, lastIndex: pb.lastIndex, lastTerm: pb.lastTerm, transfer: true }
        : { ...base, type: 'vote-request', preVote: pb.preVote, lastIndex: pb.lastIndex, lastTerm: pb.lastTerm }
    case PbMessage.Type.TIMEOUT_NOW:
      return { ...base, type: 'timeout-now' }
    case PbMessage.Type.VOTE_RESPONSE:
      return pb.leader === undefined
        ? { ...base, type: 'vote-response', preVote: pb.preVote, granted: pb.granted }
        : { ...base, type: 'vote-response', preVote: pb.preVote, granted: pb.granted, leader: pb.leader }
    case PbMessage.Type.APPEND_REQUEST:
      return { ...base, type: 'append-request', prevIndex: pb.prevIndex, prevTerm: pb.prevTerm, entries: pb.entries.map(entryFromPb), commit: pb.commit }
    case PbMessage.Type.APPEND_RESPONSE:
      return { ...base, type: 'append-response', success: pb.success, index: pb.index, hintIndex: pb.hintIndex, hintTerm: pb.hintTerm }
    case PbMessage.Type.HEARTBEAT_REQUEST:
      return { ...base, type: 'heartbeat-request', commit: pb.commit, context: pb.context }
    case PbMessage.Type.HEARTBEAT_RESPONSE:
      return { ...base, type: 'heartbeat-response', context: pb.context }
    case PbMessage.Type.READ_INDEX_REQUEST:
      return { ...base, type: 'read-index-request', id: pb.context }
    case PbMessage.Type.READ_INDEX_RESPONSE:
      return { ...base, type: 'read-index-response', id: pb.context, index: pb.index }
    case PbMessage.Type.SNAPSHOT_REQUEST:
      return { ...base, type: 'snapshot-request', snapshot: snapshotMetaFromPb(pb.snapshot) }
    default:
      throw new InvalidMessageError(`unknown message type ${String(pb.type)}`)
  }
}

const CHANGES_TO_PB = {
  'add-learner': PbMembershipRequest.Change.ADD_LEARNER,
  'add-voter': PbMembershipRequest.Change.ADD_VOTER,
  remove: PbMembershipRequest.Change.REMOVE,
  transfer: PbMembershipRequest.Change.TRANSFER,
  join: PbMembershipRequest.Change.JOIN
} as const

/** The wire form of a membership request. */
export function membershipToPb (id: number, request: MembershipRequest, timeout: number): PbMembershipRequest {
  return {
    id,
    change: CHANGES_TO_PB[request.change],
    peer: request.peer ?? '',
    addrs: 'addrs' in request ? (request.addrs ?? []).map(a => a.bytes as Uint8Array<ArrayBuffer>) : [],
    voter: request.change === 'join' && request.voter,
    timeout: Math.min(Math.max(Math.round(timeout), 0), 2 ** 32 - 1)
  }
}

/** The membership request a wire request stands for. */
export function membershipFromPb (pb: PbMembershipRequest): MembershipRequest {
  const addrs = decodeWith(bytes => bytes.map(b => multiaddr(b)), pb.addrs, 'addresses')
  if (pb.peer !== '' || pb.change !== PbMembershipRequest.Change.TRANSFER) {
    decodeWith(peerIdFromString, pb.peer, 'peer id')
  }
  switch (pb.change) {
    case PbMembershipRequest.Change.ADD_LEARNER: return { change: 'add-learner', peer: pb.peer, addrs }
    case PbMembershipRequest.Change.ADD_VOTER: return { change: 'add-voter', peer: pb.peer, addrs }
    case PbMembershipRequest.Change.REMOVE: return { change: 'remove', peer: pb.peer }
    case PbMembershipRequest.Change.TRANSFER: return { change: 'transfer', peer: pb.peer === '' ? undefined : pb.peer }
    case PbMembershipRequest.Change.JOIN: return { change: 'join', peer: pb.peer, voter: pb.voter, addrs }
    default: throw new InvalidMessageError(`unknown membership change ${String(pb.change)}`)
  }
}
