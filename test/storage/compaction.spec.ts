import { sha256 } from '@noble/hashes/sha2.js'
import { expect } from 'aegir/chai'
import { MemoryDatastore } from 'datastore-core/memory'
import { RaftStorage } from '../../src/storage/raft-storage.ts'
import { data, ids, meta, ROOT, run, storedIndexes } from './helpers.ts'
import { TestDatastore } from './test-datastore.ts'
import type { Op } from './test-datastore.ts'

/** A storage holding entries `1..last` of term 1 and a snapshot at `snapshot`. */
async function compactable (datastore: MemoryDatastore, last: number, snapshot: number): Promise<RaftStorage> {
  const storage = new RaftStorage(datastore, ROOT)
  await storage.load()
  await storage.write({ term: 1, commit: last }, run(1, last, 1))
  await storage.saveSnapshot(meta(snapshot, 1), data(100))
  return storage
}

function deletedIndexes (ops: Op[]): number[] {
  return ops.flatMap(o => o.op === 'delete' ? [Number(o.key.slice(o.key.lastIndexOf('/') + 1))] : [])
}

describe('storage: log compaction', () => {
  it('deletes the entries before upTo and keeps the one at upTo as the starting point', async () => {
    const datastore = new MemoryDatastore()
    const storage = await compactable(datastore, 30, 20)
    await storage.compactLog(15)
    expect(await storedIndexes(datastore)).to.deep.equal(run(15, 30, 1).map(e => e.index))

    const state = await new RaftStorage(datastore, ROOT).load()
    expect(state?.snapshot).to.deep.equal(meta(20, 1))
    expect(ids(state?.entries)).to.deep.equal(ids(run(15, 30, 1)))
  })

  it('may compact up to one past the snapshot, and no further', async () => {
    const datastore = new MemoryDatastore()
    const storage = await compactable(datastore, 30, 20)
    await expect(storage.compactLog(22)).to.eventually.be.rejected().with.property('message').that.matches(/only covers up to 20/)
    expect(await storedIndexes(datastore)).to.have.lengthOf(30)
    await storage.compactLog(21)

    const state = await new RaftStorage(datastore, ROOT).load()
    expect(ids(state?.entries)).to.deep.equal(ids(run(21, 30, 1)))
  })

  it('compacts nothing without a snapshot', async () => {
    const datastore = new MemoryDatastore()
    const storage = new RaftStorage(datastore, ROOT)
    await storage.load()
    await storage.write(undefined, run(1, 5, 1))
    await storage.compactLog(1)
    await expect(storage.compactLog(2)).to.eventually.be.rejected()
    expect(await storedIndexes(datastore)).to.deep.equal([1, 2, 3, 4, 5])
  })

  it('is idempotent and only deletes what earlier calls left', async () => {
    const datastore = new TestDatastore()
    const storage = await compactable(datastore, 30, 20)
    await storage.compactLog(15)
    datastore.ops.length = 0

    await storage.compactLog(15)
    await storage.compactLog(10)
    expect(datastore.ops).to.deep.equal([])
    await storage.compactLog(18)
    expect(deletedIndexes(datastore.ops)).to.deep.equal([15, 16, 17])
  })

  it('resumes from the first stored entry after a restart', async () => {
    const datastore = new TestDatastore()
    await (await compactable(datastore, 30, 20)).compactLog(15)
    const restarted = new RaftStorage(datastore, ROOT)
    await restarted.load()
    datastore.ops.length = 0

    await restarted.compactLog(17)
    expect(deletedIndexes(datastore.ops)).to.deep.equal([15, 16])
  })

  it('deletes lowest first, at most 1024 per batch', async () => {
    const datastore = new TestDatastore()
    const storage = await compactable(datastore, 3000, 2600)
    datastore.ops.length = 0

    await storage.compactLog(2500)
    expect(deletedIndexes(datastore.ops)).to.deep.equal(run(1, 2499, 1).map(e => e.index))
    const batches = datastore.ops.map(o => o.op).join(' ').split('commit').map(b => b.trim()).filter(b => b !== '')
    expect(batches.map(b => b.split(' ').length)).to.deep.equal([1024, 1024, 451])
    expect(await storedIndexes(datastore)).to.deep.equal(run(2500, 3000, 1).map(e => e.index))
  })

  it('runs alongside writes of later entries', async () => {
    const datastore = new MemoryDatastore()
    const storage = await compactable(datastore, 2000, 1800)
    await Promise.all([
      storage.compactLog(1500),
      storage.write({ term: 2, commit: 2000 }, run(2001, 2100, 2)),
      storage.write(undefined, run(2101, 2200, 2))
    ])

    const state = await new RaftStorage(datastore, ROOT).load()
    expect(state?.entries?.[0]?.index).to.equal(1500)
    expect(state?.entries?.at(-1)?.index).to.equal(2200)
    expect(state?.entries).to.have.lengthOf(701)
  })

  it('lets concurrent calls overlap harmlessly', async () => {
    const datastore = new MemoryDatastore()
    const storage = await compactable(datastore, 3000, 2900)
    await Promise.all([storage.compactLog(2000), storage.compactLog(2800), storage.compactLog(1200)])
    expect((await storedIndexes(datastore))[0]).to.equal(2800)
    await storage.compactLog(2850)
    expect((await storedIndexes(datastore))[0]).to.equal(2850)
  })

  it('continues from the snapshot after an install replaced the log', async () => {
    const datastore = new TestDatastore()
    const storage = await compactable(datastore, 30, 20)
    const incoming = storage.receiveSnapshot(meta(60, 3), 0, 0, sha256(new Uint8Array(0)))
    await storage.installSnapshot(await incoming.finish())
    await storage.write(undefined, run(61, 70, 3))
    await storage.saveSnapshot(meta(65, 3), data(10))
    datastore.ops.length = 0

    await storage.compactLog(63)
    expect(deletedIndexes(datastore.ops)).to.deep.equal([61, 62])
    const state = await new RaftStorage(datastore, ROOT).load()
    expect(state?.snapshot).to.deep.equal(meta(65, 3))
    expect(ids(state?.entries)).to.deep.equal(ids(run(63, 70, 3)))
  })
})
