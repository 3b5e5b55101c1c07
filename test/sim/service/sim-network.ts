/**
 * The network between simulated service nodes, standing in for libp2p
 * streams. Frames are encoded and decoded as on the wire and arrive after a
 * random delay (so they may be reordered); they can be lost, duplicated, cut
 * by symmetric, one-way and bridge partitions, or lost together when the
 * stream that carries them resets mid-frame. A frame larger than the
 * receiver's `maxMessageSize` resets the stream, as the length-prefixed
 * reader does. Snapshots travel on channels of their own, chunk by chunk,
 * at a rate that makes large ones take time, and can be cut off part way.
 */
import { SnapshotTransferError } from '../../../src/errors.ts'
import { Frame } from '../../../src/pb/raft.ts'
import { Links } from '../../utils/links.ts'
import type { NodeId } from '../../../src/core/index.ts'
import type { FrameHandler } from '../../../src/network/raft-network.ts'
import type { OutgoingSnapshot, SnapshotOfferHandler } from '../../../src/network/snapshot-transfer.ts'
import type { FrameTransport, SnapshotChannel } from '../../../src/service/seams.ts'
import type { World } from '../world.ts'
import type { AbortOptions, PeerId } from '@libp2p/interface'

export interface NetworkFaults {
  /** One-way delay of a frame, ms */
  latency: [number, number]
  /** Probability that a frame (or a snapshot transfer) is lost */
  drop: number
  /** Probability that a frame arrives twice */
  duplicate: number
  /** Probability that sending a frame resets the stream: it and every frame still in flight on it are lost */
  reset: number
  /** Probability that a snapshot transfer is cut off after each chunk */
  cutOff: number
  /** Snapshot bytes per virtual ms */
  transferRate: number
}

export const CALM: NetworkFaults = { latency: [1, 5], drop: 0, duplicate: 0, reset: 0, cutOff: 0, transferRate: 64 * 1024 }

/** A node's attachment: how to hand it frames and offers, for as long as this incarnation lives. */
interface Endpoint {
  peerId: PeerId
  maxMessageSize: number
  onFrame?: FrameHandler
  onOffer?: SnapshotOfferHandler
  /** Between the transport's start and stop */
  framesOpen?: boolean
  /** The snapshot channel's run: bumped at each start and stop, so a transfer of an earlier run breaks */
  channelRun: number
  channelOpen?: boolean
  /** Transfers this endpoint takes part in, as sender or receiver: its channel's stop waits for them */
  readonly transfers: Set<Promise<void>>
  /** How much slower than normal this node is */
  slowness(): number
}

export class SimNetwork {
  readonly links = new Links()
  faults: NetworkFaults = { ...CALM }
  private readonly world: World
  private readonly endpoints = new Map<NodeId, Endpoint>()
  /** Per directed link: bumped on a reset, so frames sent before it are lost */
  private readonly streams = new Map<string, number>()
  /** Frames lost to resets and size, for scenario expectations */
  readonly stats = { frames: 0, resets: 0, oversized: 0, transfers: 0, cutOff: 0 }

  constructor (world: World) {
    this.world = world
  }

  /** Attaches an incarnation; the returned seams are its only way onto the network. */
  attach (id: NodeId, init: Pick<Endpoint, 'peerId' | 'maxMessageSize' | 'slowness'>): { transport(onFrame: FrameHandler): FrameTransport, snapshotChannel(onOffer: SnapshotOfferHandler): SnapshotChannel, detach(): void } {
    const endpoint: Endpoint = { ...init, channelRun: 0, transfers: new Set() }
    const detach = (): void => {
      if (this.endpoints.get(id) === endpoint) {
        this.endpoints.delete(id)
        for (const key of this.streams.keys()) {
          if (key.startsWith(`${id}->`) || key.endsWith(`->${id}`)) {
            this.reset(key)
          }
        }
      }
    }
    this.endpoints.set(id, endpoint)
    return {
      detach,
      transport: (onFrame) => {
        endpoint.onFrame = onFrame
        return {
          start: async () => { endpoint.framesOpen = true },
          stop: async () => { endpoint.framesOpen = false },
          send: (to, frame) => { this.send(id, endpoint, to, frame) },
          reconnected: () => {}
        }
      },
      snapshotChannel: (onOffer) => {
        endpoint.onOffer = onOffer
        return {
          start: async () => {
            endpoint.channelRun++
            endpoint.channelOpen = true
          },
          // As the real channel: every transfer in flight ends, and no sink is used once this resolves.
          stop: async () => {
            endpoint.channelRun++
            endpoint.channelOpen = false
            await Promise.allSettled([...endpoint.transfers])
          },
          send: async (peer, snapshot, options) => { await this.transfer(id, endpoint, peer.toString(), snapshot, options) }
        }
      }
    }
  }

  private stream (from: NodeId, to: NodeId): { key: string, generation: number } {
    const key = `${from}->${to}`
    return { key, generation: this.streams.get(key) ?? 0 }
  }

  private reset (key: string): void {
    this.streams.set(key, (this.streams.get(key) ?? 0) + 1)
    this.stats.resets++
  }

