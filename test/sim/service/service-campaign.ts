/**
 * Runs the service scenarios over seeds: real `RaftService` nodes in the
 * simulated world, clients on the public API, and the same verdicts as the
 * core campaign (safety invariants on every batch, recovery once healed,
 * agreeing stores, a linearizable history). A failure names the seed, the
 * scenario, the command that replays it, and the last lines the nodes logged.
 */
import { InvariantError } from '../../utils/invariants.ts'
import { checkLinearizable, formatCounterexample } from '../linearizability.ts'
import { encodeInput } from './kv-machine.ts'
import { ServiceCluster } from './service-cluster.ts'
import { SERVICE_SCENARIOS, UNSYNCED_POWER_LOSS } from './service-scenarios.ts'
import { ServiceWorkload } from './service-workload.ts'
import { CALM } from './sim-network.ts'
import type { CoreFactory, SimMember } from './service-cluster.ts'
import type { ServiceScenario } from './service-scenarios.ts'
import type { SessionStats } from './service-workload.ts'
import type { NetworkFaults } from './sim-network.ts'

export interface ServiceRunOptions {
  noisy: boolean
  makeCore?: CoreFactory
  /**
   * Whether the cores' batches are checked against Raft's safety invariants
   * (see `ServiceSimOptions.safetyChecks`)
   *
   * @default true
   */
  safetyChecks?: boolean
}

export interface ServiceRunSummary {
  scenario: string
  seed: number
  noisy: boolean
  /** Operations in the checked history (completed and unknown) */
  operations: number
  completed: number
  unknown: number
  /** Calls by kind */
  calls: Map<string, number>
  /** What the session clients did */
  sessions: SessionStats
  leaders: number
  /** Virtual ms the run took */
  virtualMs: number
  frames: number
  resets: number
  oversized: number
  /** Snapshot transfers started, and those cut off part way */
  transfers: number
  cutOff: number
  /** Members that lost power, counted once per member per power loss */
  powerLosses: number
  /** Writes that power losses dropped before they reached a disk */
  lostWrites: number
}

/** Network noise of a noisy run. */
const NOISE: Partial<NetworkFaults> = { drop: 0.03, duplicate: 0.02, latency: [1, 20], reset: 0.005 }

/** How long the healed cluster may take to commit a final entry everywhere (virtual ms). */
const RECOVERY = 30_000

/** One run in three takes snapshots at a small threshold, derived from the seed alone. */
function autoSnapshots (seed: number): { snapshotThreshold?: number, trailingEntries?: number } {
  return seed % 3 === 0 ? { snapshotThreshold: 10 + (seed * 7) % 31, trailingEntries: seed % 6 } : {}
}

export function serviceReplayCommand (scenario: string, seed: number, noisy: boolean): string {
  return `npm run sim -- --service --scenario ${scenario} --seed ${seed} ${noisy ? '--noisy' : '--calm'}`
}

export class ServiceScenarioFailure extends Error {
  constructor (readonly scenario: string, readonly seed: number, readonly noisy: boolean, reason: string, trace: string) {
    super(`${scenario} (seed ${seed}${noisy ? ', noisy' : ''}) failed: ${reason}\n  replay: ${serviceReplayCommand(scenario, seed, noisy)}\n  last log lines:\n${trace}`)
    this.name = 'ServiceScenarioFailure'
  }
}

/** Every scenario a run can name: the campaign's, and the one that must fail. */
export function serviceScenario (name: string): ServiceScenario {
  const found = [...SERVICE_SCENARIOS, UNSYNCED_POWER_LOSS].find(s => s.name === name)
  if (found === undefined) {
    throw new Error(`no service scenario ${name}; known: ${[...SERVICE_SCENARIOS, UNSYNCED_POWER_LOSS].map(s => s.name).join(', ')}`)
  }
  return found
}

