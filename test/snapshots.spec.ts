import { peerIdFromString } from '@libp2p/peer-id'
import { sha256 } from '@noble/hashes/sha2.js'
import { expect } from 'aegir/chai'
import { MemoryDatastore } from 'datastore-core/memory'
import { Key } from 'interface-datastore'
import { TypedEventEmitter } from 'main-event'
import { SESSION_LIMITS } from '../src/constants.ts'
import { RaftCore } from '../src/core/index.ts'
import { resolveOptions } from '../src/options.ts'
import { messageToPb } from '../src/pb/translate.ts'
import { Driver } from '../src/service/driver.ts'
import { PeerIds } from '../src/service/peer-ids.ts'
import { Snapshots } from '../src/service/snapshots.ts'
import { systemClock } from '../src/service/system-clock.ts'
import { RaftStorage } from '../src/storage/raft-storage.ts'
import { recordingLogger } from './utils/recording-logger.ts'
import type { Entry, SnapshotMeta, SnapshotRequest } from '../src/core/index.ts'
import type { RaftEvents, StateMachine } from '../src/index.ts'
import type { RecordingLogger } from './utils/recording-logger.ts'
import type { SnapshotTransfer } from '../src/network/snapshot-transfer.ts'
import type { SnapshotOffer } from '../src/pb/raft.ts'
import type { FrameTransport } from '../src/service/seams.ts'

const config = { voters: ['n1', 'n2', 'n3'], learners: [] }
/** Real peer ids, since offers come from authenticated peers */
const N1 = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'

function log (from: number, to: number, term: number): Entry[] {
  return Array.from({ length: to - from + 1 }, (_, i): Entry => {
    const index = from + i
    return index === 1 ? { type: 'config', index, term, config } : { type: 'command', index, term, data: Uint8Array.of(index) }
  })
}

interface Setup {
  core: RaftCore
  storage: RaftStorage
  snapshots: Snapshots
  logger: RecordingLogger
  datastore: MemoryDatastore
}

/**
 * Node n2, a follower that applied entries 1–5 of term 1, with the snapshot
 * work wired to them. Its driver is never started, so nothing processes the
 * core's batches: the tests step and advance the core by hand.
 */
async function setup (stateMachine: Partial<StateMachine>, snapshotThreshold = 1): Promise<Setup> {
  const datastore = new MemoryDatastore()
  const storage = new RaftStorage(datastore, new Key('/raft/default'))
  await storage.load()
  const entries = log(1, 5, 1)
  await storage.write({ term: 1, commit: 5 }, entries)
  const core = new RaftCore({ id: 'n2', state: { hardState: { term: 1, commit: 5 }, entries }, applied: 5, random: () => 0.5 })
  const logger = recordingLogger()
  const options = resolveOptions({
    stateMachine: { apply: () => {}, snapshot: () => new Uint8Array(0), restore: () => {}, ...stateMachine },
    snapshotThreshold,
    trailingEntries: 0
  })
  const events = new TypedEventEmitter<RaftEvents>()
  const driver = new Driver({
    seams: { clock: systemClock, random: () => 0.5, makeCore: () => core, sessionLimits: SESSION_LIMITS },
    storage,
    network: {} as unknown as FrameTransport,
    events,
    options,
    self: 'n2',
    log: logger.log,
    onNotification: () => {},
    onStorageFailed: () => {}
  })
  const snapshots = new Snapshots({
    driver,
    inbound: { isMember: () => true },
    storage,
    transfer: {} as unknown as SnapshotTransfer,
    peerIds: new PeerIds(peerIdFromString(N1)),
    events,
    options,
    self: 'n2',
    log: logger.log
  })
  driver.load({}, snapshots)
  return { core, storage, snapshots, logger, datastore }
}

function request (term: number, snapshot: SnapshotMeta): SnapshotRequest {
  return { type: 'snapshot-request', from: N1, to: 'n2', term, snapshot }
}

function offerOf (m: SnapshotRequest, data: Uint8Array): SnapshotOffer {
  return { message: messageToPb(m), size: data.byteLength, chunks: 1, checksum: sha256(data) }
}

async function countChunks (datastore: MemoryDatastore): Promise<number> {
  let count = 0
  for await (const key of datastore.queryKeys({ prefix: '/raft/default/snapshots/' })) {
    count += key.toString().length > 0 ? 1 : 0
  }
  return count
}

