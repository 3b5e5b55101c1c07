/**
 * The IPC messages between the demo's orchestrator (`scripts/demo.ts`) and
 * its cluster members (`scripts/demo-node.ts`). Every message is plain JSON.
 */

import type { RaftRole } from '../src/index.ts'

/** The first message a member gets: who it is and where everything lives. */
export interface InitMessage {
  type: 'init'
  name: string
  /** The member's Ed25519 key, protobuf-encoded, base64 */
  privateKey: string
  port: number
  /** Its level datastore folder */
  dir: string
  /** `/ip4/127.0.0.1/tcp/<port>/p2p/<id>` of every voter, this member included */
  bootstrap: string[]
  electionTimeout: number
  heartbeatInterval: number
  commitTimeout: number
}

export interface CommitRequest { type: 'commit', id: number, key: string, value: string }
export interface StateRequest { type: 'state', id: number, full?: boolean }
export interface StopRequest { type: 'stop', id: number }

export type ToNode = InitMessage | CommitRequest | StateRequest | StopRequest

export interface NodeState {
  role: RaftRole
  term: number
  leader: string | undefined
  appliedIndex: number
  commitIndex: number
  lastIndex: number
  /** Number of keys */
  size: number
  /** sha256 of the sorted key-value pairs */
  digest: string
  /** sha256 chain over every applied command and its index */
  historyDigest: string
  /** Every key-value pair, when asked for with `full` */
  entries?: Array<[string, string]>
}

export interface CommitAnswer {
  index: number
  term: number
  /** This member was not the leader, so it forwarded the command */
  forwarded: boolean
  /** The previous value of the key, as the state machine returned it */
  previous: string | null
}

export type Reply =
  | { type: 'reply', id: number, ok: true, commit?: CommitAnswer, state?: NodeState }
  | { type: 'reply', id: number, ok: false, error: string }

export type FromNode =
  | { type: 'ready', peerId: string, pid: number, startupMs: number, state: NodeState }
  | { type: 'role', role: RaftRole, term: number }
  | { type: 'leader', leader: string | undefined, term: number }
  | { type: 'progress', appliedIndex: number, commitIndex: number }
  | { type: 'fatal', error: string }
  | Reply
