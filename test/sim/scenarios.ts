/**
 * The scenario suite: each scenario scripts faults over virtual time while
 * clients run, on top of the simulator's own random network noise when run
 * "noisy". Every run ends the same way (see `runScenario`): the network
 * heals, every node restarts, a leader must commit a final entry that every
 * member applies, their stores must agree and the history must be
 * linearizable. The membership scenarios come last.
 */
import { MEMBERSHIP_SCENARIOS } from './membership-scenarios.ts'
import { ELECTION, autoSnapshots, crashAndRestart, expectLeader, others, wait } from './steps.ts'
import type { SnapshotStep, Simulator } from './simulator.ts'
import type { Scenario } from './steps.ts'

export type { Scenario, ScenarioContext } from './steps.ts'

/** Whether every running node but `lagging` has compacted away the entry `lagging` needs next: only a snapshot can bring it up to date. */
function compactedPast (sim: Simulator, lagging: string): boolean {
  const needed = sim.node(lagging).core.log.lastIndex() + 1
  const rest = others(sim, lagging).map(id => sim.node(id)).filter(node => node.up)
  return rest.length > 0 && rest.every(node => node.core.log.firstIndex() > needed)
}

/** Cuts `lagging` off while the others commit and compact past its log, then heals. */
async function leaveBehind (sim: Simulator, lagging: string): Promise<void> {
  sim.isolate(lagging)
  if (!await sim.until(10_000, () => compactedPast(sim, lagging))) {
    throw new Error(`the others never compacted their logs past ${lagging}'s`)
  }
  await drainInFlight(sim)
  sim.heal()
}

/** Lets messages sent before now arrive (into a cut, say), so none sent before a compaction can bring a cut-off node up to date. */
async function drainInFlight (sim: Simulator): Promise<void> {
  await wait(sim, 2 * sim.options.latency[1])
}

/** Waits for `id` to install a snapshot from a leader (its `before`th or later), or fails. */
async function expectInstall (sim: Simulator, id: string, within: number, why: string, before = sim.node(id).installs): Promise<void> {
  const node = sim.node(id)
  if (!await sim.until(within, () => node.installs > before)) {
    throw new Error(`no install happened on ${id} ${why}`)
  }
}

/** Waits for a snapshot transfer to `to` (one whose data is being staged, if `staging`), or fails. */
async function expectTransfer (sim: Simulator, to: string, staging: boolean): Promise<{ from: string }> {
  const find = (): { from: string } | undefined => sim.transfersTo(to).find(t => t.staging || !staging)
  if (!await sim.until(5000, () => find() !== undefined)) {
    throw new Error(`no snapshot transfer to ${to} started`)
  }
  return find() as { from: string }
}

/** Crashes whoever sends `lagging` a snapshot, mid-transfer: the next leader must send it again. */
async function crashSender (sim: Simulator, lagging: string): Promise<void> {
  const { from } = await expectTransfer(sim, lagging, false)
  sim.crash(from)
  await expectInstall(sim, lagging, 10_000, `after ${from} crashed while sending it a snapshot`)
  await sim.restart(from)
}