/** One scenario, one seed: throws a ServiceScenarioFailure naming both if anything is wrong. */
export async function runServiceScenario (s: ServiceScenario, seed: number, options: ServiceRunOptions): Promise<ServiceRunSummary> {
  const cluster = await ServiceCluster.boot({
    seed,
    nodes: s.nodes,
    spares: s.spares,
    init: { ...autoSnapshots(seed), ...s.init },
    sessionLimits: s.sessionLimits,
    disk: s.disk,
    safetyChecks: options.safetyChecks,
    makeCore: options.makeCore
  })
  if (options.noisy) {
    cluster.network.faults = { ...cluster.network.faults, ...NOISE }
  }
  const workload = new ServiceWorkload(cluster, { clients: s.clients, keys: 3, membership: s.membership, largeValue: s.largeValue, sessions: s.sessions, timeout: s.timeout })
  try {
    workload.start()
    await s.run({ cluster, workload, noisy: options.noisy })
    workload.stop()
    // The history is complete once the clients stop: judge it first, before recovery, which a broken log may stall.
    const check = checkLinearizable(workload.history.operations)
    if (!check.ok) {
      throw new Error(`history not linearizable:\n${formatCounterexample(check)}`)
    }
    const members = await recover(cluster)
    const dumps = members.map(m => m.kv?.dump())
    if (dumps.some(d => d !== dumps[0])) {
      throw new Error(`the stores of ${members.map(m => m.name).join(', ')} differ after recovery: ${members.map(m => `${m.name}@${m.live.appliedIndex} ${m.kv?.dump() ?? ''}`).join('; ')}`)
    }
  } catch (err: any) {
    const reason = err instanceof InvariantError ? err.message : String(err.stack ?? err)
    throw new ServiceScenarioFailure(s.name, seed, options.noisy, reason, cluster.trace.tail())
  }
  return {
    scenario: s.name,
    seed,
    noisy: options.noisy,
    operations: workload.history.operations.length,
    completed: workload.history.completed,
    unknown: workload.history.unknown,
    calls: workload.calls,
    sessions: workload.sessionStats,
    leaders: cluster.safety.leaderTerms(),
    virtualMs: cluster.world.now,
    powerLosses: cluster.powerLosses,
    lostWrites: cluster.members.reduce((n, m) => n + m.disk.lost, 0),
    ...cluster.network.stats
  }
}

/**
 * Heals everything and starts every member that is down; a leader must then
 * commit a final entry (through `commit`) that every member of its
 * configuration applies. Returns those members.
 */
async function recover (cluster: ServiceCluster): Promise<SimMember[]> {
  const { world, network } = cluster
  network.links.heal()
  network.faults = { ...CALM }
  for (const member of cluster.members) {
    member.slowness = 1
    member.writeLatency = [0, 2]
    cluster.start(member)
  }
  let marker: number | undefined
  let asking = false
  let members: SimMember[] = []
  const done = await world.until(RECOVERY, () => {
    const leader = cluster.leader()
    if (leader === undefined) {
      return false
    }
    if (marker === undefined) {
      if (!asking) {
        asking = true
        const controller = new AbortController()
        world.schedule(1000, () => { controller.abort() })
        leader.live.commit(encodeInput({ kind: 'read', key: 'final' }), { signal: controller.signal })
          .then(({ index }) => { marker = index }, () => {})
          .finally(() => { asking = false })
      }
      return false
    }
    const { voters, learners } = leader.live.members()
    members = [...voters, ...learners].map(id => cluster.member(id.toString()))
    // Calls still in flight may commit after the marker: compare stores once all members applied the same.
    const applied = leader.live.commitIndex
    return applied >= marker && members.every(m => m.started && m.live.appliedIndex === applied)
  })
  if (!done) {
    const states = cluster.members.map(m => m.started ? `${m.name}:${m.live.role}@${m.live.term} applied ${m.live.appliedIndex} commit ${m.live.commitIndex}` : `${m.name}:down`)
    throw new Error(`no recovery within ${RECOVERY} virtual ms after healing: ${states.join(', ')}`)
  }
  return members
}

export { SERVICE_SCENARIOS, UNSYNCED_POWER_LOSS }
