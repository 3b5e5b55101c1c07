/**
 * One member of the demo cluster, run by `scripts/demo.ts` as a child
 * process: a libp2p node on loopback TCP (noise, yamux, identify) with the
 * raft service, a synced level datastore (`SyncedLevelDatastore`: every
 * write reaches the disk before it resolves) in its own folder, and the demo's
 * key-value state machine. It takes its identity and settings from the
 * first IPC message, reports role, leader and progress changes, and answers
 * `commit`, `state` and `stop` requests (see `demo-protocol.ts`).
 */

import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { raft } from '../src/index.ts'
import { SyncedLevelDatastore } from '../src/level/index.ts'
import { KvStateMachine, encodeSet } from './demo-kv.ts'
import { describeError, ipcChild } from './ipc-child.ts'
import type { FromNode, InitMessage, NodeState, ToNode } from './demo-protocol.ts'
import type { Raft } from '../src/index.ts'
import type { Identify } from '@libp2p/identify'
import type { Libp2p } from 'libp2p'

type Node = Libp2p<{ identify: Identify, raft: Raft }>

const started = Date.now()

const child = await ipcChild<InitMessage, FromNode>('demo-node.ts is started by scripts/demo.ts (npm start), not on its own')
const { init, send } = child

const kv = new KvStateMachine()
const datastore = new SyncedLevelDatastore(init.dir)
await datastore.open()

const node: Node = await createLibp2p({
  privateKey: privateKeyFromProtobuf(Buffer.from(init.privateKey, 'base64')),
  datastore,
  addresses: { listen: [`/ip4/127.0.0.1/tcp/${init.port}`] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  connectionMonitor: { enabled: false },
  services: {
    identify: identify(),
    raft: raft({
      group: 'demo-kv',
      bootstrap: init.bootstrap,
      stateMachine: kv,
      electionTimeout: init.electionTimeout,
      heartbeatInterval: init.heartbeatInterval,
      commitTimeout: init.commitTimeout
    })
  }
})
const service = node.services.raft

function state (full: boolean): NodeState {
  const status = service.status()
  return {
    role: status.role,
    term: status.term,
    leader: status.leader?.toString(),
    appliedIndex: status.appliedIndex,
    commitIndex: status.commitIndex,
    lastIndex: status.lastIndex,
    size: kv.values.size,
    digest: kv.digest(),
    historyDigest: kv.historyDigest,
    entries: full ? kv.sorted() : undefined
  }
}

service.addEventListener('raft:role', (evt) => {
  send({ type: 'role', role: evt.detail.role, term: evt.detail.term })
})
service.addEventListener('raft:leader', (evt) => {
  send({ type: 'leader', leader: evt.detail.leader?.toString(), term: evt.detail.term })
})

// Applied-index progress, at most every 100 ms.
let reported = -1
const progress = setInterval(() => {
  if (service.appliedIndex !== reported) {
    reported = service.appliedIndex
    send({ type: 'progress', appliedIndex: service.appliedIndex, commitIndex: service.commitIndex })
  }
}, 100)

async function stop (): Promise<void> {
  child.stopping = true
  clearInterval(progress)
  await node.stop()
  await datastore.close()
}

process.on('message', (message: ToNode) => {
  if (message.type === 'commit') {
    const forwarded = service.role !== 'leader'
    service.commit(encodeSet(message.key, message.value)).then(
      ({ index, term, result }) => {
        send({ type: 'reply', id: message.id, ok: true, commit: { index, term, forwarded, previous: (result as string | null) ?? null } })
      },
      (err: unknown) => {
        send({ type: 'reply', id: message.id, ok: false, error: describeError(err) })
      }
    )
  } else if (message.type === 'state') {
    send({ type: 'reply', id: message.id, ok: true, state: state(message.full === true) })
  } else if (message.type === 'stop' && !child.stopping) {
    stop().then(
      () => {
        // Exit once the answer is on its way.
        child.sendAndExit({ type: 'reply', id: message.id, ok: true })
      },
      (err: unknown) => {
        send({ type: 'reply', id: message.id, ok: false, error: describeError(err) })
        process.exit(1)
      }
    )
  }
})

send({ type: 'ready', peerId: node.peerId.toString(), pid: process.pid, startupMs: Date.now() - started, state: state(false) })
