/**
 * Long simulation campaigns. The core campaign drives the Raft core through
 * the simulator's own shell; `--service` runs the shell that ships
 * (`RaftService`) with clients on its public API.
 *
 * `npm run sim -- [--service] --seeds 100000 [--scenario NAME] [--noisy | --calm]`, or replay one
 * run: `npm run sim -- [--service] --scenario NAME --seed N --noisy|--calm`.
 * `--scenario service-power-loss-unsynced`, outside the campaign, must fail:
 * power losses on stores that do not sync lose acknowledged commands.
 *
 * Prints progress every second and a summary whose last line is
 * `all runs passed` or names the failures; exits 1 if any run failed.
 */
import { parseArgs } from 'node:util'
import { ScenarioFailure, runScenario, scenario } from '../test/sim/campaign.ts'
import { SCENARIOS } from '../test/sim/scenarios.ts'
import { SERVICE_SCENARIOS, ServiceScenarioFailure, runServiceScenario, serviceScenario } from '../test/sim/service/service-campaign.ts'

const { values } = parseArgs({
  options: {
    service: { type: 'boolean', default: false },
    seeds: { type: 'string', default: '1000' },
    seed: { type: 'string' },
    scenario: { type: 'string' },
    noisy: { type: 'boolean', default: false },
    calm: { type: 'boolean', default: false },
    'max-failures': { type: 'string', default: '5' }
  }
})

/** What one run reports to the summary, whichever campaign. */
interface Tally { runs: number, failed: number, counters: Record<string, number> }

/** A campaign: its scenarios by name, and how to run one of them once. */
interface Campaign {
  names(): string[]
  run(name: string, seed: number, noisy: boolean): Promise<{ operations: number, counters: Record<string, number> }>
  isFailure(err: unknown): err is Error
}

const coreCampaign: Campaign = {
  names: () => values.scenario === undefined ? SCENARIOS.map(s => s.name) : [scenario(values.scenario).name],
  async run (name, seed, noisy) {
    const summary = await runScenario(scenario(name), seed, { noisy })
    return { operations: summary.operations, counters: { snapshots: summary.snapshots, installs: summary.installs, 'config changes': summary.configChanges } }
  },
  isFailure: (err): err is Error => err instanceof ScenarioFailure
}

const serviceCampaign: Campaign = {
  names: () => values.scenario === undefined ? SERVICE_SCENARIOS.map(s => s.name) : [serviceScenario(values.scenario).name],
  async run (name, seed, noisy) {
    const summary = await runServiceScenario(serviceScenario(name), seed, { noisy })
    return { operations: summary.operations, counters: { leaders: summary.leaders, transfers: summary.transfers, resets: summary.resets, 'sessions opened': summary.sessions.opened, 'session retries': summary.sessions.retries, 'retries resolved': summary.sessions.recovered, 'sessions expired': summary.sessions.expired, 'power losses': summary.powerLosses, 'writes lost to power': summary.lostWrites, 'membership calls': ['addVoter', 'addLearner', 'removeMember', 'transferLeadership', 'join'].reduce((n, kind) => n + (summary.calls.get(kind) ?? 0), 0) } }
  },
  isFailure: (err): err is Error => err instanceof ServiceScenarioFailure
}

const campaign = values.service ? serviceCampaign : coreCampaign
const names = campaign.names()
const seeds = values.seed === undefined
  ? Array.from({ length: Number(values.seeds) }, (_, i) => i + 1)
  : [Number(values.seed)]
const modes = values.noisy ? [true] : values.calm ? [false] : [false, true]
const maxFailures = Number(values['max-failures'])
const total = names.length * seeds.length * modes.length

function out (line: string): void {
  process.stdout.write(line + '\n')
}

const started = Date.now()
let done = 0
let operations = 0
let lastReport = started
const failures: Error[] = []
const perScenario = new Map<string, Tally>()

out(`${total} ${values.service ? 'service' : 'core'} runs: ${names.length} scenario(s) × ${seeds.length} seed(s) × ${modes.map(m => m ? 'noisy' : 'calm').join('+')}`)

/** Runs one scenario once; returns false when it is time to stop (too many failures). */
async function runOne (name: string, seed: number, noisy: boolean): Promise<boolean> {
  const tally = perScenario.get(name) ?? { runs: 0, failed: 0, counters: {} }
  perScenario.set(name, tally)
  tally.runs++
  try {
    const summary = await campaign.run(name, seed, noisy)
    operations += summary.operations
    for (const [counter, n] of Object.entries(summary.counters)) {
      tally.counters[counter] = (tally.counters[counter] ?? 0) + n
    }
  } catch (err) {
    if (!campaign.isFailure(err)) {
      throw err
    }
    tally.failed++
    failures.push(err)
    out(`FAIL ${err.message}`)
    if (failures.length >= maxFailures) {
      out(`stopping after ${failures.length} failures`)
      return false
    }
  }
  done++
  if (Date.now() - lastReport > 1000) {
    lastReport = Date.now()
    const rate = done / ((lastReport - started) / 1000)
    out(`  ${done}/${total} runs, ${failures.length} failed, ${operations} client operations checked, ${rate.toFixed(1)} runs/s, ~${Math.round((total - done) / rate)} s left`)
  }
  return true
}

const runs = seeds.flatMap(seed => names.flatMap(name => modes.map(noisy => ({ seed, name, noisy }))))
for (const { seed, name, noisy } of runs) {
  if (!await runOne(name, seed, noisy)) {
    break
  }
}

const seconds = (Date.now() - started) / 1000
out(`\n${done} runs in ${seconds.toFixed(1)} s (${(done / seconds).toFixed(1)} runs/s), ${operations} client operations checked for linearizability`)
const width = Math.max(...names.map(name => name.length))
for (const [name, tally] of perScenario) {
  const counters = Object.entries(tally.counters).map(([counter, n]) => `${String(n).padStart(7)} ${counter}`).join(' ')
  out(`  ${name.padEnd(width)} ${String(tally.runs).padStart(7)} runs ${counters}  ${tally.failed > 0 ? `${tally.failed} FAILED` : 'ok'}`)
}
out(failures.length === 0 ? 'all runs passed' : `${failures.length} run(s) failed; replay with the commands above`)
process.exitCode = failures.length === 0 ? 0 : 1
