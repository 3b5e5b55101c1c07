/**
 * Runs one chaos scenario end to end and measures it:
 *
 * 1. a fresh network and cluster (bootstrap members, a leader);
 * 2. clients on every member while the scenario injects its faults;
 * 3. recovery: from the last heal until a commit succeeds (the clients' first
 * acknowledged write invoked after it, or else a probe commit), with the
 * cluster as the scenario left it (a member killed for good stays dead);
 * 4. then everything healed and restarted, every member of the final
 * configuration caught up to the leader's commit index, and checked:
 * acknowledged unique writes missing on any of them, registers that differ
 * between them, the history through the linearizability checker, members
 * that exited on their own.
 *
 * Everything it starts is removed before it returns, also on failure.
 */

import { checkLinearizable, formatCounterexample } from '../sim/linearizability.ts'
import { Rng } from '../utils/rng.ts'
import { Workload } from './clients.ts'
import { Cluster, sleep, waitFor } from './cluster.ts'
import { Chaos, waitForCatchUp } from './nemeses.ts'
import { sh } from './netns.ts'
import type { Member } from './cluster.ts'
import type { Scenario } from './scenarios.ts'

/** A cluster that has not committed a probe this long after the last heal has not recovered. */
export const RECOVERY_DEADLINE_MS = 30_000
const CATCH_UP_DEADLINE_MS = 45_000
const CHECK_TIMEOUT_MS = 30_000

export interface RunOptions {
  seconds?: number
  members?: number
  seed?: number
  /** prints progress lines (faults, membership changes) */
  print?(line: string): void
}

export interface RunResult {
  scenario: string
  members: number
  seconds: number
  seed: number
  ok: number
  failed: number
  unknown: number
  errors: Record<string, number>
  linearizable: 'yes' | 'no' | 'undecided' | 'not checked'
  counterexample?: string
  lost: number
  lostKeys: string[]
  /** ms from the last heal to the first successful probe commit; undefined if none within the deadline */
  recoveryMs?: number
  /** peak resident memory per member, bytes */
  peakRss: Record<string, number>
  crashes: string[]
  /** why the run failed (empty: passed) */
  problems: string[]
  events: string[]
  durationMs: number
}

function describe (err: any): string {
  return err instanceof Error ? err.message : String(err)
}

/** Commits probe writes through the running members until one succeeds. */
async function probe (cluster: Cluster, from: number, deadline: number): Promise<number | undefined> {
  let turn = 0
  while (performance.now() < deadline) {
    const up = cluster.members.filter(m => m.up)
    const via = up[turn++ % Math.max(1, up.length)] as Member | undefined
    if (via !== undefined) {
      const reply = await via.request({ type: 'op', input: { kind: 'write', key: 'probe', value: String(turn) }, timeoutMs: 3000 }, 6000).catch(() => undefined)
      if (reply?.ok === true) {
        return performance.now() - from
      }
    }
    await sleep(100)
  }
  return undefined
}

