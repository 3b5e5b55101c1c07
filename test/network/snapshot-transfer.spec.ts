import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { lpStream } from '@libp2p/utils'
import { sha256 } from '@noble/hashes/sha2.js'
import { expect } from 'aegir/chai'
import { createLibp2p } from 'libp2p'
import { equals as uint8ArrayEquals } from 'uint8arrays/equals'
import { InvalidSnapshotError, SnapshotTransferError } from '../../src/errors.ts'
import { SNAPSHOT_WINDOW, SnapshotTransfer } from '../../src/network/snapshot-transfer.ts'
import { RaftMessage, SnapshotReply } from '../../src/pb/raft.ts'
import { rejection } from '../utils/rejection.ts'
import type { OutgoingSnapshot, SnapshotOfferHandler, SnapshotSink, SnapshotTransferComponents, SnapshotTransferInit } from '../../src/network/snapshot-transfer.ts'
import type { SnapshotOffer } from '../../src/pb/raft.ts'
import type { YamuxMuxerInit } from '@chainsafe/libp2p-yamux'
import type { AbortOptions, PeerId, Stream } from '@libp2p/interface'
import type { Libp2p } from 'libp2p'

const CHUNK = 256 * 1024
const SIZE = 5 * 1024 * 1024 + 12_345

const INIT: SnapshotTransferInit = {
  protocol: '/libp2p-raft/test/snapshot/1.0.0',
  maxChunkSize: CHUNK,
  timeout: 5000,
  minBytesPerSecond: 1024 * 1024
}

type TransferNode = Libp2p<{ transfer: SnapshotTransfer }>

/** Deterministic bytes that differ per `seed`, so a misplaced chunk shows. */
function bytes (size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size)
  for (let i = 0; i < size; i++) {
    out[i] = (i * 31 + seed * 7 + (i >> 11)) & 0xff
  }
  return out
}

function request (to: PeerId): RaftMessage {
  return RaftMessage.decode(RaftMessage.encode({
    type: RaftMessage.Type.SNAPSHOT_REQUEST,
    to: to.toString(),
    term: 3,
    snapshot: { index: 1000, term: 3, config: { voters: [to.toString()], learners: [], addresses: [] } }
  }))
}

interface SnapshotOptions {
  chunkSize?: number
  /** Overrides what the offer claims */
  announce?: Partial<OutgoingSnapshot>
  /** Runs before the `n`-th chunk (1-based) is yielded */
  before?(n: number): Promise<void>
}

/** An outgoing snapshot of `data` whose pulls are counted. */
function snapshotOf (to: PeerId, data: Uint8Array, options: SnapshotOptions = {}): { snapshot: OutgoingSnapshot, pulled(): number } {
  const chunkSize = options.chunkSize ?? CHUNK
  let pulled = 0
  async function * chunks (): AsyncGenerator<Uint8Array> {
    for (let offset = 0; offset < data.byteLength; offset += chunkSize) {
      pulled++
      await options.before?.(pulled)
      yield data.subarray(offset, offset + chunkSize)
    }
  }
  const snapshot: OutgoingSnapshot = {
    message: request(to),
    size: data.byteLength,
    chunks: Math.ceil(data.byteLength / chunkSize),
    checksum: sha256(data),
    data: chunks(),
    ...options.announce
  }
  return { snapshot, pulled: () => pulled }
}

class StaleSnapshotError extends Error {
  name = 'StaleSnapshotError'
}

interface SinkHooks {
  /** Runs before the `n`-th write (1-based) stores its chunk */
  write?(n: number, options?: AbortOptions): Promise<void>
  finish?(): Promise<void>
}

/** Collects chunks in memory and checks them against the offer's size and checksum on finish. */
class MemorySink implements SnapshotSink {
  readonly chunks: Uint8Array[] = []
  readonly finished = Promise.withResolvers<void>()
  readonly discarded = Promise.withResolvers<void>()
  discards = 0
  private readonly offer: SnapshotOffer
  private readonly hooks: SinkHooks
  private readonly started: Array<PromiseWithResolvers<void>> = []

  constructor (offer: SnapshotOffer, hooks: SinkHooks = {}) {
    this.offer = offer
    this.hooks = hooks
  }

  /** Resolves when the `n`-th write (1-based) has begun. */
  async writeStarted (n: number): Promise<void> {
    return this.startedAt(n).promise
  }

  async write (chunk: Uint8Array, options?: AbortOptions): Promise<void> {
    const n = this.chunks.length + 1
    this.startedAt(n).resolve()
    await this.hooks.write?.(n, options)
    this.chunks.push(chunk.slice())
  }

