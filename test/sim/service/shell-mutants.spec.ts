import { expect } from 'aegir/chai'
import { ServiceScenarioFailure, runServiceScenario, serviceScenario } from './service-campaign.ts'
import { SHELL_MUTANTS } from './shell-mutants.ts'
import type { ShellMutant } from './shell-mutants.ts'

/**
 * Proof the service campaign can fail: each broken shell must be caught (by
 * a safety invariant, the linearizability checker, a contract check on a
 * call, or recovery) within a bounded search over seeds of the scenarios
 * that should expose it.
 */
const MAX_SEEDS = 40

/** The failure of one run, if it fails. */
async function failure (name: string, seed: number, noisy: boolean): Promise<ServiceScenarioFailure | undefined> {
  try {
    await runServiceScenario(serviceScenario(name), seed, { noisy })
    return undefined
  } catch (err) {
    if (err instanceof ServiceScenarioFailure) {
      return err
    }
    throw err
  }
}

/** The first run, over seeds then scenarios then calm/noisy, that fails with this mutant. */
async function firstFailure (mutant: ShellMutant): Promise<ServiceScenarioFailure | undefined> {
  const runs = Array.from({ length: MAX_SEEDS }, (_, i) => i + 1).flatMap(seed => mutant.scenarios.flatMap(name => [false, true].map(noisy => ({ seed, name, noisy }))))
  const mend = mutant.apply()
  try {
    for (const { seed, name, noisy } of runs) {
      const found = await failure(name, seed, noisy)
      if (found !== undefined) {
        return found
      }
    }
    return undefined
  } finally {
    mend()
  }
}

describe('simulation: the service campaign catches broken shells', function () {
  this.timeout(600_000)

  for (const mutant of SHELL_MUTANTS) {
    it(`catches a shell that ${mutant.name}`, async () => {
      const caught = await firstFailure(mutant)
      expect(caught, `no run of ${mutant.scenarios.join(', ')} over ${MAX_SEEDS} seeds caught it`).to.be.instanceOf(ServiceScenarioFailure)
    })
  }

  it('every scenario passes again once the mutants are mended', async () => {
    for (const mutant of SHELL_MUTANTS) {
      for (const name of mutant.scenarios) {
        await runServiceScenario(serviceScenario(name), 1, { noisy: true })
      }
    }
  })
})