  private delay (from: Endpoint, to: Endpoint | undefined): number {
    return this.world.between(this.faults.latency) * Math.max(from.slowness(), to?.slowness() ?? 1)
  }

  private send (from: NodeId, sender: Endpoint, to: NodeId, frame: Frame): void {
    if (this.endpoints.get(from) !== sender || sender.framesOpen !== true) {
      return
    }
    this.stats.frames++
    const bytes = Frame.encode(frame)
    const receiver = this.endpoints.get(to)
    const stream = this.stream(from, to)
    if (receiver !== undefined && bytes.byteLength > receiver.maxMessageSize) {
      this.stats.oversized++
      this.reset(stream.key)
      return
    }
    const rng = this.world.rng
    if (rng.chance(this.faults.reset)) {
      this.reset(stream.key)
      return
    }
    if (rng.chance(this.faults.drop)) {
      return
    }
    const copies = rng.chance(this.faults.duplicate) ? 2 : 1
    for (let i = 0; i < copies; i++) {
      this.world.schedule(this.delay(sender, receiver), () => {
        const current = this.endpoints.get(to)
        if (current !== receiver || current?.onFrame === undefined || current.framesOpen !== true || this.endpoints.get(from) !== sender ||
          this.links.isCut(from, to) || this.stream(from, to).generation !== stream.generation) {
          return
        }
        current.onFrame(sender.peerId, Frame.decode(bytes))
      })
    }
  }

  /**
   * Moves a snapshot as the real channel does: the offer, then each chunk
   * into the receiver's sink, then its verdict. Fails (and the receiver
   * discards what it staged) if either side dies, the link is cut, the
   * sender aborts, or the transfer is cut off.
   */
  private async transfer (from: NodeId, sender: Endpoint, to: NodeId, snapshot: OutgoingSnapshot, options: AbortOptions = {}): Promise<void> {
    this.stats.transfers++
    const receiver = this.endpoints.get(to)
    const runs = { sender: sender.channelRun, receiver: receiver?.channelRun }
    const broken = (): string | undefined => {
      if (this.endpoints.get(from) !== sender || sender.channelOpen !== true || sender.channelRun !== runs.sender) {
        return 'the sender stopped'
      }
      if (this.endpoints.get(to) !== receiver || receiver?.channelOpen !== true || receiver.channelRun !== runs.receiver) {
        return 'the receiver is not running'
      }
      if (this.links.isCut(from, to) || this.links.isCut(to, from)) {
        return 'the link is cut'
      }
      if (options.signal?.aborted === true) {
        return 'aborted'
      }
      return undefined
    }
    const fail = async (why: string): Promise<never> => {
      // The sender learns of a broken transfer only after a while.
      await this.world.sleep(this.delay(sender, receiver) + this.world.rng.int(200))
      throw new SnapshotTransferError(`sending the snapshot to ${to} failed: ${why}`)
    }
    await this.world.sleep(this.delay(sender, receiver))
    if (broken() !== undefined || receiver?.onOffer === undefined || this.world.rng.chance(this.faults.drop)) {
      return fail(broken() ?? 'the offer was lost')
    }
    // Both ends' channels wait for the exchange with the sink before they stop.
    const exchange = this.exchange(sender, receiver, receiver.onOffer, snapshot, broken)
    sender.transfers.add(exchange)
    receiver.transfers.add(exchange)
    try {
      await exchange
    } catch (err: any) {
      return await fail(String(err.message))
    } finally {
      sender.transfers.delete(exchange)
      receiver.transfers.delete(exchange)
    }
  }

  /** Offers the snapshot and streams it into the receiver's sink; throws why it broke (the sink discarded). */
  private async exchange (sender: Endpoint, receiver: Endpoint, onOffer: SnapshotOfferHandler, snapshot: OutgoingSnapshot, broken: () => string | undefined): Promise<void> {
    const abort = new AbortController()
    let sink
    try {
      sink = await onOffer(sender.peerId, { message: snapshot.message, size: snapshot.size, chunks: snapshot.chunks, checksum: snapshot.checksum as Uint8Array<ArrayBuffer> }, { signal: abort.signal })
    } catch (err: any) {
      throw new Error(`refused: ${String(err.name)}`)
    }
    try {
      for await (const chunk of snapshot.data) {
        await this.world.sleep(1 + Math.ceil(chunk.byteLength / this.faults.transferRate) * sender.slowness())
        const why = broken() ?? (this.world.rng.chance(this.faults.cutOff) ? 'cut off' : undefined)
        if (why !== undefined) {
          this.stats.cutOff++
          throw new Error(why)
        }
        // The real channel hands the sink a copy it owns.
        await sink.write(chunk.slice(), { signal: abort.signal })
      }
      await this.world.sleep(this.delay(sender, receiver))
      const why = broken()
      if (why !== undefined) {
        throw new Error(why)
      }
      await sink.finish({ signal: abort.signal })
    } catch (err: any) {
      abort.abort(err)
      await sink.discard().catch(() => {})
      throw err
    }
  }
}
