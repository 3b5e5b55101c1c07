import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { MAX_OUTSIDER_FRAME, MAX_OUTSIDER_STREAMS } from '../constants.ts'
import { Frame } from '../pb/raft.ts'
import { PeerSender } from './peer-sender.ts'
import type { PeerSenderInit } from './peer-sender.ts'
import type { ComponentLogger, Connection, Logger, PeerId, Stream } from '@libp2p/interface'
import type { ConnectionManager, Registrar } from '@libp2p/interface-internal'

export interface RaftNetworkComponents {
  registrar: Registrar
  connectionManager: ConnectionManager
  logger: ComponentLogger
}

export interface RaftNetworkInit extends PeerSenderInit {
  maxInboundStreams: number
  /** How long a stream from a non-member may take to deliver its one frame, so idle ones do not hold the few places */
  outsiderReadTimeout: number
}

/** Called for every frame that arrives, with the authenticated peer that sent it. */
export type FrameHandler = (from: PeerId, frame: Frame) => void

/** Whether a peer is a member, whose frames may be as large as `maxMessageSize`. */
export type MemberCheck = (peer: string) => boolean

/** Bytes a reader may hold beyond its largest frame: what arrives while a frame is handled. */
const READ_SLACK = 64 * 1024

/**
 * Raft's use of libp2p: one protocol handler for inbound streams and one
 * long-lived outbound stream per member. It moves frames and knows nothing
 * of their meaning; the service decides what to trust. Only what a stream
 * may cost depends on the sender: a member's frames may be as large as
 * `maxMessageSize`, while a stream from anyone else holds at most one small
 * frame (a join request) and is then reset, and only a few such streams
 * are read at once.
 */
export class RaftNetwork {
  private readonly components: RaftNetworkComponents
  private readonly init: RaftNetworkInit
  private readonly onFrame: FrameHandler
  private readonly isMember: MemberCheck
  private readonly log: Logger
  private readonly senders = new Map<string, PeerSender>()
  private readonly inbound = new Set<Stream>()
  private outsiderStreams = 0
  private running = false
  /** Aborted by stop(), for the sends to non-members in flight */
  private stopping = new AbortController()

  constructor (components: RaftNetworkComponents, init: RaftNetworkInit, onFrame: FrameHandler, isMember: MemberCheck) {
    this.components = components
    this.init = init
    this.onFrame = onFrame
    this.isMember = isMember
    this.log = components.logger.forComponent('libp2p:raft:network')
  }

  async start (): Promise<void> {
    await this.components.registrar.handle(this.init.protocol, (stream, connection) => {
      void this.receive(stream, connection)
    }, { maxInboundStreams: this.init.maxInboundStreams })
    this.stopping = new AbortController()
    this.running = true
  }

  async stop (): Promise<void> {
    this.running = false
    this.stopping.abort()
    await this.components.registrar.unhandle(this.init.protocol)
    for (const sender of this.senders.values()) {
      sender.close()
    }
    this.senders.clear()
    for (const stream of this.inbound) {
      stream.abort(new Error('libp2p-raft stopped'))
    }
    this.inbound.clear()
  }

  /** Queues a frame for a peer; never waits and never throws (Raft tolerates loss). */
  send (to: string, frame: Frame): void {
    if (!this.running) {
      return
    }
    if (!this.senders.has(to) && !this.isMember(to)) {
      void this.sendOnce(to, Frame.encode(frame))
      return
    }
    let sender = this.senders.get(to)
    if (sender === undefined) {
      sender = new PeerSender(peerIdFromString(to), this.components.connectionManager, this.init, this.log)
      this.senders.set(to, sender)
    }
    sender.send(Frame.encode(frame))
  }

  /**
   * A frame for a peer that is not a member (the answer to its join) goes
   * on a stream of its own, closed after it, so nothing is kept for the
   * peer afterwards.
   */
  private async sendOnce (to: string, bytes: Uint8Array): Promise<void> {
    const signal = AbortSignal.any([this.stopping.signal, AbortSignal.timeout(this.init.dialTimeout)])
    try {
      const stream = await this.components.connectionManager.openStream(peerIdFromString(to), this.init.protocol, { signal })
      await lpStream(stream, { maxDataLength: this.init.maxMessageSize }).write(bytes, { signal })
      await stream.close({ signal })
    } catch (err) {
      this.log('cannot send to %s, which is not a member - %e', to, err)
    }
  }

  /** A peer connected again: stop waiting out the pause after its last failure. */
  reconnected (peer: string): void {
    this.senders.get(peer)?.retryNow()
  }

  private async receive (stream: Stream, connection: Connection): Promise<void> {
    const remote = connection.remotePeer
    const member = this.isMember(remote.toString())
    if (!member && this.outsiderStreams >= MAX_OUTSIDER_STREAMS) {
      this.log('resetting a raft stream from %p: too many streams from non-members', remote)
      stream.abort(new Error('too many libp2p-raft streams from non-members'))
      return
    }
    const limit = member ? this.init.maxMessageSize : MAX_OUTSIDER_FRAME
    const lp = lpStream(stream, { maxDataLength: limit, maxBufferSize: limit + READ_SLACK })
    this.inbound.add(stream)
    if (!member) {
      this.outsiderStreams++
    }
    try {
      if (member) {
        while (this.running) {
          this.onFrame(remote, Frame.decode(await lp.read()))
        }
      } else {
        // One frame from a non-member, then the stream goes: its next request comes on a new one.
        const bytes = await lp.read({ signal: AbortSignal.timeout(this.init.outsiderReadTimeout) })
        this.onFrame(remote, Frame.decode(bytes))
        stream.abort(new Error('libp2p-raft reads one frame per stream from non-members'))
      }
    } catch (err: any) {
      if (!this.running) {
        // stop() resets every inbound stream
      } else if (err.name === 'UnexpectedEOFError') {
        // The sender closed its end. Close ours too, or the stream stays half
        // open and counts against maxInboundStreams on that connection.
        stream.close().catch((err: Error) => { stream.abort(err) })
      } else {
        this.log('inbound raft stream from %p failed - %e', remote, err)
        stream.abort(err)
      }
    } finally {
      this.inbound.delete(stream)
      if (!member) {
        this.outsiderStreams--
      }
    }
  }
}
