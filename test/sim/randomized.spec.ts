import { expect } from 'aegir/chai'
import { RaftCore } from '../../src/core/index.ts'
import { runScenario, scenario } from './campaign.ts'
import type { RunOptions, RunSummary } from './campaign.ts'
import type { CoreInit } from '../../src/core/index.ts'

/**
 * Seeded random fault storms against the real core and storage: crashes
 * that lose unwritten batches, restarts, partitions, one-way cuts, leader
 * isolation, and (noisy) message loss, duplication and reordering. Safety
 * invariants are checked on every batch; each run must then recover and its
 * client history must be linearizable. RAFT_SEED replays one seed;
 * RAFT_SEEDS runs more.
 */
const replay = process.env.RAFT_SEED === undefined ? undefined : Number(process.env.RAFT_SEED)
const seeds = replay === undefined ? Array.from({ length: Number(process.env.RAFT_SEEDS ?? 200) }, (_, i) => i + 1) : [replay]

async function campaign (options: RunOptions): Promise<{ leaders: number, operations: number }> {
  const total = { leaders: 0, operations: 0 }
  for (const seed of seeds) {
    const summary: RunSummary = await runScenario(scenario('random-faults'), seed, options)
    total.leaders += summary.leaders
    total.operations += summary.operations
  }
  return total
}

describe('core: randomized cluster runs', function () {
  this.timeout(300_000)

  it(`5 nodes, random faults on a calm network: ${seeds.length} seeds`, async () => {
    const total = await campaign({ noisy: false })
    // The runs must have done real work: many elections and client operations.
    expect(total.leaders).to.be.greaterThan(seeds.length * 3)
    expect(total.operations).to.be.greaterThan(seeds.length * 20)
  })

  it(`5 nodes, random faults on a lossy, duplicating, reordering network: ${seeds.length} seeds`, async () => {
    const total = await campaign({ noisy: true })
    expect(total.leaders).to.be.greaterThan(seeds.length * 3)
  })

  it(`5 nodes with lease reads, clocks drifting apart by up to 8 %: ${seeds.length} seeds`, async () => {
    // The lease ends a tick early, which covers clocks that drift by less than one tick per election timeout (10 %).
    const total = await campaign({ noisy: true, drift: 0.08, makeCore: (init) => new RaftCore({ ...init, readMode: 'lease' }) })
    expect(total.operations).to.be.greaterThan(seeds.length * 10)
  })

  it('lease reads are caught going stale when a leader\'s clock runs 3× slow (beyond the lease assumption)', async () => {
    const lease = (init: CoreInit): RaftCore => new RaftCore({ ...init, readMode: 'lease' })
    let caught: Error | undefined
    for (let seed = 1; seed <= 50 && caught === undefined; seed++) {
      caught = await runScenario(scenario('slow-clock-leader'), seed, { noisy: false, makeCore: lease }).then(() => undefined, (err: Error) => err)
    }
    expect(caught?.message).to.match(/not linearizable/)
  })

  it(`5 nodes without pre-vote and check-quorum, one entry per request, window of 2: ${seeds.length} seeds`, async () => {
    const total = await campaign({
      noisy: true,
      makeCore: (init) => new RaftCore({ ...init, preVote: false, checkQuorum: false, maxEntriesPerAppend: 1, maxInflightAppends: 2 })
    })
    expect(total.leaders).to.be.greaterThan(seeds.length * 3)
  })
})
