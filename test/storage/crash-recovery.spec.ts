import { sha256 } from '@noble/hashes/sha2.js'
import { expect } from 'aegir/chai'
import { MemoryDatastore } from 'datastore-core/memory'
import { SNAPSHOT_CHUNK_SIZE } from '../../src/constants.ts'
import { RaftStorage } from '../../src/storage/raft-storage.ts'
import { chunkIds, data, ids, logKey, meta, ROOT, run, storedIndexes, writeByHand } from './helpers.ts'
import { TestDatastore } from './test-datastore.ts'
import type { StoredSnapshot } from '../../src/storage/raft-storage.ts'
import type { Datastore } from 'interface-datastore'

const OLD_ID = '00000000000000000010-1-0000000000000001'
const NEW_ID = '00000000000000000030-2-0000000000000002'

/** Entries written straight to the datastore, as a previous run left them. */
async function putEntries (datastore: Datastore, from: number, to: number, term: number): Promise<void> {
  const storage = new RaftStorage(datastore, ROOT)
  await storage.write(undefined, run(from, to, term))
}

/** What a restarted node finds, after everything a crash can have left was cleaned. */
async function restart (datastore: Datastore): Promise<{ storage: RaftStorage, entries: Array<[number, number]> }> {
  const storage = new RaftStorage(datastore, ROOT)
  const state = await storage.load()
  expect(state?.snapshot).to.deep.equal(storage.snapshot?.meta)
  return { storage, entries: ids(state?.entries) }
}

