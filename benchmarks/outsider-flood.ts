/**
 * What peers outside the group can make a member hold: one member (a
 * one-voter group, in a child process, see `flood-target.ts`) is flooded by
 * many libp2p identities that are not members. Each opens as many Raft
 * streams as it may and, on every one, announces a frame just under
 * `maxMessageSize`, sends all of it but the last byte and holds the stream
 * open; beside those, it sends join requests as fast as they are taken. The target's RSS is read before, at
 * its peak (VmHWM) and after the flood.
 *
 * Connections from many identities cost libp2p memory of its own (noise,
 * yamux, identify, V8's heap growing under the churn), whatever the
 * protocol does. So the same flood first runs against a target without
 * Raft (a handler that resets every stream on the Raft protocol), then
 * against the member, and the bound is on what Raft adds: the member's
 * peak RSS growth may exceed libp2p's by at most `--margin` MiB.
 *
 * Prints a JSON line per run (`FloodResult`), then
 * `{"bench":"outsider-flood","raft_over_libp2p_mb":N,"margin_mb":N,"within_bound":bool}`;
 * exits 1 when out of bound.
 *
 * Usage: npm run bench:flood -- [--identities 40] [--streams 4] [--seconds 20] [--margin 32]
 */
import { fork } from 'node:child_process'
import { parseArgs } from 'node:util'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { Frame, MembershipRequest } from '../src/pb/raft.ts'
import type { FloodTargetMessage } from './flood-target.ts'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Libp2p } from 'libp2p'

/** Announced frame size: just under the default maxMessageSize (4 MiB) */
const FRAME_BYTES = 4 * 1024 * 1024 - 1024
const CHUNK = new Uint8Array(64 * 1024).fill(0x5a)

const { values } = parseArgs({
  options: {
    identities: { type: 'string', default: '40' },
    streams: { type: 'string', default: '4' },
    seconds: { type: 'string', default: '20' },
    margin: { type: 'string', default: '32' }
  }
})
const identities = Number(values.identities)
const streamsPerIdentity = Number(values.streams)
const seconds = Number(values.seconds)
const marginMb = Number(values.margin)

interface FloodResult {
  bench: 'outsider-flood'
  target: 'bare libp2p' | 'raft member'
  identities: number
  streams_per_identity: number
  seconds: number
  frames_started: number
  joins_sent: number
  rss_before_mb: number
  rss_peak_mb: number
  rss_after_mb: number
  heap_after_mb: number
  array_buffers_after_mb: number
  /** Peak RSS during the flood minus RSS before it */
  growth_mb: number
  commits_during: number
}

/** One flood against a fresh target; `bare`: libp2p alone, no Raft. */
async function flood (bare: boolean): Promise<FloodResult> {
  const child = fork(new URL('./flood-target.ts', import.meta.url), bare ? ['bare'] : [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [...process.execArgv, '--expose-gc']
  })
  const messages: FloodTargetMessage[] = []
  const waiting: Array<(m: FloodTargetMessage) => void> = []
  child.on('message', (m: FloodTargetMessage) => {
    const next = waiting.shift()
    if (next !== undefined) {
      next(m)
    } else {
      messages.push(m)
    }
  })
  async function nextMessage (): Promise<FloodTargetMessage> {
    const queued = messages.shift()
    if (queued !== undefined) {
      return queued
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error('the flooded member did not answer within 60 s')) }, 60_000)
      waiting.push(m => { clearTimeout(timer); resolve(m) })
    })
  }
  async function memory (): Promise<Extract<FloodTargetMessage, { type: 'memory' }>> {
    child.send({ type: 'memory' })
    const m = await nextMessage()
    if (m.type !== 'memory') {
      throw new Error(`unexpected message ${m.type}`)
    }
    return m
  }

  const outsiders: Libp2p[] = []
  try {
    const ready = await nextMessage()
    if (ready.type !== 'ready') {
      throw new Error('the flooded member did not start')
    }
    const target = multiaddr(ready.multiaddr)
    const protocol = ready.protocol
    for (let i = 0; i < identities; i++) {
      outsiders.push(await createLibp2p({ transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()], connectionMonitor: { enabled: false } }))
    }
    const before = await memory()
    const counts = { frames: 0, joins: 0 }
    const end = Date.now() + seconds * 1000
    await Promise.all(outsiders.flatMap(o => [
      ...Array.from({ length: Math.max(1, streamsPerIdentity - 1) }, async () => floodFrames(o, target, protocol, end, counts)),
      floodJoins(o, target, protocol, end, counts)
    ]))
    const after = await memory()
    return {
      bench: 'outsider-flood',
      target: bare ? 'bare libp2p' : 'raft member',
      identities,
      streams_per_identity: streamsPerIdentity,
      seconds,
      frames_started: counts.frames,
      joins_sent: counts.joins,
      rss_before_mb: round(before.rssMb),
      rss_peak_mb: round(after.peakRssMb),
      rss_after_mb: round(after.rssMb),
      heap_after_mb: round(after.heapMb),
      array_buffers_after_mb: round(after.arrayBuffersMb),
      growth_mb: round(after.peakRssMb - before.rssMb),
      commits_during: after.commits - before.commits
    }
  } finally {
    await Promise.all(outsiders.map(async o => o.stop()))
    child.send({ type: 'stop' })
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await new Promise(resolve => child.once('exit', resolve))
    clearTimeout(timer)
  }
}