  async finish (): Promise<void> {
    await this.hooks.finish?.()
    const data = this.data()
    if (data.byteLength !== this.offer.size || !uint8ArrayEquals(sha256(data), this.offer.checksum)) {
      throw new InvalidSnapshotError()
    }
    this.finished.resolve()
  }

  async discard (): Promise<void> {
    this.discards++
    this.discarded.resolve()
  }

  data (): Uint8Array {
    const out = new Uint8Array(this.chunks.reduce((sum, c) => sum + c.byteLength, 0))
    let offset = 0
    for (const c of this.chunks) {
      out.set(c, offset)
      offset += c.byteLength
    }
    return out
  }

  private startedAt (n: number): PromiseWithResolvers<void> {
    this.started[n] ??= Promise.withResolvers<void>()
    return this.started[n]
  }
}

/** Rejects with `signal`'s reason once it aborts, like an abortable operation that never finishes on its own. */
async function aborted (signal?: AbortSignal): Promise<void> {
  await new Promise<void>((_resolve, reject) => {
    signal?.addEventListener('abort', () => { reject(signal.reason) }, { once: true })
  })
}

/** Resolves once `check` holds, looking again every few milliseconds. */
async function until (check: () => boolean): Promise<void> {
  while (!check()) {
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}

/** Lets pending microtasks, ticks and immediates run. */
async function settle (): Promise<void> {
  await new Promise<void>(resolve => { setImmediate(resolve) })
  await new Promise<void>(resolve => { setImmediate(resolve) })
}

describe('network: SnapshotTransfer', function () {
  this.timeout(10_000)
  let sender: TransferNode
  let receiver: TransferNode
  /** What the receiver does with each offer; each test sets it */
  let onOffer: SnapshotOfferHandler
  /** The sinks the receiver handed out, in order */
  let sinks: MemorySink[]
  /** Resolves with the first of them */
  let firstSink: PromiseWithResolvers<MemorySink>

  async function createNode (init: Partial<SnapshotTransferInit>, muxer: YamuxMuxerInit): Promise<TransferNode> {
    return createLibp2p({
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux(muxer)],
      connectionMonitor: { enabled: false },
      services: {
        transfer: (components: SnapshotTransferComponents) => new SnapshotTransfer(components, { ...INIT, ...init }, async (from, offer, options) => onOffer(from, offer, options))
      }
    })
  }

  async function start (init: Partial<SnapshotTransferInit> = {}, muxer: YamuxMuxerInit = {}): Promise<void> {
    sender = await createNode(init, muxer)
    receiver = await createNode(init, muxer)
    await sender.peerStore.merge(receiver.peerId, { multiaddrs: receiver.getMultiaddrs() })
  }

  /** The receiver's end of the snapshot stream. */
  async function inboundStream (): Promise<Stream> {
    const stream = receiver.getConnections().flatMap(c => c.streams).find(s => s.protocol === INIT.protocol)
    expect(stream).to.exist()
    return stream as Stream
  }

  /** Accepts every offer into a new MemorySink with these hooks. */
  function accept (hooks: SinkHooks = {}): void {
    onOffer = async (_from, offer) => {
      const sink = new MemorySink(offer, hooks)
      sinks.push(sink)
      firstSink.resolve(sink)
      return sink
    }
  }

  beforeEach(() => {
    sinks = []
    firstSink = Promise.withResolvers<MemorySink>()
    accept()
  })

  afterEach(async () => {
    await Promise.all([sender?.stop(), receiver?.stop()])
  })

  it('delivers a 5 MB snapshot intact, and send resolves only after the sink finished', async () => {
    await start()
    const data = bytes(SIZE)
    const { snapshot } = snapshotOf(receiver.peerId, data)
    const gate = Promise.withResolvers<void>()
    const finishing = Promise.withResolvers<void>()
    let from: PeerId | undefined
    let offered: SnapshotOffer | undefined
    onOffer = async (peer, offer) => {
      from = peer
      offered = offer
      const sink = new MemorySink(offer, {
        finish: async () => {
          finishing.resolve()
          await gate.promise
        }
      })
      sinks.push(sink)
      return sink
    }

    let sent = false
    const sending = sender.services.transfer.send(receiver.peerId, snapshot).then(() => { sent = true })
    await finishing.promise
    await settle()
    expect(sent).to.be.false()
    gate.resolve()
    await sending

    expect(from?.equals(sender.peerId)).to.be.true()
    expect(offered?.message).to.deep.equal(snapshot.message)
    expect(offered).to.include({ size: SIZE, chunks: 21 })
    expect(offered?.checksum).to.deep.equal(snapshot.checksum)
    const [sink] = sinks
    await sink.finished.promise
    expect(sink.chunks).to.have.lengthOf(21)
    expect(sink.chunks.every(c => c.byteLength <= CHUNK)).to.be.true()
    expect(uint8ArrayEquals(sink.data(), data)).to.be.true()
    expect(sink.discards).to.equal(0)
  })

  it('delivers an empty snapshot', async () => {
    await start()
    const { snapshot } = snapshotOf(receiver.peerId, new Uint8Array(0))

    await sender.services.transfer.send(receiver.peerId, snapshot)
    await sinks[0].finished.promise
    expect(sinks[0].chunks).to.be.empty()
  })

  it('answers an offer that cannot be decoded with InvalidSnapshotError', async () => {
    await start()
    const stream = await sender.dialProtocol(receiver.peerId, INIT.protocol)
    const lp = lpStream(stream)
    await lp.write(Uint8Array.of(0xff, 0xff, 0xff))

    const reply = SnapshotReply.decode(await lp.read())
    expect(reply.result).to.deep.equal({ ok: false, error: 'InvalidSnapshotError' })
    expect(sinks).to.be.empty()
  })

  it('rejects with the refusal\'s error name when the handler throws, and stops sending', async () => {
    await start()
    const { snapshot, pulled } = snapshotOf(receiver.peerId, bytes(SIZE))
    let offers = 0
    onOffer = async () => {
      offers++
      throw new StaleSnapshotError('a newer snapshot is installed')
    }

    const err = await rejection(sender.services.transfer.send(receiver.peerId, snapshot))
    expect(err).to.be.an.instanceOf(SnapshotTransferError)
    expect(err.message).to.include('refused').and.to.include('StaleSnapshotError')
    expect(offers).to.equal(1)
    expect(sinks).to.be.empty()
    // the refusal cut the transfer short instead of letting the whole snapshot through
    expect(pulled()).to.be.below(snapshot.chunks)
  })

  it('rejects when the sink\'s finish throws, after the sink was discarded', async () => {
    await start()
    // the offer promises other data than is sent, so the checksum check in finish fails
    const { snapshot } = snapshotOf(receiver.peerId, bytes(SIZE), { announce: { checksum: sha256(bytes(SIZE, 2)) } })

    const err = await rejection(sender.services.transfer.send(receiver.peerId, snapshot))
    expect(err).to.be.an.instanceOf(SnapshotTransferError)
    expect(err.message).to.include('InvalidSnapshotError')
    expect(sinks).to.have.lengthOf(1)
    expect(sinks[0].discards).to.equal(1)
  })

  it('discards and rejects when the data ends before the chunks announced', async () => {
    await start()
    const data = bytes(SIZE)
    // announces one chunk more than the data has
    const { snapshot } = snapshotOf(receiver.peerId, data, { announce: { size: SIZE + 1000, chunks: 22 } })

    const err = await rejection(sender.services.transfer.send(receiver.peerId, snapshot))
    expect(err).to.be.an.instanceOf(SnapshotTransferError)
    expect(err.message).to.include('InvalidSnapshotError')
    expect(sinks[0].discards).to.equal(1)
    expect(sinks[0].chunks).to.have.lengthOf(21)
  })

  it('discards and rejects when the chunks add up to fewer bytes than announced', async () => {
    await start()
    const { snapshot } = snapshotOf(receiver.peerId, bytes(SIZE), { announce: { size: SIZE + 1 } })

    const err = await rejection(sender.services.transfer.send(receiver.peerId, snapshot))
    expect(err.message).to.include('InvalidSnapshotError')
    expect(sinks[0].discards).to.equal(1)
  })

  it('discards and rejects a chunk larger than maxChunkSize', async () => {
    await start()
    const { snapshot } = snapshotOf(receiver.peerId, bytes(SIZE), { chunkSize: CHUNK + 1024, announce: { chunks: 21 } })

    const err = await rejection(sender.services.transfer.send(receiver.peerId, snapshot))
    expect(err.message).to.include('InvalidSnapshotError')
    expect(sinks[0].discards).to.equal(1)
    expect(sinks[0].chunks).to.be.empty()
  })

  it('rejects when the data has more chunks than announced', async () => {
    await start()
    const data = bytes(SIZE)
    const { snapshot } = snapshotOf(receiver.peerId, data, { announce: { chunks: 20, size: 20 * CHUNK, checksum: sha256(data.subarray(0, 20 * CHUNK)) } })

    const err = await rejection(sender.services.transfer.send(receiver.peerId, snapshot))
    expect(err).to.be.an.instanceOf(SnapshotTransferError)
    expect(err.message).to.include('more than the 20 chunks')
  })

  it('keeps the sender within a few chunks of a slow sink, whatever window the muxer allows', async () => {
    // yamux may grant a stream up to 16 MiB: the acknowledgements, not the muxer, must hold the sender back
    await start({}, { streamOptions: { initialStreamWindowSize: 16 * 1024 * 1024, maxStreamWindowSize: 16 * 1024 * 1024 } })
    const data = bytes(SIZE)
    const { snapshot, pulled } = snapshotOf(receiver.peerId, data)
    let ahead = 0
    let buffered = 0
    accept({
      write: async (n) => {
        ahead = Math.max(ahead, pulled() - (n - 1))
        buffered = Math.max(buffered, (await inboundStream()).readBufferLength)
        // a slow disk: the sender must wait for it rather than pile up data
        await new Promise(resolve => setTimeout(resolve, 10))
      }
    })

    await sender.services.transfer.send(receiver.peerId, snapshot)
    expect(uint8ArrayEquals(sinks[0].data(), data)).to.be.true()
    expect(pulled()).to.equal(21)
    // the chunk being stored, the window of unacknowledged ones, and the one pulled and waiting for room
    expect(ahead).to.be.at.most(SNAPSHOT_WINDOW + 1)
    expect(buffered).to.be.at.most(SNAPSHOT_WINDOW * (CHUNK + 16))
  })

  it('rejects promptly when the caller\'s signal aborts mid-transfer, and the receiver discards', async () => {
    await start()
    const { snapshot } = snapshotOf(receiver.peerId, bytes(SIZE))
    const release = Promise.withResolvers<void>()
    accept({ write: async (n) => { if (n === 4) { await release.promise } } })
    const controller = new AbortController()

    const sending = rejection(sender.services.transfer.send(receiver.peerId, snapshot, { signal: controller.signal }))
    await (await firstSink.promise).writeStarted(4)
    const stream = await inboundStream()
    const abortedAt = Date.now()
    controller.abort()
    const err = await sending
    expect(Date.now() - abortedAt).to.be.below(500)
    expect(err).to.be.an.instanceOf(SnapshotTransferError)
    expect(err.message).to.include('aborted')

    // once the reset has arrived, the receiver reads nothing more, even what is already buffered
    await until(() => stream.status !== 'open')
    release.resolve()
    await sinks[0].discarded.promise
    expect(sinks[0].chunks).to.have.lengthOf(4)
  })

  it('stop() on the receiving side aborts the transfer on both sides', async () => {
    await start()
    const { snapshot } = snapshotOf(receiver.peerId, bytes(SIZE))
    // this sink honours its signal, as a datastore write would
    accept({ write: async (n, options) => { if (n === 4) { await aborted(options?.signal) } } })

    const sending = rejection(sender.services.transfer.send(receiver.peerId, snapshot))
    await (await firstSink.promise).writeStarted(4)
    await receiver.services.transfer.stop()
    // stop() waits for the transfer to wind down
    expect(sinks[0].discards).to.equal(1)
    const err = await sending
    expect(err).to.be.an.instanceOf(SnapshotTransferError)
    expect(receiver.getProtocols()).to.not.include(INIT.protocol)
  })

  it('stop() on the sending side aborts the transfer on both sides and later sends reject', async () => {
    await start()
    const { snapshot } = snapshotOf(receiver.peerId, bytes(SIZE))
    const release = Promise.withResolvers<void>()
    accept({ write: async (n) => { if (n === 4) { await release.promise } } })

    const sending = rejection(sender.services.transfer.send(receiver.peerId, snapshot))
    await (await firstSink.promise).writeStarted(4)
    await sender.services.transfer.stop()
    const err = await sending
    expect(err).to.be.an.instanceOf(SnapshotTransferError)
    expect(err.message).to.include('stopped')

    release.resolve()
    await sinks[0].discarded.promise

    const again = await rejection(sender.services.transfer.send(receiver.peerId, snapshotOf(receiver.peerId, bytes(10)).snapshot))
    expect(again).to.be.an.instanceOf(SnapshotTransferError)
    expect(again.message).to.include('not running')
  })

  it('abandons a transfer that outlives its deadline, on both sides', async () => {
    // the deadline is timeout + size / minBytesPerSecond: 300 ms + ~5 ms here
    await start({ timeout: 300, minBytesPerSecond: 1024 * 1024 * 1024 })
    const { snapshot } = snapshotOf(receiver.peerId, bytes(SIZE))
    accept({ write: async (n, options) => { if (n === 2) { await aborted(options?.signal) } } })

    const startedAt = Date.now()
    const err = await rejection(sender.services.transfer.send(receiver.peerId, snapshot))
    expect(err).to.be.an.instanceOf(SnapshotTransferError)
    expect(err.message).to.include(`timed out after ${300 + Math.ceil(SIZE / 1024 ** 3 * 1000)} ms`)
    expect(Date.now() - startedAt).to.be.within(250, 2000)
    await sinks[0].discarded.promise
  })
})
