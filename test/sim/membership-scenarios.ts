/**
 * Scenarios that change the membership or hand leadership over while
 * clients run. Spare nodes start outside the configuration with an empty
 * disk. At the end of every run only the members of the final
 * configuration must apply the final entry and agree; nodes outside it
 * must not lead (see `runScenario`).
 */
import { addVoter, caughtUp, changeMembership, committedConfig, membersOf, transferLeadership } from './membership.ts'
import { ELECTION, autoSnapshots, crashAndRestart, expectLeader, others, wait } from './steps.ts'
import type { MembershipTask, TransferOutcome } from './membership.ts'
import type { SimNode, Simulator } from './simulator.ts'
import type { Scenario } from './steps.ts'
import type { KvWorkload } from './workload.ts'

/** Time for a membership change on a healthy, if lossy, cluster (virtual ms). */
const CHANGE = 5000

/** Leadership transfers tried before giving up: on a lossy network each loses its TimeoutNow with the message loss rate. */
const TRIES = 5

function initialVoters (sim: Simulator): string[] {
  return sim.ids().slice(0, sim.options.nodes)
}

function spares (sim: Simulator): string[] {
  return sim.ids().slice(sim.options.nodes)
}

/** Fails the run if `id` ever leads from now on. */
function neverLeads (sim: Simulator, id: string, why: string): void {
  sim.watch(() => {
    const node = sim.node(id)
    if (node.up && node.core.role === 'leader') {
      throw new Error(`${id} leads term ${node.core.term}, ${why}`)
    }
  })
}

/** One fault while a change runs: a node or a random side cut off, a node or the leader crashed for a while, or none. */
function strike (sim: Simulator): void {
  const ids = sim.ids()
  const roll = sim.rng.next()
  if (roll < 0.25) {
    sim.isolate(sim.rng.pick(ids))
  } else if (roll < 0.45) {
    const side = ids.filter(() => sim.rng.chance(0.5))
    sim.partition(side, ids.filter(id => !side.includes(id)))
  } else if (roll < 0.8) {
    const id = roll < 0.6 ? sim.rng.pick(ids) : sim.leader()?.id
    if (id !== undefined) {
      sim.crash(id)
      sim.schedule(100 + sim.rng.int(400), async () => sim.restart(id))
    }
  }
}

/**
 * A write through `leader` (by default whoever leads) must commit: the
 * cluster takes commands. Checked with a write of its own, since the
 * workload's clients may all be waiting out timeouts on a node cut off.
 */
async function expectCommit (sim: Simulator, workload: KvWorkload, what: string, leader?: string): Promise<void> {
  const node = sim.node(leader ?? await expectLeader(sim, ELECTION, what))
  const client = workload.scriptedClient(sim.now)
  if (!workload.submit(node, client, { kind: 'write', key: 'k0', value: `${what} at ${sim.now}` })) {
    throw new Error(`${what}: ${node.id} refused a command`)
  }
  const index = node.core.log.lastIndex()
  const term = node.core.term
  if (!await sim.until(2000, () => sim.safety.committed[index - 1]?.term === term)) {
    throw new Error(`${what}: the write ${node.id} took at ${index} in term ${term} did not commit`)
  }
}

/** Hands leadership to `to` (or the most up-to-date voter) until it takes over; a lost TimeoutNow (sent once) makes a try give up. */
async function transferUntilDone (sim: Simulator, to: () => string | undefined, what: string): Promise<TransferOutcome> {
  let outcome: TransferOutcome | undefined
  for (let attempt = 0; attempt < TRIES && (outcome === undefined || outcome.leader !== outcome.target); attempt++) {
    await expectLeader(sim, ELECTION, `leader to ${what}`)
    outcome = await transferLeadership(sim, to(), ELECTION)
  }
  if (outcome === undefined || outcome.leader !== outcome.target) {
    throw new Error(`${what}: ${TRIES} tries did not hand leadership over (last: ${JSON.stringify(outcome)})`)
  }
  return outcome
}

