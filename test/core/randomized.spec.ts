import { expect } from 'aegir/chai'
import { CALM, STORMY, runChaos } from '../utils/chaos.ts'
import type { ChaosOptions, ChaosSummary } from '../utils/chaos.ts'

/**
 * Seeded random schedules checked against Raft's safety invariants after
 * every batch, then against liveness once the network heals. Set RAFT_SEED
 * to replay one seed, RAFT_SEEDS to run more of them.
 */
const replay = process.env.RAFT_SEED === undefined ? undefined : Number(process.env.RAFT_SEED)
const seedCount = Number(process.env.RAFT_SEEDS ?? 200)
const seeds = replay === undefined ? Array.from({ length: seedCount }, (_, i) => i + 1) : [replay]

function campaign (options: Omit<ChaosOptions, 'seed'>): ChaosSummary {
  const total: ChaosSummary = { seed: 0, proposals: 0, committed: 0, leaders: 0, crashes: 0 }
  for (const seed of seeds) {
    const summary = runChaos({ ...options, seed })
    total.proposals += summary.proposals
    total.committed += summary.committed
    total.leaders += summary.leaders
    total.crashes += summary.crashes
  }
  return total
}

describe('core: randomized cluster runs', function () {
  this.timeout(120_000)

  it(`5 nodes, calm network: ${seeds.length} seeds × 1000 steps`, () => {
    const total = campaign({ size: 5, steps: 1000, faults: CALM })
    // The runs must have done real work: elections, commits and crashes happened.
    expect(total.leaders).to.be.at.least(seeds.length)
    expect(total.committed).to.be.greaterThan(seeds.length * 10)
    expect(total.crashes).to.be.greaterThan(seeds.length)
  })

  it(`5 nodes, stormy network (leaders crashed and cut off): ${seeds.length} seeds × 2000 steps`, () => {
    const total = campaign({ size: 5, steps: 2000, faults: STORMY })
    expect(total.leaders).to.be.greaterThan(seeds.length * 3)
    expect(total.committed).to.be.greaterThan(seeds.length * 10)
  })

  it(`3 nodes without pre-vote and check-quorum, tiny batches and window: ${seeds.length} seeds × 2000 steps`, () => {
    const total = campaign({ size: 3, steps: 2000, faults: STORMY, preVote: false, checkQuorum: false, maxInflightAppends: 2, maxEntriesPerAppend: 2 })
    expect(total.leaders).to.be.greaterThan(seeds.length * 3)
  })
})
