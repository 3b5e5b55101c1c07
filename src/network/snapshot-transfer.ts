import { AbortError } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'
import { SESSION_LIMITS } from '../constants.ts'
import { InvalidSnapshotError, SnapshotTransferError } from '../errors.ts'
import { SnapshotOffer, SnapshotReply } from '../pb/raft.ts'
import type { RaftMessage, SnapshotResult } from '../pb/raft.ts'
import type { AbortOptions, ComponentLogger, Connection, Logger, PeerId, Stream } from '@libp2p/interface'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'
import type { LengthPrefixedStream } from '@libp2p/utils'

export interface SnapshotTransferComponents {
  registrar: Registrar
  connectionManager: ConnectionManager
  logger: ComponentLogger
}

export interface SnapshotTransferInit {
  protocol: string
  /** Largest chunk accepted */
  maxChunkSize: number
  /** A transfer may take this long (ms) plus size / minBytesPerSecond */
  timeout: number
  minBytesPerSecond: number
}

/** A snapshot to send: its InstallSnapshot request, what its data adds up to, and the data itself. */
export interface OutgoingSnapshot {
  message: RaftMessage
  size: number
  chunks: number
  checksum: Uint8Array
  /** Pulled one chunk at a time, as the stream accepts them; a chunk must not be reused after it is yielded */
  data: AsyncIterable<Uint8Array>
}

/** Where a receiver puts an accepted offer's chunks, in order. */
export interface SnapshotSink {
  write(chunk: Uint8Array, options?: AbortOptions): Promise<void>
  /** Verifies and accepts the whole snapshot; throws to reject it */
  finish(options?: AbortOptions): Promise<void>
  discard(options?: AbortOptions): Promise<void>
}

/**
 * Called for each offer from an authenticated peer: return a sink to accept,
 * throw to refuse (the error's name goes back to the sender).
 */
export type SnapshotOfferHandler = (from: PeerId, offer: SnapshotOffer, options: AbortOptions) => Promise<SnapshotSink>

/** Snapshot streams allowed per connection: one transfer, plus one overlapping its replacement. */
const MAX_INBOUND_STREAMS = 2
/** Room above the chunk limit for the offer frame: a request, its configuration and the client session table. */
const OFFER_SLACK = 64 * 1024 + SESSION_LIMITS.bytes
/** Largest reply frame a sender reads. */
const MAX_REPLY_SIZE = 1024
/** Chunks a sender may have sent and the receiver not yet stored. */
export const SNAPSHOT_WINDOW = 4

/**
 * InstallSnapshot data over a dedicated stream per transfer, so a large
 * snapshot never delays Raft's own frames. The receiver acknowledges each
 * chunk once its sink stored it, and the sender pulls and sends a chunk
 * only while fewer than `SNAPSHOT_WINDOW` are unacknowledged: both sides
 * hold a few chunks at most, whatever window the muxer allows.
 *
 * Wire format, every frame length-prefixed: the sender writes a
 * `SnapshotOffer` then `chunks` raw chunks and closes its side; the receiver
 * answers a `SnapshotReply` per stored chunk, and a last one with the
 * result once its sink finished (or as soon as it refuses or fails).
 */
export class SnapshotTransfer {
  private readonly components: SnapshotTransferComponents
  private readonly init: SnapshotTransferInit
  private readonly onOffer: SnapshotOfferHandler
  private readonly log: Logger
  private shutdown = new AbortController()
  private readonly inFlight = new Set<Promise<void>>()
  private running = false

  constructor (components: SnapshotTransferComponents, init: SnapshotTransferInit, onOffer: SnapshotOfferHandler) {
    this.components = components
    this.init = init
    this.onOffer = onOffer
    this.log = components.logger.forComponent('libp2p:raft:snapshot')
  }

  async start (): Promise<void> {
    this.shutdown = new AbortController()
    await this.components.registrar.handle(this.init.protocol, (stream, connection) => {
      void this.track(this.receive(stream, connection))
    }, { maxInboundStreams: MAX_INBOUND_STREAMS })
    this.running = true
  }

