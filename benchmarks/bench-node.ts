/**
 * The libp2p node every benchmark runs: TCP on loopback, noise, yamux,
 * identify and the raft service, as a real deployment would.
 */
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify } from '@libp2p/identify'
import { tcp } from '@libp2p/tcp'
import { MemoryDatastore } from 'datastore-core/memory'
import { createLibp2p } from 'libp2p'
import { raft } from '../src/index.ts'
import type { Raft, RaftInit } from '../src/index.ts'
import type { Identify } from '@libp2p/identify'
import type { PrivateKey } from '@libp2p/interface'
import type { Datastore } from 'interface-datastore'
import type { Libp2p } from 'libp2p'

export type BenchNode = Libp2p<{ identify: Identify, raft: Raft }>

export interface BenchNodeInit {
  privateKey: PrivateKey
  raft: RaftInit
  /** Defaults to an in-memory datastore */
  datastore?: Datastore
  /** Start the node at once (libp2p's default) */
  start?: boolean
}

export async function createBenchNode (init: BenchNodeInit): Promise<BenchNode> {
  return createLibp2p({
    start: init.start,
    privateKey: init.privateKey,
    datastore: init.datastore ?? new MemoryDatastore(),
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionMonitor: { enabled: false },
    services: {
      identify: identify(),
      raft: raft(init.raft)
    }
  })
}
