import { lpStream } from '@libp2p/utils'
import type { Logger, PeerId, Stream } from '@libp2p/interface'
import type { ConnectionManager } from '@libp2p/interface-internal'
import type { LengthPrefixedStream } from '@libp2p/utils'

export interface PeerSenderInit {
  protocol: string
  maxMessageSize: number
  maxQueuedFrames: number
  dialTimeout: number
}

/** First and longest pause before re-dialling a member that could not be reached. */
const MIN_BACKOFF = 100
const MAX_BACKOFF = 5000

/**
 * The long-lived outbound stream to one member. Frames are queued and
 * written in batches (everything queued while the previous write drained
 * goes out in one write), so a slow peer applies back-pressure without
 * blocking the node. The queue is bounded: when it overflows the oldest
 * frames are dropped, which Raft tolerates (it re-sends what still matters).
 * A failed stream is dropped with its queue and re-opened on the next frame,
 * after a growing pause.
 */
export class PeerSender {
  private readonly peer: PeerId
  private readonly connectionManager: ConnectionManager
  private readonly init: PeerSenderInit
  private readonly log: Logger
  private queue: Uint8Array[] = []
  private stream: Stream | undefined
  private lp: LengthPrefixedStream<Stream> | undefined
  private flushing = false
  private closed = false
  private backoff = 0
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private readonly shutdown = new AbortController()

  constructor (peer: PeerId, connectionManager: ConnectionManager, init: PeerSenderInit, log: Logger) {
    this.peer = peer
    this.connectionManager = connectionManager
    this.init = init
    this.log = log
  }

  send (frame: Uint8Array): void {
    if (this.closed) {
      return
    }
    this.queue.push(frame)
    if (this.queue.length > this.init.maxQueuedFrames) {
      const dropped = this.queue.length - this.init.maxQueuedFrames
      this.queue.splice(0, dropped)
      this.log.trace('dropped %d queued frames for %p', dropped, this.peer)
    }
    if (!this.flushing && this.retryTimer === undefined) {
      // Start on the next microtask, so the frames of one batch share one write.
      this.flushing = true
      queueMicrotask(() => { void this.flush() })
    }
  }

  /** The peer is reachable again: skip the rest of the pause and send what is queued. */
  retryNow (): void {
    if (this.retryTimer === undefined) {
      return
    }
    clearTimeout(this.retryTimer)
    this.retryTimer = undefined
    this.backoff = 0
    if (this.queue.length > 0 && !this.flushing) {
      void this.flush()
    }
  }

  close (): void {
    this.closed = true
    this.queue = []
    clearTimeout(this.retryTimer)
    this.shutdown.abort()
    this.stream?.abort(new Error('libp2p-raft stopped'))
    this.stream = undefined
    this.lp = undefined
  }

  private async flush (): Promise<void> {
    this.flushing = true
    try {
      while (this.queue.length > 0 && !this.closed) {
        const lp = await this.connect()
        const frames = this.queue
        this.queue = []
        await lp.writeV(frames, { signal: this.shutdown.signal })
        this.backoff = 0
      }
    } catch (err) {
      if (!this.closed) {
        this.fail(err)
      }
    } finally {
      this.flushing = false
    }
  }

  private async connect (): Promise<LengthPrefixedStream<Stream>> {
    if (this.lp !== undefined && this.stream?.writeStatus === 'writable') {
      return this.lp
    }
    const signal = AbortSignal.any([this.shutdown.signal, AbortSignal.timeout(this.init.dialTimeout)])
    const stream = await this.connectionManager.openStream(this.peer, this.init.protocol, { signal })
    if (this.closed) {
      stream.abort(new Error('libp2p-raft stopped'))
      throw new Error('closed')
    }
    stream.addEventListener('close', () => {
      if (this.stream === stream) {
        this.stream = undefined
        this.lp = undefined
      }
    }, { once: true })
    this.stream = stream
    this.lp = lpStream(stream, { maxDataLength: this.init.maxMessageSize })
    this.log.trace('opened raft stream to %p', this.peer)
    return this.lp
  }

  /** Drops the stream and what was queued, and tries again after a growing pause. */
  private fail (err: unknown): void {
    this.log('cannot send to %p - %e', this.peer, err)
    this.stream?.abort(err instanceof Error ? err : new Error(String(err)))
    this.stream = undefined
    this.lp = undefined
    this.queue = []
    this.backoff = Math.min(Math.max(this.backoff * 2, MIN_BACKOFF), MAX_BACKOFF)
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined
      if (this.queue.length > 0 && !this.flushing) {
        void this.flush()
      }
    }, this.backoff)
  }
}
