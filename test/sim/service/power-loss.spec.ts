import { expect } from 'aegir/chai'
import { ServiceScenarioFailure, UNSYNCED_POWER_LOSS, runServiceScenario } from './service-campaign.ts'
import type { ServiceRunOptions } from './service-campaign.ts'

/**
 * Proof the power-loss fault model bites: on stores that never sync, the
 * power losses that `service-power-loss` survives on synced stores must
 * lose acknowledged commands within a few seeds. (That the synced stores
 * lose none, and that unsynced stores survive process crashes, is the
 * campaign's: see `service-campaign.spec.ts`.)
 */
const MAX_SEEDS = 10

/** The first run over seeds, calm then noisy, that fails. */
async function firstFailure (options: Omit<ServiceRunOptions, 'noisy'>): Promise<ServiceScenarioFailure | undefined> {
  for (let seed = 1; seed <= MAX_SEEDS; seed++) {
    for (const noisy of [false, true]) {
      try {
        await runServiceScenario(UNSYNCED_POWER_LOSS, seed, { ...options, noisy })
      } catch (err) {
        if (err instanceof ServiceScenarioFailure) {
          return err
        }
        throw err
      }
    }
  }
  return undefined
}

describe('simulation: power loss on stores that do not sync', function () {
  this.timeout(120_000)

  it('breaks Raft\'s safety, and the invariant checks catch it', async () => {
    const caught = await firstFailure({})
    expect(caught, `no run of ${UNSYNCED_POWER_LOSS.name} over ${MAX_SEEDS} seeds failed`).to.be.instanceOf(ServiceScenarioFailure)
  })

  it('loses acknowledged commands, and the clients\' history alone shows it', async () => {
    // Without the invariant checks only what clients saw judges a run: a lost write shows as a non-linearizable history.
    const caught = await firstFailure({ safetyChecks: false })
    expect(caught, `no run of ${UNSYNCED_POWER_LOSS.name} over ${MAX_SEEDS} seeds failed`).to.be.instanceOf(ServiceScenarioFailure)
    expect(caught?.message).to.include('history not linearizable')
  })
})