describe('storage: crash recovery', () => {
  describe('interrupted saves', () => {
    it('keeps the old snapshot when the crash came before the pointer moved', async () => {
      const datastore = new MemoryDatastore()
      await putEntries(datastore, 1, 20, 1)
      const old = await writeByHand(datastore, OLD_ID, meta(10, 1), data(300_000, 1), true)
      // two of the three chunks of the next snapshot made it
      await writeByHand(datastore, NEW_ID, meta(15, 1), data(2 * SNAPSHOT_CHUNK_SIZE, 2), false)

      const { storage, entries } = await restart(datastore)
      expect(storage.snapshot).to.deep.equal(old)
      expect(entries).to.deep.equal(ids(run(1, 20, 1)))
      expect(await chunkIds(datastore)).to.deep.equal([OLD_ID])
      expect(await storage.snapshotData(old)).to.deep.equal(data(300_000, 1))
    })

    it('uses the new snapshot when the crash came before the old chunks were deleted', async () => {
      const datastore = new MemoryDatastore()
      await putEntries(datastore, 1, 20, 1)
      await writeByHand(datastore, OLD_ID, meta(10, 1), data(300_000, 1), true)
      const next = await writeByHand(datastore, NEW_ID, meta(15, 1), data(600_000, 2), true)

      const { storage, entries } = await restart(datastore)
      expect(storage.snapshot).to.deep.equal(next)
      expect(entries).to.deep.equal(ids(run(1, 20, 1)))
      expect(await chunkIds(datastore)).to.deep.equal([NEW_ID])
      expect(await storage.snapshotData(next)).to.deep.equal(data(600_000, 2))
    })

    it('survives a crash after every single put and delete of a save', async () => {
      const oldData = data(600_000, 1)
      const newData = data(1_100_000, 2)
      const setup = async (): Promise<{ datastore: TestDatastore, storage: RaftStorage, old: StoredSnapshot }> => {
        const datastore = new TestDatastore()
        const storage = new RaftStorage(datastore, ROOT)
        await storage.load()
        await storage.write({ term: 1, commit: 20 }, run(1, 20, 1))
        const old = await storage.saveSnapshot(meta(10, 1), oldData)
        return { datastore, storage, old }
      }
      const full = await setup()
      full.datastore.crashAfter(Infinity)
      await full.storage.saveSnapshot(meta(15, 1), newData)
      const steps = full.datastore.changes
      expect(steps).to.equal(5 + 1 + 3)

      const outcomes: number[] = []
      for (let budget = 0; budget <= steps; budget++) {
        const { datastore, storage, old } = await setup()
        datastore.crashAfter(budget)
        await storage.saveSnapshot(meta(15, 1), newData).catch(() => {})
        datastore.revive()

        const { storage: restarted, entries } = await restart(datastore)
        const current = restarted.snapshot as StoredSnapshot
        outcomes.push(current.meta.index)
        expect(entries, `crash after ${budget}`).to.deep.equal(ids(run(1, 20, 1)))
        expect(await chunkIds(datastore)).to.deep.equal([current.id])
        expect(await restarted.snapshotData(current)).to.deep.equal(current.meta.index === 10 ? oldData : newData)
        if (current.meta.index === 10) {
          expect(current).to.deep.equal(old)
        }
      }
      // the old snapshot until the pointer moved (the sixth change), the new one from then on
      expect(outcomes).to.deep.equal([10, 10, 10, 10, 10, 10, 15, 15, 15, 15])
    })
  })

  describe('interrupted installations', () => {
    it('drops the old log when the crash came right after the pointer moved', async () => {
      const datastore = new MemoryDatastore()
      await putEntries(datastore, 1, 20, 1)
      await writeByHand(datastore, OLD_ID, meta(10, 1), data(10, 1), false)
      await writeByHand(datastore, NEW_ID, meta(30, 2), data(10, 2), true)

      const { storage, entries } = await restart(datastore)
      expect(storage.snapshot?.meta).to.deep.equal(meta(30, 2))
      expect(entries).to.deep.equal([])
      expect(await storedIndexes(datastore)).to.deep.equal([])
      expect(await chunkIds(datastore)).to.deep.equal([NEW_ID])

      // the next entries follow the snapshot
      await storage.write(undefined, run(31, 32, 2))
      expect((await restart(datastore)).entries).to.deep.equal([[31, 2], [32, 2]])
    })

    it('drops what is left of the old log part way through its deletion', async () => {
      const datastore = new MemoryDatastore()
      await putEntries(datastore, 8, 20, 1)
      await writeByHand(datastore, NEW_ID, meta(30, 2), data(10), true)

      const { entries } = await restart(datastore)
      expect(entries).to.deep.equal([])
      expect(await storedIndexes(datastore)).to.deep.equal([])
    })

    it('keeps a leftover suffix that holds the snapshot\'s last entry', async () => {
      const datastore = new MemoryDatastore()
      await putEntries(datastore, 12, 20, 1)
      await writeByHand(datastore, NEW_ID, meta(15, 1), data(10), true)

      const { entries } = await restart(datastore)
      expect(entries).to.deep.equal(ids(run(12, 20, 1)))
    })

    it('drops a leftover suffix whose entry at the snapshot has another term', async () => {
      const datastore = new MemoryDatastore()
      await putEntries(datastore, 12, 20, 1)
      await writeByHand(datastore, NEW_ID, meta(15, 2), data(10), true)

      const { entries } = await restart(datastore)
      expect(entries).to.deep.equal([])
      expect(await storedIndexes(datastore)).to.deep.equal([])
    })

    it('keeps the entries written after an installed snapshot', async () => {
      const datastore = new MemoryDatastore()
      await putEntries(datastore, 16, 20, 2)
      await writeByHand(datastore, NEW_ID, meta(15, 2), data(10), true)

      const { entries } = await restart(datastore)
      expect(entries).to.deep.equal(ids(run(16, 20, 2)))
    })

    it('drops entries that cannot follow a missing snapshot', async () => {
      const datastore = new MemoryDatastore()
      await putEntries(datastore, 3, 5, 1)

      const { entries } = await restart(datastore)
      expect(entries).to.deep.equal([])
      expect(await storedIndexes(datastore)).to.deep.equal([])
    })

    it('still drops what lies beyond a gap before judging the rest', async () => {
      const datastore = new MemoryDatastore()
      await putEntries(datastore, 12, 20, 1)
      await datastore.delete(logKey(17))
      await writeByHand(datastore, NEW_ID, meta(15, 1), data(10), true)

      const { entries } = await restart(datastore)
      expect(entries).to.deep.equal(ids(run(12, 16, 1)))
      expect(await storedIndexes(datastore)).to.deep.equal([12, 13, 14, 15, 16])
    })

    it('survives a crash after every single put and delete of an installation', async () => {
      const newData = data(300_000, 2)
      const setup = async (): Promise<{ datastore: TestDatastore, storage: RaftStorage, staged: StoredSnapshot }> => {
        const datastore = new TestDatastore()
        const storage = new RaftStorage(datastore, ROOT)
        await storage.load()
        await storage.write({ term: 1, commit: 20 }, run(1, 20, 1))
        await storage.saveSnapshot(meta(10, 1), data(300_000, 1))
        const incoming = storage.receiveSnapshot(meta(30, 2), newData.byteLength, 2, sha256(newData))
        await incoming.write(newData.subarray(0, SNAPSHOT_CHUNK_SIZE))
        await incoming.write(newData.subarray(SNAPSHOT_CHUNK_SIZE))
        return { datastore, storage, staged: await incoming.finish() }
      }
      const full = await setup()
      full.datastore.crashAfter(Infinity)
      await full.storage.installSnapshot(full.staged)
      const steps = full.datastore.changes
      expect(steps).to.equal(1 + 20 + 2)

      for (let budget = 0; budget <= steps; budget++) {
        const { datastore, storage, staged } = await setup()
        datastore.crashAfter(budget)
        await storage.installSnapshot(staged).catch(() => {})
        datastore.revive()

        const { storage: restarted, entries } = await restart(datastore)
        const current = restarted.snapshot as StoredSnapshot
        expect(await chunkIds(datastore)).to.deep.equal([current.id])
        if (budget === 0) {
          expect(current.meta).to.deep.equal(meta(10, 1))
          expect(entries).to.deep.equal(ids(run(1, 20, 1)))
          expect(await restarted.snapshotData(current)).to.deep.equal(data(300_000, 1))
          continue
        }
        expect(current).to.deep.equal(staged)
        expect(entries, `crash after ${budget}`).to.deep.equal([])
        expect(await storedIndexes(datastore)).to.deep.equal([])
        expect(await restarted.snapshotData(current)).to.deep.equal(newData)
        await restarted.write(undefined, run(31, 31, 2))
        expect((await restart(datastore)).entries).to.deep.equal([[31, 2]])
      }
    })
  })

  describe('interrupted compactions', () => {
    it('keeps a log that starts below the compaction point', async () => {
      const datastore = new MemoryDatastore()
      await putEntries(datastore, 7, 30, 1)
      await writeByHand(datastore, NEW_ID, meta(20, 1), data(10), true)

      const { entries } = await restart(datastore)
      expect(entries).to.deep.equal(ids(run(7, 30, 1)))
    })

    it('leaves a valid log whichever batch the crash interrupted', async () => {
      for (const budget of [0, 1, 500, 1023, 1024, 1025, 1500, 2047, 2048, 2049, 2098, 2099]) {
        const datastore = new TestDatastore()
        const storage = new RaftStorage(datastore, ROOT)
        await storage.load()
        await storage.write({ term: 1, commit: 2200 }, run(1, 2200, 1))
        await storage.saveSnapshot(meta(2150, 1), data(10))
        datastore.crashAfter(budget)
        await storage.compactLog(2100).catch(() => {})
        datastore.revive()

        const { storage: restarted, entries } = await restart(datastore)
        expect(restarted.snapshot?.meta).to.deep.equal(meta(2150, 1))
        // deleted lowest first: the log starts right after the last delete that happened
        expect(entries[0], `crash after ${budget}`).to.deep.equal([budget + 1, 1])
        expect(entries).to.have.lengthOf(2200 - budget)
      }
    })
  })
})
