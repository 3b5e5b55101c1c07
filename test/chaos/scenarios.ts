/**
 * Named chaos scenarios and the two profiles that run them: `short` (CI,
 * inside `npm test`: three members, a few minutes in all) and `long` (for
 * people: every nemesis, three and five members, a minute or more each).
 *
 * A scenario's `run` injects faults until its time is up (clients run
 * meanwhile) and may leave the cluster degraded on purpose (a member killed
 * for good): recovery is measured from its last heal with the cluster as it
 * left it; everything is healed and restarted afterwards for the checks.
 */

import { churn, killAndRestart, netFaults, partition, pauseAndResume, snapshot, waitForCatchUp, waitUntilVoter } from './nemeses.ts'
import type { Chaos, PartitionKind, Target } from './nemeses.ts'

export interface Scenario {
  name: string
  /** what it does, for the CLI's listing */
  summary: string
  /** initial voters */
  members: number
  seconds: number
  run(chaos: Chaos): Promise<void>
}

/** Runs `cycle` until less than `minMs` of the fault phase is left, then holds to the end. */
async function repeat (chaos: Chaos, minMs: number, cycle: () => Promise<void>): Promise<void> {
  for (let i = 0; i < 1000 && chaos.remaining() > minMs; i++) {
    await cycle()
  }
  await chaos.hold(chaos.remaining())
}

/** A snapshot on a random member every `everyMs`, until `done` resolves. */
async function snapshotsUntil (chaos: Chaos, everyMs: number, done: Promise<void>): Promise<void> {
  const state = { finished: false }
  void done.finally(() => { state.finished = true })
  while (!state.finished && chaos.remaining() > 0) {
    await chaos.hold(everyMs)
    if (!state.finished) {
      await snapshot(chaos)
    }
  }
  await done
}

function kills (target: Target, downMs: [number, number]): Scenario['run'] {
  return async (chaos) => {
    await repeat(chaos, downMs[1] + 3000, async () => {
      await chaos.hold(chaos.between(1500, 3000))
      await killAndRestart(chaos, target, chaos.between(...downMs))
    })
  }
}

function pauses (target: Target): Scenario['run'] {
  return async (chaos) => {
    await repeat(chaos, 8000, async () => {
      await chaos.hold(chaos.between(1500, 3000))
      await pauseAndResume(chaos, target, chaos.between(2000, 5000))
    })
  }
}

function partitions (kind: PartitionKind): Scenario['run'] {
  return async (chaos) => {
    await repeat(chaos, 9000, async () => {
      await chaos.hold(chaos.between(1500, 3000))
      await partition(chaos, kind, chaos.between(4000, 7000))
    })
  }
}

/**
 * The address bug's reproduction: start a new member outside the
 * configuration, let it in (addVoter on the leader with its multiaddr, or
 * its own `join` through the leader's multiaddr), wait until all four hold
 * the same commit, then SIGKILL the leader and keep it down. Three of four
 * voters are alive on a healthy network, so they must elect a leader and
 * commit: each must have learned the others' addresses from the group,
 * since nobody typed them in.
 */
function addedVoterSurvivesLeaderKill (viaJoin: boolean): Scenario['run'] {
  return async (chaos) => {
    const leader = await chaos.leader()
    const newcomer = await chaos.cluster.addMember()
    if (viaJoin) {
      await newcomer.start({ bootstrap: [], join: [leader.address] })
      chaos.log(`${newcomer.name} started with join: [${leader.name}'s multiaddr]`)
    } else {
      await newcomer.start({ bootstrap: [] })
      const reply = await leader.request({ type: 'addVoter', peer: newcomer.address, timeoutMs: 20_000 }, 25_000)
      if (!reply.ok) {
        throw new Error(`addVoter(${newcomer.name}) on the leader ${leader.name} failed: ${reply.error}`)
      }
      chaos.log(`addVoter(${newcomer.name}'s multiaddr) on the leader ${leader.name}: ok`)
    }
    chaos.workload.addClient(newcomer)
    await waitUntilVoter(chaos, newcomer)
    await waitForCatchUp(chaos, 30_000)
    chaos.log('all four members applied the same commit index')
    await chaos.hold(chaos.remaining() / 3)
    const current = await chaos.leader()
    await current.kill()
    chaos.healed()
    chaos.log(`kill -9 the leader ${current.name}, kept down: three of four voters remain`)
    await chaos.hold(chaos.remaining())
  }
}