/** Crashes `lagging` while it receives a snapshot, or part way through staging or installing one. */
async function crashReceiver (sim: Simulator, lagging: string): Promise<void> {
  const step = sim.rng.pick<SnapshotStep | 'transfer'>(['transfer', 'stage', 'install'])
  const node = sim.node(lagging)
  if (step === 'transfer') {
    await expectTransfer(sim, lagging, true)
    sim.crash(lagging)
  } else {
    node.tearNext = step
    if (!await sim.until(10_000, () => !node.up)) {
      throw new Error(`${lagging} never reached the ${step} step it was to crash in`)
    }
  }
  await wait(sim, sim.rng.int(200))
  await sim.restart(lagging)
}

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
      const before = workload.history.completed
      await wait(sim, 1000)
      if (workload.history.completed <= before && sim.options.drop === 0) {
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
      const before = workload.history.completed
      await wait(sim, 800)
      if (workload.history.completed !== before) {
        throw new Error(`${workload.history.completed - before} operations completed without a majority`)
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
      await sim.until(300, () => (sim.node(s2).core.log.term(index) ?? 0) > 0)
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
      await sim.until(1000, () => sim.node(l3).applied >= index)
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
  },
  {
    name: 'snapshot-basic',
    nodes: 3,
    clients: 3,
    async run ({ sim }) {
      autoSnapshots(sim, 20 + sim.rng.int(21), 5)
      await wait(sim, 1000)
      if (!await sim.until(5000, () => sim.stats.compactions > 0)) {
        throw new Error('no snapshot was persisted and compacted behind')
      }
      // The disk's log must be compacted too: a node restarted from it starts after a snapshot.
      const node = sim.node(sim.rng.pick(sim.ids()))
      if (!await sim.until(3000, () => node.up && node.core.log.firstIndex() > 1 && !node.persisting)) {
        throw new Error(`${node.id} never compacted its log`)
      }
      const compactedTo = node.core.log.firstIndex()
      await crashAndRestart(sim, node.id, 20)
      if (node.core.snapshot.index === 0 || node.core.log.firstIndex() < compactedTo) {
        throw new Error(`${node.id} restarted without its snapshot, or with its log starting at ${node.core.log.firstIndex()}, not ${compactedTo}`)
      }
      await wait(sim, 500)
    }
  },
  {
    name: 'snapshot-install-lagging',
    nodes: 3,
    clients: 3,
    async run ({ sim }) {
      autoSnapshots(sim, 20 + sim.rng.int(11), sim.rng.int(6))
      const leader = await expectLeader(sim, ELECTION, 'leader')
      const lagging = sim.rng.pick(others(sim, leader))
      await wait(sim, 100 + sim.rng.int(300))
      await leaveBehind(sim, lagging)
      // It takes a snapshot of its own while the leader's arrives: the two race to its disk.
      const installs = sim.node(lagging).installs
      await expectTransfer(sim, lagging, true)
      await wait(sim, sim.rng.int(30))
      sim.snapshot(lagging)
      await expectInstall(sim, lagging, 5000, 'after it was left behind', installs)
      await wait(sim, 300)
    }
  },
  {
    name: 'snapshot-install-unreliable',
    nodes: 5,
    clients: 3,
    async run ({ sim }) {
      autoSnapshots(sim, 20 + sim.rng.int(11), sim.rng.int(6))
      const leader = await expectLeader(sim, ELECTION, 'leader')
      const lagging = sim.rng.pick(others(sim, leader))
      await leaveBehind(sim, lagging)
      // Transfers (and everything else) get lost, duplicated and reordered.
      sim.options.drop = Math.max(sim.options.drop, 0.2)
      sim.options.duplicate = Math.max(sim.options.duplicate, 0.2)
      sim.options.latency = [1, 40]
      await expectInstall(sim, lagging, 15_000, 'over a lossy network')
      await wait(sim, 500)
    }
  },
  {
    name: 'snapshot-install-crashes',
    nodes: 5,
    clients: 3,
    async run ({ sim }) {
      autoSnapshots(sim, 20 + sim.rng.int(11), sim.rng.int(6))
      const leader = await expectLeader(sim, ELECTION, 'leader')
      const lagging = sim.rng.pick(others(sim, leader))
      const phases = sim.rng.chance(0.5) ? [crashSender, crashReceiver] : [crashReceiver, crashSender]
      for (const phase of phases) {
        await leaveBehind(sim, lagging)
        await phase(sim, lagging)
      }
      await wait(sim, 300)
    }
  },
  {
    name: 'snapshot-all-crash-restart',
    nodes: 3,
    clients: 3,
    async run ({ sim }) {
      autoSnapshots(sim, 20 + sim.rng.int(21), sim.rng.int(8), 0.05)
      const stored = (id: string): number => sim.storedSnapshot(id)?.index ?? 0
      for (let round = 0; round < 3; round++) {
        if (!await sim.until(5000, () => sim.ids().every(id => stored(id) > 0 && !sim.node(id).persisting))) {
          throw new Error('not every node persisted a snapshot and compacted behind it')
        }
        for (const id of sim.ids()) {
          // back from a crash by chance, if there was one
          await sim.restart(id)
        }
        const before = new Map(sim.ids().map(id => [id, stored(id)]))
        // One node crashes part way through persisting or compacting, the rest at that moment.
        const torn = sim.node(sim.rng.pick(sim.ids()))
        const step = sim.rng.pick<SnapshotStep>(['persist', 'compact'])
        torn.tearNext = step
        if (!await sim.until(5000, () => !torn.up)) {
          throw new Error(`${torn.id} never reached the ${step} step it was to crash in`)
        }
        for (const id of sim.ids()) {
          sim.crash(id)
        }
        await wait(sim, 50)
        for (const id of sim.ids()) {
          await sim.restart(id)
          if (sim.node(id).core.snapshot.index < (before.get(id) ?? 0)) {
            throw new Error(`${id} restarted from the snapshot at ${sim.node(id).core.snapshot.index}, it had one at ${before.get(id)}`)
          }
        }
        await wait(sim, sim.rng.int(300))
      }
    }
  },
  {
    name: 'snapshot-initial-state',
    nodes: 3,
    clients: 3,
    async run ({ sim, workload }) {
      // No command until a snapshot of the initial state is taken and compacted behind.
      workload.stop()
      sim.options.tornCrash = 0
      const lagging = sim.rng.pick(sim.ids())
      const rest = others(sim, lagging)
      sim.isolate(lagging)
      await expectLeader(sim, ELECTION, 'leader', rest)
      if (!await sim.until(2000, () => rest.every(id => sim.node(id).applied > 1))) {
        throw new Error('the leader\'s first entry was not applied everywhere')
      }
      sim.options.trailingEntries = 0
      for (const id of rest) {
        sim.snapshot(id)
      }
      if (!await sim.until(2000, () => compactedPast(sim, lagging))) {
        throw new Error('the initial snapshots were not taken and compacted behind')
      }
      if (sim.safety.committed.some(entry => entry.type === 'command')) {
        throw new Error('a command was applied before the initial snapshot')
      }
      await drainInFlight(sim)
      sim.heal()
      await expectInstall(sim, lagging, 5000, 'of the initial state')
      workload.start()
      await wait(sim, 1000)
    }
  },
  ...MEMBERSHIP_SCENARIOS
]
