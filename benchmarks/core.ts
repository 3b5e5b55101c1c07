/**
 * Throughput of the pure Raft core: three cores in one process, messages
 * handed over directly, writes "durable" at once. This is the ceiling the
 * algorithm itself puts on the service, with no network, encoding or disk.
 *
 * Usage: node benchmarks/core.ts [--seconds 3] [--batch 64] [--size 100]
 * Prints one JSON line.
 */
import { parseArgs } from 'node:util'
import { RaftCore, bootstrapState } from '../src/core/index.ts'
import type { Message, Ready } from '../src/core/index.ts'

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    batch: { type: 'string', default: '64' },
    size: { type: 'string', default: '100' }
  }
})
const seconds = Number(values.seconds)
const batch = Number(values.batch)
const size = Number(values.size)

const ids = ['a', 'b', 'c']
const boot = bootstrapState(ids)
let seed = 1
const random = (): number => {
  seed = (seed * 16807) % 2147483647
  return seed / 2147483647
}
const cores = new Map(ids.map(id => [id, new RaftCore({ id, random, state: { hardState: boot.hardState, entries: boot.entries } })]))
const inbox: Message[] = []
let applied = 0

function drain (): void {
  let progressed = true
  while (progressed) {
    progressed = false
    for (const core of cores.values()) {
      while (core.hasReady()) {
        const ready: Ready = core.ready()
        inbox.push(...ready.messages, ...ready.messagesAfterPersist)
        if (core.id === 'a') {
          applied += ready.committed.filter(e => e.type === 'command').length
        }
        core.advance(ready)
        progressed = true
      }
    }
    for (let m = inbox.shift(); m !== undefined; m = inbox.shift()) {
      cores.get(m.to)?.step(m)
      progressed = true
    }
  }
}

const leader = cores.get('a') as RaftCore
const electStart = performance.now()
while (leader.role !== 'leader') {
  leader.tick()
  drain()
}
const electMs = performance.now() - electStart

const payload = new Uint8Array(size)
const start = performance.now()
const deadline = start + seconds * 1000
let proposed = 0
while (performance.now() < deadline) {
  for (let i = 0; i < batch; i++) {
    leader.propose(payload)
    proposed++
  }
  drain()
}
const elapsed = (performance.now() - start) / 1000
process.stdout.write(JSON.stringify({
  impl: 'libp2p-raft core (in-process, no I/O)',
  nodes: 3,
  batch,
  size,
  seconds: Number(elapsed.toFixed(2)),
  ops_per_s: Math.round(applied / elapsed),
  proposed,
  elect_ms: Number(electMs.toFixed(2))
}) + '\n')
