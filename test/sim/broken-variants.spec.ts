import { expect } from 'aegir/chai'
import { BROKEN_VARIANTS } from './broken-variants.ts'
import { ScenarioFailure, runScenario, scenario } from './campaign.ts'
import type { BrokenVariant } from './broken-variants.ts'

/**
 * Proof the campaign can fail: each deliberately broken core must be caught
 * (by an invariant, the linearizability checker or a scenario expectation)
 * within a bounded search over seeds of the scenarios that should expose it.
 */
const MAX_SEEDS = 100

/** The failure of one run with this variant, if it fails. */
async function failure (variant: BrokenVariant, name: string, seed: number, noisy: boolean): Promise<ScenarioFailure | undefined> {
  try {
    await runScenario(scenario(name), seed, { noisy, makeCore: variant.makeCore })
    return undefined
  } catch (err) {
    if (err instanceof ScenarioFailure) {
      return err
    }
    throw err
  }
}

/** The first run, over seeds then scenarios then calm/noisy, that fails with this variant. */
async function firstFailure (variant: BrokenVariant): Promise<ScenarioFailure | undefined> {
  for (let seed = 1; seed <= MAX_SEEDS; seed++) {
    for (const name of variant.scenarios) {
      for (const noisy of [false, true]) {
        const found = await failure(variant, name, seed, noisy)
        if (found !== undefined) {
          return found
        }
      }
    }
  }
  return undefined
}

describe('simulation: the campaign catches broken cores', function () {
  this.timeout(300_000)

  for (const variant of BROKEN_VARIANTS) {
    it(`catches a core that ${variant.name}`, async () => {
      const caught = await firstFailure(variant)
      expect(caught, `no run of ${variant.scenarios.join(', ')} over ${MAX_SEEDS} seeds caught it`).to.be.instanceOf(ScenarioFailure)
    })
  }
})