const SCENARIOS: Scenario[] = [
  { name: 'leader-kill-restart', summary: 'SIGKILL the leader, restart it on its folder, again and again', members: 3, seconds: 60, run: kills('leader', [1000, 4000]) },
  { name: 'minority-kill-restart', summary: 'SIGKILL a random minority, restart it', members: 3, seconds: 60, run: kills('minority', [1000, 4000]) },
  { name: 'majority-kill-restart', summary: 'SIGKILL a random majority (no quorum), restart it', members: 3, seconds: 60, run: kills('majority', [1000, 4000]) },
  { name: 'all-kill-restart', summary: 'SIGKILL every member at once, restart them all', members: 3, seconds: 60, run: kills('all', [500, 2000]) },
  { name: 'pause-leader', summary: 'SIGSTOP the leader for a few seconds, then SIGCONT', members: 3, seconds: 60, run: pauses('leader') },
  { name: 'pause-minority', summary: 'SIGSTOP a random minority, then SIGCONT', members: 3, seconds: 60, run: pauses('minority') },
  { name: 'partition-split', summary: 'split the members into a minority and a majority', members: 3, seconds: 60, run: partitions('split') },
  { name: 'isolated-leader', summary: 'cut the leader off from every other member', members: 3, seconds: 60, run: partitions('isolated-leader') },
  { name: 'partition-bridge', summary: 'two sides and one member that reaches both', members: 3, seconds: 60, run: partitions('bridge') },
  { name: 'partition-ring', summary: 'each member reaches only its ring neighbours (one-way ring below five)', members: 3, seconds: 60, run: partitions('ring') },
  { name: 'partition-one-way', summary: 'the leader cannot send to anyone, everyone can send to it', members: 3, seconds: 60, run: partitions('one-way') },
  {
    name: 'delay-jitter',
    summary: 'every connection held 80 ms ± 70 ms per chunk, order kept (relay shim)',
    members: 3,
    seconds: 60,
    run: async (chaos) => {
      await repeat(chaos, 12_000, async () => {
        await chaos.hold(2000)
        await netFaults(chaos, { delayMs: 80, jitterMs: 70 }, chaos.between(6000, 10_000))
      })
    }
  },
  {
    name: 'loss-duplication',
    summary: '5% of packets dropped and 20% duplicated on every member, 20±15 ms delay, snapshots meanwhile',
    members: 3,
    seconds: 18,
    run: async (chaos) => {
      await chaos.hold(1500)
      const faults = netFaults(chaos, { loss: 0.05, duplicate: 0.2, delayMs: 20, jitterMs: 15 }, chaos.remaining() - 2000)
      await snapshotsUntil(chaos, 3000, faults)
      await chaos.hold(chaos.remaining())
    }
  },
  {
    name: 'delay-snapshots',
    summary: 'every connection held 40 ms ± 35 ms per chunk (relay shim), snapshots meanwhile',
    members: 3,
    seconds: 18,
    run: async (chaos) => {
      await chaos.hold(1500)
      const faults = netFaults(chaos, { delayMs: 40, jitterMs: 35 }, chaos.remaining() - 2000)
      await snapshotsUntil(chaos, 3000, faults)
      await chaos.hold(chaos.remaining())
    }
  },
  {
    name: 'heavy-loss',
    summary: '20% of packets dropped on every member, in bursts',
    members: 3,
    seconds: 60,
    run: async (chaos) => {
      await repeat(chaos, 12_000, async () => {
        await chaos.hold(2000)
        await netFaults(chaos, { loss: 0.2 }, chaos.between(6000, 10_000))
      })
    }
  },
  {
    name: 'churn-wipe',
    summary: 'remove a follower, kill it, wipe its datastore, add it back with addVoter(multiaddr)',
    members: 3,
    seconds: 25,
    run: async (chaos) => {
      await repeat(chaos, 15_000, async () => {
        await chaos.hold(2000)
        await churn(chaos)
      })
    }
  },
  {
    name: 'churn-wipe-leader',
    summary: 'like churn-wipe, but the member removed is the leader half the time',
    members: 3,
    seconds: 60,
    run: async (chaos) => {
      await repeat(chaos, 15_000, async () => {
        await chaos.hold(2000)
        await churn(chaos, { leader: chaos.rng.chance(0.5) })
      })
    }
  },
  {
    name: 'churn-join',
    summary: 'remove a member, wipe it, let it back in through its own join (authorised by the leader)',
    members: 3,
    seconds: 60,
    run: async (chaos) => {
      await repeat(chaos, 15_000, async () => {
        await chaos.hold(2000)
        await churn(chaos, { viaJoin: true })
      })
    }
  },
  {
    name: 'snapshots-during-faults',
    summary: 'snapshots on demand every 2 s while leaders are killed and partitioned',
    members: 3,
    seconds: 60,
    run: async (chaos) => {
      const faults = repeat(chaos, 10_000, async () => {
        await chaos.hold(1500)
        if (chaos.rng.chance(0.5)) {
          await killAndRestart(chaos, 'leader', chaos.between(1000, 3000))
        } else {
          await partition(chaos, 'isolated-leader', chaos.between(3000, 6000))
        }
      })
      await snapshotsUntil(chaos, 2000, faults)
    }
  },
  {
    name: 'mix',
    summary: 'a random fault each cycle: kills, pauses, every partition, delay, loss, duplication, churn, snapshots',
    members: 3,
    seconds: 90,
    run: async (chaos) => {
      const cycles: Array<() => Promise<void>> = [
        async () => { await killAndRestart(chaos, chaos.rng.pick(['leader', 'minority', 'majority', 'all'] as const), chaos.between(1000, 4000)) },
        async () => { await pauseAndResume(chaos, chaos.rng.pick(['leader', 'minority'] as const), chaos.between(2000, 5000)) },
        async () => { await partition(chaos, chaos.rng.pick(['split', 'isolated-leader', 'bridge', 'ring', 'one-way'] as const), chaos.between(3000, 7000)) },
        async () => { await netFaults(chaos, { delayMs: 60, jitterMs: 50, loss: 0.05, duplicate: 0.1 }, chaos.between(4000, 8000)) },
        async () => { await churn(chaos, { viaJoin: chaos.rng.chance(0.5) }) },
        async () => { await snapshot(chaos) }
      ]
      await repeat(chaos, 15_000, async () => {
        await chaos.hold(chaos.between(1000, 3000))
        await chaos.rng.pick(cycles)()
      })
    }
  },
  {
    name: 'added-voter-survives-leader-kill',
    summary: 'a 4th member added with addVoter(its multiaddr) on the leader; the leader SIGKILLed for good: the other three must go on',
    members: 3,
    seconds: 20,
    run: addedVoterSurvivesLeaderKill(false)
  },
  {
    name: 'joined-voter-survives-leader-kill',
    summary: 'a 4th member joins by itself (join: [leader multiaddr], authorised); the leader SIGKILLed for good: the other three must go on',
    members: 3,
    seconds: 20,
    run: addedVoterSurvivesLeaderKill(true)
  }
]

