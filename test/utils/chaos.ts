/**
 * A randomized run of a simulated cluster: one seeded RNG picks, step after
 * step, among ticks, message delivery (out of order, lost or duplicated),
 * write completions, proposals, crashes that lose unwritten batches,
 * restarts and partitions. The cluster checks the safety invariants on every
 * batch; at the end the network heals and the run must make progress again.
 */
import { Cluster, InvariantError, describe } from './cluster.ts'
import type { CoreOptions, Message } from '../../src/core/index.ts'

/** How often each fault strikes, as a probability per step (drop and duplicate: per message). */
export interface FaultRates {
  crash: number
  crashLeader: number
  restart: number
  partition: number
  isolateLeader: number
  heal: number
  drop: number
  duplicate: number
}

/** Occasional faults: most of the time the cluster works. */
export const CALM: FaultRates = { crash: 0.005, crashLeader: 0, restart: 0.02, partition: 0.005, isolateLeader: 0, heal: 0.01, drop: 0.05, duplicate: 0.03 }

/** Leaders are crashed and cut off often, so terms turn over and logs diverge. */
export const STORMY: FaultRates = { crash: 0.01, crashLeader: 0.01, restart: 0.03, partition: 0.01, isolateLeader: 0.01, heal: 0.02, drop: 0.1, duplicate: 0.05 }

export interface ChaosOptions extends CoreOptions {
  seed: number
  steps?: number
  size?: number
  faults?: FaultRates
}

export interface ChaosSummary {
  seed: number
  proposals: number
  committed: number
  leaders: number
  crashes: number
}

/** Runs one seeded schedule; throws (naming the seed) if any invariant breaks or the healed cluster is stuck. */
export function runChaos (options: ChaosOptions): ChaosSummary {
  const { seed, steps = 1000, size = 5, faults = CALM, ...coreOptions } = options
  const cluster = new Cluster({ ...coreOptions, size, seed, asyncWrites: true })
  const rng = cluster.rng
  const ids = cluster.ids()
  const summary: ChaosSummary = { seed, proposals: 0, committed: 0, leaders: 0, crashes: 0 }
  try {
    for (let step = 0; step < steps; step++) {
      const roll = rng.next()
      if (roll < 0.08) {
        tickRunning(cluster, ids)
      } else if (roll < 0.68) {
        deliverSome(cluster, 1 + rng.int(8), faults)
      } else if (roll < 0.88) {
        ids.filter(() => rng.chance(0.6)).forEach(id => { cluster.completeWrite(id) })
      } else {
        const leader = cluster.leader()
        if (leader !== undefined) {
          cluster.propose(leader, `s${seed}-p${summary.proposals++}`)
        }
      }
      summary.crashes += strike(cluster, ids, faults)
    }
    summary.leaders = cluster.leaderTerms()
    settle(cluster, ids, seed)
  } catch (err) {
    const replay = `RAFT_SEED=${seed} npm test -- -f test/core/randomized.spec.ts`
    const reason = err instanceof InvariantError ? err.message : String((err as Error).stack ?? err)
    throw new Error(`seed ${seed} failed: ${reason}\n  replay: ${replay}`)
  }
  summary.committed = cluster.committed.length
  return summary
}

function tickRunning (cluster: Cluster, ids: string[]): void {
  for (const id of ids.filter(id => cluster.node(id).up)) {
    cluster.core(id).tick()
    cluster.process(id)
  }
}

/**
 * Delivers up to `count` messages, each picked among the first few queued
 * (so delivery is reordered); some are lost, some delivered twice.
 */
function deliverSome (cluster: Cluster, count: number, faults: FaultRates): void {
  const { rng, queue } = cluster
  for (let n = 0; n < count && queue.length > 0; n++) {
    const [m] = queue.splice(rng.int(Math.min(queue.length, 6)), 1) as [Message]
    if (rng.chance(faults.drop)) {
      continue
    }
    if (rng.chance(faults.duplicate)) {
      queue.push(m)
    }
    cluster.deliver(m)
  }
}

/** Rolls each fault once; returns how many nodes crashed. */
function strike (cluster: Cluster, ids: string[], faults: FaultRates): number {
  const rng = cluster.rng
  let crashes = 0
  const crash = (id: string | undefined): void => {
    if (id !== undefined && cluster.node(id).up) {
      cluster.crash(id)
      crashes++
    }
  }
  if (rng.chance(faults.crash)) {
    crash(rng.pick(ids))
  }
  if (rng.chance(faults.crashLeader)) {
    crash(cluster.leader())
  }
  if (rng.chance(faults.restart)) {
    const down = ids.filter(id => !cluster.node(id).up)
    if (down.length > 0) {
      cluster.restart(rng.pick(down))
    }
  }
  if (rng.chance(faults.partition)) {
    randomPartition(cluster, ids)
  }
  if (rng.chance(faults.isolateLeader)) {
    const leader = cluster.leader()
    if (leader !== undefined) {
      cluster.heal()
      cluster.isolate(leader)
    }
  }
  if (rng.chance(faults.heal)) {
    cluster.heal()
  }
  return crashes
}

function randomPartition (cluster: Cluster, ids: string[]): void {
  cluster.heal()
  const rng = cluster.rng
  if (rng.chance(0.5)) {
    const side = ids.filter(() => rng.chance(0.5))
    cluster.partition(side, ids.filter(id => !side.includes(id)))
  } else {
    // A one-way fault: a node can send but not hear, or the other way round.
    const a = rng.pick(ids)
    const b = rng.pick(ids.filter(id => id !== a))
    cluster.cutLink(a, b)
  }
}

/**
 * Liveness after the storm: with every node up and the network whole, a
 * leader must emerge, commit a new proposal, and every node must apply the
 * same history.
 */
function settle (cluster: Cluster, ids: string[], seed: number): void {
  cluster.heal()
  for (const id of ids) {
    if (!cluster.node(id).up) {
      cluster.restart(id)
    }
  }
  const marker = `s${seed}-final`
  let proposed = false
  for (let round = 0; round < 500; round++) {
    cluster.tickAll()
    const leader = cluster.leader()
    if (!proposed && leader !== undefined) {
      cluster.propose(leader, marker)
      proposed = true
    }
    cluster.stabilize()
    const done = proposed && ids.every(id => cluster.node(id).applied.some(e => describe(e).endsWith(`(${marker})`)))
    if (done) {
      const history = cluster.committed.map(describe).join('|')
      for (const id of ids) {
        const applied = cluster.node(id).applied.map(describe).join('|')
        if (!history.startsWith(applied) || applied.length === 0) {
          throw new InvariantError(`${id} applied a different history`)
        }
      }
      return
    }
  }
  throw new Error('no progress within 500 rounds after the network healed')
}
