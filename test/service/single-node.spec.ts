import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { expect } from 'aegir/chai'
import { MemoryDatastore } from 'datastore-core/memory'
import { TypedEventEmitter } from 'main-event'
import { RaftService } from '../../src/service/raft-service.ts'
import { KvStateMachine, set } from '../utils/kv.ts'
import { recordingLogger } from '../utils/recording-logger.ts'
import type { RaftComponents, RaftInit } from '../../src/index.ts'
import type { Metrics } from '@libp2p/interface'
import type { Key } from 'interface-datastore'

/**
 * One member built from hand-made components: the service needs no other
 * peer to lead a group of one, so these tests need no network.
 */
async function singleMember (extra: Partial<RaftComponents> = {}, init: RaftInit = {}): Promise<{ service: RaftService, kv: KvStateMachine, handled: string[] }> {
  const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  const handled: string[] = []
  const components = {
    peerId,
    registrar: {
      handle: async (protocol: string) => { handled.push(protocol) },
      unhandle: async (protocol: string) => { handled.splice(handled.indexOf(protocol), 1) }
    },
    connectionManager: {},
    peerStore: { merge: async () => {} },
    datastore: new MemoryDatastore(),
    events: new TypedEventEmitter(),
    logger: recordingLogger().components,
    ...extra
  } as unknown as RaftComponents
  const kv = new KvStateMachine()
  const service = new RaftService(components, { bootstrap: 'self', stateMachine: kv, electionTimeout: 100, heartbeatInterval: 10, ...init })
  return { service, kv, handled }
}

/** A datastore whose writes fail once `failing` is set, as a full or broken disk's would. */
class FailingDatastore extends MemoryDatastore {
  failing = false

  put (key: Key, value: Uint8Array): Key | Promise<Key> {
    if (this.failing) {
      throw new Error('the disk is full')
    }
    return super.put(key, value)
  }
}

describe('service: a group of one', function () {
  this.timeout(30_000)

  it('leads alone, commits, and registers and releases its protocols', async () => {
    const { service, kv, handled } = await singleMember()
    await service.start()
    expect(handled).to.deep.equal(['/libp2p-raft/default/1.0.0', '/libp2p-raft/default/snapshot/1.0.0'])
    const leader = await service.waitForLeader()
    expect(leader.toString()).to.equal(service.status().peerId.toString())
    const { index, result } = await service.commit(set('k', 'v1'))
    expect(result).to.be.undefined()
    const second = await service.commit(set('k', 'v2'))
    expect(second.result).to.equal('v1')
    expect(second.index).to.equal(index + 1)
    expect(kv.values.get('k')).to.equal('v2')
    expect(service.status().followers).to.deep.equal([])
    await service.stop()
    expect(handled).to.be.empty()
    // stopped, it leads no one: no followers are reported beside the role
    expect(service.status().role).to.equal('follower')
    expect(service.status()).to.not.have.property('followers')
    await expect(service.commit(set('k', 'v3'))).to.eventually.be.rejected.with.property('name', 'NotStartedError')
  })

  it('reports its state as a metric group when metrics are configured', async () => {
    let calculate: (() => Record<string, number>) | undefined
    const metrics = {
      registerMetricGroup: (name: string, options: { calculate(): Record<string, number> }) => {
        if (name === 'libp2p_raft_state') {
          calculate = options.calculate
        }
      }
    } as unknown as Metrics
    const { service } = await singleMember({ metrics })
    await service.start()
    try {
      await service.waitForLeader()
      const { index } = await service.commit(set('a', '1'))
      expect(calculate?.()).to.include({ is_leader: 1, applied_index: index, commit_index: index, last_index: index, snapshot_index: 0 })
      expect(calculate?.().term).to.be.at.least(2)
    } finally {
      await service.stop()
    }
  })

  it('rejects a commit that throws in the state machine with the same error, and keeps going', async () => {
    const { service, kv } = await singleMember()
    await service.start()
    try {
      await expect(service.commit(new TextEncoder().encode('throw boom'))).to.eventually.be.rejectedWith('asked to throw: boom')
      await service.commit(set('after', 'yes'))
      expect(kv.values.get('after')).to.equal('yes')
    } finally {
      await service.stop()
    }
  })

  it('does not send a command again because its state machine threw an error named NotCommittedError', async () => {
    let applies = 0
    const stateMachine = {
      apply: () => {
        applies++
        const err = new Error('a nested group did not commit')
        err.name = 'NotCommittedError'
        throw err
      },
      snapshot: () => new Uint8Array(0),
      restore: () => {}
    }
    const { service } = await singleMember({}, { stateMachine })
    await service.start()
    try {
      await expect(service.commit(set('k', 'v'))).to.eventually.be.rejectedWith('a nested group did not commit')
      expect(applies).to.equal(1)
    } finally {
      await service.stop()
    }
  })

  it('settles the calls in flight when its disk fails, instead of leaving them waiting', async () => {
    const datastore = new FailingDatastore()
    const { service } = await singleMember({ datastore })
    await service.start()
    try {
      await service.commit(set('k', 'v1'))
      datastore.failing = true
      // No signal: only the service can end this call, and its tick stopped with the failure.
      await expect(service.commit(set('k', 'v2'))).to.eventually.be.rejected.with.property('name', 'StorageFailedError')
      // A new call says the same, with the datastore's own error in its message.
      const later = await service.commit(set('k', 'v3')).catch((err: Error) => err)
      expect(later).to.have.property('name', 'StorageFailedError')
      expect(later).to.have.property('message').that.includes('the disk is full')
    } finally {
      await service.stop()
    }
  })
})