export function scenario (name: string): Scenario | undefined {
  return SCENARIOS.find(s => s.name === name)
}

export function allScenarios (): Scenario[] {
  return [...SCENARIOS]
}

export interface PlannedRun {
  scenario: Scenario
  members: number
  seconds: number
}

function planned (name: string, members: number, seconds: number): PlannedRun {
  const found = scenario(name)
  if (found === undefined) {
    throw new Error(`no scenario ${name}`)
  }
  return { scenario: found, members, seconds }
}

/**
 * CI: three members, about 20 s of faults each. (`loss-duplication` left a
 * follower behind in about one run in three while the members ran with
 * libp2p's connection monitor off: one TCP connection stalled with both
 * ends retransmitting and nothing closed it. Members run with the monitor
 * on, as users do, and it passed every run since.)
 */
export const SHORT_PROFILE: PlannedRun[] = [
  planned('leader-kill-restart', 3, 20),
  planned('isolated-leader', 3, 20),
  planned('delay-snapshots', 3, 18),
  planned('loss-duplication', 3, 18),
  planned('added-voter-survives-leader-kill', 3, 20),
  planned('churn-wipe', 3, 22)
]

/** Every scenario with three members, and all but the four-member address scenarios again with five, at least a minute each. */
export const LONG_PROFILE: PlannedRun[] = [
  ...SCENARIOS.map(s => ({ scenario: s, members: 3, seconds: Math.max(60, s.seconds) })),
  ...SCENARIOS.filter(s => !s.name.endsWith('survives-leader-kill')).map(s => ({ scenario: s, members: 5, seconds: Math.max(60, s.seconds) }))
]

export const PROFILES: Record<string, PlannedRun[]> = { short: SHORT_PROFILE, long: LONG_PROFILE }
