/**
 * The receiving side of `benchmarks/snapshot-install.ts`: one new voter, run
 * as a child process so that the memory measured is the receiver's alone.
 *
 * It starts a libp2p node on loopback TCP (noise, yamux, identify) with the
 * raft service on `datastore-level` in the directory it is given (on disk, so
 * the staged snapshot chunks are not heap), samples its own memory every
 * 20 ms (process.memoryUsage(): rss, heapUsed, arrayBuffers), takes a
 * baseline once libp2p has started (before anything is received), waits for
 * the leader's snapshot to be installed (`raft:snapshot` with `installed:
 * true`) and applied up to the target index, checks the restored state's
 * size, and prints one JSON line (`FollowerResult`) to stdout. Then it stops
 * and exits: 0 on success, 1 on a failure, 3 when its own watchdog fires.
 * Anything else it has to say goes to stderr (`DEBUG=libp2p:raft*` works;
 * `SNAPSHOT_BENCH_TRACE=1` adds a memory line every 100 ms).
 *
 * Usage: only through snapshot-install.ts (npm run bench:snapshot), which
 * forks it with an IPC channel as
 * node --experimental-transform-types --disable-warning=ExperimentalWarning --expose-gc
 * benchmarks/snapshot-follower.ts '<FollowerConfig as JSON>'
 *
 * The module also exports the benchmark's state machine (`BlobStateMachine`)
 * and command encoding, which the parent uses for its own members; importing
 * it runs nothing.
 */
import { readFileSync } from 'node:fs'
import { resolve as resolvePath } from 'node:path'
import { fileURLToPath } from 'node:url'
import { privateKeyFromProtobuf } from '@libp2p/crypto/keys'
import { LevelDatastore } from 'datastore-level'
import { createBenchNode } from './bench-node.ts'
import type { StateMachine } from '../src/index.ts'

/** What the parent passes as the only argument, as JSON. */
export interface FollowerConfig {
  /** The follower's private key, `privateKeyToProtobuf` in base64 */
  privateKey: string
  /** Every initial voter: the others as multiaddrs ending in /p2p/<id>, this node as its peer id */
  bootstrap: string[]
  /** An empty directory for the level datastore (the parent creates and removes it) */
  dir: string
  /** Done once this node has installed a snapshot and applied at least this index */
  targetIndex: number
  /** Bytes the state must hold once installed */
  expectedBytes: number
  /** Keys the state must hold once installed */
  expectedKeys: number
  snapshotThreshold: number
  trailingEntries: number
  /** The follower gives up (exit code 3) after this long */
  timeoutMs: number
}

/** The JSON line printed on success. Sizes in MiB, times in ms. */
export interface FollowerResult {
  /** libp2p started → snapshot installed */
  install_ms: number
  /** libp2p started → applied up to the target (polled every 20 ms) */
  caught_up_ms: number
  baseline_rss_mb: number
  baseline_heap_mb: number
  baseline_array_buffers_mb: number
  peak_rss_mb: number
  peak_heap_mb: number
  peak_array_buffers_mb: number
  /** peak − baseline RSS */
  delta_rss_mb: number
  /** process.resourceUsage().maxRSS at the end: the true peak, start-up included */
  max_rss_mb: number
  /** process.resourceUsage().maxRSS at the baseline: the start-up's own high-water mark */
  baseline_max_rss_mb: number
  /**
   * Linux only (/proc/self/status, else 0): the RSS split into anonymous
   * memory (heap, buffers, native allocations) and file-backed pages (such
   * as LevelDB's memory-mapped table files), baseline and sampled peak
   */
  baseline_rss_anon_mb: number
  peak_rss_anon_mb: number
  baseline_rss_file_mb: number
  peak_rss_file_mb: number
  /** After the install, a full GC, then rss/heap/arrayBuffers: what the restored state keeps */
  settled_rss_mb: number
  settled_heap_mb: number
  settled_array_buffers_mb: number
  /** Size of the restored state (values only) */
  state_mb: number
  snapshot_index: number
  applied_index: number
  samples: number
}

/** Messages to the parent over IPC. */
export interface FollowerMessage {
  type: 'listening'
  addrs: string[]
}

/** How often memory is sampled. */
export const SAMPLE_MS = 20

const MIB = 1024 * 1024

export function mb (bytes: number): number {
  return Math.round(bytes / MIB * 10) / 10
}

// ---- the state machine ---------------------------------------------------

const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** A command: [u16 key length][key UTF-8][value]. */
export function encodeCommand (key: string, value: Uint8Array): Uint8Array {
  const keyBytes = encoder.encode(key)
  if (keyBytes.byteLength > 0xffff) {
    throw new Error('key too long')
  }
  const command = new Uint8Array(2 + keyBytes.byteLength + value.byteLength)
  new DataView(command.buffer).setUint16(0, keyBytes.byteLength)
  command.set(keyBytes, 2)
  command.set(value, 2 + keyBytes.byteLength)
  return command
}

