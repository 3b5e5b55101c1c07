/**
 * Nemeses: the faults a scenario injects while the clients run. Each
 * function is one cycle (inject, hold, heal) and records when it healed,
 * since recovery time is measured from the last heal.
 *
 * A `Chaos` context carries what they need: the cluster, the workload (new
 * members get a client), a seeded random source, the deadline of the fault
 * phase and a log of what was done.
 */

import { sleep, waitFor } from './cluster.ts'
import type { Workload } from './clients.ts'
import type { Cluster, Member } from './cluster.ts'
import type { Reply } from './protocol.ts'
import type { Rng } from '../utils/rng.ts'

/** How long a membership change may take, retries included, before the scenario fails. */
const MEMBERSHIP_DEADLINE_MS = 45_000

export class Chaos {
  readonly cluster: Cluster
  readonly workload: Workload
  readonly rng: Rng
  /** End of the fault phase (performance.now() time) */
  readonly end: number
  /** When the last fault was removed (performance.now() time) */
  lastHeal: number | undefined
  readonly events: string[] = []
  private readonly started = performance.now()
  private readonly print: (line: string) => void

  constructor (cluster: Cluster, workload: Workload, rng: Rng, seconds: number, print: (line: string) => void) {
    this.cluster = cluster
    this.workload = workload
    this.rng = rng
    this.end = performance.now() + seconds * 1000
    this.print = print
  }

  log (what: string): void {
    const line = `+${((performance.now() - this.started) / 1000).toFixed(1)}s ${what}`
    this.events.push(line)
    this.print(line)
  }

  remaining (): number {
    return this.end - performance.now()
  }

  /** Sleeps `ms`, but not past the end of the fault phase. */
  async hold (ms: number): Promise<void> {
    await sleep(Math.max(0, Math.min(ms, this.remaining())))
  }

  healed (): void {
    this.lastHeal = performance.now()
  }

  /** A random duration in [min, max) ms. */
  between (min: number, max: number): number {
    return min + this.rng.int(max - min)
  }

  async leader (): Promise<Member> {
    return this.cluster.waitForLeader(45_000)
  }

  /** The members of the current configuration, per the leader (all members if none answers). */
  async configuration (): Promise<Member[]> {
    const leader = await this.cluster.leader()
    const status = await leader?.status().catch(() => undefined)
    if (status === undefined) {
      return this.cluster.members.filter(m => m.running)
    }
    const ids = new Set([...status.voters, ...status.learners])
    return this.cluster.members.filter(m => ids.has(m.peerId))
  }

  /** `count` distinct members of `from`, chosen at random. */
  pick (from: Member[], count: number): Member[] {
    const pool = [...from]
    const picked: Member[] = []
    while (picked.length < count && pool.length > 0) {
      picked.push(pool.splice(this.rng.int(pool.length), 1)[0])
    }
    return picked
  }

  /**
   * Sends a membership request through random running members until one
   * succeeds (a change in progress or a missing leader is retried).
   */
  async membership (describe: string, request: (via: Member) => Promise<Reply>): Promise<Member> {
    let last = ''
    return waitFor(async () => {
      const candidates = this.cluster.members.filter(m => m.up)
      const via = this.rng.pick(candidates)
      const reply = await request(via).catch((err: Error) => ({ ok: false as const, error: err.message }))
      if (reply.ok) {
        this.log(`${describe} via ${via.name}: ok`)
        return via
      }
      if (reply.error !== last) {
        last = reply.error
        this.log(`${describe} via ${via.name}: ${reply.error} (retrying)`)
      }
      await sleep(300)
      return undefined
    }, MEMBERSHIP_DEADLINE_MS, describe)
  }
}

export type Target = 'leader' | 'follower' | 'minority' | 'majority' | 'all'

/** The members a fault hits: the leader, one follower, a minority, a majority or all of the configuration. */
export async function targets (chaos: Chaos, target: Target): Promise<Member[]> {
  const members = (await chaos.configuration()).filter(m => m.running)
  const leader = await chaos.leader()
  const n = members.length
  switch (target) {
    case 'leader':
      return [leader]
    case 'follower':
      return chaos.pick(members.filter(m => m !== leader), 1)
    case 'minority':
      return chaos.pick(members, Math.max(1, Math.floor((n - 1) / 2)))
    case 'majority':
      return chaos.pick(members, Math.floor(n / 2) + 1)
    case 'all':
      return members
    default:
      throw new Error(`unknown target ${String(target)}`)
  }
}