  /** Aborts every transfer in flight and waits for them to wind down, so no sink is used after it resolves. */
  async stop (): Promise<void> {
    this.running = false
    this.shutdown.abort(new AbortError('The snapshot transfer service stopped'))
    await this.components.registrar.unhandle(this.init.protocol)
    await Promise.all(this.inFlight)
  }

  /**
   * Resolves when the receiver accepted the snapshot; rejects with a
   * `SnapshotTransferError` that says why not (refused and the receiver's
   * error name, timeout, abort or stream failure).
   */
  async send (peer: PeerId, snapshot: OutgoingSnapshot, options: AbortOptions = {}): Promise<void> {
    if (!this.running) {
      throw new SnapshotTransferError(`Cannot send a snapshot to ${peer}: the snapshot transfer service is not running`)
    }
    return this.track(this.transfer(peer, snapshot, options))
  }

  private async transfer (peer: PeerId, snapshot: OutgoingSnapshot, options: AbortOptions): Promise<void> {
    const limit = this.deadline(snapshot.size)
    const timeout = AbortSignal.timeout(limit)
    const signal = AbortSignal.any([this.shutdown.signal, timeout, ...(options.signal == null ? [] : [options.signal])])
    const started = Date.now()
    let stream: Stream
    try {
      stream = await this.components.connectionManager.openStream(peer, this.init.protocol, { signal })
    } catch (err) {
      throw failure(peer, err, signal, timeout, limit)
    }
    const unwatch = abortOnSignal(stream, signal)
    try {
      const result = await this.exchange(stream, snapshot, signal)
      if (!result.ok) {
        throw new SnapshotTransferError(`${peer} refused the snapshot: ${result.error ?? 'no reason given'}`)
      }
      this.log('sent a snapshot of %d bytes in %d chunks to %p in %d ms', snapshot.size, snapshot.chunks, peer, Date.now() - started)
    } catch (err) {
      const error = err instanceof SnapshotTransferError ? err : failure(peer, err, signal, timeout, limit)
      this.log('cannot send a snapshot to %p - %e', peer, error)
      stream.abort(error)
      throw error
    } finally {
      unwatch()
    }
  }

  /** Writes the snapshot while reading the receiver's replies; its result may come early (a refusal). */
  private async exchange (stream: Stream, snapshot: OutgoingSnapshot, signal: AbortSignal): Promise<SnapshotResult> {
    const lp = lpStream(stream, { maxDataLength: MAX_REPLY_SIZE })
    const window = new AckWindow()
    const [written, answer] = await Promise.allSettled([
      this.write(stream, lp, snapshot, window, signal),
      readResult(lp, window, signal)
    ])
    if (answer.status === 'rejected') {
      throw written.status === 'rejected' ? written.reason : answer.reason
    }
    const result = answer.value
    // a refusal explains a write that failed because the receiver hung up
    if (written.status === 'rejected' && result.ok) {
      throw written.reason
    }
    return result
  }

  private async write (stream: Stream, lp: LengthPrefixedStream<Stream>, snapshot: OutgoingSnapshot, window: AckWindow, signal: AbortSignal): Promise<void> {
    try {
      const { message, size, chunks, checksum } = snapshot
      // a copy: the encoder wants an ArrayBuffer-backed array
      await lp.write(SnapshotOffer.encode({ message, size, chunks, checksum: Uint8Array.from(checksum) }), { signal })
      let count = 0
      for await (const chunk of snapshot.data) {
        // the receiver stops reading after `chunks` frames, so an extra one would wait forever
        if (++count > chunks) {
          throw new InvalidSnapshotError(`The snapshot data has more than the ${chunks} chunks announced`)
        }
        await lp.write(chunk, { signal })
        // pull the next chunk only once there is room for it
        await window.room(count)
      }
      await stream.close({ signal })
    } catch (err) {
      // ends the read of the answer too
      stream.abort(toError(err))
      throw err
    }
  }

