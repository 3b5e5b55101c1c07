import { expect } from 'aegir/chai'
import { MemoryDatastore } from 'datastore-core/memory'
import { Key } from 'interface-datastore'
import { RaftStorage } from '../../src/storage/raft-storage.ts'
import { rejection } from '../utils/rejection.ts'
import type { CommandEntry, ConfigEntry, Entry, HardState, NoopEntry } from '../../src/core/types.ts'
import type { StoredSnapshot } from '../../src/storage/raft-storage.ts'
import type { AbortOptions } from '@libp2p/interface'
import type { Batch, Datastore, Pair, Query } from 'interface-datastore'

const ROOT = new Key('/raft/default')

function cmd (index: number, term: number, byte = index): CommandEntry {
  return { type: 'command', index, term, data: Uint8Array.of(byte & 0xff, term & 0xff) }
}

function noop (index: number, term: number): NoopEntry {
  return { type: 'noop', index, term }
}

function cfg (index: number, term: number, voters: string[], learners: string[] = []): ConfigEntry {
  return { type: 'config', index, term, config: { voters, learners } }
}

/** Command entries `from`..`to` (inclusive), all of `term`. */
function run (from: number, to: number, term: number): Entry[] {
  const out: Entry[] = []
  for (let i = from; i <= to; i++) {
    out.push(cmd(i, term))
  }
  return out
}

function ids (entries: Entry[] | undefined): Array<[number, number]> {
  return (entries ?? []).map(e => [e.index, e.term])
}

/** Every key stored under `prefix`, sorted as strings. */
async function keysUnder (datastore: Datastore, prefix: string): Promise<string[]> {
  const out: string[] = []
  for await (const key of datastore.queryKeys({ prefix })) {
    out.push(key.toString())
  }
  return out.sort()
}

function logKey (root: Key, index: number): Key {
  return new Key(`${root.toString()}/log/${String(index).padStart(20, '0')}`)
}

/** A datastore whose batches and reads can be made to fail, or whose queries come back reversed. */
class FaultyDatastore extends MemoryDatastore {
  commitError: Error | undefined
  getError: Error | undefined
  reverseQueries = false

  batch (): Batch {
    const inner = super.batch()
    return {
      put: (key, value) => { inner.put(key, value) },
      delete: (key) => { inner.delete(key) },
      commit: async (options?: AbortOptions) => {
        if (this.commitError !== undefined) {
          throw this.commitError
        }
        await inner.commit(options)
      }
    }
  }

  async get (key: Key, options?: AbortOptions): Promise<Uint8Array> {
    if (this.getError !== undefined) {
      throw this.getError
    }
    return super.get(key, options)
  }

  async * query (q: Query, options?: AbortOptions): AsyncGenerator<Pair> {
    const pairs: Pair[] = []
    for await (const pair of super.query(q, options)) {
      pairs.push(pair)
    }
    if (this.reverseQueries) {
      pairs.reverse()
    }
    yield * pairs
  }
}

type Op = { op: 'put' | 'delete', key: string } | { op: 'commit' }

/** A datastore that records, in order, what each committed batch did. */
class RecordingDatastore extends MemoryDatastore {
  readonly ops: Op[] = []

  batch (): Batch {
    const pending: Array<{ op: 'put', key: Key, value: Uint8Array } | { op: 'delete', key: Key }> = []
    return {
      put: (key, value) => { pending.push({ op: 'put', key, value }) },
      delete: (key) => { pending.push({ op: 'delete', key }) },
      commit: async () => {
        for (const item of pending) {
          if (item.op === 'put') {
            await this.put(item.key, item.value)
          } else {
            await this.delete(item.key)
          }
          this.ops.push({ op: item.op, key: item.key.toString() })
        }
        this.ops.push({ op: 'commit' })
      }
    }
  }
}