export async function runScenario (scenario: Scenario, options: RunOptions = {}): Promise<RunResult> {
  const started = performance.now()
  const seconds = options.seconds ?? scenario.seconds
  const size = options.members ?? scenario.members
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31)
  const rng = new Rng(seed)
  const print = options.print ?? (() => {})
  const cluster = new Cluster()
  const workload = new Workload(rng)
  const problems: string[] = []
  const result: RunResult = {
    scenario: scenario.name,
    members: size,
    seconds,
    seed,
    ok: 0,
    failed: 0,
    unknown: 0,
    errors: {},
    linearizable: 'not checked',
    lost: 0,
    lostKeys: [],
    peakRss: {},
    crashes: [],
    problems,
    events: [],
    durationMs: 0
  }
  let chaos: Chaos | undefined
  try {
    await cluster.create()
    await cluster.bootstrap(size)
    await cluster.waitForLeader(60_000)
    for (const member of cluster.members) {
      workload.addClient(member)
    }
    chaos = new Chaos(cluster, workload, rng, seconds, print)
    chaos.log(`${scenario.name}: ${size} members, ${seconds} s, seed ${seed}`)

    // the faults
    try {
      await scenario.run(chaos)
    } catch (err) {
      problems.push(`scenario failed: ${describe(err)}`)
      chaos.log(`scenario failed: ${describe(err)}`)
    }

    // recovery, with the cluster as the scenario left it: the first write
    // the clients got acknowledged after the last heal, or else a probe
    const healedAt = chaos.lastHeal ?? performance.now()
    const firstWrite = workload.firstWriteAfter(healedAt)
    result.recoveryMs = firstWrite !== undefined && firstWrite - healedAt <= RECOVERY_DEADLINE_MS
      ? firstWrite - healedAt
      : await probe(cluster, healedAt, Math.max(healedAt + RECOVERY_DEADLINE_MS, performance.now() + 5000))
    if (result.recoveryMs === undefined) {
      problems.push(`no commit succeeded within ${RECOVERY_DEADLINE_MS / 1000} s of the last heal`)
      const statuses = await Promise.all(cluster.members.filter(m => m.up).map(async m => m.status().then(s => `${m.name}: ${s.role} term ${s.term} leader ${cluster.members.find(x => x.peerId === s.leader)?.name ?? '-'} commit ${s.commitIndex}`, () => `${m.name}: no answer`)))
      chaos.log(`no recovery; ${statuses.join('; ')}`)
    } else {
      chaos.log(`recovered ${Math.round(result.recoveryMs)} ms after the last heal`)
    }
    await workload.stop()

    // heal everything, bring every member back, and let them converge
    await cluster.heal()
    // (a member is only ever down here because a fault killed it: churn restarts its victims)
    await Promise.all(cluster.members.filter(m => !m.running).map(async m => { await m.start() }))
    let converged = true
    try {
      await waitForCatchUp(chaos, CATCH_UP_DEADLINE_MS)
    } catch (err) {
      converged = false
      problems.push(`members did not converge: ${describe(err)}`)
      // the sockets' queues tell a stalled transport from a member that sends nothing
      for (const ns of [cluster.network.hub, ...cluster.network.indices.map(i => cluster.network.namespace(i))]) {
        const sockets = await sh('ip', ['netns', 'exec', ns, 'ss', '-tnoH']).catch((e: Error) => e.message)
        chaos.log(`sockets in ${ns}:\n${sockets.trim()}`)
      }
    }
    await checkStates(chaos, workload, result, converged)
    checkHistory(workload, result)
  } catch (err) {
    problems.push(`run failed: ${describe(err)}`)
  } finally {
    await workload.stop()
    for (const member of cluster.members) {
      member.sampleRss()
      result.peakRss[member.name] = member.peakRss
    }
    result.crashes = cluster.crashes()
    await cluster.destroy().catch((err) => { problems.push(`cleanup failed: ${describe(err)}`) })
    result.ok = workload.ok
    result.failed = workload.failed
    result.unknown = workload.unknown
    result.errors = Object.fromEntries(workload.errors)
    result.events = chaos?.events ?? []
    result.durationMs = performance.now() - started
  }
  if (result.crashes.length > 0) {
    problems.push(`${result.crashes.length} member process(es) crashed`)
  }
  return result
}

/**
 * Lost acknowledged writes and diverging registers, across the final
 * configuration (when it did not converge, members that lag behind miss
 * writes for that reason, already reported: both are then left out).
 */
async function checkStates (chaos: Chaos, workload: Workload, result: RunResult, converged: boolean): Promise<void> {
  let members = (await chaos.configuration()).filter(m => m.running)
  if (!converged) {
    const leader = await chaos.cluster.leader()
    const target = (await leader?.status().catch(() => undefined))?.commitIndex ?? Infinity
    const applied = await Promise.all(members.map(async m => (await m.status().catch(() => undefined))?.appliedIndex ?? -1))
    members = members.filter((_, i) => applied[i] >= target)
  }
  const states = await Promise.all(members.map(async m => ({ member: m, values: await waitFor(async () => m.state(), 30_000, `${m.name}'s state`) })))
  const lost = new Set<string>()
  for (const key of workload.acknowledged.keys()) {
    for (const { values } of states) {
      if (values[key] === undefined) {
        lost.add(key)
      }
    }
  }
  result.lost = lost.size
  result.lostKeys = [...lost].slice(0, 20)
  if (lost.size > 0) {
    const where = states.map(({ member, values }) => `${member.name} misses ${[...workload.acknowledged.keys()].filter(k => values[k] === undefined).length}`)
    result.problems.push(`${lost.size} acknowledged writes lost (${where.join(', ')})`)
  }
  const registers = (values: Record<string, string>): string => JSON.stringify(Object.entries(values).filter(([k]) => k.startsWith('r')).sort())
  const distinct = new Set(states.map(({ values }) => registers(values)))
  if (distinct.size > 1) {
    result.problems.push(`members' registers differ after catching up: ${states.map(({ member, values }) => `${member.name} ${registers(values)}`).join('; ')}`)
  }
}

function checkHistory (workload: Workload, result: RunResult): void {
  const check = checkLinearizable(workload.history, { timeoutMs: CHECK_TIMEOUT_MS })
  if (check.ok) {
    result.linearizable = 'yes'
  } else {
    result.linearizable = check.verdict === 'illegal' ? 'no' : 'undecided'
    result.counterexample = formatCounterexample(check)
    result.problems.push(check.verdict === 'illegal' ? 'history not linearizable' : 'linearizability undecided')
  }
}
