/**
 * Throughput and latency of the raft service over real libp2p: three voters
 * in one process on loopback TCP (noise, yamux, identify), each with a
 * state machine that only counts, and Raft's state in an in-memory datastore
 * (STORE=mem, the default) or in a `SyncedLevelDatastore` in a temporary
 * folder, removed after (STORE=durable: every write batch is fsynced). C closed-loop
 * clients each commit a command on the leader, await it and repeat; after a
 * warm-up they are measured for a fixed time.
 *
 * Prints one JSON line per client count, in the shape of the hashicorp/raft
 * anchor (../shared/anchors/hashicorp-raft/run.sh):
 * {"impl","nodes","clients","size","store","seconds","ops_per_s","p50_ms","p99_ms","elect_ms"}
 * With STORE=durable the line adds, over the measured window, the leader's
 * `syncs_per_s` and `commands_per_sync` (commands committed per leader sync:
 * what group commit shares one sync between).
 *
 * Usage: node --experimental-transform-types --disable-warning=ExperimentalWarning
 * benchmarks/throughput.ts [--clients 1,64 | 1 64] [--seconds 5] [--size 100] [--warmup 1] [--nodes 3]
 * `--seconds` defaults to $SECONDS_EACH (as in run.sh), else 5. STORE is mem or durable.
 *
 * Raft timing is the service's defaults (1 s election timeout, 100 ms
 * heartbeat), close to hashicorp/raft's defaults used by the anchor.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createBenchNode } from './bench-node.ts'
import { SyncCountingStore } from './sync-counting-store.ts'
import type { BenchNode } from './bench-node.ts'
import type { StateMachine } from '../src/index.ts'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    clients: { type: 'string' },
    seconds: { type: 'string', default: process.env.SECONDS_EACH ?? '5' },
    size: { type: 'string', default: '100' },
    warmup: { type: 'string', default: '1' },
    nodes: { type: 'string', default: '3' }
  }
})

const clientCounts = (values.clients ?? (positionals.length > 0 ? positionals.join(',') : '1,64')).split(',').map(Number)
const seconds = Number(values.seconds)
const size = Number(values.size)
const warmupSeconds = Number(values.warmup)
const nodeCount = Number(values.nodes)
const store = process.env.STORE ?? 'mem'

const counts: Array<[string, number]> = [['size', size], ['nodes', nodeCount], ...clientCounts.map((c): [string, number] => ['clients', c])]
for (const [name, value] of counts) {
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`--${name} must be a positive integer, got ${String(value)}`)
  }
}
if (!(seconds > 0) || !(warmupSeconds >= 0)) {
  throw new Error('--seconds must be positive and --warmup non-negative')
}
if (store !== 'mem' && store !== 'durable') {
  throw new Error(`STORE must be mem or durable, got ${store}`)
}

/** How long the whole process may take before the watchdog ends it. */
const WATCHDOG_MS = clientCounts.length * (seconds + warmupSeconds + 90) * 1000
/** Longest wait for a leader. */
const ELECTION_DEADLINE_MS = 30_000
/** Sequential commits before the timed load, as the anchor does. */
const WARMUP_COMMITS = 100

const watchdog = setTimeout(() => {
  process.stderr.write(`throughput: still running after ${WATCHDOG_MS} ms, giving up\n`)
  process.exit(2)
}, WATCHDOG_MS)
watchdog.unref()

async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

/** A state machine that only counts what it applies. */
class CountingStateMachine implements StateMachine {
  applied = 0

  apply (): undefined {
    this.applied++
    return undefined
  }

  snapshot (): Uint8Array {
    return new Uint8Array(0)
  }

  restore (): void {}
}

/** Raft's stores for a run: none (the host's in-memory datastore) for STORE=mem, or one synced store per member in a temporary folder. */
interface Stores {
  /** By member, for STORE=durable */
  synced: SyncCountingStore[]
  /** Closes the stores and removes their folder */
  remove(): Promise<void>
}

async function openStores (): Promise<Stores> {
  if (store === 'mem') {
    return { synced: [], remove: async () => {} }
  }
  const dir = await mkdtemp(join(tmpdir(), 'libp2p-raft-bench-'))
  const synced = Array.from({ length: nodeCount }, (_, i) => new SyncCountingStore(join(dir, `member-${i}`)))
  await Promise.all(synced.map(async s => s.open()))
  return {
    synced,
    remove: async () => {
      await Promise.all(synced.map(async s => s.close()))
      await rm(dir, { recursive: true, force: true })
    }
  }
}

