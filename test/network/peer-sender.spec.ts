import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { lpStream, streamPair } from '@libp2p/utils'
import { expect } from 'aegir/chai'
import { PeerSender } from '../../src/network/peer-sender.ts'
import { recordingLogger } from '../utils/recording-logger.ts'
import type { PeerSenderInit } from '../../src/network/peer-sender.ts'
import type { RecordingLogger } from '../utils/recording-logger.ts'
import type { AbortOptions, PeerId, Stream } from '@libp2p/interface'
import type { ConnectionManager } from '@libp2p/interface-internal'
import type { LengthPrefixedStream } from '@libp2p/utils'

const PROTOCOL = '/libp2p-raft/test/1.0.0'

/** One call to the fake `openStream`, answered by the test. */
interface Dial {
  peer: PeerId
  protocol: string | string[]
  options?: AbortOptions
  at: number
  resolve(stream: Stream): void
  reject(err: Error): void
}

/** A connection manager whose `openStream` calls wait until the test answers them. */
class FakeConnectionManager {
  readonly dials: Dial[] = []
  private readonly waiters: Array<{ n: number, resolve(): void }> = []

  async openStream (peer: PeerId, protocol: string | string[], options?: AbortOptions): Promise<Stream> {
    const { promise, resolve, reject } = Promise.withResolvers<Stream>()
    this.dials.push({ peer, protocol, options, at: performance.now(), resolve, reject })
    for (const w of this.waiters.filter(w => this.dials.length >= w.n)) {
      w.resolve()
    }
    return promise
  }

  /** The `n`-th dial (1-based), once it has happened. */
  async dial (n: number): Promise<Dial> {
    if (this.dials.length < n) {
      const { promise, resolve } = Promise.withResolvers<void>()
      this.waiters.push({ n, resolve })
      await promise
    }
    return this.dials[n - 1]
  }

  /** Waits for the `n`-th dial and lets it succeed with `stream`. */
  async answer (n: number, stream: Stream): Promise<void> {
    (await this.dial(n)).resolve(stream)
  }

  /** Waits for the `n`-th dial and makes it fail with `err`. */
  async refuse (n: number, err: Error): Promise<void> {
    (await this.dial(n)).reject(err)
  }
}

/** A frame of `size` bytes that tells `n` apart: its first byte is `n`'s low byte, the rest its high byte. */
function frame (n: number, size = 8): Uint8Array {
  const out = new Uint8Array(size).fill((n >> 8) & 0xff)
  if (size > 0) {
    out[0] = n & 0xff
  }
  return out
}

async function readFrames (reader: LengthPrefixedStream<Stream>, count: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = []
  for (let i = 0; i < count; i++) {
    out.push((await reader.read()).subarray())
  }
  return out
}

async function closed (stream: Stream): Promise<void> {
  if (stream.status !== 'open') {
    return
  }
  await new Promise<void>(resolve => { stream.addEventListener('close', () => { resolve() }, { once: true }) })
}

/** Lets pending microtasks, ticks and immediates run. */
async function settle (): Promise<void> {
  await new Promise<void>(resolve => { setImmediate(resolve) })
  await new Promise<void>(resolve => { setImmediate(resolve) })
}