function names (members: Member[]): string {
  return members.map(m => m.name).join(',')
}

/** SIGKILL the targets, keep them down for `downMs`, restart them on their folders. */
export async function killAndRestart (chaos: Chaos, target: Target, downMs: number): Promise<void> {
  const victims = await targets(chaos, target)
  chaos.log(`kill -9 ${target} (${names(victims)})`)
  await Promise.all(victims.map(async m => { await m.kill() }))
  await chaos.hold(downMs)
  await Promise.all(victims.map(async m => { await m.start() }))
  chaos.healed()
  chaos.log(`restarted ${names(victims)}`)
}

/** SIGSTOP the targets for `downMs`, then SIGCONT. */
export async function pauseAndResume (chaos: Chaos, target: Target, downMs: number): Promise<void> {
  const victims = await targets(chaos, target)
  chaos.log(`SIGSTOP ${target} (${names(victims)})`)
  for (const m of victims) {
    m.pause()
  }
  await chaos.hold(downMs)
  for (const m of victims) {
    m.resume()
  }
  chaos.healed()
  chaos.log(`SIGCONT ${names(victims)}`)
}

export type PartitionKind = 'split' | 'isolated-leader' | 'bridge' | 'ring' | 'one-way'

/** Cuts the network (iptables) for `holdMs`, then heals it. */
export async function partition (chaos: Chaos, kind: PartitionKind, holdMs: number): Promise<void> {
  const net = chaos.cluster.network
  const members = await chaos.configuration()
  const leader = await chaos.leader()
  const others = chaos.pick(members.filter(m => m !== leader), members.length)
  const cutBetween = async (a: Member[], b: Member[]): Promise<void> => {
    for (const x of a) {
      for (const y of b) {
        await net.block(x.index, y.index)
      }
    }
  }
  let what: string
  switch (kind) {
    case 'split': {
      const shuffled = chaos.pick(members, members.length)
      const minority = shuffled.slice(0, Math.floor(members.length / 2))
      const majority = shuffled.slice(minority.length)
      await cutBetween(minority, majority)
      what = `${names(minority)} | ${names(majority)}`
      break
    }
    case 'isolated-leader':
      await cutBetween([leader], others)
      what = `${leader.name} (leader) | ${names(others)}`
      break
    case 'bridge': {
      // the leader on one side, one member reaching both sides
      const bridge = others[0]
      const rest = others.slice(1)
      const near = [leader, ...rest.slice(0, Math.floor((rest.length - 1) / 2))]
      const far = rest.filter(m => !near.includes(m))
      await cutBetween(near, far)
      what = `${names(near)} | ${bridge.name} (bridge) | ${names(far)}`
      break
    }
    case 'ring': {
      // each member reaches only its ring neighbours; with fewer than five,
      // a one-way ring (each sends only to the next), since a symmetric one
      // would be the full mesh
      const ring = [leader, ...others]
      const n = ring.length
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          const ahead = (j - i + n) % n
          const allowed = n >= 5 ? ahead === 1 || ahead === n - 1 : ahead === 1
          if (i !== j && !allowed) {
            await net.blockOneWay(ring[i].index, ring[j].index)
          }
        }
      }
      what = `${n >= 5 ? 'ring' : 'one-way ring'} ${names(ring)}`
      break
    }
    case 'one-way':
      for (const m of others) {
        await net.blockOneWay(leader.index, m.index)
      }
      what = `${leader.name} (leader) cannot send to ${names(others)}`
      break
    default:
      throw new Error(`unknown partition ${String(kind)}`)
  }
  chaos.log(`partition ${kind}: ${what}`)
  await chaos.hold(holdMs)
  await net.heal()
  chaos.healed()
  chaos.log('network healed')
}

export interface NetFaults {
  delayMs?: number
  jitterMs?: number
  loss?: number
  duplicate?: number
}

/** Delay/jitter (relay), loss and duplication (iptables) on every member, for `holdMs`. */
export async function netFaults (chaos: Chaos, faults: NetFaults, holdMs: number): Promise<void> {
  const { cluster } = chaos
  if (faults.delayMs !== undefined || faults.jitterMs !== undefined) {
    await cluster.setDelay(faults.delayMs ?? 0, faults.jitterMs ?? 0)
  }
  if (faults.loss !== undefined) {
    await cluster.network.loss(faults.loss)
  }
  if (faults.duplicate !== undefined) {
    await cluster.network.duplicate(faults.duplicate)
  }
  chaos.log(`network faults ${JSON.stringify(faults)}`)
  await chaos.hold(holdMs)
  await cluster.network.heal()
  await cluster.setDelay(0, 0)
  chaos.healed()
  chaos.log('network faults removed')
}

