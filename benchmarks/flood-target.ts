/**
 * The member `benchmarks/outsider-flood.ts` floods, run as a child process so
 * that the memory measured is its own: a one-voter group (it leads) on
 * loopback TCP with noise, yamux and identify, committing a small command
 * every 10 ms so Raft's own work goes on during the flood. It sends its
 * multiaddr over IPC, answers `{ type: 'memory' }` with its current and
 * peak RSS (VmHWM) and heap after a GC, and exits on `{ type: 'stop' }` or
 * when the parent goes away. With the argument `bare` it runs no Raft at
 * all, only a handler that resets every stream on the Raft protocol: what
 * the same flood costs libp2p itself.
 *
 * Usage: only through outsider-flood.ts (npm run bench:flood).
 */
import { readFileSync } from 'node:fs'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { GROUP, raftProtocol } from '../src/constants.ts'
import { createBenchNode } from './bench-node.ts'
import type { StateMachine } from '../src/index.ts'

/** What the child sends back. Sizes in MiB. */
export type FloodTargetMessage =
  | { type: 'ready', multiaddr: string, protocol: string }
  | { type: 'memory', rssMb: number, peakRssMb: number, heapMb: number, arrayBuffersMb: number, commits: number }

/** The protocol of the flooded group (the default one) */
const PROTOCOL = raftProtocol(GROUP)

const counter: StateMachine = {
  apply: () => undefined,
  snapshot: () => new Uint8Array(0),
  restore: () => {}
}

function send (message: FloodTargetMessage): void {
  process.send?.(message)
}

function peakRssMb (): number {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find(l => l.startsWith('VmHWM:'))
  return line === undefined ? 0 : Number(line.split(/\s+/)[1]) / 1024
}

const MB = 1024 * 1024
const bare = process.argv[2] === 'bare'
const node = await createBenchNode({ privateKey: await generateKeyPair('Ed25519'), raft: { bootstrap: 'self', stateMachine: counter, group: bare ? 'not-flooded' : GROUP } })
if (bare) {
  await node.handle(PROTOCOL, (stream) => { stream.abort(new Error('bare target')) })
}
await node.services.raft.waitForLeader({ signal: AbortSignal.timeout(30_000) })
const progress = { commits: 0, stopping: false }
/** Raft's own work during the flood: a small commit every 10 ms. */
async function keepCommitting (): Promise<void> {
  while (!progress.stopping) {
    try {
      await node.services.raft.commit(new Uint8Array(100), { signal: AbortSignal.timeout(10_000) })
      progress.commits++
    } catch {}
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}
const loop = keepCommitting()

process.on('disconnect', () => { process.exit(0) })
process.on('message', (message: { type: 'memory' | 'stop' }) => {
  if (message.type === 'memory') {
    globalThis.gc?.()
    const usage = process.memoryUsage()
    send({ type: 'memory', rssMb: usage.rss / MB, peakRssMb: peakRssMb(), heapMb: usage.heapUsed / MB, arrayBuffersMb: usage.arrayBuffers / MB, commits: progress.commits })
  } else {
    progress.stopping = true
    void loop.then(async () => node.stop()).then(() => process.exit(0))
  }
})
send({ type: 'ready', multiaddr: node.getMultiaddrs()[0].toString(), protocol: PROTOCOL })