/**
 * Opens streams and, on each, sends all of a huge frame but its last byte,
 * then holds the stream open until the target drops it or the run ends:
 * whatever the target buffers for it stays buffered.
 */
async function floodFrames (from: Libp2p, target: Multiaddr, protocol: string, end: number, counts: { frames: number }): Promise<void> {
  while (Date.now() < end) {
    try {
      const stream = await from.dialProtocol(target, protocol, { signal: AbortSignal.timeout(5000) })
      counts.frames++
      stream.send(encodeVarint(FRAME_BYTES))
      for (let sent = 0; sent < FRAME_BYTES - 1 && stream.status === 'open' && Date.now() < end; sent += CHUNK.byteLength) {
        const chunk = CHUNK.subarray(0, Math.min(CHUNK.byteLength, FRAME_BYTES - 1 - sent))
        if (!stream.send(chunk)) {
          await stream.onDrain({ signal: AbortSignal.timeout(5000) })
        }
      }
      while (stream.status === 'open' && Date.now() < end) {
        await new Promise(resolve => setTimeout(resolve, 100))
      }
      stream.abort(new Error('done'))
    } catch {
      await new Promise(resolve => setTimeout(resolve, 10))
    }
  }
}

/** Sends join requests, one per stream, as fast as they are taken. */
async function floodJoins (from: Libp2p, target: Multiaddr, protocol: string, end: number, counts: { joins: number }): Promise<void> {
  const join = Frame.encode({ membership: { id: 1, change: MembershipRequest.Change.JOIN, peer: from.peerId.toString(), addrs: [], voter: true } })
  while (Date.now() < end) {
    try {
      const stream = await from.dialProtocol(target, protocol, { signal: AbortSignal.timeout(5000) })
      stream.send(encodeVarint(join.byteLength))
      stream.send(join)
      counts.joins++
      await stream.close({ signal: AbortSignal.timeout(1000) }).catch(() => { stream.abort(new Error('done')) })
    } catch {
      await new Promise(resolve => setTimeout(resolve, 10))
    }
  }
}

const bareRun = await flood(true)
process.stdout.write(JSON.stringify(bareRun) + '\n')
const raftRun = await flood(false)
process.stdout.write(JSON.stringify(raftRun) + '\n')
const withinBound = raftRun.growth_mb <= bareRun.growth_mb + marginMb
process.stdout.write(JSON.stringify({ bench: 'outsider-flood', raft_over_libp2p_mb: round(raftRun.growth_mb - bareRun.growth_mb), margin_mb: marginMb, within_bound: withinBound }) + '\n')
process.exitCode = withinBound ? 0 : 1

function encodeVarint (n: number): Uint8Array {
  const bytes: number[] = []
  while (n >= 0x80) {
    bytes.push((n & 0x7f) | 0x80)
    n = Math.floor(n / 128)
  }
  bytes.push(n)
  return Uint8Array.from(bytes)
}

function round (n: number): number {
  return Math.round(n * 10) / 10
}
