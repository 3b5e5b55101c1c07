/**
 * Installing a large state on a new follower over real libp2p, and the peak
 * memory of the process that receives it.
 *
 * Three voters on loopback TCP (noise, yamux, identify). Two of them, A and
 * B, run in this process with in-memory datastores; they hold a quorum while
 * the third, C, is down. Together they commit `--mb` MiB of state as
 * `--value-kb` KiB values under distinct keys (a blob map whose snapshot is
 * the entries framed one after the other), with a small `snapshotThreshold`
 * and `trailingEntries: 0`, then take a snapshot each so that the log behind
 * it is compacted. Only then does C start, in a child process
 * (benchmarks/snapshot-follower.ts) on an on-disk level datastore: the
 * leader can only bring it up to date with InstallSnapshot, streamed in
 * chunks. C samples its own memory every 20 ms from just after libp2p
 * started until the snapshot is installed and applied, and checks the
 * restored state's size.
 *
 * Prints one JSON line:
 * {"impl","bench","state_mb","chunk_kb","install_ms","receiver_rss_baseline_mb",
 * "receiver_rss_peak_mb","receiver_rss_delta_mb","receiver_heap_peak_mb",
 * "receiver_array_buffers_peak_mb","leader_rss_mb", ...}
 * where `install_ms` runs from C's libp2p start to its `raft:snapshot` event
 * (connecting, the leader noticing the gap, the transfer, the install),
 * `receiver_*` are C's figures (MiB; peaks are 20 ms samples, and
 * `receiver_max_rss_mb` is the kernel's high-water mark, start-up included),
 * and `leader_rss_mb` is the peak RSS of this process (A and B, each holding
 * the state, its log and its snapshot in memory) while C caught up.
 *
 * Usage: node --experimental-transform-types --disable-warning=ExperimentalWarning
 * benchmarks/snapshot-install.ts [--mb 50] [--value-kb 512] [--threshold 16] [--timeout 180]
 * (npm run bench:snapshot -- --mb 5). The chunk size is the service's
 * (SNAPSHOT_CHUNK_SIZE), not an option. `--timeout` (seconds) bounds the whole
 * run: the watchdog then kills the follower and exits with code 2.
 * DEBUG=libp2p:raft* logs both processes to stderr.
 */
import { fork } from 'node:child_process'
import { randomFillSync } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { SNAPSHOT_CHUNK_SIZE } from '../src/constants.ts'
import { createBenchNode } from './bench-node.ts'
import { BlobStateMachine, SAMPLE_MS, encodeCommand, mb } from './snapshot-follower.ts'
import type { BenchNode } from './bench-node.ts'
import type { FollowerConfig, FollowerMessage, FollowerResult } from './snapshot-follower.ts'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import type { ChildProcess } from 'node:child_process'

const { values } = parseArgs({
  options: {
    mb: { type: 'string', default: '50' },
    'value-kb': { type: 'string', default: '512' },
    threshold: { type: 'string', default: '16' },
    timeout: { type: 'string', default: '180' }
  }
})

const stateMb = Number(values.mb)
const valueKb = Number(values['value-kb'])
const snapshotThreshold = Number(values.threshold)
const timeoutSeconds = Number(values.timeout)
for (const [name, value] of [['mb', stateMb], ['value-kb', valueKb], ['threshold', snapshotThreshold], ['timeout', timeoutSeconds]] as const) {
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`--${name} must be a positive integer, got ${String(value)}`)
  }
}
if (valueKb > 1000) {
  throw new Error('--value-kb must be at most 1000: a command is at most 1 MiB (maxCommandSize)')
}

const STATE_BYTES = stateMb * 1024 * 1024
const VALUE_BYTES = valueKb * 1024
const COMMANDS = Math.ceil(STATE_BYTES / VALUE_BYTES)
const WATCHDOG_MS = timeoutSeconds * 1000
/** Longest wait for A and B to elect a leader. */
const ELECTION_DEADLINE_MS = 30_000
/** Commits in flight at once while loading the state. */
const CONCURRENT_COMMITS = 4
const FOLLOWER_SCRIPT = new URL('./snapshot-follower.ts', import.meta.url)

let child: ChildProcess | undefined
let dir: string | undefined

function cleanUpSync (): void {
  if (child?.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL')
  }
  if (dir !== undefined) {
    rmSync(dir, { recursive: true, force: true })
  }
}

const started = performance.now()
const watchdog = setTimeout(() => {
  process.stderr.write(`snapshot-install: still running after ${WATCHDOG_MS} ms, giving up\n`)
  cleanUpSync()
  process.exit(2)
}, WATCHDOG_MS)
watchdog.unref()

async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

async function createMember (privateKey: PrivateKey, bootstrap: PeerId[]): Promise<BenchNode> {
  return createBenchNode({ privateKey, raft: { bootstrap, stateMachine: new BlobStateMachine(), snapshotThreshold, trailingEntries: 0 } })
}

async function waitForLeader (nodes: BenchNode[]): Promise<BenchNode> {
  const deadline = performance.now() + ELECTION_DEADLINE_MS
  for (;;) {
    const leader = nodes.find(n => n.services.raft.role === 'leader')
    if (leader !== undefined) {
      return leader
    }
    if (performance.now() > deadline) {
      throw new Error(`no leader among A and B after ${ELECTION_DEADLINE_MS} ms`)
    }
    await sleep(10)
  }
}

/** Commits the whole state: COMMANDS values under distinct keys, the last one possibly shorter. */
async function loadState (leader: BenchNode): Promise<void> {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < COMMANDS) {
      const i = next++
      const value = randomFillSync(new Uint8Array(Math.min(VALUE_BYTES, STATE_BYTES - i * VALUE_BYTES)))
      await leader.services.raft.commit(encodeCommand(`blob-${String(i).padStart(6, '0')}`, value))
    }
  }
  await Promise.all(Array.from({ length: CONCURRENT_COMMITS }, worker))
}

