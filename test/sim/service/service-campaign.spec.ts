import { expect } from 'aegir/chai'
import { SERVICE_SCENARIOS, runServiceScenario, serviceScenario } from './service-campaign.ts'
import type { ServiceRunSummary } from './service-campaign.ts'

/**
 * CI's slice of the service campaign: the shell that ships, every scenario
 * calm and noisy over SERVICE_SIM_SEEDS seeds (8 by default). `npm run sim
 * -- --service` runs long campaigns.
 */
const seeds = Number(process.env.SERVICE_SIM_SEEDS ?? 8)

function callsOf (summaries: ServiceRunSummary[], ...kinds: string[]): number {
  return summaries.reduce((n, s) => n + kinds.reduce((m, kind) => m + (s.calls.get(kind) ?? 0), 0), 0)
}

describe('simulation: the real service under faults', function () {
  this.timeout(300_000)

  for (const scenario of SERVICE_SCENARIOS) {
    for (const noisy of [false, true]) {
      it(`${scenario.name}${noisy ? ', noisy network' : ''}: ${seeds} seeds`, async () => {
        const summaries: ServiceRunSummary[] = []
        for (let seed = 1; seed <= seeds; seed++) {
          summaries.push(await runServiceScenario(scenario, seed, { noisy }))
        }
        // The clients must have done real work, through every kind of call, for the checker to judge.
        expect(summaries.reduce((n, s) => n + s.completed, 0)).to.be.greaterThan(seeds * 20)
        expect(callsOf(summaries, 'write', 'cas')).to.be.greaterThan(seeds * 10)
        expect(callsOf(summaries, 'read')).to.be.greaterThan(seeds * 5)
        if (scenario.sessions !== undefined) {
          // Sessions opened, and commands of unknown outcome sent again until some resolved.
          const sessions = summaries.map(s => s.sessions)
          expect(sessions.reduce((n, s) => n + s.opened, 0)).to.be.greaterThan(seeds)
          expect(sessions.reduce((n, s) => n + s.recovered, 0)).to.be.greaterThan(0)
        }
        if (scenario.membership !== undefined) {
          expect(callsOf(summaries, 'addVoter', 'addLearner', 'removeMember', 'transferLeadership', 'join')).to.be.greaterThan(0)
        }
      })
    }
  }

  it('snapshots are sent, and some transfers cut off, in the snapshot scenario', async () => {
    let transfers = 0
    let cutOff = 0
    for (let seed = 1; seed <= seeds; seed++) {
      const summary = await runServiceScenario(serviceScenario('service-snapshots'), seed, { noisy: false })
      transfers += summary.transfers
      cutOff += summary.cutOff
    }
    expect(transfers).to.be.greaterThan(seeds)
    expect(cutOff).to.be.greaterThan(0)
  })

  it('a run is a pure function of its seed', async () => {
    const run = async (): Promise<string> => {
      const summary = await runServiceScenario(serviceScenario('service-random-faults'), 7, { noisy: true })
      return JSON.stringify({ ...summary, calls: [...summary.calls] })
    }
    expect(await run()).to.equal(await run())
  })
})