  private async receive (stream: Stream, connection: Connection): Promise<void> {
    const from = connection.remotePeer
    const started = Date.now()
    const lp = lpStream(stream, { maxDataLength: this.init.maxChunkSize + OFFER_SLACK })
    // a reset ends the transfer at once, even with data still buffered or a sink call in progress
    const reset = new AbortController()
    stream.addEventListener('close', (evt) => {
      if (evt.error != null) {
        reset.abort(evt.error)
      }
    }, { once: true })
    let sink: SnapshotSink | undefined
    let unwatch = (): void => {}
    try {
      // the size, and so the deadline, is known once the offer is read
      const offer = await this.readOffer(stream, lp, AbortSignal.any([this.shutdown.signal, reset.signal, AbortSignal.timeout(this.init.timeout)]))
      const remaining = this.deadline(offer.size) - (Date.now() - started)
      const signal = AbortSignal.any([this.shutdown.signal, reset.signal, AbortSignal.timeout(Math.max(remaining, 0))])
      unwatch = abortOnSignal(stream, signal)
      sink = await this.onOffer(from, offer, { signal })
      await this.readChunks(stream, lp, offer, sink, signal)
      await sink.finish({ signal })
      this.log('received a snapshot of %d bytes in %d chunks from %p in %d ms', offer.size, offer.chunks, from, Date.now() - started)
    } catch (err) {
      await this.reject(stream, lp, from, sink, toError(err))
      return
    } finally {
      unwatch()
    }
    try {
      await lp.write(SnapshotReply.encode({ stored: 0, result: { ok: true } }), { signal: AbortSignal.timeout(this.init.timeout) })
      await stream.close({ signal: AbortSignal.timeout(this.init.timeout) })
    } catch (err) {
      // the snapshot is accepted already; only the sender misses the news
      this.log('cannot tell %p that its snapshot was accepted - %e', from, err)
      stream.abort(toError(err))
    }
  }

  private async readOffer (stream: Stream, lp: LengthPrefixedStream<Stream>, signal: AbortSignal): Promise<SnapshotOffer> {
    const bytes = await readFrame(lp, signal, 'before its offer')
    let offer: SnapshotOffer
    try {
      offer = SnapshotOffer.decode(bytes)
    } catch (err) {
      throw new InvalidSnapshotError(`The snapshot offer cannot be decoded: ${toError(err).message}`)
    }
    if (offer.message == null) {
      throw new InvalidSnapshotError('The snapshot offer carries no request')
    }
    if (offer.size > offer.chunks * this.init.maxChunkSize) {
      throw new InvalidSnapshotError(`A snapshot of ${offer.size} bytes does not fit in ${offer.chunks} chunks of at most ${this.init.maxChunkSize} bytes`)
    }
    return offer
  }

  /** Reads exactly the chunks announced, each into the sink before the next is read. */
  private async readChunks (stream: Stream, lp: LengthPrefixedStream<Stream>, offer: SnapshotOffer, sink: SnapshotSink, signal: AbortSignal): Promise<void> {
    let received = 0
    for (let i = 0; i < offer.chunks; i++) {
      const chunk = await readFrame(lp, signal, `after ${i} of ${offer.chunks} chunks`)
      if (chunk.byteLength > this.init.maxChunkSize) {
        throw new InvalidSnapshotError(`A snapshot chunk of ${chunk.byteLength} bytes is larger than ${this.init.maxChunkSize}`)
      }
      received += chunk.byteLength
      if (received > offer.size) {
        throw new InvalidSnapshotError(`The snapshot data is larger than the ${offer.size} bytes announced`)
      }
      await sink.write(chunk, { signal })
      await lp.write(SnapshotReply.encode({ stored: i + 1 }), { signal })
    }
    if (received !== offer.size) {
      throw new InvalidSnapshotError(`The snapshot data has ${received} of the ${offer.size} bytes announced`)
    }
  }

  /** Discards what was received, tells the sender why if the stream still allows it, and aborts the stream. */
  private async reject (stream: Stream, lp: LengthPrefixedStream<Stream>, from: PeerId, sink: SnapshotSink | undefined, err: Error): Promise<void> {
    this.log('dropped a snapshot from %p - %e', from, err)
    try {
      await sink?.discard({ signal: AbortSignal.timeout(this.init.timeout) })
    } catch (discardErr) {
      this.log.error('cannot discard a snapshot from %p - %e', from, discardErr)
    }
    if (stream.writeStatus === 'writable') {
      try {
        await lp.write(SnapshotReply.encode({ stored: 0, result: { ok: false, error: err.name } }), { signal: AbortSignal.timeout(this.init.timeout) })
      } catch (writeErr) {
        this.log('cannot tell %p why its snapshot was refused - %e', from, writeErr)
      }
    }
    stream.abort(err)
  }

