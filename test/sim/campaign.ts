/**
 * Runs scenarios over many seeds and reports the first failure with the
 * seed, the scenario and the command that replays it.
 */
import { InvariantError, describe as describeEntry } from '../utils/invariants.ts'
import { checkLinearizable, formatCounterexample } from './linearizability.ts'
import { membersOf } from './membership.ts'
import { SCENARIOS } from './scenarios.ts'
import { Simulator } from './simulator.ts'
import { KvWorkload } from './workload.ts'
import type { Scenario } from './scenarios.ts'
import type { CoreFactory, SimOptions } from './simulator.ts'

export interface RunOptions {
  noisy: boolean
  makeCore?: CoreFactory
  /** Every node's clock runs slow by a random fraction up to this (0.05: up to 5 %) */
  drift?: number
}

export interface RunSummary {
  scenario: string
  seed: number
  noisy: boolean
  operations: number
  unknown: number
  leaders: number
  /** Snapshots persisted, and installed from a leader */
  snapshots: number
  installs: number
  /** Configuration entries applied (the bootstrap configuration not counted) */
  configChanges: number
}

/** Network noise added to every message in a noisy run. */
const NOISE = { drop: 0.05, duplicate: 0.03, latency: [1, 25] as [number, number] }

/** How long the healed cluster may take to commit a final entry everywhere (virtual ms). */
const RECOVERY = 20_000

/**
 * One run in three takes snapshots automatically, at a small threshold, so
 * every scenario also runs over compacted logs and snapshot transfers, and
 * now and then a crash cuts a snapshot's storage step short. Derived from
 * the seed alone, so a replay does the same.
 */
function autoSnapshots (seed: number): Partial<SimOptions> {
  return seed % 3 === 0 ? { snapshotThreshold: 10 + (seed * 7) % 31, trailingEntries: seed % 6, tornCrash: 0.02 } : {}
}

export function replayCommand (scenario: string, seed: number, noisy: boolean): string {
  return `npm run sim -- --scenario ${scenario} --seed ${seed} ${noisy ? '--noisy' : '--calm'}`
}

export class ScenarioFailure extends Error {
  constructor (readonly scenario: string, readonly seed: number, readonly noisy: boolean, reason: string) {
    super(`${scenario} (seed ${seed}${noisy ? ', noisy' : ''}) failed: ${reason}\n  replay: ${replayCommand(scenario, seed, noisy)}`)
    this.name = 'ScenarioFailure'
  }
}

export function scenario (name: string): Scenario {
  const found = SCENARIOS.find(s => s.name === name)
  if (found === undefined) {
    throw new Error(`no scenario ${name}; known: ${SCENARIOS.map(s => s.name).join(', ')}`)
  }
  return found
}

/** One scenario, one seed: throws a ScenarioFailure naming both if anything is wrong. */
export async function runScenario (s: Scenario, seed: number, options: RunOptions): Promise<RunSummary> {
  const sim = new Simulator({ seed, nodes: s.nodes, spares: s.spares, ...(options.noisy ? NOISE : {}), ...autoSnapshots(seed), makeCore: options.makeCore })
  const workload = new KvWorkload(sim, { clients: s.clients, keys: 3 })
  try {
    sim.watch(() => { onlyVotersLead(sim) })
    await sim.boot()
    for (const node of sim.nodes.values()) {
      node.slowness = 1 + sim.rng.next() * (options.drift ?? 0)
    }
    workload.start()
    await s.run({ sim, workload, noisy: options.noisy })
    workload.stop()
    const members = await recover(sim)
    workload.settleAll()
    if (!workload.storesAgree(members)) {
      throw new Error(`the stores of ${members.join(', ')} differ after recovery`)
    }
    const check = checkLinearizable(workload.history.operations)
    if (!check.ok) {
      throw new Error(`history not linearizable:\n${formatCounterexample(check)}`)
    }
  } catch (err: any) {
    throw new ScenarioFailure(s.name, seed, options.noisy, err.name === 'InvariantError' ? `${String(err.message)}` : String(err.stack ?? err))
  }
  return {
    scenario: s.name,
    seed,
    noisy: options.noisy,
    operations: workload.history.operations.length,
    unknown: workload.history.unknown,
    leaders: sim.safety.leaderTerms(),
    snapshots: sim.stats.persisted,
    installs: sim.stats.installs,
    configChanges: sim.safety.committed.filter(entry => entry.type === 'config').length - 1
  }
}

/**
 * A leader whose own removal (or demotion) has committed steps down at
 * once: no node leads while the committed configuration it holds leaves it
 * out of the voters.
 */
function onlyVotersLead (sim: Simulator): void {
  for (const node of sim.nodes.values()) {
    const { core } = node
    if (node.up && core.role === 'leader' && !core.config.voters.includes(node.id) && core.configIndex <= core.commitIndex) {
      throw new InvariantError(`${node.id} leads term ${core.term} although its committed configuration ${JSON.stringify(core.config)} has it no voter`)
    }
  }
}

/**
 * Heals everything; a leader must then commit a final entry that every
 * member of its configuration applies. Nodes outside it (never added, or
 * removed) must not lead. Returns the members.
 */
async function recover (sim: Simulator): Promise<string[]> {
  sim.heal()
  sim.options.drop = 0
  sim.options.duplicate = 0
  sim.options.tornCrash = 0
  sim.delayFactor = () => 1
  for (const node of sim.nodes.values()) {
    node.slowness = 1
    await sim.restart(node.id)
  }
  const deadline = sim.now + RECOVERY
  let marker: { index: number, term: number } | undefined
  let members: string[] = []
  const done = await sim.run(deadline, () => {
    const leader = sim.leader()
    if (marker === undefined || leader?.core.term !== marker.term) {
      if (leader === undefined) {
        return false
      }
      try {
        marker = leader.core.propose(new TextEncoder().encode(JSON.stringify({ kind: 'read', key: 'final' })))
        sim.pump(leader)
      } catch {
        return false
      }
    }
    const index = marker.index
    members = membersOf(leader.core.config)
    return members.every(id => sim.node(id).applied >= index)
  })
  if (!done) {
    const states = [...sim.nodes.values()].map(n => `${n.id}:${n.core.role}@${n.core.term} applied ${n.applied} last ${n.core.log.lastIndex()}`)
    throw new Error(`no recovery within ${RECOVERY} virtual ms after healing: ${states.join(', ')}; committed ${sim.safety.committed.map(describeEntry).slice(-3).join(' ')}`)
  }
  const leader = sim.leader()
  // Its configuration is committed now (it is older than the final entry): a leader that removed itself would have stepped down.
  if (leader === undefined || !leader.core.config.voters.includes(leader.id)) {
    throw new Error(`${leader?.id ?? 'no node'} leads, outside the voters ${JSON.stringify(leader?.core.config)}`)
  }
  const outsider = [...sim.nodes.values()].find(node => !members.includes(node.id) && node.core.role === 'leader')
  if (outsider !== undefined) {
    throw new Error(`${outsider.id}, not a member of ${JSON.stringify(leader.core.config)}, leads term ${outsider.core.term}`)
  }
  return members
}
