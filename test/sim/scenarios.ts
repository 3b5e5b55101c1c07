/**
 * The scenario suite: each scenario scripts faults over virtual time while
 * clients run, on top of the simulator's own random network noise when run
 * "noisy". Every run ends the same way (see `runScenario`): the network
 * heals, every node restarts, a leader must commit a final entry that every
 * node applies, all stores must agree and the history must be linearizable.
 */
import type { Simulator } from './simulator.ts'
import type { KvWorkload } from './workload.ts'

export interface ScenarioContext {
  sim: Simulator
  workload: KvWorkload
  noisy: boolean
}

export interface Scenario {
  name: string
  nodes: number
  clients: number
  /** Faults scripted over virtual time; throws if a scenario-specific expectation fails */
  run(ctx: ScenarioContext): Promise<void>
}

/** Advances virtual time. */
async function wait (sim: Simulator, ms: number): Promise<void> {
  await sim.run(sim.now + ms)
}

/** Waits until some running node leads (a leader among the connected majority), or fails. */
async function expectLeader (sim: Simulator, within: number, what: string, among?: string[]): Promise<string> {
  const found = await sim.run(sim.now + within, () => {
    const leader = sim.leader()
    return leader !== undefined && (among === undefined || among.includes(leader.id))
  })
  const leader = sim.leader()
  if (!found || leader === undefined) {
    throw new Error(`${what}: no leader within ${within} ms`)
  }
  return leader.id
}

/** Runs until `condition` holds or `within` ms pass; returns whether it held. */
async function until (sim: Simulator, within: number, condition: () => boolean): Promise<boolean> {
  return sim.run(sim.now + within, condition)
}

function others (sim: Simulator, id: string): string[] {
  return sim.ids().filter(other => other !== id)
}

async function crashAndRestart (sim: Simulator, id: string, downFor: number): Promise<void> {
  sim.crash(id)
  await wait(sim, downFor)
  await sim.restart(id)
}

const ELECTION = 3000