async function startCluster (stores: Stores): Promise<{ nodes: BenchNode[], electMs: number }> {
  const keys = await Promise.all(Array.from({ length: nodeCount }, async () => generateKeyPair('Ed25519')))
  const ids = keys.map(key => peerIdFromPrivateKey(key))
  const start = performance.now()
  const nodes = await Promise.all(keys.map(async (privateKey, i) => createBenchNode({
    privateKey,
    raft: { bootstrap: ids, stateMachine: new CountingStateMachine(), datastore: stores.synced[i] }
  })))
  for (const a of nodes) {
    for (const b of nodes) {
      if (a !== b) {
        await a.peerStore.merge(b.peerId, { multiaddrs: b.getMultiaddrs() })
      }
    }
  }
  const deadline = start + ELECTION_DEADLINE_MS
  while (!nodes.some(n => n.services.raft.role === 'leader')) {
    if (performance.now() > deadline) {
      await Promise.all(nodes.map(async n => n.stop()))
      throw new Error(`no leader after ${ELECTION_DEADLINE_MS} ms`)
    }
    await sleep(10)
  }
  return { nodes, electMs: Math.round(performance.now() - start) }
}

/** The value at quantile `p` of sorted `xs`, picked as the anchor does. */
function quantile (xs: Float64Array, p: number): number {
  return xs.length === 0 ? 0 : xs[Math.floor(p * (xs.length - 1))]
}

async function run (clients: number): Promise<void> {
  const stores = await openStores()
  const { nodes, electMs } = await startCluster(stores)
  try {
    const leader = nodes.find(n => n.services.raft.role === 'leader') as BenchNode
    const leaderStore = stores.synced[nodes.indexOf(leader)] as SyncCountingStore | undefined
    const service = leader.services.raft
    const payload = new Uint8Array(size).fill(0x61)
    for (let i = 0; i < WARMUP_COMMITS; i++) {
      await service.commit(payload)
    }

    // Clients run from the start of the warm-up to the end of the measured
    // window without pausing; only commits that complete inside the window count.
    const measureStart = performance.now() + warmupSeconds * 1000
    const measureEnd = measureStart + seconds * 1000
    const latencies: number[] = []
    // The leader's syncs at the window's start and end
    let syncsAtStart = 0
    let syncsAtEnd = 0
    setTimeout(() => { syncsAtStart = leaderStore?.syncs ?? 0 }, measureStart - performance.now())
    setTimeout(() => { syncsAtEnd = leaderStore?.syncs ?? 0 }, measureEnd - performance.now())
    let errors = 0
    let firstError: unknown
    const client = async (): Promise<void> => {
      while (performance.now() < measureEnd) {
        const t0 = performance.now()
        try {
          await service.commit(payload)
        } catch (err) {
          errors++
          firstError ??= err
          await sleep(10)
          continue
        }
        const t1 = performance.now()
        if (t1 >= measureStart && t1 <= measureEnd) {
          latencies.push(t1 - t0)
        }
      }
    }
    await Promise.all(Array.from({ length: clients }, client))
    if (errors > 0) {
      process.stderr.write(`throughput: ${errors} failed commits at ${clients} clients, first: ${String(firstError)}\n`)
    }

    const sorted = Float64Array.from(latencies).sort()
    const ms = (x: number): number => Math.round(x * 1000) / 1000
    const syncs = syncsAtEnd - syncsAtStart
    const syncFigures = leaderStore === undefined
      ? {}
      : { syncs_per_s: Math.round(syncs / seconds * 10) / 10, commands_per_sync: syncs === 0 ? 0 : Math.round(latencies.length / syncs * 100) / 100 }
    process.stdout.write(JSON.stringify({
      impl: 'libp2p-raft',
      nodes: nodeCount,
      clients,
      size,
      store,
      seconds,
      ops_per_s: Math.round(latencies.length / seconds * 10) / 10,
      p50_ms: ms(quantile(sorted, 0.5)),
      p99_ms: ms(quantile(sorted, 0.99)),
      elect_ms: electMs,
      ...syncFigures
    }) + '\n')
  } finally {
    await Promise.all(nodes.map(async n => n.stop()))
    await stores.remove()
  }
}

for (const clients of clientCounts) {
  await run(clients)
}
clearTimeout(watchdog)
