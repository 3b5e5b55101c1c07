/**
 * The service campaign's scenarios: each scripts faults over virtual time
 * while clients call the public API on random members, on top of random
 * network noise when run noisy. Every run then ends the same way (see
 * `runServiceScenario`): the world heals, a leader commits a final entry
 * every member applies, their stores agree and the history is linearizable.
 */
import { wait } from '../steps.ts'
import { startOutsider } from './outsider.ts'
import type { DiskMode } from './member-disk.ts'
import type { ServiceCluster, SimMember } from './service-cluster.ts'
import type { ServiceWorkload } from './service-workload.ts'
import type { RaftInit } from '../../../src/index.ts'
import type { SessionLimits } from '../../../src/service/session-table.ts'

export interface ServiceScenarioContext {
  cluster: ServiceCluster
  workload: ServiceWorkload
  noisy: boolean
}

export interface ServiceScenario {
  name: string
  /** The initial voters */
  nodes: number
  /** Nodes started outside the configuration */
  spares?: number
  clients: number
  /** Share of client calls that change the membership */
  membership?: number
  /** Padding bytes in some writes, for frames far above the usual size */
  largeValue?: number
  /** Share of the clients that commit through client sessions, retrying unknown outcomes */
  sessions?: number
  /** Clients give up on a call after this long (virtual ms); see `ServiceWorkloadOptions.timeout` */
  timeout?: number
  /** Service options for this scenario */
  init?: Omit<RaftInit, 'stateMachine' | 'bootstrap'>
  /** The client session table's limits, lowered so that sessions and results expire */
  sessionLimits?: SessionLimits
  /**
   * Whether the members' stores sync their writes (see `MemberDisk`)
   *
   * @default 'synced'
   */
  disk?: DiskMode
  run(ctx: ServiceScenarioContext): Promise<void>
}

/** The leader now, or any running member when there is none. */
function leaderOrAny (cluster: ServiceCluster): SimMember | undefined {
  return cluster.leader() ?? cluster.world.rng.pick(cluster.running())
}

function names (members: SimMember[]): string[] {
  return members.map(m => m.id)
}

/** One random partition of the members, healed after `ms`. */
async function randomPartition (cluster: ServiceCluster, ms: number): Promise<void> {
  const { world, network } = cluster
  const ids = names(cluster.members)
  const leader = cluster.leader()?.id ?? world.rng.pick(ids)
  const rest = ids.filter(id => id !== leader)
  switch (world.rng.int(4)) {
    case 0:
      network.links.partition([leader], rest)
      break
    case 1: {
      const cut = 1 + world.rng.int(ids.length - 1)
      network.links.partition(ids.slice(0, cut), ids.slice(cut))
      break
    }
    case 2:
      for (const id of rest) {
        network.links.cutLink(leader, id)
      }
      break
    default:
      network.links.bridge(rest.slice(0, rest.length >> 1), leader, rest.slice(rest.length >> 1))
  }
  await wait(cluster.world, ms)
  network.links.heal()
}

/** Crashes, restarts in place, partitions, slow disks, slow nodes and stream resets at random for `duration` ms. */
async function randomFaults (cluster: ServiceCluster, duration: number): Promise<void> {
  const { world, network } = cluster
  const end = world.now + duration
  while (world.now < end) {
    await wait(cluster.world, world.between([50, 300]))
    const victim = world.rng.pick(cluster.members)
    switch (world.rng.int(7)) {
      case 0:
        cluster.crashFor(victim, world.between([50, 600]))
        break
      case 6:
        void cluster.restartInPlace(victim).catch((err: unknown) => { world.fail(err) })
        break
      case 1:
        await randomPartition(cluster, world.between([100, 600]))
        break
      case 2:
        victim.writeLatency = [5, 60]
        world.schedule(world.between([200, 800]), () => { victim.writeLatency = [0, 2] })
        break
      case 3:
        victim.slowness = 2 + world.rng.next() * 2
        world.schedule(world.between([200, 800]), () => { victim.slowness = 1 })
        break
      case 4: {
        const before = network.faults.reset
        network.faults.reset = 0.05
        world.schedule(world.between([100, 400]), () => { network.faults.reset = before })
        break
      }
      default: {
        const leader = cluster.leader()
        if (leader !== undefined) {
          cluster.crashFor(leader, world.between([50, 400]))
        }
      }
    }
  }
}

/** `size` members drawn at random, without repeats. */
function someMembers (cluster: ServiceCluster, size: number): SimMember[] {
  const rest = [...cluster.members]
  const chosen: SimMember[] = []
  while (chosen.length < size) {
    chosen.push(...rest.splice(cluster.world.rng.int(rest.length), 1))
  }
  return chosen
}