describe('storage: RaftStorage', () => {
  it('loads undefined from an empty datastore', async () => {
    const storage = new RaftStorage(new MemoryDatastore(), ROOT)
    expect(await storage.load()).to.be.undefined()
  })

  it('loads in a new instance what an earlier one wrote', async () => {
    const datastore = new MemoryDatastore()
    const hardState: HardState = { term: 3, vote: 'peer-a', commit: 2 }
    const entries: Entry[] = [
      cfg(1, 1, ['peer-a', 'peer-b'], ['peer-c']),
      noop(2, 2),
      cmd(3, 3),
      { type: 'command', index: 4, term: 3, data: new Uint8Array(0) }
    ]
    const writer = new RaftStorage(datastore, ROOT)
    expect(await writer.load()).to.be.undefined()
    await writer.write(hardState, entries)

    const state = await new RaftStorage(datastore, ROOT).load()
    expect(state).to.deep.equal({ hardState, entries })
  })

  it('loads a hard state without a vote', async () => {
    const datastore = new MemoryDatastore()
    await new RaftStorage(datastore, ROOT).write({ term: 5, commit: 0 }, [])

    const state = await new RaftStorage(datastore, ROOT).load()
    expect(state?.hardState?.term).to.equal(5)
    expect(state?.hardState?.commit).to.equal(0)
    expect(state?.hardState?.vote).to.be.undefined()
    expect(state?.entries).to.deep.equal([])
  })

  it('loads entries written without a hard state', async () => {
    const datastore = new MemoryDatastore()
    await new RaftStorage(datastore, ROOT).write(undefined, run(1, 3, 1))

    const state = await new RaftStorage(datastore, ROOT).load()
    expect(state?.hardState).to.be.undefined()
    expect(ids(state?.entries)).to.deep.equal([[1, 1], [2, 1], [3, 1]])
  })

  it('keeps the latest hard state and appends across writes', async () => {
    const datastore = new MemoryDatastore()
    const storage = new RaftStorage(datastore, ROOT)
    await storage.load()
    await storage.write({ term: 1, commit: 0 }, run(1, 2, 1))
    await storage.write({ term: 2, vote: 'peer-b', commit: 2 }, run(3, 4, 2))
    await storage.write(undefined, run(5, 5, 2))

    const state = await new RaftStorage(datastore, ROOT).load()
    expect(state?.hardState).to.deep.equal({ term: 2, vote: 'peer-b', commit: 2 })
    expect(ids(state?.entries)).to.deep.equal([[1, 1], [2, 1], [3, 2], [4, 2], [5, 2]])
  })

  it('stores entries under fixed-width keys, so key order is index order', async () => {
    const datastore = new MemoryDatastore()
    const storage = new RaftStorage(datastore, ROOT)
    await storage.load()
    await storage.write({ term: 1, commit: 0 }, run(1, 12, 1))
    await storage.write(undefined, [cmd(2 ** 40, 1)])

    const keys = await keysUnder(datastore, ROOT.toString() + '/')
    expect(keys).to.include('/raft/default/state')
    const logKeys = keys.filter(k => k.startsWith('/raft/default/log/'))
    expect(logKeys).to.have.lengthOf(13)
    for (const key of logKeys) {
      expect(key.slice('/raft/default/log/'.length)).to.match(/^\d{20}$/)
    }
    // sorted as strings (above) is the same as sorted by index
    const indexes = logKeys.map(k => Number(k.slice(k.lastIndexOf('/') + 1)))
    expect(indexes).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 2 ** 40])
    expect(logKeys[0]).to.equal('/raft/default/log/00000000000000000001')
    // nothing else under the root
    expect(keys).to.have.lengthOf(14)
  })

  it('returns entries in index order whatever order the datastore yields them', async () => {
    const datastore = new FaultyDatastore()
    await new RaftStorage(datastore, ROOT).write({ term: 1, commit: 0 }, run(1, 11, 1))
    datastore.reverseQueries = true

    const state = await new RaftStorage(datastore, ROOT).load()
    expect(state?.entries?.map(e => e.index)).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
  })

  it('deletes the stale tail when a write ends before the stored last index', async () => {
    const datastore = new MemoryDatastore()
    const storage = new RaftStorage(datastore, ROOT)
    await storage.load()
    await storage.write({ term: 1, commit: 0 }, run(1, 10, 1))
    // a new leader overwrites from index 6 on with a shorter log
    await storage.write({ term: 2, commit: 0 }, run(6, 7, 2))

    const state = await new RaftStorage(datastore, ROOT).load()
    expect(ids(state?.entries)).to.deep.equal([[1, 1], [2, 1], [3, 1], [4, 1], [5, 1], [6, 2], [7, 2]])
    expect(state?.hardState).to.deep.equal({ term: 2, vote: undefined, commit: 0 })
    const logKeys = (await keysUnder(datastore, '/raft/default/log/'))
    expect(logKeys).to.have.lengthOf(7)
    expect(logKeys.at(-1)).to.equal(logKey(ROOT, 7).toString())
  })

  it('truncates the tail of a log recovered by load', async () => {
    const datastore = new MemoryDatastore()
    await new RaftStorage(datastore, ROOT).write({ term: 1, commit: 0 }, run(1, 8, 1))

    // a restarted node learns the stored last index from load()
    const storage = new RaftStorage(datastore, ROOT)
    await storage.load()
    await storage.write(undefined, run(4, 4, 2))

    const state = await new RaftStorage(datastore, ROOT).load()
    expect(ids(state?.entries)).to.deep.equal([[1, 1], [2, 1], [3, 1], [4, 2]])
  })

  it('overwrites without deleting when a write reaches past the stored last index', async () => {
    const datastore = new MemoryDatastore()
    const storage = new RaftStorage(datastore, ROOT)
    await storage.load()
    await storage.write(undefined, run(1, 5, 1))
    await storage.write(undefined, run(4, 8, 2))

    const state = await new RaftStorage(datastore, ROOT).load()
    expect(ids(state?.entries)).to.deep.equal([[1, 1], [2, 1], [3, 1], [4, 2], [5, 2], [6, 2], [7, 2], [8, 2]])
  })

  it('keeps only the contiguous prefix when the stored log has a gap', async () => {
    const datastore = new MemoryDatastore()
    await new RaftStorage(datastore, ROOT).write({ term: 1, commit: 2 }, run(1, 5, 1))
    // simulate a lost middle write
    await datastore.delete(logKey(ROOT, 3))

    const state = await new RaftStorage(datastore, ROOT).load()
    expect(ids(state?.entries)).to.deep.equal([[1, 1], [2, 1]])
    expect(state?.hardState).to.deep.equal({ term: 1, vote: undefined, commit: 2 })
  })

  it('does not resurrect entries beyond a gap after appending at the gap', async () => {
    // Stored: 1..5 of term 1, index 3 lost (e.g. a non-atomic batch interrupted
    // by a crash). load() reports 1..2, so the core appends its next entry at 3.
    const datastore = new MemoryDatastore()
    await new RaftStorage(datastore, ROOT).write({ term: 1, commit: 0 }, run(1, 5, 1))
    await datastore.delete(logKey(ROOT, 3))

    const storage = new RaftStorage(datastore, ROOT)
    expect(ids((await storage.load())?.entries)).to.deep.equal([[1, 1], [2, 1]])
    await storage.write({ term: 2, commit: 0 }, [cmd(3, 2)])

    // The log is 1..3; the old term-1 entries 4 and 5 were never part of it
    // again and must not reappear after the gap was filled.
    const state = await new RaftStorage(datastore, ROOT).load()
    expect(ids(state?.entries)).to.deep.equal([[1, 1], [2, 1], [3, 2]])
  })

  it('propagates a failing batch commit', async () => {
    const datastore = new FaultyDatastore()
    const storage = new RaftStorage(datastore, ROOT)
    await storage.load()
    const err = new Error('disk full')
    datastore.commitError = err

    await expect(storage.write({ term: 1, commit: 0 }, run(1, 2, 1))).to.eventually.be.rejected().with.property('message', 'disk full')
    datastore.commitError = undefined
    expect(await new RaftStorage(datastore, ROOT).load()).to.be.undefined()
  })

  it('propagates a failing truncation commit and writes nothing new', async () => {
    const datastore = new FaultyDatastore()
    const storage = new RaftStorage(datastore, ROOT)
    await storage.load()
    await storage.write({ term: 1, commit: 0 }, run(1, 5, 1))
    datastore.commitError = new Error('io error')

    await expect(storage.write({ term: 2, commit: 0 }, run(2, 2, 2))).to.eventually.be.rejected().with.property('message', 'io error')
    datastore.commitError = undefined
    const state = await new RaftStorage(datastore, ROOT).load()
    expect(ids(state?.entries)).to.deep.equal([[1, 1], [2, 1], [3, 1], [4, 1], [5, 1]])
    expect(state?.hardState?.term).to.equal(1)
  })

  it('propagates a read error other than not-found from load', async () => {
    const datastore = new FaultyDatastore()
    datastore.getError = Object.assign(new Error('corrupt'), { name: 'SomeIOError' })
    await expect(new RaftStorage(datastore, ROOT).load()).to.eventually.be.rejected().with.property('name', 'SomeIOError')
  })

  it('keeps two groups in one datastore apart', async () => {
    const datastore = new MemoryDatastore()
    const rootA = new Key('/raft/a')
    const rootAB = new Key('/raft/ab')
    const rootADotB = new Key('/raft/a.b')
    const a = new RaftStorage(datastore, rootA)
    const ab = new RaftStorage(datastore, rootAB)
    const aDotB = new RaftStorage(datastore, rootADotB)
    await a.load()
    await ab.load()
    await aDotB.load()
    await a.write({ term: 1, vote: 'x', commit: 1 }, run(1, 3, 1))
    await ab.write({ term: 7, commit: 0 }, run(1, 1, 7))
    // truncating one group must leave the other alone
    await a.write(undefined, run(2, 2, 2))

    const stateA = await new RaftStorage(datastore, rootA).load()
    const stateAB = await new RaftStorage(datastore, rootAB).load()
    expect(ids(stateA?.entries)).to.deep.equal([[1, 1], [2, 2]])
    expect(stateA?.hardState).to.deep.equal({ term: 1, vote: 'x', commit: 1 })
    expect(ids(stateAB?.entries)).to.deep.equal([[1, 7]])
    expect(stateAB?.hardState).to.deep.equal({ term: 7, vote: undefined, commit: 0 })
    expect(await new RaftStorage(datastore, rootADotB).load()).to.be.undefined()
    expect(await new RaftStorage(datastore, new Key('/raft/default')).load()).to.be.undefined()
  })

  it('deletes every replaced entry before putting the new ones, highest first (crash ordering)', async () => {
    const datastore = new RecordingDatastore()
    const storage = new RaftStorage(datastore, ROOT)
    await storage.load()
    await storage.write({ term: 1, commit: 0 }, run(1, 10, 1))
    datastore.ops.length = 0

    await storage.write({ term: 2, commit: 0 }, run(6, 7, 2))

    const k = (i: number): string => logKey(ROOT, i).toString()
    const ops = datastore.ops
    const firstPut = ops.findIndex(o => o.op === 'put')
    const deletes = ops.flatMap((o, i) => o.op === 'delete' ? [{ i, key: o.key }] : [])
    expect(deletes.map(d => d.key).sort()).to.deep.equal([k(6), k(7), k(8), k(9), k(10)])
    expect(firstPut).to.be.greaterThan(-1)
    // every delete happens, and is committed, before the first put
    const firstCommitAfterDeletes = ops.findIndex((o, i) => o.op === 'commit' && i > deletes[deletes.length - 1].i)
    expect(firstCommitAfterDeletes).to.be.lessThan(firstPut)
    // a crash between the two batches can only leave a prefix of the old log
    expect(ops.slice(firstPut).filter(o => o.op !== 'commit')).to.deep.equal([
      { op: 'put', key: k(6) },
      { op: 'put', key: k(7) },
      { op: 'put', key: '/raft/default/state' }
    ])
    // highest first: an interrupted truncation leaves a shorter prefix of the old log, and a put batch
    // applied in order but cut short leaves new entries right after it, never old entries after new ones
    expect(deletes.map(d => d.key)).to.deep.equal([k(10), k(9), k(8), k(7), k(6)])
  })

  it('does not touch the datastore for a write with nothing in it', async () => {
    const datastore = new RecordingDatastore()
    const storage = new RaftStorage(datastore, ROOT)
    await storage.load()
    await storage.write(undefined, [])
    expect(datastore.ops.filter(o => o.op !== 'commit')).to.deep.equal([])
    expect(await storage.load()).to.be.undefined()
  })

  it('reads what load would keep, and the leftovers load deletes, without deleting them', async () => {
    const datastore = new MemoryDatastore()
    const storage = new RaftStorage(datastore, ROOT)
    await storage.load()
    await storage.write({ term: 2, commit: 1 }, run(1, 3, 2))
    await datastore.delete(logKey(ROOT, 2))
    const before = await keysUnder(datastore, '/raft')
    const stored = await new RaftStorage(datastore, ROOT).read()
    expect(ids(stored?.entries)).to.deep.equal([[1, 2]])
    expect(stored?.leftovers).to.deep.equal([3])
    expect(stored?.hardState).to.deep.equal({ term: 2, vote: undefined, commit: 1 })
    expect(await keysUnder(datastore, '/raft')).to.deep.equal(before)
    expect(await new RaftStorage(datastore, new Key('/raft/other')).read()).to.be.undefined()
  })

  it('overwrites stored entries in place, and refuses entries of another term or not stored', async () => {
    const datastore = new MemoryDatastore()
    const storage = new RaftStorage(datastore, ROOT)
    await storage.load()
    await storage.write({ term: 2, commit: 3 }, [cfg(1, 1, ['a', 'b', 'c']), ...run(2, 3, 2)])
    await storage.overwriteEntries([cfg(1, 1, ['a'])])
    expect((await new RaftStorage(datastore, ROOT).load())?.entries).to.deep.equal([cfg(1, 1, ['a']), ...run(2, 3, 2)])
    expect((await rejection(storage.overwriteEntries([cfg(2, 1, ['a'])]))).message).to.include('no such entry')
    expect((await rejection(storage.overwriteEntries([cfg(4, 2, ['a'])]))).message).to.include('no such entry')
  })

  it('replaces the current snapshot\'s metadata of the same index and term, keeping its data', async () => {
    const datastore = new MemoryDatastore()
    const storage = new RaftStorage(datastore, ROOT)
    await storage.load()
    const data = Uint8Array.of(1, 2, 3)
    await storage.saveSnapshot({ index: 5, term: 2, config: { voters: ['a', 'b'], learners: [] } }, data)
    await storage.replaceSnapshotMeta({ index: 5, term: 2, config: { voters: ['a'], learners: [] } })
    const reloaded = new RaftStorage(datastore, ROOT)
    expect((await reloaded.load())?.snapshot).to.deep.equal({ index: 5, term: 2, config: { voters: ['a'], learners: [] } })
    expect(await reloaded.snapshotData(reloaded.snapshot as StoredSnapshot)).to.deep.equal(data)
    expect((await rejection(storage.replaceSnapshotMeta({ index: 5, term: 3, config: { voters: ['a'], learners: [] } }))).message).to.include('not the current one')
  })
})