/**
 * Runs the follower until it exits; resolves with its result line. Calls
 * `onListening` with its addresses once it has started, and `onTick` every
 * SAMPLE_MS while it runs.
 */
async function runFollower (config: FollowerConfig, onListening: (addrs: string[]) => Promise<void>, onTick: () => void): Promise<FollowerResult> {
  const proc = fork(FOLLOWER_SCRIPT, [JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    execArgv: [...process.execArgv, '--expose-gc']
  })
  child = proc
  let stdout = ''
  proc.stdout?.setEncoding('utf8').on('data', (text: string) => { stdout += text })
  proc.stderr?.on('data', (chunk: Buffer) => { process.stderr.write(chunk) })
  proc.on('message', (message: FollowerMessage) => {
    if (message.type === 'listening') {
      onListening(message.addrs).catch((err: Error) => {
        process.stderr.write(`snapshot-install: cannot tell A and B where C listens - ${err.message}\n`)
      })
    }
  })
  const ticker = setInterval(onTick, SAMPLE_MS)
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      proc.once('error', reject)
      proc.once('exit', (code, signal) => { resolve([code, signal]) })
    })
    if (code !== 0) {
      throw new Error(`the follower exited with ${signal ?? `code ${code}`}`)
    }
  } finally {
    clearInterval(ticker)
  }
  const line = stdout.split('\n').find(l => l.startsWith('{'))
  if (line === undefined) {
    throw new Error('the follower printed no result')
  }
  return JSON.parse(line) as FollowerResult
}

async function run (): Promise<void> {
  const keys = await Promise.all([0, 1, 2].map(async () => generateKeyPair('Ed25519')))
  const ids = keys.map(key => peerIdFromPrivateKey(key))
  const members = await Promise.all(keys.slice(0, 2).map(async key => createMember(key, ids)))
  try {
    const [a, b] = members
    await a.peerStore.merge(b.peerId, { multiaddrs: b.getMultiaddrs() })
    await b.peerStore.merge(a.peerId, { multiaddrs: a.getMultiaddrs() })

    const leader = await waitForLeader(members)
    const loadStart = performance.now()
    await loadState(leader)
    const loadMs = performance.now() - loadStart
    // both compact their log behind a snapshot of everything (the leader's is what C gets)
    await Promise.all(members.map(async n => n.services.raft.snapshot()))
    const status = leader.services.raft.status()
    if (status.firstIndex <= 1 || status.snapshotIndex < COMMANDS) {
      throw new Error(`the leader's log is not compacted: snapshot at ${status.snapshotIndex}, first index ${status.firstIndex}`)
    }

    dir = mkdtempSync(join(tmpdir(), 'raft-snapshot-bench-'))
    const config: FollowerConfig = {
      privateKey: Buffer.from(privateKeyToProtobuf(keys[2])).toString('base64'),
      bootstrap: [
        ...members.flatMap(n => n.getMultiaddrs().slice(0, 1).map(ma => ma.toString())),
        ids[2].toString()
      ],
      dir,
      targetIndex: status.snapshotIndex,
      expectedBytes: STATE_BYTES,
      expectedKeys: COMMANDS,
      snapshotThreshold,
      trailingEntries: 0,
      timeoutMs: Math.max(1000, Math.round(WATCHDOG_MS - (performance.now() - started) - 5000))
    }

    globalThis.gc?.()
    let leaderRssPeak = process.memoryUsage().rss
    const result = await runFollower(
      config,
      async (addrs) => {
        for (const n of members) {
          await n.peerStore.merge(ids[2], { multiaddrs: addrs.map(a => multiaddr(a)) })
        }
      },
      () => { leaderRssPeak = Math.max(leaderRssPeak, process.memoryUsage().rss) }
    )

    process.stdout.write(JSON.stringify({
      impl: 'libp2p-raft',
      bench: 'snapshot-install',
      state_mb: result.state_mb,
      chunk_kb: SNAPSHOT_CHUNK_SIZE / 1024,
      install_ms: result.install_ms,
      receiver_rss_baseline_mb: result.baseline_rss_mb,
      receiver_rss_peak_mb: result.peak_rss_mb,
      receiver_rss_delta_mb: result.delta_rss_mb,
      receiver_heap_peak_mb: result.peak_heap_mb,
      receiver_array_buffers_peak_mb: result.peak_array_buffers_mb,
      leader_rss_mb: mb(leaderRssPeak),
      receiver_max_rss_mb: result.max_rss_mb,
      receiver_startup_max_rss_mb: result.baseline_max_rss_mb,
      receiver_rss_anon_baseline_mb: result.baseline_rss_anon_mb,
      receiver_rss_anon_peak_mb: result.peak_rss_anon_mb,
      receiver_rss_file_baseline_mb: result.baseline_rss_file_mb,
      receiver_rss_file_peak_mb: result.peak_rss_file_mb,
      receiver_heap_baseline_mb: result.baseline_heap_mb,
      receiver_settled_rss_mb: result.settled_rss_mb,
      receiver_settled_array_buffers_mb: result.settled_array_buffers_mb,
      caught_up_ms: result.caught_up_ms,
      snapshot_index: result.snapshot_index,
      commands: COMMANDS,
      value_kb: valueKb,
      load_ms: Math.round(loadMs)
    }) + '\n')
  } finally {
    await Promise.all(members.map(async n => n.stop()))
  }
}

try {
  await run()
} finally {
  cleanUpSync()
  clearTimeout(watchdog)
}
