/**
 * What an inbound Raft stream may cost: a member's frames may be as large as
 * `maxMessageSize`; a non-member's stream holds one small frame at most, for
 * a bounded time, and only a few such streams are read at once.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { lpStream, streamPair } from '@libp2p/utils'
import { expect } from 'aegir/chai'
import { MAX_OUTSIDER_FRAME, MAX_OUTSIDER_STREAMS } from '../../src/constants.ts'
import { RaftNetwork } from '../../src/network/raft-network.ts'
import { Frame } from '../../src/pb/raft.ts'
import { waitFor } from '../utils/nodes.ts'
import { recordingLogger } from '../utils/recording-logger.ts'
import type { Connection, PeerId, Stream, StreamHandler } from '@libp2p/interface'

const PROTOCOL = '/libp2p-raft/test/1.0.0'
const MiB = 1024 * 1024

/** A frame whose command is `size` bytes. */
function frameOf (size: number): Uint8Array {
  return Frame.encode({ propose: { id: 1, term: 1, again: false, command: new Uint8Array(size).fill(7) } })
}

describe('network: inbound streams', function () {
  this.timeout(30_000)
  let handler: StreamHandler
  let network: RaftNetwork
  /** The receiving ends of the streams the network opened */
  const opened: Stream[] = []
  let member: PeerId
  let outsider: PeerId
  const received: Array<{ from: string, frame: Frame }> = []

  beforeEach(async () => {
    received.length = 0
    opened.length = 0
    member = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    outsider = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const registrar = {
      handle: async (_protocol: string, h: StreamHandler) => { handler = h },
      unhandle: async () => {}
    }
    const connectionManager = {
      openStream: async () => {
        const [outbound, inbound] = await streamPair()
        opened.push(inbound)
        return outbound
      }
    }
    network = new RaftNetwork(
      { registrar: registrar as any, connectionManager: connectionManager as any, logger: recordingLogger().components },
      { protocol: PROTOCOL, maxMessageSize: 6 * MiB, maxQueuedFrames: 16, maxInboundStreams: 4, dialTimeout: 1000, outsiderReadTimeout: 300 },
      (from, frame) => { received.push({ from: from.toString(), frame }) },
      (peer) => peer === member.toString()
    )
    await network.start()
  })

  afterEach(async () => {
    await network.stop()
  })

  /** Opens a stream from `from`; returns the sender's end (and the receiver's in `ends`). */
  const ends = new Map<Stream, Stream>()
  async function open (from: PeerId): Promise<Stream> {
    const [outbound, inbound] = await streamPair()
    ends.set(outbound, inbound)
    void handler(inbound, { remotePeer: from } as unknown as Connection)
    return outbound
  }

  async function resetSoon (stream: Stream): Promise<void> {
    await waitFor(() => stream.status !== 'open', 'the receiver to reset the stream', 10_000)
  }

  it('reads a member\'s frames one after another, up to maxMessageSize (beyond libp2p\'s 4 MiB default buffer)', async () => {
    const stream = await open(member)
    const lp = lpStream(stream, { maxDataLength: 8 * MiB })
    await lp.write(frameOf(100))
    await lp.write(frameOf(5 * MiB))
    await lp.write(frameOf(200))
    await waitFor(() => received.length === 3, 'three frames')
    expect(received.map(r => r.frame.propose?.command.byteLength)).to.deep.equal([100, 5 * MiB, 200])
    expect(stream.status).to.equal('open')
  })

  it('closes its end of a stream the sender closed, so half-closed streams do not pile up against maxInboundStreams', async () => {
    for (const from of [member, outsider]) {
      const stream = await open(from)
      await lpStream(stream).write(frameOf(10))
      await stream.close()
      const inbound = ends.get(stream) as Stream
      await waitFor(() => inbound.status !== 'open', 'the receiver to close its end', 10_000)
    }
    expect(received).to.have.length(2)
  })

  it('reads one frame from a non-member, then resets the stream', async () => {
    const stream = await open(outsider)
    const lp = lpStream(stream)
    await lp.write(frameOf(100))
    await lp.write(frameOf(100))
    await resetSoon(stream)
    expect(received).to.have.length(1)
  })

  it('resets a non-member\'s stream at a frame larger than a join, without reading it', async () => {
    const stream = await open(outsider)
    const lp = lpStream(stream)
    await lp.write(frameOf(MAX_OUTSIDER_FRAME + 1)).catch(() => {})
    await resetSoon(stream)
    expect(received).to.be.empty()
  })

  it('resets a non-member\'s stream that sends nothing in time', async () => {
    const stream = await open(outsider)
    await resetSoon(stream)
    expect(received).to.be.empty()
  })

  it('sends to a non-member on a stream of its own, closed after the frame, and keeps nothing for it', async () => {
    network.send(outsider.toString(), { proposeResult: { id: 1, index: 0, term: 0 } })
    network.send(outsider.toString(), { proposeResult: { id: 2, index: 0, term: 0 } })
    await waitFor(() => opened.length === 2, 'a stream per frame')
    for (const [i, stream] of opened.entries()) {
      const lp = lpStream(stream)
      expect(Frame.decode(await lp.read()).proposeResult?.id).to.equal(i + 1)
      await waitFor(() => stream.remoteWriteStatus !== 'writable', 'the sender to close the stream')
    }
  })

  it(`reads at most ${MAX_OUTSIDER_STREAMS} non-members' streams at once; members' streams are not held up`, async () => {
    const idle = await Promise.all(Array.from({ length: MAX_OUTSIDER_STREAMS }, async () => open(outsider)))
    const extra = await open(outsider)
    await resetSoon(extra)
    expect(idle.every(s => s.status === 'open')).to.be.true()
    const fromMember = await open(member)
    await lpStream(fromMember).write(frameOf(10))
    await waitFor(() => received.length === 1, 'the member\'s frame')
    // Once the idle ones are gone, a non-member is read again.
    await Promise.all(idle.map(async s => resetSoon(s)))
    const later = await open(outsider)
    await lpStream(later).write(frameOf(10))
    await waitFor(() => received.length === 2, 'a later non-member\'s frame')
  })
})