export const MEMBERSHIP_SCENARIOS: Scenario[] = [
  {
    name: 'membership-add-remove-partitions',
    nodes: 5,
    spares: 2,
    clients: 3,
    async run ({ sim }) {
      // Rounds of one change struck by one fault, then healed; adds and removes must both get through.
      const done = { add: 0, remove: 0 }
      for (let round = 0; round < 8; round++) {
        const config = sim.leader()?.core.config ?? committedConfig(sim)
        if (config === undefined) {
          await wait(sim, 200)
          continue
        }
        const members = membersOf(config)
        const outside = sim.ids().filter(id => !members.includes(id))
        const kind = outside.length > 0 && (config.voters.length <= 3 || sim.rng.chance(0.5)) ? 'add' : 'remove'
        let task: MembershipTask
        if (kind === 'add') {
          const id = sim.rng.pick(outside)
          task = sim.rng.chance(0.7) ? addVoter(sim, id, { within: 2000 }) : changeMembership(sim, { type: 'add-learner', id }, { within: 2000 })
        } else {
          // Three voters at least: below that, only learners go.
          const id = sim.rng.pick(config.voters.length > 3 ? members : config.learners)
          task = changeMembership(sim, { type: 'remove', id }, { within: 2000 })
        }
        await wait(sim, sim.rng.int(100))
        strike(sim)
        if (await task.settle()) {
          done[kind]++
        }
        sim.heal()
        await wait(sim, sim.rng.int(200))
      }
      if (done.add === 0 || done.remove === 0) {
        throw new Error(`too few changes got through: ${JSON.stringify(done)}`)
      }
    }
  },
  {
    name: 'membership-remove-leader',
    nodes: 5,
    clients: 3,
    async run ({ sim, workload }) {
      await wait(sim, 200 + sim.rng.int(500))
      let removed: string | undefined
      for (let attempt = 0; attempt < 3 && removed === undefined; attempt++) {
        const leader = await expectLeader(sim, ELECTION, 'leader')
        const task = changeMembership(sim, { type: 'remove', id: leader }, { within: 2000, on: leader })
        if (await task.settle() && task.proposals.length > 0) {
          removed = leader
        }
      }
      if (removed === undefined) {
        throw new Error('no leader got its own removal committed in three tries')
      }
      // It stepped down when the removal committed (every run checks that), and never leads again.
      neverLeads(sim, removed, 'after removing itself')
      const next = await expectLeader(sim, ELECTION, 'a leader among the rest', others(sim, removed))
      if (membersOf(sim.node(next).core.config).includes(removed)) {
        throw new Error(`the new leader ${next} still counts ${removed} as a member`)
      }
      await expectCommit(sim, workload, 'after the leader left', next)
      await wait(sim, 500)
    }
  },
  {
    name: 'membership-replace-node',
    nodes: 3,
    spares: 1,
    clients: 3,
    async run ({ sim }) {
      if (sim.rng.chance(0.5)) {
        // The newcomer then catches up from a snapshot.
        autoSnapshots(sim, 10 + sim.rng.int(20), sim.rng.int(4))
      }
      await wait(sim, 200 + sim.rng.int(300))
      const [fresh] = spares(sim)
      const add = addVoter(sim, fresh, { within: 10_000 })
      if (sim.rng.chance(0.5)) {
        // A member, maybe the leader, crashes while the newcomer catches up.
        await wait(sim, sim.rng.int(100))
        await crashAndRestart(sim, sim.rng.pick(initialVoters(sim)), 100 + sim.rng.int(300))
      }
      await add.expectDone(`adding ${fresh}`)
      if (!add.proposals.some(p => p.change.type === 'add-learner')) {
        throw new Error(`${fresh} became a voter without following as a learner first`)
      }
      const old = sim.rng.pick(initialVoters(sim))
      await changeMembership(sim, { type: 'remove', id: old }, { within: 10_000 }).expectDone(`removing ${old}`)
      await wait(sim, 500)
      const voters = committedConfig(sim)?.voters ?? []
      if (voters.length !== 3 || !voters.includes(fresh) || voters.includes(old)) {
        throw new Error(`replacing ${old} with ${fresh} left the voters ${voters.join(', ')}`)
      }
    }
  },
  {
    name: 'membership-2015',
    nodes: 4,
    spares: 2,
    clients: 2,
    async run ({ sim }) {
      // The single-server bug found in 2015: one leader appends a change that does not commit, another
      // leader of a later term makes a different change, and the first leader comes back. Without the
      // fix (no change before an entry of the leader's term commits) two disjoint majorities each commit.
      sim.options.tornCrash = 0
      const [a, b] = spares(sim)
      await changeMembership(sim, { type: 'add-learner', id: a }, { within: CHANGE }).expectDone(`adding ${a} as a learner`)
      const inStep = caughtUp(a, 0)
      const ready = (): SimNode | undefined => {
        const leader = sim.leader()
        return leader !== undefined && leader.core.canChangeConfig() && inStep(leader) ? leader : undefined
      }
      if (!await sim.until(CHANGE, () => ready() !== undefined)) {
        throw new Error(`no leader could change its configuration with ${a} in step`)
      }
      // (1) The leader promotes a; only a hears of it.
      const l1 = ready() as SimNode
      const rest = initialVoters(sim).filter(id => id !== l1.id)
      sim.partition([l1.id, a], [...rest, b])
      const first = l1.core.proposeConfigChange({ type: 'add-voter', id: a })
      sim.pump(l1)
      if (!await sim.until(1000, () => sim.node(a).core.log.term(first.index) === first.term)) {
        throw new Error(`${a} never received its promotion`)
      }
      // (2) The rest elect a leader of a later term that never saw it; one of its voters is cut off at
      // once, holding nothing of the new term, and the new leader is asked to add b.
      const leads = (id: string): boolean => sim.node(id).core.role === 'leader' && sim.node(id).core.term > first.term
      if (!await sim.until(ELECTION, () => rest.some(leads))) {
        throw new Error(`${rest.join(', ')} elected no leader`)
      }
      const l2 = rest.find(leads) as string
      const [y, z] = sim.rng.chance(0.5) ? rest.filter(id => id !== l2) : rest.filter(id => id !== l2).reverse()
      sim.heal()
      sim.partition([l2, y, b], [l1.id, a, z])
      if (l1.core.commitIndex >= first.index || sim.node(l2).core.log.term(first.index) === first.term) {
        throw new Error(`the promotion of ${a} committed, or reached ${l2}`)
      }
      changeMembership(sim, { type: 'add-voter', id: b }, { within: 1500, on: l2 })
      // (3) Meanwhile the other side may elect a leader (l1, say) under the first change; then everyone meets again.
      await wait(sim, 1500)
      sim.heal()
      const later = [addVoter(sim, b, { within: 10_000 }), changeMembership(sim, { type: 'remove', id: a }, { within: 10_000 })]
      for (const task of later) {
        await task.expectDone('a change after the leaders changed')
      }
      if (!later.some(task => task.proposals.some(p => p.term > first.term))) {
        throw new Error(`no change was proposed in a term after ${first.term}`)
      }
    }
  },
  {
    name: 'membership-removed-node-keeps-running',
    nodes: 5,
    clients: 2,
    async run ({ sim }) {
      // The leader must stay put: no crash by chance.
      sim.options.tornCrash = 0
      const leader = await expectLeader(sim, ELECTION, 'leader')
      const removed = sim.rng.pick(others(sim, leader))
      const node = sim.node(removed)
      // Cut off, it misses its own removal: it never learns of it and keeps trying to campaign.
      const missesIt = sim.rng.chance(0.5)
      if (missesIt) {
        sim.isolate(removed)
      }
      await changeMembership(sim, { type: 'remove', id: removed }, { within: CHANGE }).expectDone(`removing ${removed}`)
      if (missesIt) {
        // The leader stops sending to it an election timeout after the removal committed.
        await wait(sim, 500)
        sim.heal()
      } else if (!await sim.until(2000, () => !node.core.config.voters.includes(removed))) {
        throw new Error(`${removed} never learned it was removed`)
      }
      const members = others(sim, removed)
      const stable = await expectLeader(sim, ELECTION, 'leader after the removal', members)
      const term = sim.node(stable).core.term
      let campaigned = false
      const unwatch = sim.watch(() => {
        const highest = Math.max(...members.map(id => sim.node(id).core.term))
        if (node.core.term > highest) {
          throw new Error(`${removed} raised its term to ${node.core.term}, beyond the cluster's ${highest}`)
        }
        campaigned ||= node.core.role !== 'follower'
      })
      neverLeads(sim, removed, 'after its removal')
      // A long while: hundreds of its election timeouts.
      await wait(sim, 5000)
      unwatch()
      if (sim.leader()?.id !== stable || sim.node(stable).core.term !== term) {
        throw new Error(`the cluster's leader changed from ${stable} in term ${term} to ${sim.leader()?.id} in term ${sim.leader()?.core.term}`)
      }
      if (campaigned !== missesIt) {
        throw new Error(missesIt ? `${removed}, unaware of its removal, never tried to campaign` : `${removed} campaigned after learning it was removed`)
      }
    }
  },
  {
    name: 'membership-learner-partitioned-promotion',
    nodes: 3,
    spares: 1,
    clients: 3,
    async run ({ sim, workload }) {
      const [learner] = spares(sim)
      await expectLeader(sim, ELECTION, 'leader')
      const promoted = (task: MembershipTask): boolean => task.proposals.some(p => p.change.type === 'add-voter')
      if (sim.rng.chance(0.5)) {
        // Cut off from the start: added as a learner, it cannot catch up, so its promotion must wait.
        sim.isolate(learner)
        const task = addVoter(sim, learner, { within: 20_000 })
        if (!await sim.until(CHANGE, () => committedConfig(sim)?.learners.includes(learner) === true)) {
          throw new Error(`${learner} was not added as a learner while cut off`)
        }
        await expectCommit(sim, workload, `while ${learner} waits for its promotion`)
        await wait(sim, 1000)
        if (promoted(task)) {
          throw new Error(`${learner} was promoted while cut off, before it caught up`)
        }
        sim.heal()
        if (sim.rng.chance(0.5)) {
          // The leader goes down as it heals: the next leader promotes it.
          await crashAndRestart(sim, await expectLeader(sim, ELECTION, 'leader'), 200)
        }
        await task.expectDone(`promoting ${learner} after healing`)
      } else {
        // Cut off the moment its promotion is proposed: it commits without it, and so do later entries.
        const task = addVoter(sim, learner, { within: CHANGE })
        const cut = sim.watch(() => {
          if (promoted(task)) {
            sim.isolate(learner)
            cut()
          }
        })
        await task.expectDone(`promoting ${learner}`)
        await expectCommit(sim, workload, `with ${learner} promoted and cut off`)
        sim.heal()
      }
      await wait(sim, 500)
    }
  },
  {
    name: 'leadership-transfer',
    nodes: 5,
    clients: 3,
    async run ({ sim, workload, noisy }) {
      // Leaders change only by transfer: no crash by chance.
      sim.options.tornCrash = 0
      // To a named voter, then to the most up-to-date one: the transferee wins the very next term.
      for (const named of [true, false]) {
        const to = (): string | undefined => named ? sim.rng.pick(others(sim, sim.leader()?.id ?? '')) : undefined
        const outcome = await transferUntilDone(sim, to, named ? 'transfer to a named voter' : 'transfer to the most up-to-date voter')
        if (!noisy && sim.node(outcome.target).core.term !== outcome.term + 1) {
          throw new Error(`${outcome.target} leads term ${sim.node(outcome.target).core.term}, not ${outcome.term + 1}`)
        }
        await wait(sim, 200)
      }
      // A target that is cut off: the transfer gives up after an election timeout and the leader leads on.
      const leader = await expectLeader(sim, ELECTION, 'leader')
      const target = sim.rng.pick(others(sim, leader))
      sim.isolate(target)
      const outcome = await transferLeadership(sim, target, ELECTION)
      if (outcome === undefined || outcome.leader !== outcome.from || sim.leader()?.id !== outcome.from || sim.leader()?.core.term !== outcome.term) {
        throw new Error(`the transfer to ${target}, cut off, did not leave its leader leading: ${JSON.stringify(outcome)}`)
      }
      await expectCommit(sim, workload, 'after the transfer gave up', outcome.from)
      // Healed, the same transfer goes through.
      sim.heal()
      await wait(sim, 200)
      await transferUntilDone(sim, () => target, `transfer to ${target} after healing`)
    }
  }
]
