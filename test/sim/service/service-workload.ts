/**
 * Clients of the real service, using its public API only, on random running
 * members: `commit` (writes and compare-and-sets, forwarded by followers),
 * `read` (linearizable reads on any member), `barrier`, and, when asked,
 * `addVoter`, `addLearner`, `removeMember`, `transferLeadership` and `join`.
 * Key-value operations go into a history for the linearizability checker:
 * a resolved call with its output; a call the contract says definitely did
 * not happen (`NoLeaderError`, `NotCommittedError`) not at all; any other
 * failure, a timeout, or a member that crashed under the call, as an
 * unknown outcome.
 *
 * Session clients commit through a client session instead (Raft thesis
 * §6.3), opened on a random running member and kept while that service
 * instance lives: a command whose outcome is unknown is sent again under
 * its sequence, with the same bytes, a few times; it stays one operation of
 * the history, with the output of whichever call resolved. Every member's
 * store flags a command applied twice (see `KvMachine`).
 */
import { History } from '../history.ts'
import { encodeInput } from './kv-machine.ts'
import type { ServiceCluster, SimMember } from './service-cluster.ts'
import type { RaftSession, SessionCommitResult } from '../../../src/index.ts'
import type { RaftService } from '../../../src/service/raft-service.ts'
import type { KvInput, KvOutput, Operation } from '../linearizability.ts'

export interface ServiceWorkloadOptions {
  clients: number
  keys: number
  /** A client gives up on a call after this long (virtual ms): its outcome is then unknown */
  timeout?: number
  /** Pause between a client's calls, ms */
  think?: [number, number]
  /** Share of calls that change the membership (0: none) */
  membership?: number
  /** Up to this many bytes of padding in some writes' values, to make frames far above the usual size */
  largeValue?: number
  /** Share of the clients (the first ones) that commit through a client session (0: none) */
  sessions?: number
  /** How many times a session client sends a command whose outcome was unknown again */
  retries?: number
}

/** A session client's session, which belongs to one service instance of one member. */
interface OpenSession {
  member: SimMember
  service: RaftService
  session: RaftSession
}

/** What the session clients did, for scenario expectations and campaign figures. */
export interface SessionStats {
  opened: number
  /** Commands sent again under their sequence after an unknown outcome */
  retries: number
  /** Commands whose retry resolved: their outcome became known */
  recovered: number
  /** Calls rejected with `SessionExpiredError` */
  expired: number
}

/** A command that changes the store: a write or a compare-and-set. */
type ChangeInput = Exclude<KvInput, { kind: 'read' }>

/** Rejections after which the contract says the command was definitely not committed. */
const NOT_COMMITTED = new Set(['NoLeaderError', 'NotCommittedError'])

export class ServiceWorkload {
  readonly history = new History()
  refused = 0
  /** Commits that gave up (outcome unknown) before their caller's timeout, on a member that kept running */
  gaveUp = 0
  /** Calls by kind, for scenario expectations */
  readonly calls = new Map<string, number>()
  readonly sessionStats: SessionStats = { opened: 0, retries: 0, recovered: 0, expired: 0 }
  private readonly cluster: ServiceCluster
  private readonly options: Required<ServiceWorkloadOptions>
  private running = false
  private sequence = 0
  /** Operations still waiting for their call to settle */
  private readonly inFlight = new Set<Operation>()
  /** The session of each session client that has one */
  private readonly sessions = new Map<number, OpenSession>()

  constructor (cluster: ServiceCluster, options: ServiceWorkloadOptions) {
    this.cluster = cluster
    // Options a scenario leaves undefined keep their defaults.
    const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as ServiceWorkloadOptions
    this.options = { timeout: 1500, think: [0, 20], membership: 0, largeValue: 0, sessions: 0, retries: 3, ...given }
  }

  start (): void {
    this.running = true
    for (let client = 0; client < this.options.clients; client++) {
      void this.loop(client)
    }
  }

  /** No new calls; calls still waiting count as unknown outcomes. */
  stop (): void {
    this.running = false
    for (const op of this.inFlight) {
      this.history.record(op, undefined)
    }
    this.inFlight.clear()
  }

  private count (kind: string): void {
    this.calls.set(kind, (this.calls.get(kind) ?? 0) + 1)
  }

