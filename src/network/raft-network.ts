import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
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
}

/** Called for every frame that arrives, with the authenticated peer that sent it. */
export type FrameHandler = (from: PeerId, frame: Frame) => void

/**
 * Raft's use of libp2p: one protocol handler for inbound streams and one
 * long-lived outbound stream per member. It moves frames and knows nothing
 * of their meaning; the service decides what to trust.
 */
export class RaftNetwork {
  private readonly components: RaftNetworkComponents
  private readonly init: RaftNetworkInit
  private readonly onFrame: FrameHandler
  private readonly log: Logger
  private readonly senders = new Map<string, PeerSender>()
  private readonly inbound = new Set<Stream>()
  private running = false

  constructor (components: RaftNetworkComponents, init: RaftNetworkInit, onFrame: FrameHandler) {
    this.components = components
    this.init = init
    this.onFrame = onFrame
    this.log = components.logger.forComponent('libp2p:raft:network')
  }

  async start (): Promise<void> {
    await this.components.registrar.handle(this.init.protocol, (stream, connection) => {
      void this.receive(stream, connection)
    }, { maxInboundStreams: this.init.maxInboundStreams })
    this.running = true
  }

  async stop (): Promise<void> {
    this.running = false
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
    let sender = this.senders.get(to)
    if (sender === undefined) {
      sender = new PeerSender(peerIdFromString(to), this.components.connectionManager, this.init, this.log)
      this.senders.set(to, sender)
    }
    sender.send(Frame.encode(frame))
  }

  /** A peer connected again: stop waiting out the pause after its last failure. */
  reconnected (peer: string): void {
    this.senders.get(peer)?.retryNow()
  }

  private async receive (stream: Stream, connection: Connection): Promise<void> {
    const remote = connection.remotePeer
    this.inbound.add(stream)
    const lp = lpStream(stream, { maxDataLength: this.init.maxMessageSize })
    try {
      while (this.running) {
        const bytes = await lp.read()
        this.onFrame(remote, Frame.decode(bytes))
      }
    } catch (err: any) {
      if (this.running && err.name !== 'UnexpectedEOFError') {
        this.log('inbound raft stream from %p failed - %e', remote, err)
        stream.abort(err)
      }
    } finally {
      this.inbound.delete(stream)
    }
  }
}