/** What takes a group of members down at once. */
type GroupFault = 'power loss' | 'crash'

/**
 * Takes down one member, a majority or every member at once, again and
 * again for `duration` ms, by `fault`; a power loss now and then gives way
 * to a process crash of one member, which must keep the page cache.
 */
async function groupFaults (cluster: ServiceCluster, duration: number, fault: GroupFault): Promise<void> {
  const { world, members } = cluster
  const end = world.now + duration
  while (world.now < end) {
    await wait(world, world.between([150, 600]))
    const size = world.rng.pick([1, (members.length >> 1) + 1, members.length])
    const group = someMembers(cluster, size)
    const downFor = world.between([50, 400])
    if (fault === 'power loss' && world.rng.chance(0.75)) {
      cluster.powerLoss(group, downFor)
    } else {
      for (const member of group.slice(0, fault === 'crash' ? size : 1)) {
        cluster.crashFor(member, downFor)
      }
    }
  }
}

/** Members taken down together, under the usual workload, on stores that sync or not. */
function groupFaultScenario (name: string, fault: GroupFault, disk: DiskMode): ServiceScenario {
  return {
    name,
    nodes: 3,
    clients: 5,
    disk,
    async run ({ cluster }) {
      await groupFaults(cluster, 3000, fault)
    }
  }
}

/**
 * Power losses on stores that never sync: acknowledged commands sit in the
 * page cache, and a power loss of a majority loses them. This scenario must
 * fail (see `power-loss.spec.ts`), proof that the fault model bites; it is
 * not part of the campaign.
 */
export const UNSYNCED_POWER_LOSS = groupFaultScenario('service-power-loss-unsynced', 'power loss', 'unsynced')

