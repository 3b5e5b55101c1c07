/**
 * The messages between the chaos controller and a member process
 * (`member-process.ts`), over Node's IPC channel.
 */

import type { KvInput, KvOutput } from '../sim/linearizability.ts'

export interface MemberInit {
  type: 'init'
  name: string
  /** protobuf-encoded private key, base64 */
  privateKey: string
  /** the member's level datastore folder */
  dir: string
  listen: string
  /** multiaddrs ending in /p2p/<id>, or [] to start outside any configuration */
  bootstrap: string[]
  /** members to ask to let this node in when it starts with nothing stored */
  join: string[]
  /** whether this member lets nodes join (when it leads) */
  acceptJoins: boolean
  electionTimeout: number
  heartbeatInterval: number
  commitTimeout: number
  snapshotThreshold: number
}

export type MemberRequest =
  | { type: 'op', input: KvInput, timeoutMs: number }
  | { type: 'addVoter', peer: string, timeoutMs: number }
  | { type: 'removeMember', peer: string, timeoutMs: number }
  | { type: 'join', peer: string, timeoutMs: number }
  | { type: 'snapshot', timeoutMs: number }
  | { type: 'status' }
  | { type: 'state' }
  | { type: 'stop' }

export type ToMember = MemberInit | (MemberRequest & { id: number })

export interface MemberStatus {
  role: 'leader' | 'follower' | 'candidate'
  term: number
  leader?: string
  commitIndex: number
  appliedIndex: number
  lastIndex: number
  snapshotIndex: number
  voters: string[]
  learners: string[]
  /** on the leader: each follower's replication progress */
  followers?: Array<{ peerId: string, match: number, next: number, state: string }>
}

export type Reply =
  | { type: 'reply', id: number, ok: true, output?: KvOutput, status?: MemberStatus, values?: Record<string, string>, index?: number }
  | { type: 'reply', id: number, ok: false, error: string, errorName: string }

export type FromMember =
  | { type: 'ready', peerId: string, pid: number, startupMs: number }
  | { type: 'fatal', error: string }
  | Reply
