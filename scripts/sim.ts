/**
 * Long simulation campaigns: `npm run sim -- --seeds 100000 [--scenario NAME] [--noisy | --calm]`,
 * or replay one run: `npm run sim -- --scenario NAME --seed N --noisy|--calm`.
 * Prints progress every second and a summary; exits 1 if any run failed.
 */
import { parseArgs } from 'node:util'
import { ScenarioFailure, runScenario, scenario } from '../test/sim/campaign.ts'
import { SCENARIOS } from '../test/sim/scenarios.ts'
import type { Scenario } from '../test/sim/scenarios.ts'

const { values } = parseArgs({
  options: {
    seeds: { type: 'string', default: '1000' },
    seed: { type: 'string' },
    scenario: { type: 'string' },
    noisy: { type: 'boolean', default: false },
    calm: { type: 'boolean', default: false },
    'max-failures': { type: 'string', default: '5' }
  }
})

const scenarios = values.scenario === undefined ? SCENARIOS : [scenario(values.scenario)]
const seeds = values.seed === undefined
  ? Array.from({ length: Number(values.seeds) }, (_, i) => i + 1)
  : [Number(values.seed)]
const modes = values.noisy ? [true] : values.calm ? [false] : [false, true]
const maxFailures = Number(values['max-failures'])
const total = scenarios.length * seeds.length * modes.length

function out (line: string): void {
  process.stdout.write(line + '\n')
}

const started = Date.now()
let done = 0
let operations = 0
let lastReport = started
const failures: ScenarioFailure[] = []
const perScenario = new Map<string, { runs: number, failed: number, snapshots: number, installs: number, configChanges: number }>()

out(`${total} runs: ${scenarios.length} scenario(s) × ${seeds.length} seed(s) × ${modes.map(m => m ? 'noisy' : 'calm').join('+')}`)
/** Runs one scenario once; returns false when it is time to stop (too many failures). */
async function runOne (s: Scenario, seed: number, noisy: boolean): Promise<boolean> {
  const tally = perScenario.get(s.name) ?? { runs: 0, failed: 0, snapshots: 0, installs: 0, configChanges: 0 }
  perScenario.set(s.name, tally)
  tally.runs++
  try {
    const summary = await runScenario(s, seed, { noisy })
    operations += summary.operations
    tally.snapshots += summary.snapshots
    tally.installs += summary.installs
    tally.configChanges += summary.configChanges
  } catch (err) {
    if (!(err instanceof ScenarioFailure)) {
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

const runs = seeds.flatMap(seed => scenarios.flatMap(s => modes.map(noisy => ({ seed, s, noisy }))))
for (const { seed, s, noisy } of runs) {
  if (!await runOne(s, seed, noisy)) {
    break
  }
}

out(`\n${done} runs in ${((Date.now() - started) / 1000).toFixed(1)} s, ${operations} client operations checked for linearizability`)
const width = Math.max(...scenarios.map(s => s.name.length))
for (const [name, tally] of perScenario) {
  const snapshots = `${String(tally.snapshots).padStart(7)} snapshots ${String(tally.installs).padStart(6)} installs ${String(tally.configChanges).padStart(6)} config changes`
  out(`  ${name.padEnd(width)} ${String(tally.runs).padStart(7)} runs ${snapshots}  ${tally.failed > 0 ? `${tally.failed} FAILED` : 'ok'}`)
}
out(failures.length === 0 ? 'all runs passed' : `${failures.length} run(s) failed; replay with the commands above`)
process.exitCode = failures.length === 0 ? 0 : 1
