import { expect } from 'aegir/chai'
import { runScenario } from './campaign.ts'
import { SCENARIOS } from './scenarios.ts'

/**
 * CI's bounded campaign: every scenario, calm and noisy, over SIM_SEEDS seeds
 * each (25 by default: 1,000 runs). `npm run sim` runs long campaigns.
 */
const seeds = Number(process.env.SIM_SEEDS ?? 25)

describe('simulation: scenario campaign', function () {
  this.timeout(300_000)

  for (const scenario of SCENARIOS) {
    for (const noisy of [false, true]) {
      it(`${scenario.name}${noisy ? ', noisy network' : ''}: ${seeds} seeds`, async () => {
        let operations = 0
        for (let seed = 1; seed <= seeds; seed++) {
          const summary = await runScenario(scenario, seed, { noisy })
          operations += summary.operations
        }
        if (scenario.clients > 0) {
          // The clients must have done real work for the checker to judge.
          expect(operations).to.be.greaterThan(seeds)
        }
      })
    }
  }
})