export const SCENARIOS: Scenario[] = [
  {
    name: 'initial-election',
    nodes: 3,
    clients: 0,
    async run ({ sim }) {
      await expectLeader(sim, ELECTION, 'initial election')
      const term = sim.leader()?.core.term
      await wait(sim, 1000)
      if (sim.leader()?.core.term !== term && sim.options.drop === 0) {
        throw new Error('the leader changed without any fault')
      }
    }
  },
  {
    name: 're-election',
    nodes: 3,
    clients: 2,
    async run ({ sim }) {
      for (let round = 0; round < 3; round++) {
        const old = await expectLeader(sim, ELECTION, 'leader before isolation')
        sim.isolate(old)
        await expectLeader(sim, ELECTION, 'new leader after isolating the old one', others(sim, old))
        sim.heal()
        await wait(sim, 300)
      }
    }
  },
  {
    name: 'many-elections',
    nodes: 7,
    clients: 2,
    async run ({ sim }) {
      for (let round = 0; round < 6; round++) {
        const cutOff: string[] = []
        while (cutOff.length < 3) {
          const id = sim.rng.pick(sim.ids())
          if (!cutOff.includes(id)) {
            cutOff.push(id)
          }
        }
        const majority = sim.ids().filter(id => !cutOff.includes(id))
        sim.partition(cutOff, majority)
        await expectLeader(sim, ELECTION, 'leader among the four', majority)
        sim.heal()
        await wait(sim, 200)
      }
    }
  },
  {
    name: 'basic-agreement',
    nodes: 3,
    clients: 3,
    async run ({ sim }) {
      await wait(sim, 1500)
    }
  },
  {
    name: 'failed-follower',
    nodes: 3,
    clients: 3,
    async run ({ sim, workload }) {
      const leader = await expectLeader(sim, ELECTION, 'leader')
      const follower = sim.rng.pick(others(sim, leader))
      sim.crash(follower)
      const before = workload.completed
      await wait(sim, 1000)
      if (workload.completed <= before && sim.options.drop === 0) {
        throw new Error('no operation completed with one follower down')
      }
      await sim.restart(follower)
      await wait(sim, 300)
    }
  },
  {
    name: 'no-majority',
    nodes: 5,
    clients: 3,
    async run ({ sim, workload }) {
      const leader = await expectLeader(sim, ELECTION, 'leader')
      const [friend, ...rest] = others(sim, leader)
      sim.partition([leader, friend], ...rest.map(id => [id]))
      // Let operations already replicated finish, then nothing more may complete.
      await wait(sim, 300)
      const before = workload.completed
      await wait(sim, 800)
      if (workload.completed !== before) {
        throw new Error(`${workload.completed - before} operations completed without a majority`)
      }
      sim.heal()
      await wait(sim, 300)
    }
  },
  {
    name: 'concurrent-proposals',
    nodes: 5,
    clients: 10,
    async run ({ sim }) {
      await wait(sim, 1500)
    }
  },
  {
    name: 'stale-leader',
    nodes: 5,
    clients: 3,
    async run ({ sim, workload }) {
      const old = await expectLeader(sim, ELECTION, 'leader')
      sim.isolate(old)
      // The cut-off leader keeps appending what it is given; none of it may commit.
      for (let i = 0; i < 20; i++) {
        workload.submit(sim.node(old), workload.scriptedClient(i), { kind: 'write', key: 'k0', value: `stale${i}` })
        await wait(sim, 20)
      }
      await expectLeader(sim, ELECTION, 'new leader', others(sim, old))
      await wait(sim, 300)
      sim.heal()
      await wait(sim, 500)
    }
  },
  {
    name: 'fast-backoff',
    nodes: 5,
    clients: 2,
    async run ({ sim, workload }) {
      const old = await expectLeader(sim, ELECTION, 'leader')
      sim.isolate(old)
      for (let i = 0; i < 200; i++) {
        workload.submit(sim.node(old), workload.scriptedClient(i), { kind: 'write', key: 'k1', value: `divergent${i}` })
      }
      await expectLeader(sim, ELECTION, 'new leader', others(sim, old))
      await wait(sim, 1500)
      sim.heal()
      await wait(sim, 500)
    }
  },
  {
    name: 'restart-all',
    nodes: 3,
    clients: 3,
    async run ({ sim }) {
      for (let round = 0; round < 4; round++) {
        await wait(sim, 300 + sim.rng.int(300))
        for (const id of sim.ids()) {
          sim.crash(id)
        }
        await wait(sim, 50)
        for (const id of sim.ids()) {
          await sim.restart(id)
        }
      }
    }
  },
  {
    name: 'restart-leader',
    nodes: 5,
    clients: 3,
    async run ({ sim }) {
      for (let round = 0; round < 4; round++) {
        const leader = await expectLeader(sim, ELECTION, 'leader')
        await wait(sim, sim.rng.int(200))
        await crashAndRestart(sim, leader, 100 + sim.rng.int(300))
      }
    }
  },
  {
    name: 'restart-followers',
    nodes: 3,
    clients: 3,
    async run ({ sim }) {
      for (let round = 0; round < 6; round++) {
        const leader = sim.leader()?.id
        const follower = sim.rng.pick(sim.ids().filter(id => id !== leader))
        await crashAndRestart(sim, follower, 50 + sim.rng.int(200))
        await wait(sim, sim.rng.int(200))
      }
    }
  },
  {
    name: 'restart-storm',
    nodes: 3,
    clients: 2,
    async run ({ sim }) {
      // Nodes crash and come straight back, often in the middle of an election.
      for (let round = 0; round < 40; round++) {
        await crashAndRestart(sim, sim.rng.pick(sim.ids()), sim.rng.int(5))
        await wait(sim, 10 + sim.rng.int(60))
      }
    }
  },
  {
    name: 'figure-8',
    nodes: 5,
    clients: 1,
    async run ({ sim, workload }) {
      // After the 6.824 test: leaders crash right after accepting commands, nodes come back at random.
      let up = sim.ids().length
      for (let round = 0; round < 100; round++) {
        const leader = sim.leader()
        if (leader !== undefined) {
          workload.submit(leader, workload.scriptedClient(round), { kind: 'write', key: 'k2', value: `f8-${round}` })
        }
        await wait(sim, sim.rng.chance(0.1) ? sim.rng.int(500) : sim.rng.int(13))
        if (leader !== undefined && leader.up && up > 3) {
          sim.crash(leader.id)
          up--
        }
        if (up < 3) {
          const down = sim.ids().filter(id => !sim.node(id).up)
          await sim.restart(sim.rng.pick(down))
          up++
        }
      }
    }
  },
  {
    name: 'figure-8-scripted',
    nodes: 5,
    clients: 1,
    async run ({ sim, workload }) {
      // The paper's Figure 8, step by step (each step waits at most a bounded time,
      // so on a lossy network the script may drift; safety must hold regardless).
      const s1 = await expectLeader(sim, ELECTION, 'first leader')
      const [s2, ...rest] = others(sim, s1)
      // (a) s1 appends X and replicates it to s2 only.
      sim.partition([s1, s2], rest)
      const index = sim.node(s1).core.log.lastIndex() + 1
      workload.submit(sim.node(s1), workload.scriptedClient(0), { kind: 'write', key: 'k2', value: 'figure8-x' })
      await until(sim, 300, () => (sim.node(s2).core.log.term(index) ?? 0) > 0)
      // (b) s1 is cut off; the other three elect one of them, which appends an entry of
      // its own term at the same index and is cut off before anyone receives it.
      sim.heal()
      sim.isolate(s1)
      sim.partition([s2], rest)
      const l2 = await expectLeader(sim, ELECTION, 'leader among the three', rest)
      sim.isolate(l2)
      // (c) s1 comes back with everyone but l2, is elected again and spreads X.
      sim.heal()
      sim.isolate(l2)
      const l3 = await expectLeader(sim, ELECTION, 'leader with X', others(sim, l2))
      // (d) the moment it has applied X, it is cut off and l2 returns.
      await until(sim, 1000, () => sim.node(l3).applied >= index)
      sim.crash(l3)
      sim.heal()
      sim.isolate(l3)
      await wait(sim, 1500)
    }
  },
  {
    name: 'unreliable-agreement',
    nodes: 5,
    clients: 4,
    async run ({ sim }) {
      sim.options.drop = Math.max(sim.options.drop, 0.1)
      sim.options.duplicate = Math.max(sim.options.duplicate, 0.05)
      sim.options.latency = [1, 40]
      await wait(sim, 2000)
    }
  },
  {
    name: 'churn',
    nodes: 5,
    clients: 4,
    async run ({ sim }) {
      for (let round = 0; round < 12; round++) {
        const id = sim.rng.pick(sim.ids())
        const roll = sim.rng.next()
        if (roll < 0.4) {
          sim.crash(id)
        } else if (roll < 0.8) {
          const down = sim.ids().filter(other => !sim.node(other).up)
          if (down.length > 0) {
            await sim.restart(sim.rng.pick(down))
          }
        } else if (roll < 0.9) {
          sim.isolate(id)
        } else {
          sim.heal()
        }
        await wait(sim, sim.rng.int(300))
      }
    }
  },
  {
    name: 'random-faults',
    nodes: 5,
    clients: 3,
    async run ({ sim }) {
      // One seeded storm: every ~50 ms a random crash, restart, partition, one-way cut,
      // leader isolation or heal.
      for (let round = 0; round < 40; round++) {
        const roll = sim.rng.next()
        const down = sim.ids().filter(id => !sim.node(id).up)
        if (roll < 0.2) {
          sim.crash(sim.rng.pick(sim.ids()))
        } else if (roll < 0.35) {
          const leader = sim.leader()
          if (leader !== undefined) {
            sim.crash(leader.id)
          }
        } else if (roll < 0.6 && down.length > 0) {
          await sim.restart(sim.rng.pick(down))
        } else if (roll < 0.7) {
          const side = sim.ids().filter(() => sim.rng.chance(0.5))
          sim.partition(side, sim.ids().filter(id => !side.includes(id)))
        } else if (roll < 0.8) {
          const [a, b] = [sim.rng.pick(sim.ids()), sim.rng.pick(sim.ids())]
          if (a !== b) {
            sim.cutLink(a, b)
          }
        } else if (roll < 0.9) {
          const leader = sim.leader()
          if (leader !== undefined) {
            sim.isolate(leader.id)
          }
        } else {
          sim.heal()
        }
        await wait(sim, sim.rng.int(100))
      }
    }
  },
  {
    name: 'leader-partitions',
    nodes: 5,
    clients: 3,
    async run ({ sim }) {
      for (let round = 0; round < 6; round++) {
        const leader = await expectLeader(sim, ELECTION, 'leader')
        const companion = sim.rng.pick(others(sim, leader))
        sim.partition([leader, companion], sim.ids().filter(id => id !== leader && id !== companion))
        await wait(sim, 200 + sim.rng.int(300))
        sim.heal()
        await wait(sim, sim.rng.int(200))
      }
    }
  },
  {
    name: 'slow-votes',
    nodes: 5,
    clients: 3,
    async run ({ sim, noisy }) {
      // Votes crawl, but still arrive within an election timeout (or no election could ever finish).
      const factor = noisy ? 3 : 12
      sim.delayFactor = (m) => m.type === 'vote-request' || m.type === 'vote-response' ? factor : 1
      for (let round = 0; round < 2; round++) {
        const leader = await expectLeader(sim, 3 * ELECTION, 'leader despite slow votes')
        await crashAndRestart(sim, leader, 300)
      }
    }
  },
  {
    name: 'one-way',
    nodes: 5,
    clients: 3,
    async run ({ sim }) {
      // The leader can still send but hears nobody: check-quorum must depose it.
      const leader = await expectLeader(sim, ELECTION, 'leader')
      for (const id of others(sim, leader)) {
        sim.cutLink(id, leader)
      }
      await expectLeader(sim, ELECTION, 'a leader other than the deaf one', others(sim, leader))
      sim.heal()
      await wait(sim, 300)
    }
  },
  {
    name: 'bridge',
    nodes: 5,
    clients: 3,
    async run ({ sim }) {
      const [a, b, c, d, e] = sim.ids()
      sim.bridge([a, b], c, [d, e])
      await wait(sim, 1500)
      sim.heal()
      await wait(sim, 300)
    }
  },
  {
    name: 'slow-clock-leader',
    nodes: 5,
    clients: 3,
    async run ({ sim, workload }) {
      // The leader's clock runs three times slow, then it is cut off while a new leader
      // takes writes, and it is asked to read. Safe reads must refuse; a lease would
      // (wrongly, its assumption being broken) still look valid to the slow leader.
      const old = await expectLeader(sim, ELECTION, 'leader')
      sim.node(old).slowness = 3
      await wait(sim, 200)
      sim.isolate(old)
      const fresh = await expectLeader(sim, ELECTION, 'new leader', others(sim, old))
      for (let i = 0; i < 5; i++) {
        workload.submit(sim.node(fresh), workload.scriptedClient(i), { kind: 'write', key: 'k0', value: `fresh${i}` })
        await wait(sim, 5)
        workload.readAt(sim.node(old), workload.scriptedClient(10 + i), 'k0')
        await wait(sim, 20)
      }
      await wait(sim, 300)
      sim.heal()
    }
  },
  {
    name: 'slow-node',
    nodes: 5,
    clients: 3,
    async run ({ sim }) {
      const slow = sim.rng.pick(sim.ids())
      sim.node(slow).slowness = 6
      await wait(sim, 1500)
      sim.node(slow).slowness = 1
    }
  }
]