  /** The time a transfer of `size` bytes may take. */
  private deadline (size: number): number {
    return this.init.timeout + Math.ceil(size / this.init.minBytesPerSecond * 1000)
  }

  /** Keeps `work` in `inFlight` until it settles, so `stop()` can wait for it. */
  private async track<T> (work: Promise<T>): Promise<T> {
    const settled = work.then(() => {}, () => {})
    this.inFlight.add(settled)
    void settled.then(() => this.inFlight.delete(settled))
    return work
  }
}

/** Reads one frame, explaining a stream that ends or carries an oversized frame. */
async function readFrame (lp: LengthPrefixedStream<Stream>, signal: AbortSignal, where: string): Promise<Uint8Array> {
  // a read served from buffered data would not notice the abort
  signal.throwIfAborted()
  try {
    return (await lp.read({ signal })).subarray()
  } catch (err: any) {
    // the stream broke under the read: why it broke is the better explanation
    if (signal.aborted) {
      throw signal.reason
    }
    if (err.name === 'UnexpectedEOFError') {
      throw new InvalidSnapshotError(`The snapshot stream ended ${where}`)
    }
    if (err.name === 'InvalidDataLengthError') {
      throw new InvalidSnapshotError(`A snapshot frame is too large: ${err.message}`)
    }
    throw err
  }
}

/** Reads the receiver's replies, moving the window on, until the one with the result. */
async function readResult (lp: LengthPrefixedStream<Stream>, window: AckWindow, signal: AbortSignal): Promise<SnapshotResult> {
  try {
    for (;;) {
      const reply = SnapshotReply.decode(await lp.read({ signal }))
      if (reply.result !== undefined) {
        return reply.result
      }
      window.acknowledge(reply.stored)
    }
  } finally {
    window.close()
  }
}

/**
 * The sender's view of what the receiver stored: `room(sent)` resolves once
 * fewer than `SNAPSHOT_WINDOW` of the `sent` chunks are unacknowledged, or
 * once no more acknowledgements will come (the result arrived, or the
 * stream failed: the write then fails or finishes on its own).
 */
class AckWindow {
  private stored = 0
  private closed = false
  private wake: (() => void) | undefined

  acknowledge (stored: number): void {
    this.stored = Math.max(this.stored, stored)
    this.wake?.()
  }

  close (): void {
    this.closed = true
    this.wake?.()
  }

  async room (sent: number): Promise<void> {
    while (!this.closed && sent - this.stored >= SNAPSHOT_WINDOW) {
      await new Promise<void>(resolve => { this.wake = resolve })
      this.wake = undefined
    }
  }
}

/** Aborts `stream` as soon as `signal` aborts; returns a function that stops watching. */
function abortOnSignal (stream: Stream, signal: AbortSignal): () => void {
  const abort = (): void => { stream.abort(toError(signal.reason)) }
  if (signal.aborted) {
    abort()
    return () => {}
  }
  signal.addEventListener('abort', abort, { once: true })
  return () => { signal.removeEventListener('abort', abort) }
}

/** The error a failed send rejects with: the signal's reason when it aborted (it caused the rest), or else the failure. */
function failure (peer: PeerId, err: unknown, signal: AbortSignal, timeout: AbortSignal, limit: number): SnapshotTransferError {
  let message: string
  if (timeout.aborted && signal.reason === timeout.reason) {
    message = `Sending the snapshot to ${peer} timed out after ${limit} ms`
  } else if (signal.aborted) {
    message = `Sending the snapshot to ${peer} was aborted: ${toError(signal.reason).message}`
  } else {
    const error = toError(err)
    message = `Sending the snapshot to ${peer} failed: ${error.name}: ${error.message}`
  }
  const error = new SnapshotTransferError(message)
  error.cause = err
  return error
}

function toError (err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err))
}
