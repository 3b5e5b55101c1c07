import { sha256 } from '@noble/hashes/sha2.js'
import { expect } from 'aegir/chai'
import { MemoryDatastore } from 'datastore-core/memory'
import { Key } from 'interface-datastore'
import { SNAPSHOT_CHUNK_SIZE } from '../../src/constants.ts'
import { RaftStorage } from '../../src/storage/raft-storage.ts'
import { encodeSnapshotRecord } from '../../src/storage/snapshot-record.ts'
import { chunkIds, chunkKey, CHUNKS, collect, data, ids, keysUnder, meta, POINTER, ROOT, run, storedIndexes, writeByHand } from './helpers.ts'
import { TestDatastore } from './test-datastore.ts'
import type { StoredSnapshot } from '../../src/storage/raft-storage.ts'

async function loaded (datastore = new MemoryDatastore()): Promise<RaftStorage> {
  const storage = new RaftStorage(datastore, ROOT)
  await storage.load()
  return storage
}

/** Receives `bytes` as a leader would send them and returns the staged snapshot. */
async function receive (storage: RaftStorage, m: ReturnType<typeof meta>, bytes: Uint8Array): Promise<StoredSnapshot> {
  const chunks = Math.ceil(bytes.byteLength / SNAPSHOT_CHUNK_SIZE)
  const incoming = storage.receiveSnapshot(m, bytes.byteLength, chunks, sha256(bytes))
  for (let n = 0; n < chunks; n++) {
    await incoming.write(bytes.subarray(n * SNAPSHOT_CHUNK_SIZE, (n + 1) * SNAPSHOT_CHUNK_SIZE))
  }
  return incoming.finish()
}