  private async loop (client: number): Promise<void> {
    const world = this.cluster.world
    while (this.running) {
      await world.sleep(world.between(this.options.think))
      const running = this.cluster.running()
      if (!this.running || running.length === 0) {
        continue
      }
      const member = world.rng.pick(running)
      const roll = world.rng.next()
      if (roll < this.options.membership) {
        await this.changeMembership(member)
      } else if (roll < 0.35) {
        await this.read(client, member)
      } else if (roll < 0.4) {
        await this.barrier(member)
      } else if (client < Math.round(this.options.sessions * this.options.clients)) {
        await this.sessionCommit(client, member)
      } else {
        await this.commit(client, member)
      }
    }
  }

  /** An abort signal that fires after the client's timeout, in virtual time. */
  private signal (): AbortSignal {
    const controller = new AbortController()
    this.cluster.world.schedule(this.options.timeout, () => { controller.abort() })
    return controller.signal
  }

  private begin (client: number, input: KvInput): Operation {
    const op: Operation = { client, input, invoked: this.history.now() }
    this.inFlight.add(op)
    return op
  }

  /** Settles an operation: with its output, as unknown (undefined), or as never having happened (null). */
  private end (op: Operation, output: KvOutput | undefined | null): void {
    if (!this.inFlight.delete(op)) {
      return
    }
    if (output === null) {
      this.refused++
      return
    }
    this.history.record(op, output)
  }

  /** A new write or compare-and-set, with a value no other command writes. */
  private nextInput (client: number, member: SimMember): ChangeInput {
    const rng = this.cluster.world.rng
    const key = `k${rng.int(this.options.keys)}`
    let value = `c${client}v${this.sequence++}`
    if (this.options.largeValue > 0 && rng.chance(0.05)) {
      value += '.'.repeat(rng.int(this.options.largeValue))
    }
    const input: ChangeInput = rng.chance(0.6)
      ? { kind: 'write', key, value }
      // Expect a value that is plausibly current, so some compare-and-sets succeed.
      : { kind: 'cas', key, expected: rng.chance(0.7) ? member.kv?.store.get(key) : `c${client}v${rng.int(this.sequence)}`, value }
    this.count(input.kind)
    return input
  }

  private async commit (client: number, member: SimMember): Promise<void> {
    const input = this.nextInput(client, member)
    const kv = member.kv
    const op = this.begin(client, input)
    const service = member.live
    const signal = this.signal()
    try {
      const { result } = await service.commit(encodeInput(input), { signal })
      if ((result as KvOutput | undefined)?.kind !== input.kind) {
        this.violated(`commit of ${input.value} on ${member.name} resolved with ${JSON.stringify(result)}, not its own apply result`)
      }
      this.end(op, result as KvOutput)
    } catch (err: any) {
      if (member.service === service && kv?.ranHere(input.value) === true) {
        this.violated(`commit of ${input.value} on ${member.name} rejected with ${String(err.name)} (${String(err.message)}) although ${member.name} had applied it`)
      }
      if (err.name === 'CommitTimeoutError' && !signal.aborted && member.service === service && member.started) {
        this.gaveUp++
      }
      this.end(op, NOT_COMMITTED.has(err.name) ? null : undefined)
    }
  }

  /**
   * Commits a new command through the client's session, sending it again
   * under its sequence, with the same bytes, while its outcome is unknown
   * and the session's member runs the same service instance.
   */
  private async sessionCommit (client: number, picked: SimMember): Promise<void> {
    const open = await this.sessionOf(client, picked)
    if (open === undefined) {
      return
    }
    const { member, service, session } = open
    const input = this.nextInput(client, member)
    const command = encodeInput(input)
    const op = this.begin(client, input)
    let sequence: number | undefined
    for (let retry = 0; ; retry++) {
      try {
        const committed = await session.commit(command, { signal: this.signal(), sequence })
        const result = committed.result as KvOutput | undefined
        this.checkSessionCommit(open, input, committed, sequence)
        if (retry > 0) {
          this.sessionStats.recovered++
        }
        this.end(op, result)
        return
      } catch (err: any) {
        if (sequence !== undefined && err.sequence !== sequence) {
          this.violated(`the retry of sequence ${sequence} of session ${session.id} on ${member.name} rejected with ${String(err.name)} for sequence ${String(err.sequence)}`)
        }
        if (err.name === 'SessionExpiredError') {
          this.sessionStats.expired++
          this.sessions.delete(client)
        }
        const sameInstance = member.service === service && member.started
        if (err.name === 'SessionExpiredError' || err.sequence === undefined || !sameInstance || !this.running || retry >= this.options.retries) {
          // A first call refused before it got a sequence sent nothing; any other may have been applied.
          this.end(op, sequence === undefined && err.sequence === undefined ? null : undefined)
          return
        }
        sequence = err.sequence
        this.sessionStats.retries++
      }
    }
  }