describe('snapshots: the shell\'s snapshot work', () => {
  it('finishes a snapshot of its own while one from the leader waits to be installed', async () => {
    const data = Promise.withResolvers<Uint8Array>()
    const { core, snapshots, logger } = await setup({ snapshot: async () => data.promise })
    const outcome = Promise.withResolvers<SnapshotMeta>()
    snapshots.addWaiter({ index: 5, resolve: outcome.resolve, reject: outcome.reject })
    expect(snapshots.due()).to.be.true()
    snapshots.take()

    // The leader's snapshot at 20 arrives; the core takes it, the drive loop has yet to install it.
    const leaders = { index: 20, term: 1, config }
    const sink = await snapshots.onOffer(peerIdFromString(N1), offerOf(request(1, leaders), Uint8Array.of(1, 2, 3)))
    await sink.write(Uint8Array.of(1, 2, 3))
    await sink.finish()
    expect(core.pendingInstall).to.deep.equal(leaders)

    data.resolve(Uint8Array.of(9))
    expect((await outcome.promise).index).to.equal(5)
    expect(logger.errors).to.deep.equal([])
  })

  it('discards a received snapshot the core did not take', async () => {
    const { core, snapshots, datastore } = await setup({})
    const leaders = { index: 20, term: 1, config }
    const sink = await snapshots.onOffer(peerIdFromString(N1), offerOf(request(1, leaders), Uint8Array.of(1, 2, 3)))
    await sink.write(Uint8Array.of(1, 2, 3))
    // Meanwhile a leader of term 2 brings n2 up to 20: the snapshot of term 1 is of no use any more.
    core.step({ type: 'append-request', from: 'n3', to: 'n2', term: 2, prevIndex: 5, prevTerm: 1, entries: log(6, 20, 1), commit: 20 })
    core.advance(core.ready())
    await sink.finish()
    expect(core.pendingInstall).to.be.undefined()
    await expect(snapshots.install(leaders)).to.eventually.be.rejected.with.property('name', 'InvalidSnapshotError')
    await new Promise(resolve => setImmediate(resolve))
    expect(await countChunks(datastore)).to.equal(0)
  })

  it('answers a snapshot it does not need without its data', async () => {
    const { core, snapshots } = await setup({})
    // n2 already holds entry 5 of term 1: the request only moves its commit index.
    await expect(snapshots.onOffer(peerIdFromString(N1), offerOf(request(1, { index: 5, term: 1, config }), Uint8Array.of(1))))
      .to.eventually.be.rejected.with.property('name', 'SnapshotNotNeededError')
    const ready = core.ready()
    expect(ready.snapshot).to.be.undefined()
    expect(ready.messagesAfterPersist).to.deep.include({ type: 'append-response', from: 'n2', to: N1, term: 1, success: true, index: 5, hintIndex: 0, hintTerm: 0 })
  })

  it('drops a transfer from a deposed leader for one from its successor', async () => {
    const { snapshots } = await setup({})
    const old = await snapshots.onOffer(peerIdFromString(N1), offerOf(request(1, { index: 20, term: 1, config }), Uint8Array.of(1, 2)))
    await expect(snapshots.onOffer(peerIdFromString(N1), offerOf(request(1, { index: 21, term: 1, config }), Uint8Array.of(1))))
      .to.eventually.be.rejected.with.property('name', 'SnapshotBusyError')
    const newer = await snapshots.onOffer(peerIdFromString(N1), offerOf(request(2, { index: 30, term: 2, config }), Uint8Array.of(7)))
    await expect(old.write(Uint8Array.of(1, 2))).to.eventually.be.rejected.with.property('name', 'SnapshotBusyError')
    await old.discard()
    await newer.write(Uint8Array.of(7))
    await newer.finish()
  })

  it('after a failed snapshot, tries again only once another threshold of entries is applied', async () => {
    let calls = 0
    const { core, snapshots } = await setup({ snapshot: () => { calls++; throw new Error('disk full') } }, 5)
    expect(snapshots.due()).to.be.true()
    snapshots.take()
    expect(calls).to.equal(1)
    expect(snapshots.due()).to.be.false()
    // Four more entries applied: not yet.
    core.step({ type: 'append-request', from: 'n1', to: 'n2', term: 1, prevIndex: 5, prevTerm: 1, entries: log(6, 9, 1), commit: 9 })
    core.advance(core.ready())
    expect(snapshots.due()).to.be.false()
    core.step({ type: 'append-request', from: 'n1', to: 'n2', term: 1, prevIndex: 9, prevTerm: 1, entries: log(10, 10, 1), commit: 10 })
    core.advance(core.ready())
    expect(snapshots.due()).to.be.true()
  })
})