describe('storage: snapshots', () => {
  describe('saving and loading', () => {
    it('loads in a new instance a snapshot saved by an earlier one', async () => {
      const datastore = new MemoryDatastore()
      const writer = await loaded(datastore)
      await writer.write({ term: 2, commit: 5 }, run(1, 5, 2))
      const bytes = data(1000)
      const saved = await writer.saveSnapshot(meta(5, 2), bytes)
      expect(writer.snapshot).to.equal(saved)
      expect(saved).to.deep.include({ meta: meta(5, 2), size: 1000, chunks: 1 })
      expect(saved.checksum).to.deep.equal(sha256(bytes))

      const reader = new RaftStorage(datastore, ROOT)
      const state = await reader.load()
      expect(state?.snapshot).to.deep.equal(meta(5, 2))
      expect(ids(state?.entries)).to.deep.equal(ids(run(1, 5, 2)))
      expect(state?.hardState).to.deep.equal({ term: 2, vote: undefined, commit: 5 })
      expect(reader.snapshot).to.deep.equal(saved)
      expect(await reader.snapshotData(reader.snapshot as StoredSnapshot)).to.deep.equal(bytes)
    })

    it('stores about 1 MB as full chunks plus a shorter last one, under a unique id', async () => {
      const datastore = new MemoryDatastore()
      const storage = await loaded(datastore)
      const bytes = data(1_000_000)
      const saved = await storage.saveSnapshot(meta(7, 3), bytes)

      expect(saved.chunks).to.equal(4)
      expect(saved.id).to.match(/^00000000000000000007-3-[0-9a-f]{16}$/)
      const keys = await keysUnder(datastore, CHUNKS)
      expect(keys).to.deep.equal([0, 1, 2, 3].map(n => chunkKey(saved.id, n).toString()))
      const sizes = await Promise.all(keys.map(async key => (await datastore.get(new Key(key))).byteLength))
      expect(sizes).to.deep.equal([SNAPSHOT_CHUNK_SIZE, SNAPSHOT_CHUNK_SIZE, SNAPSHOT_CHUNK_SIZE, 1_000_000 - 3 * SNAPSHOT_CHUNK_SIZE])

      const chunks = await collect(storage.readSnapshot(saved))
      expect(chunks.map(c => c.byteLength)).to.deep.equal(sizes)
      const reloaded = new RaftStorage(datastore, ROOT)
      await reloaded.load()
      expect(await reloaded.snapshotData(reloaded.snapshot as StoredSnapshot)).to.deep.equal(bytes)
    })

    it('gives each save its own id, even at the same index and term', async () => {
      const a = await (await loaded()).saveSnapshot(meta(1, 1), data(10))
      const b = await (await loaded()).saveSnapshot(meta(1, 1), data(10))
      expect(a.id).to.not.equal(b.id)
    })

    it('round-trips an empty snapshot as zero chunks', async () => {
      const datastore = new MemoryDatastore()
      const storage = await loaded(datastore)
      const saved = await storage.saveSnapshot(meta(3, 1), new Uint8Array(0))
      expect(saved).to.deep.include({ size: 0, chunks: 0 })
      expect(saved.checksum).to.deep.equal(sha256(new Uint8Array(0)))
      expect(await keysUnder(datastore, CHUNKS)).to.deep.equal([])

      const reader = new RaftStorage(datastore, ROOT)
      const state = await reader.load()
      expect(state).to.deep.equal({ hardState: undefined, entries: [], snapshot: meta(3, 1) })
      expect(await collect(reader.readSnapshot(reader.snapshot as StoredSnapshot))).to.deep.equal([])
      expect(await reader.snapshotData(reader.snapshot as StoredSnapshot)).to.deep.equal(new Uint8Array(0))
    })

    it('keeps a copy of the data, not the caller\'s buffer', async () => {
      const storage = await loaded()
      const bytes = data(100)
      const expected = bytes.slice()
      const saved = await storage.saveSnapshot(meta(1, 1), bytes)
      bytes.fill(0)
      expect(await storage.snapshotData(saved)).to.deep.equal(expected)
    })

    it('deletes the previous snapshot\'s chunks once a new one is current', async () => {
      const datastore = new MemoryDatastore()
      const storage = await loaded(datastore)
      const first = await storage.saveSnapshot(meta(5, 1), data(600_000, 1))
      const second = await storage.saveSnapshot(meta(9, 1), data(300_000, 2))
      expect(storage.snapshot).to.equal(second)
      expect(await chunkIds(datastore)).to.deep.equal([second.id])
      await expect(storage.snapshotData(first)).to.eventually.be.rejected().with.property('name', 'InvalidSnapshotError')
    })

    it('writes the chunks, then the pointer, then deletes the old chunks, a few chunks per batch', async () => {
      const datastore = new TestDatastore()
      const storage = await loaded(datastore)
      const old = await storage.saveSnapshot(meta(5, 1), data(600_000, 1))
      datastore.ops.length = 0

      const saved = await storage.saveSnapshot(meta(9, 1), data(2_000_000, 2))
      const ops = datastore.ops
      const pointer = ops.findIndex(o => o.op === 'put' && o.key === POINTER.toString())
      const chunkPuts = ops.flatMap((o, i) => o.op === 'put' && o.key.startsWith(CHUNKS) ? [i] : [])
      const deletes = ops.flatMap((o, i) => o.op === 'delete' ? [i] : [])
      expect(chunkPuts).to.have.lengthOf(saved.chunks)
      expect(Math.max(...chunkPuts)).to.be.lessThan(pointer)
      expect(deletes).to.have.lengthOf(old.chunks)
      expect(Math.min(...deletes)).to.be.greaterThan(pointer)
      // the puts come in more than one batch, none of them large
      const batches = ops.slice(0, pointer).map(o => o.op).join(' ').split('commit').map(b => b.trim()).filter(b => b !== '')
      expect(batches.length).to.be.greaterThan(1)
      for (const batch of batches) {
        expect(batch.split(' ').length).to.be.within(1, 8)
      }
    })

    it('returns no snapshot from load when none was saved', async () => {
      const datastore = new MemoryDatastore()
      await (await loaded(datastore)).write({ term: 1, commit: 0 }, run(1, 2, 1))
      const storage = new RaftStorage(datastore, ROOT)
      const state = await storage.load()
      expect(state).to.not.have.property('snapshot')
      expect(storage.snapshot).to.be.undefined()
    })

    it('rejects a pointer that does not say where its chunks are', async () => {
      const datastore = new MemoryDatastore()
      await datastore.put(POINTER, encodeSnapshotRecord({ meta: meta(1, 1), id: '', size: 0, chunks: 0, checksum: new Uint8Array(32) }))
      await expect(new RaftStorage(datastore, ROOT).load()).to.eventually.be.rejected().with.property('name', 'InvalidMessageError')
    })

    it('keeps the snapshots of two groups in one datastore apart', async () => {
      const datastore = new MemoryDatastore()
      const a = new RaftStorage(datastore, new Key('/raft/a'))
      const ab = new RaftStorage(datastore, new Key('/raft/ab'))
      await a.load()
      await ab.load()
      const savedA = await a.saveSnapshot(meta(4, 1), data(100, 1))
      const savedAB = await ab.saveSnapshot(meta(6, 2), data(100, 2))

      // each load removes chunks that are not its own current snapshot's, and only its own
      const reA = new RaftStorage(datastore, new Key('/raft/a'))
      const reAB = new RaftStorage(datastore, new Key('/raft/ab'))
      expect((await reA.load())?.snapshot).to.deep.equal(meta(4, 1))
      expect((await reAB.load())?.snapshot).to.deep.equal(meta(6, 2))
      expect(await reA.snapshotData(savedA)).to.deep.equal(data(100, 1))
      expect(await reAB.snapshotData(savedAB)).to.deep.equal(data(100, 2))
    })
  })

  describe('verification', () => {
    it('detects a corrupted chunk by its checksum', async () => {
      const datastore = new MemoryDatastore()
      const storage = await loaded(datastore)
      const saved = await storage.saveSnapshot(meta(2, 1), data(600_000))
      const chunk = await datastore.get(chunkKey(saved.id, 1))
      const corrupted = chunk.slice()
      corrupted[17] ^= 1
      await datastore.put(chunkKey(saved.id, 1), corrupted)

      await expect(storage.snapshotData(saved)).to.eventually.be.rejected()
        .with.property('name', 'InvalidSnapshotError')
      // every chunk was yielded; the error comes at the end
      const seen: number[] = []
      const read = async (): Promise<void> => {
        for await (const c of storage.readSnapshot(saved)) {
          seen.push(c.byteLength)
        }
      }
      await expect(read()).to.eventually.be.rejected().with.property('message').that.matches(/checksum/)
      expect(seen).to.have.lengthOf(3)
    })

    it('detects a missing chunk', async () => {
      const datastore = new MemoryDatastore()
      const storage = await loaded(datastore)
      const saved = await storage.saveSnapshot(meta(2, 1), data(600_000))
      await datastore.delete(chunkKey(saved.id, 2))

      await expect(storage.snapshotData(saved)).to.eventually.be.rejected()
        .with.property('message').that.matches(/chunk 2 .* missing/)
    })

    it('detects data longer or shorter than the recorded size', async () => {
      const storage = await loaded()
      const saved = await storage.saveSnapshot(meta(2, 1), data(600_000))

      await expect(storage.snapshotData({ ...saved, size: saved.size - 1 })).to.eventually.be.rejected()
        .with.property('name', 'InvalidSnapshotError')
      await expect(storage.snapshotData({ ...saved, size: saved.size + 1 })).to.eventually.be.rejected()
        .with.property('name', 'InvalidSnapshotError')
      await expect(storage.snapshotData({ ...saved, chunks: saved.chunks - 1 })).to.eventually.be.rejected()
        .with.property('name', 'InvalidSnapshotError')
    })

    it('propagates a read error other than not-found', async () => {
      const datastore = new MemoryDatastore()
      const storage = await loaded(datastore)
      const saved = await storage.saveSnapshot(meta(2, 1), data(10))
      datastore.get = () => { throw Object.assign(new Error('io'), { name: 'SomeIOError' }) }
      await expect(storage.snapshotData(saved)).to.eventually.be.rejected().with.property('name', 'SomeIOError')
    })
  })

  describe('receiving', () => {
    it('stages a snapshot that only becomes current when installed', async () => {
      const datastore = new MemoryDatastore()
      const storage = await loaded(datastore)
      const bytes = data(700_000)
      const staged = await receive(storage, meta(40, 3), bytes)

      expect(staged).to.deep.include({ meta: meta(40, 3), size: 700_000, chunks: 3 })
      expect(storage.snapshot).to.be.undefined()
      expect(await datastore.has(POINTER)).to.be.false()
      expect(await storage.snapshotData(staged)).to.deep.equal(bytes)
    })

    it('stages an empty snapshot', async () => {
      const storage = await loaded()
      const incoming = storage.receiveSnapshot(meta(4, 1), 0, 0, sha256(new Uint8Array(0)))
      const staged = await incoming.finish()
      expect(staged).to.deep.include({ size: 0, chunks: 0 })
      expect(await storage.snapshotData(staged)).to.deep.equal(new Uint8Array(0))
    })

    it('rejects more bytes than announced and keeps nothing staged', async () => {
      const datastore = new MemoryDatastore()
      const storage = await loaded(datastore)
      const incoming = storage.receiveSnapshot(meta(4, 1), 300_000, 2, new Uint8Array(32))
      await incoming.write(data(SNAPSHOT_CHUNK_SIZE))
      await expect(incoming.write(data(300_000 - SNAPSHOT_CHUNK_SIZE + 1))).to.eventually.be.rejected()
        .with.property('name', 'InvalidSnapshotError')
      expect(await keysUnder(datastore, CHUNKS)).to.deep.equal([])
      await expect(incoming.write(data(1))).to.eventually.be.rejected().with.property('message').that.matches(/discarded/)
    })

    it('rejects more chunks than announced and keeps nothing staged', async () => {
      const datastore = new MemoryDatastore()
      const storage = await loaded(datastore)
      const incoming = storage.receiveSnapshot(meta(4, 1), 100, 1, new Uint8Array(32))
      await incoming.write(data(10))
      await expect(incoming.write(data(10))).to.eventually.be.rejected().with.property('name', 'InvalidSnapshotError')
      expect(await keysUnder(datastore, CHUNKS)).to.deep.equal([])
    })

    it('rejects a wrong checksum at the end and keeps nothing staged', async () => {
      const datastore = new MemoryDatastore()
      const storage = await loaded(datastore)
      const bytes = data(300_000)
      const checksum = sha256(bytes)
      checksum[0] ^= 1
      const incoming = storage.receiveSnapshot(meta(4, 1), bytes.byteLength, 2, checksum)
      await incoming.write(bytes.subarray(0, SNAPSHOT_CHUNK_SIZE))
      await incoming.write(bytes.subarray(SNAPSHOT_CHUNK_SIZE))
      expect(await keysUnder(datastore, CHUNKS)).to.have.lengthOf(2)

      await expect(incoming.finish()).to.eventually.be.rejected().with.property('message').that.matches(/checksum/)
      expect(await keysUnder(datastore, CHUNKS)).to.deep.equal([])
    })

    it('rejects fewer chunks or bytes than announced and keeps nothing staged', async () => {
      const datastore = new MemoryDatastore()
      const storage = await loaded(datastore)
      const bytes = data(300_000)
      const incoming = storage.receiveSnapshot(meta(4, 1), bytes.byteLength, 2, sha256(bytes))
      await incoming.write(bytes.subarray(0, SNAPSHOT_CHUNK_SIZE))

      await expect(incoming.finish()).to.eventually.be.rejected().with.property('name', 'InvalidSnapshotError')
      expect(await keysUnder(datastore, CHUNKS)).to.deep.equal([])
    })

    it('discards what was staged', async () => {
      const datastore = new MemoryDatastore()
      const storage = await loaded(datastore)
      const incoming = storage.receiveSnapshot(meta(4, 1), 600_000, 3, new Uint8Array(32))
      await incoming.write(data(SNAPSHOT_CHUNK_SIZE))
      await incoming.write(data(SNAPSHOT_CHUNK_SIZE))
      await incoming.discard()
      expect(await keysUnder(datastore, CHUNKS)).to.deep.equal([])
      await incoming.discard()
      await expect(incoming.finish()).to.eventually.be.rejected()
    })

    it('keeps a finished snapshot when discard comes after finish', async () => {
      const datastore = new MemoryDatastore()
      const storage = await loaded(datastore)
      const bytes = data(300_000)
      const incoming = storage.receiveSnapshot(meta(4, 1), bytes.byteLength, 2, sha256(bytes))
      await incoming.write(bytes.subarray(0, SNAPSHOT_CHUNK_SIZE))
      await incoming.write(bytes.subarray(SNAPSHOT_CHUNK_SIZE))
      const staged = await incoming.finish()
      await storage.installSnapshot(staged)
      await incoming.discard()
      expect(await storage.snapshotData(staged)).to.deep.equal(bytes)
    })

    it('discards everything when storing a chunk fails', async () => {
      const datastore = new TestDatastore()
      const storage = await loaded(datastore)
      const incoming = storage.receiveSnapshot(meta(4, 1), 600_000, 3, new Uint8Array(32))
      await incoming.write(data(SNAPSHOT_CHUNK_SIZE))
      datastore.crashAfter(0)
      await expect(incoming.write(data(SNAPSHOT_CHUNK_SIZE))).to.eventually.be.rejected().with.property('message', 'crash')
      datastore.revive()
      // the discard inside the failed write could not run either; an explicit one can
      await incoming.discard()
      expect(await keysUnder(datastore, CHUNKS)).to.deep.equal([])
    })

    it('refuses a write while the previous one is in flight', async () => {
      const storage = await loaded()
      const incoming = storage.receiveSnapshot(meta(4, 1), 20, 2, new Uint8Array(32))
      const first = incoming.write(data(10))
      await expect(incoming.write(data(10))).to.eventually.be.rejected().with.property('message').that.matches(/still being written/)
      await first
    })

    it('leaves staged chunks for load to remove when nothing installs them', async () => {
      const datastore = new MemoryDatastore()
      const storage = await loaded(datastore)
      const current = await storage.saveSnapshot(meta(5, 1), data(1000))
      await receive(storage, meta(40, 3), data(600_000))
      const unfinished = storage.receiveSnapshot(meta(41, 3), 600_000, 3, new Uint8Array(32))
      await unfinished.write(data(SNAPSHOT_CHUNK_SIZE))
      expect(await chunkIds(datastore)).to.have.lengthOf(3)

      const restarted = new RaftStorage(datastore, ROOT)
      expect((await restarted.load())?.snapshot).to.deep.equal(meta(5, 1))
      expect(await chunkIds(datastore)).to.deep.equal([current.id])
    })
  })

  describe('installing', () => {
    it('replaces the whole log, so the next write follows the snapshot', async () => {
      const datastore = new MemoryDatastore()
      const storage = await loaded(datastore)
      await storage.write({ term: 2, commit: 20 }, run(1, 20, 2))
      const old = await storage.saveSnapshot(meta(10, 2), data(1000, 1))
      const bytes = data(600_000, 2)
      const staged = await receive(storage, meta(50, 4), bytes)

      await storage.installSnapshot(staged)
      expect(storage.snapshot).to.equal(staged)
      expect(await storedIndexes(datastore)).to.deep.equal([])
      expect(await chunkIds(datastore)).to.deep.equal([staged.id])
      expect(await keysUnder(datastore, CHUNKS + old.id)).to.deep.equal([])

      const state = await new RaftStorage(datastore, ROOT).load()
      expect(state?.snapshot).to.deep.equal(meta(50, 4))
      expect(state?.entries).to.deep.equal([])
      expect(state?.hardState).to.deep.equal({ term: 2, vote: undefined, commit: 20 })

      await storage.write({ term: 4, commit: 50 }, run(51, 53, 4))
      const after = new RaftStorage(datastore, ROOT)
      const reloaded = await after.load()
      expect(ids(reloaded?.entries)).to.deep.equal([[51, 4], [52, 4], [53, 4]])
      expect(await after.snapshotData(after.snapshot as StoredSnapshot)).to.deep.equal(bytes)
    })

    it('knows the log ends at the snapshot, so a later overwrite truncates right', async () => {
      const datastore = new MemoryDatastore()
      const storage = await loaded(datastore)
      await storage.write(undefined, run(1, 30, 1))
      await storage.installSnapshot(await receive(storage, meta(20, 2), data(10)))
      await storage.write(undefined, run(21, 25, 2))
      await storage.write(undefined, run(23, 23, 3))
      expect(await storedIndexes(datastore)).to.deep.equal([21, 22, 23])
    })

    it('deletes the log highest first in batches of at most 1024, between the pointer and the old chunks', async () => {
      const datastore = new TestDatastore()
      const storage = await loaded(datastore)
      await storage.write(undefined, run(1, 2500, 1))
      const old = await storage.saveSnapshot(meta(100, 1), data(600_000))
      const staged = await receive(storage, meta(3000, 2), data(10))
      datastore.ops.length = 0

      await storage.installSnapshot(staged)
      const ops = datastore.ops
      expect(ops[0]).to.deep.equal({ op: 'put', key: POINTER.toString() })
      const logDeletes = ops.filter(o => o.op === 'delete' && o.key.startsWith('/raft/default/log/'))
      expect(logDeletes.map(o => o.op === 'delete' ? Number(o.key.slice(-20)) : 0)).to.deep.equal(run(1, 2500, 1).map(e => e.index).reverse())
      let inBatch = 0
      for (const op of ops) {
        inBatch = op.op === 'commit' ? 0 : inBatch + (op.op === 'delete' ? 1 : 0)
        expect(inBatch).to.be.at.most(1024)
      }
      const lastLogDelete = ops.findLastIndex(o => o.op === 'delete' && o.key.startsWith('/raft/default/log/'))
      const firstChunkDelete = ops.findIndex(o => o.op === 'delete' && o.key.startsWith(CHUNKS + old.id))
      expect(firstChunkDelete).to.be.greaterThan(lastLogDelete)
    })

    it('refuses a snapshot not newer than the current one, and drops its chunks', async () => {
      const datastore = new MemoryDatastore()
      const storage = await loaded(datastore)
      await storage.write(undefined, run(1, 10, 1))
      const current = await storage.saveSnapshot(meta(8, 1), data(100, 1))
      const same = await receive(storage, meta(8, 1), data(100, 2))
      const older = await receive(storage, meta(5, 1), data(100, 3))

      await expect(storage.installSnapshot(same)).to.eventually.be.rejected().with.property('message').that.matches(/current one is at 8/)
      await expect(storage.installSnapshot(older)).to.eventually.be.rejected()
      expect(storage.snapshot).to.equal(current)
      expect(await chunkIds(datastore)).to.deep.equal([current.id])
      expect(await storedIndexes(datastore)).to.have.lengthOf(10)
      // the current snapshot itself is never deleted by a refused install
      await expect(storage.installSnapshot(current)).to.eventually.be.rejected()
      expect(await storage.snapshotData(current)).to.deep.equal(data(100, 1))
    })
  })

  describe('discarding', () => {
    it('deletes a received snapshot that will not be installed', async () => {
      const datastore = new MemoryDatastore()
      const storage = await loaded(datastore)
      const current = await storage.saveSnapshot(meta(5, 1), data(100, 1))
      const staged = await receive(storage, meta(40, 3), data(600_000, 2))
      await storage.discardSnapshot(staged)
      expect(await chunkIds(datastore)).to.deep.equal([current.id])
      expect(storage.snapshot).to.equal(current)
    })

    it('refuses to delete the current snapshot', async () => {
      const datastore = new MemoryDatastore()
      const storage = await loaded(datastore)
      const current = await storage.saveSnapshot(meta(5, 1), data(100, 1))
      await expect(storage.discardSnapshot(current)).to.eventually.be.rejected().with.property('message').that.matches(/current/)
      expect(await storage.snapshotData(current)).to.deep.equal(data(100, 1))
    })
  })

  describe('never moving back', () => {
    it('keeps the current snapshot when a save is not newer', async () => {
      const datastore = new MemoryDatastore()
      const storage = await loaded(datastore)
      const current = await storage.saveSnapshot(meta(10, 2), data(100, 1))
      expect(await storage.saveSnapshot(meta(10, 2), data(100, 2))).to.equal(current)
      expect(await storage.saveSnapshot(meta(4, 1), data(100, 3))).to.equal(current)
      expect(storage.snapshot).to.equal(current)
      expect(await chunkIds(datastore)).to.deep.equal([current.id])
    })

    it('discards a save overtaken by a newer one while its chunks were written', async () => {
      const datastore = new MemoryDatastore()
      const storage = await loaded(datastore)
      const [slow, fast] = await Promise.all([
        storage.saveSnapshot(meta(10, 1), data(1_000_000, 1)),
        storage.saveSnapshot(meta(20, 1), data(100, 2))
      ])
      expect(fast.meta.index).to.equal(20)
      expect(slow).to.equal(fast)
      expect(storage.snapshot).to.equal(fast)
      expect(await chunkIds(datastore)).to.deep.equal([fast.id])
      const state = await new RaftStorage(datastore, ROOT).load()
      expect(state?.snapshot).to.deep.equal(meta(20, 1))
    })

    it('discards a save overtaken by an install', async () => {
      const datastore = new MemoryDatastore()
      const storage = await loaded(datastore)
      await storage.write(undefined, run(1, 12, 1))
      const staged = await receive(storage, meta(30, 2), data(100, 2))
      const [saved] = await Promise.all([
        storage.saveSnapshot(meta(12, 1), data(1_000_000, 1)),
        storage.installSnapshot(staged)
      ])
      expect(saved).to.equal(staged)
      expect(storage.snapshot).to.equal(staged)
      expect(await chunkIds(datastore)).to.deep.equal([staged.id])
    })

    it('serializes concurrent saves so the newest wins whatever order they finish in', async () => {
      const datastore = new MemoryDatastore()
      const storage = await loaded(datastore)
      const indexes = [30, 10, 50, 20, 40]
      const results = await Promise.all(indexes.map(async (index, i) => storage.saveSnapshot(meta(index, 1), data(300_000 - i * 50_000, i))))
      expect(storage.snapshot?.meta.index).to.equal(50)
      // each save became current for a while, or got the newer snapshot that beat it
      results.forEach((result, i) => {
        expect(result.meta.index).to.be.at.least(indexes[i])
      })
      expect(await chunkIds(datastore)).to.deep.equal([storage.snapshot?.id])
    })
  })

  describe('reading while replacing', () => {
    it('lets a read of the previous snapshot finish, then deletes its chunks', async () => {
      const datastore = new MemoryDatastore()
      const storage = await loaded(datastore)
      const bytes = data(700_000, 1)
      const old = await storage.saveSnapshot(meta(5, 1), bytes)
      const reader = storage.readSnapshot(old)
      const first = await reader.next()
      expect(first.value).to.have.property('byteLength', SNAPSHOT_CHUNK_SIZE)

      const next = await storage.saveSnapshot(meta(9, 1), data(100, 2))
      expect(await chunkIds(datastore)).to.deep.equal([old.id, next.id].sort())

      const rest = await collect({ [Symbol.asyncIterator]: () => reader })
      expect(rest).to.have.lengthOf(2)
      expect(await chunkIds(datastore)).to.deep.equal([next.id])
    })

    it('deletes the retired chunks when a reader stops early', async () => {
      const datastore = new MemoryDatastore()
      const storage = await loaded(datastore)
      const old = await storage.saveSnapshot(meta(5, 1), data(700_000, 1))
      const readers = [storage.readSnapshot(old), storage.readSnapshot(old)]
      await readers[0].next()
      await readers[1].next()
      const next = await storage.saveSnapshot(meta(9, 1), data(100, 2))

      await readers[0].return(undefined)
      expect(await chunkIds(datastore)).to.include(old.id)
      await readers[1].return(undefined)
      expect(await chunkIds(datastore)).to.deep.equal([next.id])
    })
  })

  describe('leftovers', () => {
    it('removes chunk directories other than the current snapshot\'s at load', async () => {
      const datastore = new MemoryDatastore()
      const storage = await loaded(datastore)
      const current = await storage.saveSnapshot(meta(5, 1), data(300_000, 1))
      await writeByHand(datastore, '00000000000000000003-1-00000000deadbeef', meta(3, 1), data(300_000, 2), false)
      await writeByHand(datastore, '00000000000000000009-2-00000000deadbeef', meta(9, 2), data(10, 3), false)

      const restarted = new RaftStorage(datastore, ROOT)
      await restarted.load()
      expect(await chunkIds(datastore)).to.deep.equal([current.id])
      expect(await restarted.snapshotData(current)).to.deep.equal(data(300_000, 1))
    })

    it('removes every chunk directory when there is no snapshot, and reports nothing stored', async () => {
      const datastore = new MemoryDatastore()
      await writeByHand(datastore, '00000000000000000003-1-00000000deadbeef', meta(3, 1), data(300_000), false)
      expect(await new RaftStorage(datastore, ROOT).load()).to.be.undefined()
      expect(await keysUnder(datastore, '/raft/default/')).to.deep.equal([])
    })
  })
})
