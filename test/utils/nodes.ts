/**
 * Real libp2p nodes for integration tests: TCP on loopback, noise, yamux,
 * identify, and the raft service with a key-value state machine.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { MemoryDatastore } from 'datastore-core/memory'
import { createLibp2p } from 'libp2p'
import { raft } from '../../src/index.ts'
import { KvStateMachine } from './kv.ts'
import type { Raft, RaftInit } from '../../src/index.ts'
import type { Identify } from '@libp2p/identify'
import type { ConnectionGater, PeerId, PrivateKey } from '@libp2p/interface'
import type { Datastore } from 'interface-datastore'
import type { Libp2p } from 'libp2p'

export type RaftNode = Libp2p<{ identify: Identify, raft: Raft }>

export interface TestNode {
  libp2p: RaftNode
  raft: Raft
  kv: KvStateMachine
  privateKey: PrivateKey
  peerId: PeerId
  datastore: Datastore
}

/** Fast but CI-tolerant timing: elections within a second or two on a busy machine. */
export const TEST_TIMING: RaftInit = { electionTimeout: 600, heartbeatInterval: 60, commitTimeout: 20_000 }

export interface NodeOptions {
  privateKey: PrivateKey
  bootstrap: RaftInit['bootstrap']
  datastore?: Datastore
  kv?: KvStateMachine
  raft?: RaftInit
  port?: number
  /** Passed to libp2p as is (see `blockingGater` for partitions) */
  connectionGater?: ConnectionGater
}

export async function createNode (options: NodeOptions): Promise<TestNode> {
  const kv = options.kv ?? new KvStateMachine()
  const datastore = options.datastore ?? new MemoryDatastore()
  const libp2p = await createLibp2p({
    privateKey: options.privateKey,
    datastore,
    addresses: { listen: [`/ip4/127.0.0.1/tcp/${options.port ?? 0}`] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionMonitor: { enabled: false },
    connectionGater: options.connectionGater,
    services: {
      identify: identify(),
      raft: raft({ ...TEST_TIMING, ...options.raft, bootstrap: options.bootstrap, stateMachine: kv })
    }
  })
  return { libp2p, raft: libp2p.services.raft, kv, privateKey: options.privateKey, peerId: libp2p.peerId, datastore }
}

/** Starts `size` nodes that bootstrap one group together and know each other's addresses. */
export async function createCluster (size: number, raftInit: RaftInit = {}): Promise<TestNode[]> {
  const keys = await Promise.all(Array.from({ length: size }, async () => generateKeyPair('Ed25519')))
  const ids = keys.map(key => peerIdFromPrivateKey(key))
  const nodes = await Promise.all(keys.map(async privateKey => createNode({ privateKey, bootstrap: ids, raft: raftInit })))
  await introduce(nodes)
  return nodes
}

/** Tells every node where the others listen. */
export async function introduce (nodes: TestNode[]): Promise<void> {
  for (const a of nodes) {
    for (const b of nodes) {
      if (a !== b && b.libp2p.status === 'started') {
        await a.libp2p.peerStore.merge(b.peerId, { multiaddrs: b.libp2p.getMultiaddrs() })
      }
    }
  }
}

export async function stopAll (nodes: TestNode[]): Promise<void> {
  await Promise.all(nodes.map(async node => node.libp2p.stop()))
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeout` ms. */
export async function waitFor<T> (check: () => T | undefined | false | Promise<T | undefined | false>, message: string, timeout = 30_000): Promise<T> {
  const deadline = Date.now() + timeout
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) {
      return value
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${message}`)
    }
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}

/** Restarts a stopped node on its own key and datastore with a fresh state machine, in its place in `nodes`, and tells every node where the others listen. */
export async function restartNode (nodes: TestNode[], stopped: TestNode, raft: RaftInit = {}): Promise<TestNode> {
  const restarted = await createNode({ privateKey: stopped.privateKey, datastore: stopped.datastore, bootstrap: nodes.map(n => n.peerId), raft })
  nodes[nodes.indexOf(stopped)] = restarted
  await introduce(nodes)
  return restarted
}

/** Waits until all running nodes agree on one leader, and returns it. */
export async function waitForStableLeader (nodes: TestNode[], timeout = 30_000): Promise<TestNode> {
  return waitFor(() => {
    const running = nodes.filter(n => n.libp2p.status === 'started')
    const leaders = running.filter(n => n.raft.role === 'leader')
    if (leaders.length !== 1) {
      return undefined
    }
    const leader = leaders[0]
    return running.every(n => n.raft.leader?.equals(leader.peerId) === true && n.raft.term === leader.raft.term) ? leader : undefined
  }, 'a single leader that every node follows', timeout)
}

/** Like `createCluster`, with extra options for each node (by position), such as a connection gater. */
export async function createClusterWith (size: number, perNode: (index: number) => Omit<NodeOptions, 'privateKey' | 'bootstrap'>): Promise<TestNode[]> {
  const keys = await Promise.all(Array.from({ length: size }, async () => generateKeyPair('Ed25519')))
  const ids = keys.map(key => peerIdFromPrivateKey(key))
  const nodes = await Promise.all(keys.map(async (privateKey, i) => createNode({ ...perNode(i), privateKey, bootstrap: ids })))
  await introduce(nodes)
  return nodes
}

/**
 * A connection gater that refuses every connection, either way, with the
 * peers whose ids are in `blocked` (mutate the set to cut or heal links).
 */
export function blockingGater (blocked: Set<string>): ConnectionGater {
  return {
    denyDialPeer: (peer) => blocked.has(peer.toString()),
    denyInboundEncryptedConnection: (peer) => blocked.has(peer.toString()),
    denyOutboundEncryptedConnection: (peer) => blocked.has(peer.toString())
  }
}

/** A libp2p node like the test nodes but without the raft service (an outsider, or a hand-driven member). */
export async function createPlainNode (privateKey?: PrivateKey): Promise<Libp2p<{ identify: Identify }>> {
  return createLibp2p({
    privateKey,
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionMonitor: { enabled: false },
    services: { identify: identify() }
  })
}

/**
 * Cuts `isolated` off from every other node (built with `blockingGater(blocked[i])`):
 * both sides refuse to dial each other and their connections are closed.
 */
export async function cutOff (nodes: TestNode[], blocked: Array<Set<string>>, isolated: TestNode): Promise<void> {
  const rest = nodes.filter(n => n !== isolated)
  for (const [i, n] of nodes.entries()) {
    for (const other of n === isolated ? rest : [isolated]) {
      blocked[i].add(other.peerId.toString())
    }
  }
  await Promise.all(rest.map(async n => isolated.libp2p.hangUp(n.peerId)))
  await Promise.all(rest.map(async n => n.libp2p.hangUp(isolated.peerId)))
}
