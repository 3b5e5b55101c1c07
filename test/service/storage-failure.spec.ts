import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { expect } from 'aegir/chai'
import { MemoryDatastore } from 'datastore-core/memory'
import { hookedBatch } from '../utils/hooked-batch.ts'
import { set } from '../utils/kv.ts'
import { createNode, introduce, stopAll, waitFor, waitForStableLeader } from '../utils/nodes.ts'
import type { TestNode } from '../utils/nodes.ts'
import type { AbortOptions } from '@libp2p/interface'
import type { Batch, Key } from 'interface-datastore'

/** A store whose writes fail while `failing` is set, as a full disk's do; kept across restarts of its member. */
class FailingDatastore extends MemoryDatastore {
  failing = false

  override async put (key: Key, value: Uint8Array, options?: AbortOptions): Promise<Key> {
    this.check()
    return super.put(key, value, options)
  }

  override batch (): Batch {
    return hookedBatch(super.batch(), () => { this.check() })
  }

  private check (): void {
    if (this.failing) {
      throw new Error('ENOSPC: no space left on device')
    }
  }
}

describe('service: a datastore that fails a write', function () {
  this.timeout(60_000)
  let nodes: TestNode[] = []

  afterEach(async () => {
    await stopAll(nodes)
    nodes = []
  })

  it('the member stops with StorageFailedError on every waiting and new call, acknowledges nothing, says so in status(), and takes part again once restarted on a working store', async () => {
    const keys = await Promise.all([0, 1, 2].map(async () => generateKeyPair('Ed25519')))
    const ids = keys.map(key => peerIdFromPrivateKey(key))
    const stores = keys.map(() => new FailingDatastore())
    const start = async (i: number): Promise<TestNode> => createNode({ privateKey: keys[i], bootstrap: ids, raft: { datastore: stores[i] } })
    nodes = await Promise.all(keys.map(async (_, i) => start(i)))
    await introduce(nodes)
    const leader = await waitForStableLeader(nodes)
    await leader.raft.commit(set('before', 'ok'))

    const failed = nodes.indexOf(leader)
    stores[failed].failing = true
    const waiting = await Promise.allSettled([1, 2, 3].map(async n => leader.raft.commit(set(`lost${n}`, 'x'))))
    for (const outcome of waiting) {
      expect(outcome.status).to.equal('rejected')
      expect((outcome as PromiseRejectedResult).reason).to.have.property('name', 'StorageFailedError')
    }
    expect((waiting[0] as PromiseRejectedResult).reason.message).to.include('ENOSPC').and.include('restart')
    await expect(leader.raft.commit(set('after', 'x'))).to.eventually.be.rejected().with.property('name', 'StorageFailedError')
    await expect(leader.raft.read()).to.eventually.be.rejected().with.property('name', 'StorageFailedError')
    expect(leader.raft.status().warnings.map(w => w.code)).to.include('storage-failed')
    expect([...leader.kv.values.keys()]).to.deep.equal(['before'], 'the failed member applied none of the commands it could not write')

    // The others go on without it.
    const others = nodes.filter(node => node !== leader)
    const next = await waitFor(() => others.find(node => node.raft.role === 'leader'), 'a new leader among the others')
    await next.raft.commit(set('meanwhile', 'ok'))

    // The operator fixes the disk and restarts the member: it reloads what it wrote and catches up.
    stores[failed].failing = false
    await leader.libp2p.stop()
    const restarted = await start(failed)
    nodes[failed] = restarted
    await introduce(nodes)
    await waitFor(() => restarted.kv.values.get('meanwhile') === 'ok', 'the restarted member to catch up')
    expect(restarted.raft.status().warnings.map(w => w.code)).to.not.include('storage-failed')
    await restarted.raft.commit(set('restarted', 'ok'))
    await waitFor(() => nodes.every(node => node.kv.values.get('restarted') === 'ok'), 'every member to apply a command committed through the restarted one')
  })
})