describe('network: PeerSender', () => {
  let peer: PeerId
  let cm: FakeConnectionManager
  let logs: RecordingLogger
  let sender: PeerSender
  let streams: Stream[]

  const init = (overrides: Partial<PeerSenderInit> = {}): PeerSenderInit => ({
    protocol: PROTOCOL,
    maxMessageSize: 1024 * 1024,
    maxQueuedFrames: 1000,
    dialTimeout: 5000,
    ...overrides
  })

  async function pair (): Promise<{ outbound: Stream, inbound: Stream, reader: LengthPrefixedStream<Stream> }> {
    const [outbound, inbound] = await streamPair()
    streams.push(outbound, inbound)
    return { outbound, inbound, reader: lpStream(inbound) }
  }

  before(async () => {
    peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  })

  beforeEach(() => {
    cm = new FakeConnectionManager()
    logs = recordingLogger()
    streams = []
    sender = new PeerSender(peer, cm as unknown as ConnectionManager, init(), logs.log)
  })

  afterEach(() => {
    sender.close()
    for (const stream of streams) {
      stream.abort(new Error('test over'))
    }
  })

  it('opens a stream to the peer on the protocol and delivers frames length-prefixed in order', async () => {
    const { outbound, reader } = await pair()
    const frames = [frame(1), frame(2, 0), frame(3, 300), frame(4, 1)]
    for (const f of frames) {
      sender.send(f)
    }
    const dial = await cm.dial(1)
    expect(dial.peer.equals(peer)).to.be.true()
    expect(dial.protocol).to.equal(PROTOCOL)
    expect(dial.options?.signal).to.be.an.instanceOf(AbortSignal)
    dial.resolve(outbound)

    expect(await readFrames(reader, frames.length)).to.deep.equal(frames)
    expect(cm.dials).to.have.lengthOf(1)
  })

  it('keeps order across many writes on one stream', async () => {
    const { outbound, reader } = await pair()
    const frames = Array.from({ length: 300 }, (_, i) => frame(i, 1 + (i % 17)))
    sender.send(frames[0])
    await cm.answer(1, outbound)
    for (let i = 1; i < frames.length; i++) {
      sender.send(frames[i])
      if (i % 25 === 0) {
        await settle()
      }
    }
    expect(await readFrames(reader, frames.length)).to.deep.equal(frames)
    expect(cm.dials).to.have.lengthOf(1)
  })

  it('batches the frames queued while a write is in progress into the next write', async () => {
    const { outbound, reader } = await pair()
    // the first write reports back-pressure, so it stays in progress until 'drain'
    const writes: number[] = []
    const send = outbound.send.bind(outbound)
    const blocked = Promise.withResolvers<void>()
    outbound.send = (data) => {
      writes.push(data.byteLength)
      const ok = send(data)
      if (writes.length === 1) {
        blocked.resolve()
        return false
      }
      return ok
    }

    const a = frame(1, 10)
    sender.send(a)
    await cm.answer(1, outbound)
    await blocked.promise
    const rest = [frame(2, 10), frame(3, 10), frame(4, 10)]
    for (const f of rest) {
      sender.send(f)
    }
    await settle()
    // nothing more is written until the first write drains
    expect(writes).to.deep.equal([11])

    outbound.dispatchEvent(new Event('drain'))
    expect(await readFrames(reader, 4)).to.deep.equal([a, ...rest])
    // one write for the first frame, one for the three queued behind it
    expect(writes).to.deep.equal([11, 33])
    expect(cm.dials).to.have.lengthOf(1)
  })

  it('drops the oldest frames beyond maxQueuedFrames while the stream cannot be opened', async () => {
    sender = new PeerSender(peer, cm as unknown as ConnectionManager, init({ maxQueuedFrames: 3 }), logs.log)
    const { outbound, reader } = await pair()
    const frames = Array.from({ length: 8 }, (_, i) => frame(i))
    for (const f of frames) {
      sender.send(f)
    }
    const dial = await cm.dial(1)
    dial.resolve(outbound)
    expect(await readFrames(reader, 3)).to.deep.equal(frames.slice(-3))

    // the dropped frames never come later: the next frame read is a new one
    const marker = frame(99)
    sender.send(marker)
    expect(await readFrames(reader, 1)).to.deep.equal([marker])
    expect(cm.dials).to.have.lengthOf(1)
  })

  it('bounds the queue while waiting out a backoff', async () => {
    sender = new PeerSender(peer, cm as unknown as ConnectionManager, init({ maxQueuedFrames: 2 }), logs.log)
    const { outbound, reader } = await pair()
    sender.send(frame(0))
    await cm.refuse(1, new Error('unreachable'))
    await logs.reached('infos', 1)

    const frames = Array.from({ length: 5 }, (_, i) => frame(10 + i))
    for (const f of frames) {
      sender.send(f)
    }
    await cm.answer(2, outbound)
    expect(await readFrames(reader, 2)).to.deep.equal(frames.slice(-2))
  })

  it('retries after its backoff when openStream rejects and delivers later frames', async () => {
    const { outbound, reader } = await pair()
    sender.send(frame(1))
    await cm.refuse(1, new Error('dial failed'))
    const failedAt = await logs.reached('infos', 1)

    // during the backoff new frames wait; no new dial is made straight away
    const b = frame(2)
    const c = frame(3)
    sender.send(b)
    sender.send(c)
    await settle()
    expect(cm.dials).to.have.lengthOf(1)

    const retry = await cm.dial(2)
    expect(retry.at - failedAt).to.be.at.least(90)
    retry.resolve(outbound)
    // the frame queued when the dial failed was dropped with it
    expect(await readFrames(reader, 2)).to.deep.equal([b, c])

    const d = frame(4)
    sender.send(d)
    expect(await readFrames(reader, 1)).to.deep.equal([d])
    expect(cm.dials).to.have.lengthOf(2)
  })

  it('grows the backoff on repeated failures and resets it after a success', async () => {
    sender.send(frame(1))
    await cm.refuse(1, new Error('fail 1'))
    await logs.reached('infos', 1)
    sender.send(frame(2))
    const second = await cm.dial(2)
    second.reject(new Error('fail 2'))
    const failed2 = await logs.reached('infos', 2)
    sender.send(frame(3))
    const third = await cm.dial(3)
    expect(third.at - failed2).to.be.at.least(190)

    const first = await pair()
    third.resolve(first.outbound)
    expect(await readFrames(first.reader, 1)).to.deep.equal([frame(3)])

    // the remote resets the stream: the next frame re-opens at once
    first.inbound.abort(new Error('remote gone'))
    await closed(first.outbound)
    sender.send(frame(4))
    const fourth = await cm.dial(4)
    fourth.reject(new Error('fail 3'))
    const failed3 = await logs.reached('infos', 3)
    sender.send(frame(5))
    const fifth = await cm.dial(5)
    const gap = fifth.at - failed3
    expect(gap).to.be.at.least(90)
    // back to the first step, not 400 ms
    expect(gap).to.be.below(390)

    const next = await pair()
    fifth.resolve(next.outbound)
    expect(await readFrames(next.reader, 1)).to.deep.equal([frame(5)])
  })

  it('re-opens a stream the remote closed, on the next frame', async () => {
    const first = await pair()
    sender.send(frame(1))
    await cm.answer(1, first.outbound)
    expect(await readFrames(first.reader, 1)).to.deep.equal([frame(1)])

    first.inbound.abort(new Error('remote reset'))
    await closed(first.outbound)

    const second = await pair()
    sender.send(frame(2))
    await cm.answer(2, second.outbound)
    expect(await readFrames(second.reader, 1)).to.deep.equal([frame(2)])
  })

  it('close() aborts the stream and ignores later sends', async () => {
    const { outbound, inbound, reader } = await pair()
    sender.send(frame(1))
    await cm.answer(1, outbound)
    expect(await readFrames(reader, 1)).to.deep.equal([frame(1)])

    sender.close()
    expect(outbound.status).to.equal('aborted')
    await closed(inbound)
    expect(inbound.status).to.not.equal('open')

    sender.send(frame(2))
    await settle()
    expect(cm.dials).to.have.lengthOf(1)
  })

  it('close() while a dial is pending aborts the stream it brings', async () => {
    const { outbound } = await pair()
    sender.send(frame(1))
    const dial = await cm.dial(1)
    sender.close()
    expect(dial.options?.signal?.aborted).to.be.true()

    dial.resolve(outbound)
    await closed(outbound)
    expect(outbound.status).to.equal('aborted')

    sender.send(frame(2))
    await settle()
    expect(cm.dials).to.have.lengthOf(1)
    expect(logs.infos).to.be.empty()
  })

  it('close() during a backoff makes no further dial for queued frames', async () => {
    sender.send(frame(1))
    await cm.refuse(1, new Error('unreachable'))
    await logs.reached('infos', 1)
    sender.send(frame(2))
    sender.close()
    sender.send(frame(3))
    await settle()
    expect(cm.dials).to.have.lengthOf(1)
  })
})