export const SERVICE_SCENARIOS: ServiceScenario[] = [
  {
    name: 'service-basic',
    nodes: 3,
    clients: 4,
    async run ({ cluster }) {
      await wait(cluster.world, 3000)
    }
  },
  {
    name: 'service-leader-crash',
    nodes: 3,
    clients: 4,
    async run ({ cluster }) {
      for (let i = 0; i < 4; i++) {
        await wait(cluster.world, 700)
        const leader = cluster.leader()
        if (leader !== undefined) {
          cluster.crashFor(leader, cluster.world.between([100, 500]))
        }
      }
      await wait(cluster.world, 500)
    }
  },
  {
    name: 'service-partitions',
    nodes: 5,
    clients: 5,
    async run ({ cluster }) {
      for (let i = 0; i < 6; i++) {
        await wait(cluster.world, cluster.world.between([100, 400]))
        await randomPartition(cluster, cluster.world.between([200, 700]))
      }
    }
  },
  {
    name: 'service-random-faults',
    nodes: 5,
    clients: 5,
    async run ({ cluster }) {
      await randomFaults(cluster, 3500)
    }
  },
  {
    name: 'service-forwarding-leader-changes',
    nodes: 3,
    clients: 6,
    async run ({ cluster }) {
      // Leaders change often, by hand-over and by crash, while followers forward commands, reads and changes.
      for (let i = 0; i < 8; i++) {
        await wait(cluster.world, cluster.world.between([100, 400]))
        const leader = leaderOrAny(cluster)
        if (leader === undefined) {
          continue
        }
        if (cluster.world.rng.chance(0.5)) {
          leader.live.transferLeadership().catch(() => {})
        } else {
          cluster.crashFor(leader, cluster.world.between([20, 300]))
        }
      }
      await wait(cluster.world, 500)
    }
  },
  {
    name: 'service-snapshots',
    nodes: 3,
    // Clients stuck on the cut-off follower wait out their timeout: enough others keep the log growing.
    clients: 10,
    init: { snapshotThreshold: 20, trailingEntries: 5 },
    async run ({ cluster }) {
      const { world, network } = cluster
      network.faults.cutOff = 0.25
      for (let i = 0; i < 3; i++) {
        // A follower cut off while the others compact past it catches up by InstallSnapshot.
        const leader = cluster.leader()
        const follower = cluster.running().find(m => m !== leader)
        if (follower !== undefined) {
          const rest = cluster.members.filter(m => m !== follower)
          network.links.partition([follower.id], names(rest))
          await world.until(3000, () => follower.started && rest.every(m => m.started && m.live.status().firstIndex > follower.live.status().lastIndex + 1))
          network.links.heal()
          if (world.rng.chance(0.3)) {
            await wait(cluster.world, world.between([0, 100]))
            cluster.crashFor(follower, world.between([50, 300]))
          }
        }
        await wait(cluster.world, world.between([200, 600]))
      }
    }
  },
  {
    name: 'service-membership',
    nodes: 3,
    spares: 2,
    clients: 5,
    membership: 0.06,
    init: { authorizeJoin: () => true },
    async run ({ cluster }) {
      await randomFaults(cluster, 3000)
    }
  },
  {
    name: 'service-outsider',
    nodes: 3,
    clients: 4,
    async run ({ cluster }) {
      await startOutsider(cluster, cluster.world.now + 2500)
      await randomFaults(cluster, 2500)
    }
  },
  {
    // Regression: a follower's forwarded commit was rejected "outcome unknown" the moment the
    // leader changed, though the entry was committed and applied there in the same batch (found
    // by service-random-faults, seeds 1 and 2, calm).
    name: 'regression-forwards-across-leader-crashes',
    nodes: 3,
    clients: 6,
    // No snapshots: a command whose entry arrives inside one may rightly end unknown.
    init: { snapshotThreshold: 1_000_000 },
    async run ({ cluster, workload }) {
      for (let i = 0; i < 6; i++) {
        await wait(cluster.world, cluster.world.between([150, 400]))
        const leader = cluster.leader()
        if (leader !== undefined) {
          cluster.crashFor(leader, cluster.world.between([50, 300]))
        }
      }
      await wait(cluster.world, 300)
      // Only crashes: a member that stays up learns every forwarded command's fate from its log.
      if (workload.gaveUp > 0) {
        throw new Error(`${workload.gaveUp} commit(s) on members that stayed up gave up as "outcome unknown" before their caller's timeout`)
      }
    }
  },
  {
    // Regression: a propose frame that arrived twice was appended, and applied, twice (found by
    // service-leader-crash seed 4, service-random-faults seed 9 and service-membership seed 11, noisy).
    name: 'regression-duplicated-proposals',
    nodes: 3,
    clients: 5,
    async run ({ cluster }) {
      cluster.network.faults.duplicate = 0.3
      await randomFaults(cluster, 2000)
    }
  },
  {
    // Session clients send commands whose outcome is unknown again under their sequence while
    // leaders are killed, members crash and restart (followers in place too, keeping their
    // sessions) and partitions cut them off; snapshots, which carry the session table, come every few entries.
    name: 'service-sessions',
    nodes: 3,
    // Four clients in sessions, two committing plainly beside them.
    clients: 6,
    sessions: 2 / 3,
    // Calls give up before the faults heal, so that many outcomes are unknown and sent again.
    timeout: 300,
    // As many sessions as session clients: those abandoned with a crashed member make room.
    init: { snapshotThreshold: 15, trailingEntries: 3 },
    // Few sessions, results and bytes, so that all three limits drop sessions and results.
    sessionLimits: { sessions: 4, results: 8, bytes: 2048 },
    async run ({ cluster }) {
      const { world } = cluster
      for (let i = 0; i < 8; i++) {
        await wait(world, world.between([150, 450]))
        const leader = leaderOrAny(cluster)
        if (leader === undefined) {
          continue
        }
        switch (world.rng.int(4)) {
          case 0:
            cluster.crashFor(leader, world.between([50, 400]))
            break
          case 1: {
            // A restart in place keeps the service instance, and the sessions opened on it.
            const follower = world.rng.pick(cluster.members.filter(m => m !== leader))
            void cluster.restartInPlace(follower).catch((err: unknown) => { world.fail(err) })
            break
          }
          case 2:
            await randomPartition(cluster, world.between([100, 500]))
            break
          default:
            cluster.crashFor(world.rng.pick(cluster.members), world.between([50, 400]))
        }
      }
      await wait(world, 500)
    }
  },
  // Stores that sync each write: no acknowledged command is lost to power losses of any number of members.
  groupFaultScenario('service-power-loss', 'power loss', 'synced'),
  // Stores that never sync lose nothing to process crashes, of every member at once too: the page cache survives them.
  groupFaultScenario('service-crash-unsynced', 'crash', 'unsynced'),
  {
    name: 'service-large-frames',
    nodes: 3,
    clients: 3,
    // Commands of up to 3 MiB, each alone in a frame near the raised limits.
    largeValue: 3 * 1024 * 1024,
    init: { maxCommandSize: 4 * 1024 * 1024, maxMessageSize: 5 * 1024 * 1024 },
    async run ({ cluster }) {
      await randomFaults(cluster, 2000)
    }
  }
]