function decodeCommand (command: Uint8Array): { key: string, value: Uint8Array } {
  if (command.byteLength < 2) {
    throw new Error('command too short')
  }
  const keyLength = new DataView(command.buffer, command.byteOffset, command.byteLength).getUint16(0)
  if (2 + keyLength > command.byteLength) {
    throw new Error('command key overruns the command')
  }
  return {
    key: decoder.decode(command.subarray(2, 2 + keyLength)),
    value: command.subarray(2 + keyLength)
  }
}

/**
 * A map of blobs: key → bytes. A snapshot is the entries framed one after
 * the other, [u32 key length][key][u32 value length][value]; `restore` keeps
 * views into the buffer it is given rather than copying the values.
 */
export class BlobStateMachine implements StateMachine {
  blobs = new Map<string, Uint8Array>()

  apply (command: Uint8Array): undefined {
    const { key, value } = decodeCommand(command)
    this.blobs.set(key, value)
    return undefined
  }

  /** Bytes of all values. */
  get totalBytes (): number {
    let total = 0
    for (const value of this.blobs.values()) {
      total += value.byteLength
    }
    return total
  }

  snapshot (): Uint8Array {
    const entries = [...this.blobs].map(([key, value]): [Uint8Array, Uint8Array] => [encoder.encode(key), value])
    const size = entries.reduce((sum, [key, value]) => sum + 8 + key.byteLength + value.byteLength, 0)
    const out = new Uint8Array(size)
    const view = new DataView(out.buffer)
    let offset = 0
    for (const [key, value] of entries) {
      view.setUint32(offset, key.byteLength)
      out.set(key, offset + 4)
      offset += 4 + key.byteLength
      view.setUint32(offset, value.byteLength)
      out.set(value, offset + 4)
      offset += 4 + value.byteLength
    }
    return out
  }

  restore (snapshot: Uint8Array): void {
    const view = new DataView(snapshot.buffer, snapshot.byteOffset, snapshot.byteLength)
    const blobs = new Map<string, Uint8Array>()
    const field = (offset: number): Uint8Array => {
      if (offset + 4 > snapshot.byteLength) {
        throw new Error('truncated snapshot')
      }
      const length = view.getUint32(offset)
      if (offset + 4 + length > snapshot.byteLength) {
        throw new Error('truncated snapshot')
      }
      return snapshot.subarray(offset + 4, offset + 4 + length)
    }
    let offset = 0
    while (offset < snapshot.byteLength) {
      const key = field(offset)
      offset += 4 + key.byteLength
      const value = field(offset)
      offset += 4 + value.byteLength
      blobs.set(decoder.decode(key), value)
    }
    this.blobs = blobs
  }
}

// ---- the follower process ------------------------------------------------

interface Memory { rss: number, heap: number, arrayBuffers: number, rssAnon: number, rssFile: number }

const hasProcStatus = process.platform === 'linux'

/** A kB field of /proc/self/status, in bytes. */
function statusField (status: string, name: string): number {
  const match = new RegExp(`^${name}:\\s*(\\d+) kB`, 'm').exec(status)
  return match === null ? 0 : Number(match[1]) * 1024
}

function memory (): Memory {
  const { rss, heapUsed, arrayBuffers } = process.memoryUsage()
  let rssAnon = 0
  let rssFile = 0
  if (hasProcStatus) {
    const status = readFileSync('/proc/self/status', 'utf8')
    rssAnon = statusField(status, 'RssAnon')
    rssFile = statusField(status, 'RssFile') + statusField(status, 'RssShmem')
  }
  return { rss, heap: heapUsed, arrayBuffers, rssAnon, rssFile }
}

function parseConfig (json: string | undefined): FollowerConfig {
  if (json === undefined) {
    process.stderr.write('snapshot-follower.ts is started by benchmarks/snapshot-install.ts (npm run bench:snapshot), not on its own\n')
    process.exit(2)
  }
  const config = JSON.parse(json) as FollowerConfig
  for (const name of ['targetIndex', 'expectedBytes', 'expectedKeys', 'snapshotThreshold', 'trailingEntries', 'timeoutMs'] as const) {
    if (!Number.isInteger(config[name]) || config[name] < 0) {
      throw new Error(`bad ${name} in the follower's configuration`)
    }
  }
  return config
}