  /** A resolved session commit must give the command's first result, and the member's state must hold it. */
  private checkSessionCommit ({ member, service }: OpenSession, input: ChangeInput, committed: SessionCommitResult, sequence: number | undefined): void {
    if ((committed.result as KvOutput | undefined)?.kind !== input.kind || (sequence !== undefined && committed.sequence !== sequence)) {
      this.violated(`session commit of ${input.value} (sequence ${String(sequence)}) on ${member.name} resolved with ${JSON.stringify(committed)}, not its first apply result`)
    }
    if (member.service === service && member.kv?.hasApplied(input.value) !== true) {
      this.violated(`session commit of ${input.value} on ${member.name} resolved, but ${member.name}'s state never had it applied`)
    }
  }

  /** The client's session while its service instance lives; else a new one on `member` (none if that fails). */
  private async sessionOf (client: number, member: SimMember): Promise<OpenSession | undefined> {
    const kept = this.sessions.get(client)
    if (kept !== undefined && kept.member.service === kept.service) {
      // A restart in place keeps the instance, and its sessions: wait for it to run again.
      return kept.member.started ? kept : undefined
    }
    this.sessions.delete(client)
    const service = member.live
    try {
      const session = await service.openSession({ signal: this.signal() })
      this.sessionStats.opened++
      if (member.service !== service) {
        return undefined
      }
      const open = { member, service, session }
      this.sessions.set(client, open)
      return open
    } catch {
      // No leader in time, or the member went down: try again on the next turn.
      return undefined
    }
  }

  /** A call broke the service's contract: the run fails. */
  private violated (what: string): void {
    this.cluster.world.fail(new Error(what))
  }

  private async read (client: number, member: SimMember): Promise<void> {
    const key = `k${this.cluster.world.rng.int(this.options.keys)}`
    this.count('read')
    const op = this.begin(client, { kind: 'read', key })
    const kv = member.kv
    try {
      await member.live.read({ signal: this.signal() })
      this.end(op, { kind: 'read', value: kv?.store.get(key) })
    } catch {
      // An unknown read constrains nothing.
      this.end(op, null)
    }
  }

  /** A barrier is local: it must resolve only once this member applied all it knew to be committed. */
  private async barrier (member: SimMember): Promise<void> {
    this.count('barrier')
    const service = member.live
    const known = service.commitIndex
    try {
      const { index } = await service.barrier({ signal: this.signal() })
      if (index < known || (member.service === service && service.appliedIndex < index)) {
        this.violated(`barrier on ${member.name} resolved at ${index} with ${known} known committed and ${service.appliedIndex} applied`)
      }
    } catch {
      // A barrier that times out tells nothing.
    }
  }

  private async changeMembership (member: SimMember): Promise<void> {
    const { world } = this.cluster
    const service = member.live
    const { voters, learners } = service.members()
    const inConfig = new Set([...voters, ...learners].map(String))
    const outsiders = this.cluster.members.filter(m => !inConfig.has(m.id))
    const roll = world.rng.int(5)
    const signal = this.signal()
    try {
      if (roll === 0 && outsiders.length > 0) {
        this.count('addVoter')
        await service.addVoter(world.rng.pick(outsiders).peerId, { signal })
      } else if (roll === 1 && learners.length > 0) {
        this.count('addVoter')
        await service.addVoter(world.rng.pick(learners), { signal })
      } else if (roll === 2 && outsiders.length > 0) {
        this.count('addLearner')
        await service.addLearner(world.rng.pick(outsiders).peerId, { signal })
      } else if (roll === 3 && (voters.length > 3 || learners.length > 0)) {
        this.count('removeMember')
        // Keep three voters, so the group can always make progress once healed.
        await service.removeMember(world.rng.pick(voters.length > 3 ? [...voters, ...learners] : learners), { signal })
      } else if (roll === 4) {
        this.count('transferLeadership')
        await service.transferLeadership(undefined, { signal })
      } else {
        const joiner = this.cluster.running().filter(m => !inConfig.has(m.id) && m.live.members().voters.length === 0)
        if (joiner.length > 0) {
          this.count('join')
          await world.rng.pick(joiner).live.join(member.peerId, { signal })
        }
      }
    } catch {
      // Refused, timed out or overtaken by faults: the checks on the log and the history judge the outcome.
    }
  }
}
