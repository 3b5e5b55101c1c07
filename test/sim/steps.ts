/**
 * What scenarios are made of: their shape, and the waits and faults every
 * suite of them scripts with (the general ones in `scenarios.ts`, the
 * membership ones in `membership-scenarios.ts`).
 */
import type { Simulator } from './simulator.ts'
import type { KvWorkload } from './workload.ts'
import type { World } from './world.ts'

export interface ScenarioContext {
  sim: Simulator
  workload: KvWorkload
  noisy: boolean
}

export interface Scenario {
  name: string
  /** The initial voters */
  nodes: number
  /** Nodes that start outside the configuration, for the scenario to add */
  spares?: number
  clients: number
  /** Faults scripted over virtual time; throws if a scenario-specific expectation fails */
  run(ctx: ScenarioContext): Promise<void>
}

/** Time for an election after a leader is lost (virtual ms), with room for a lossy network. */
export const ELECTION = 3000

/** Advances virtual time (in the core's simulator or the service's world). */
export async function wait (world: World, ms: number): Promise<void> {
  await world.run(world.now + ms)
}

/** Waits until some running node leads (a leader among the connected majority), or fails. */
export async function expectLeader (sim: Simulator, within: number, what: string, among?: string[]): Promise<string> {
  const found = await sim.run(sim.now + within, () => {
    const leader = sim.leader()
    return leader !== undefined && (among === undefined || among.includes(leader.id))
  })
  const leader = sim.leader()
  if (!found || leader === undefined) {
    throw new Error(`${what}: no leader within ${within} ms`)
  }
  return leader.id
}

export function others (sim: Simulator, id: string): string[] {
  return sim.ids().filter(other => other !== id)
}

export async function crashAndRestart (sim: Simulator, id: string, downFor: number): Promise<void> {
  sim.crash(id)
  await wait(sim, downFor)
  await sim.restart(id)
}

/**
 * Turns automatic snapshots on for the rest of the run, with crashes cutting
 * their storage steps short only by chance `tornCrash` (scenarios that
 * expect a particular outcome arm their crashes themselves).
 */
export function autoSnapshots (sim: Simulator, threshold: number, trailingEntries: number, tornCrash = 0): void {
  sim.options.snapshotThreshold = threshold
  sim.options.trailingEntries = trailingEntries
  sim.options.tornCrash = tornCrash
}