async function main (): Promise<void> {
  const config = parseConfig(process.argv[2])
  const watchdog = setTimeout(() => {
    process.stderr.write(`snapshot-follower: still running after ${config.timeoutMs} ms, giving up\n`)
    process.exit(3)
  }, config.timeoutMs)
  watchdog.unref()
  // the parent went away: nobody is waiting for the result
  process.on('disconnect', () => { process.exit(1) })

  const datastore = new LevelDatastore(config.dir)
  await datastore.open()
  const state = new BlobStateMachine()
  const node = await createBenchNode({
    start: false,
    privateKey: privateKeyFromProtobuf(Buffer.from(config.privateKey, 'base64')),
    datastore,
    raft: {
      bootstrap: config.bootstrap,
      stateMachine: state,
      snapshotThreshold: config.snapshotThreshold,
      trailingEntries: config.trailingEntries
    }
  })
  const service = node.services.raft

  let installedAt: number | undefined
  let installedIndex = 0
  service.addEventListener('raft:snapshot', (evt) => {
    if (evt.detail.installed && installedAt === undefined) {
      installedAt = performance.now()
      installedIndex = evt.detail.index
    }
  })

  // a quiet heap before the baseline, so the delta is the install's
  globalThis.gc?.()
  await node.start()
  const started = performance.now()
  const baseline = memory()
  const baselineMaxRss = process.resourceUsage().maxRSS * 1024
  const peak = { ...baseline }
  let samples = 1
  const trace = process.env.SNAPSHOT_BENCH_TRACE === '1'
  const sample = (): void => {
    const now = memory()
    if (trace && samples % 5 === 0) {
      process.stderr.write(`snapshot-follower: t=${Math.round(performance.now() - started)}ms rss=${mb(now.rss)} (anon ${mb(now.rssAnon)}, file ${mb(now.rssFile)}) heap=${mb(now.heap)} arrayBuffers=${mb(now.arrayBuffers)} MiB${installedAt === undefined ? '' : ' (installed)'}\n`)
    }
    peak.rss = Math.max(peak.rss, now.rss)
    peak.heap = Math.max(peak.heap, now.heap)
    peak.arrayBuffers = Math.max(peak.arrayBuffers, now.arrayBuffers)
    peak.rssAnon = Math.max(peak.rssAnon, now.rssAnon)
    peak.rssFile = Math.max(peak.rssFile, now.rssFile)
    samples++
  }
  process.send?.({ type: 'listening', addrs: node.getMultiaddrs().map(ma => ma.toString()) } satisfies FollowerMessage)

  let failure: string | undefined
  let caughtUpAt = 0
  const deadline = started + config.timeoutMs
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      sample()
      if (installedAt !== undefined && service.appliedIndex >= config.targetIndex) {
        caughtUpAt = performance.now()
        clearInterval(timer)
        resolve()
      } else if (performance.now() > deadline) {
        failure = `no snapshot installed up to ${config.targetIndex} after ${config.timeoutMs} ms (installed: ${installedAt !== undefined}, applied ${service.appliedIndex})`
        clearInterval(timer)
        resolve()
      }
    }, SAMPLE_MS)
  })
  sample()

  if (failure === undefined && (state.totalBytes !== config.expectedBytes || state.blobs.size !== config.expectedKeys)) {
    failure = `the installed state holds ${state.blobs.size} keys and ${state.totalBytes} bytes, not ${config.expectedKeys} keys and ${config.expectedBytes} bytes`
  }
  const maxRss = process.resourceUsage().maxRSS * 1024
  globalThis.gc?.()
  const settled = memory()

  if (failure === undefined && installedAt !== undefined) {
    const result: FollowerResult = {
      install_ms: Math.round(installedAt - started),
      caught_up_ms: Math.round(caughtUpAt - started),
      baseline_rss_mb: mb(baseline.rss),
      baseline_heap_mb: mb(baseline.heap),
      baseline_array_buffers_mb: mb(baseline.arrayBuffers),
      peak_rss_mb: mb(peak.rss),
      peak_heap_mb: mb(peak.heap),
      peak_array_buffers_mb: mb(peak.arrayBuffers),
      delta_rss_mb: mb(peak.rss - baseline.rss),
      max_rss_mb: mb(maxRss),
      baseline_max_rss_mb: mb(baselineMaxRss),
      baseline_rss_anon_mb: mb(baseline.rssAnon),
      peak_rss_anon_mb: mb(peak.rssAnon),
      baseline_rss_file_mb: mb(baseline.rssFile),
      peak_rss_file_mb: mb(peak.rssFile),
      settled_rss_mb: mb(settled.rss),
      settled_heap_mb: mb(settled.heap),
      settled_array_buffers_mb: mb(settled.arrayBuffers),
      state_mb: mb(state.totalBytes),
      snapshot_index: installedIndex,
      applied_index: service.appliedIndex,
      samples
    }
    await new Promise<void>(resolve => process.stdout.write(JSON.stringify(result) + '\n', () => { resolve() }))
  } else {
    process.stderr.write(`snapshot-follower: ${failure}\n`)
  }

  await node.stop()
  await datastore.close()
  process.exit(failure === undefined ? 0 : 1)
}

const argv1 = process.argv[1]
if (argv1 !== undefined && resolvePath(argv1) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`snapshot-follower: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
    process.exit(1)
  })
}