/** Asks one member to take a snapshot now (each member also takes them on its own every few hundred entries). */
export async function snapshot (chaos: Chaos): Promise<void> {
  const member = chaos.pick(chaos.cluster.members.filter(m => m.up), 1)[0]
  if (member === undefined) {
    return
  }
  const reply = await member.request({ type: 'snapshot', timeoutMs: 10_000 }, 15_000).catch((err: Error) => ({ ok: false as const, error: err.message }))
  chaos.log(`snapshot on ${member.name}: ${reply.ok ? `index ${reply.index}` : reply.error}`)
}

export async function waitUntilVoter (chaos: Chaos, member: Member): Promise<void> {
  await waitFor(async () => {
    const leader = await chaos.cluster.leader()
    const status = await leader?.status()
    return status?.voters.includes(member.peerId) === true ? true : undefined
  }, MEMBERSHIP_DEADLINE_MS, `${member.name} to be a voter`, 200)
}

/**
 * Removes a member (a follower, or the leader when `leader`), kills it,
 * wipes its datastore, and brings it back as a new node with the same key:
 * added with `addVoter(<its multiaddr>)` through a random member, or, when
 * `viaJoin`, asking a random member to let it join (authorised by the leader).
 */
export async function churn (chaos: Chaos, options: { leader?: boolean, viaJoin?: boolean } = {}): Promise<void> {
  const [victim] = await targets(chaos, options.leader === true ? 'leader' : 'follower')
  await chaos.membership(`removeMember(${victim.name})`, async via => via.request({ type: 'removeMember', peer: victim.peerId, timeoutMs: 10_000 }, 15_000))
  await victim.kill()
  await victim.wipe()
  chaos.log(`${victim.name} killed and wiped`)
  if (options.viaJoin === true) {
    const target = chaos.rng.pick(chaos.cluster.members.filter(m => m.up))
    await victim.start({ bootstrap: [], join: [target.address] })
    chaos.log(`${victim.name} restarted empty, joining via ${target.name}`)
  } else {
    await victim.start({ bootstrap: [] })
    await chaos.membership(`addVoter(${victim.name})`, async via => via.request({ type: 'addVoter', peer: victim.address, timeoutMs: 20_000 }, 25_000))
  }
  await waitUntilVoter(chaos, victim)
  chaos.healed()
  chaos.log(`${victim.name} is a voter again`)
}

/** Waits until every running member of the configuration has applied the leader's commit index. */
export async function waitForCatchUp (chaos: Chaos, timeoutMs: number): Promise<void> {
  const leader = await chaos.leader()
  const target = (await leader.status()).commitIndex
  const members = await chaos.configuration()
  try {
    await waitFor(async () => {
      const statuses = await Promise.all(members.filter(m => m.running).map(async m => m.status()))
      return statuses.every(s => s.appliedIndex >= target) ? true : undefined
    }, timeoutMs, `every member to apply index ${target}`, 200)
  } catch (err: any) {
    throw new Error(`${err.message}: ${await describeStatuses(chaos)}`)
  }
}

/** Every running member's view (role, term, leader, indexes; the leader's view of its followers), for failure messages. */
export async function describeStatuses (chaos: Chaos): Promise<string> {
  const { members } = chaos.cluster
  const name = (id: string | undefined): string => members.find(m => m.peerId === id)?.name ?? (id === undefined ? '-' : id.slice(-6))
  const lines = await Promise.all(members.filter(m => m.up).map(async (m) => {
    const s = await m.status().catch(() => undefined)
    if (s === undefined) {
      return `${m.name}: no answer`
    }
    const followers = s.followers?.map(f => `${name(f.peerId)} match ${f.match} next ${f.next} ${f.state}`).join(', ')
    return `${m.name}: ${s.role} term ${s.term} leader ${name(s.leader)} commit ${s.commitIndex} applied ${s.appliedIndex} last ${s.lastIndex} snapshot ${s.snapshotIndex} voters ${s.voters.map(name).join(',')}${followers === undefined ? '' : ` followers [${followers}]`}`
  }))
  return lines.join('; ')
}
