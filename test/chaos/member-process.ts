/**
 * One chaos member, run by the controller (`cluster.ts`) as a child process
 * inside the member's network namespace: a libp2p node on the namespace's
 * address (TCP, noise, yamux, identify) with the raft service, a level
 * datastore in its own folder and the register state machine. It takes its
 * settings from the first IPC message and answers requests (see
 * `protocol.ts`) until it is stopped or killed.
 */

import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { LevelDatastore } from 'datastore-level'
import { createLibp2p } from 'libp2p'
import { describeError, ipcChild } from '../../scripts/ipc-child.ts'
import { raft } from '../../src/index.ts'
import { KvMachine, encodeCommand } from './kv-machine.ts'
import type { FromMember, MemberInit, MemberRequest, MemberStatus, Reply, ToMember } from './protocol.ts'
import type { Raft } from '../../src/index.ts'
import type { KvOutput } from '../sim/linearizability.ts'
import type { Identify } from '@libp2p/identify'
import type { Libp2p } from 'libp2p'

const started = Date.now()

const child = await ipcChild<MemberInit, FromMember>('member-process.ts is started by the chaos controller (npm run chaos), not on its own')
const { init, send } = child

const kv = new KvMachine()
const datastore = new LevelDatastore(init.dir)
await datastore.open()

const node: Libp2p<{ identify: Identify, raft: Raft }> = await createLibp2p({
  privateKey: privateKeyFromProtobuf(Buffer.from(init.privateKey, 'base64')),
  datastore,
  addresses: { listen: [init.listen] },
  transports: [tcp()],
  connectionEncrypters: [noise()],
  streamMuxers: [yamux()],
  services: {
    identify: identify(),
    raft: raft({
      group: 'chaos',
      bootstrap: init.bootstrap,
      join: init.join,
      joinAsVoter: true,
      authorizeJoin: () => init.acceptJoins,
      stateMachine: kv,
      electionTimeout: init.electionTimeout,
      heartbeatInterval: init.heartbeatInterval,
      commitTimeout: init.commitTimeout,
      snapshotThreshold: init.snapshotThreshold,
      trailingEntries: Math.floor(init.snapshotThreshold / 4)
    })
  }
})
const service = node.services.raft

function status (): MemberStatus {
  const s = service.status()
  return {
    role: s.role,
    term: s.term,
    leader: s.leader?.toString(),
    commitIndex: s.commitIndex,
    appliedIndex: s.appliedIndex,
    lastIndex: s.lastIndex,
    snapshotIndex: s.snapshotIndex,
    voters: s.voters.map(id => id.toString()),
    learners: s.learners.map(id => id.toString()),
    followers: s.followers?.map(f => ({ peerId: f.peerId.toString(), match: f.match, next: f.next, state: f.state }))
  }
}

async function perform (request: MemberRequest): Promise<Omit<Reply & { ok: true }, 'type' | 'id' | 'ok'>> {
  const signal = 'timeoutMs' in request ? AbortSignal.timeout(request.timeoutMs) : undefined
  switch (request.type) {
    case 'op': {
      const input = request.input
      if (input.kind === 'read') {
        await service.read({ signal })
        return { output: { kind: 'read', value: kv.get(input.key) } }
      }
      const command = input.kind === 'write'
        ? encodeCommand({ op: 'write', key: input.key, value: input.value })
        : encodeCommand({ op: 'cas', key: input.key, expected: input.expected, value: input.value })
      const { result } = await service.commit(command, { signal })
      return { output: result as KvOutput }
    }
    case 'addVoter':
      return { index: (await service.addVoter(request.peer, { signal })).index }
    case 'removeMember':
      return { index: (await service.removeMember(request.peer, { signal })).index }
    case 'join':
      return { index: (await service.join(request.peer, { signal })).index }
    case 'snapshot':
      return { index: (await service.snapshot({ signal })).index }
    case 'status':
      return { status: status() }
    case 'state':
      return { values: Object.fromEntries(kv.values) }
    case 'stop':
      child.stopping = true
      await node.stop()
      await datastore.close()
      return {}
    default:
      throw new Error(`unknown request ${JSON.stringify(request)}`)
  }
}

process.on('message', (message: ToMember) => {
  if (message.type === 'init') {
    return
  }
  const { id } = message
  perform(message).then(
    (result) => {
      const reply: Reply = { type: 'reply', id, ok: true, ...result }
      if (message.type === 'stop') {
        child.sendAndExit(reply)
      } else {
        send(reply)
      }
    },
    (err: any) => {
      send({ type: 'reply', id, ok: false, error: describeError(err), errorName: String(err?.name ?? 'Error') })
    }
  )
})

send({ type: 'ready', peerId: node.peerId.toString(), pid: process.pid, startupMs: Date.now() - started })
