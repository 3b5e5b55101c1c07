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
 */
import { History } from '../history.ts'
import { encodeInput } from './kv-machine.ts'
import type { ServiceCluster, SimMember } from './service-cluster.ts'
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
}

/** Rejections after which the contract says the command was definitely not committed. */
const NOT_COMMITTED = new Set(['NoLeaderError', 'NotCommittedError'])

export class ServiceWorkload {
  readonly history = new History()
  refused = 0
  /** Commits that gave up (outcome unknown) before their caller's timeout, on a member that kept running */
  gaveUp = 0
  /** Calls by kind, for scenario expectations */
  readonly calls = new Map<string, number>()
  private readonly cluster: ServiceCluster
  private readonly options: Required<ServiceWorkloadOptions>
  private running = false
  private sequence = 0
  /** Operations still waiting for their call to settle */
  private readonly inFlight = new Set<Operation>()

  constructor (cluster: ServiceCluster, options: ServiceWorkloadOptions) {
    this.cluster = cluster
    this.options = { timeout: 1500, think: [0, 20], membership: 0, largeValue: 0, ...options }
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

  private async commit (client: number, member: SimMember): Promise<void> {
    const rng = this.cluster.world.rng
    const key = `k${rng.int(this.options.keys)}`
    let value = `c${client}v${this.sequence++}`
    if (this.options.largeValue > 0 && rng.chance(0.05)) {
      value += '.'.repeat(rng.int(this.options.largeValue))
    }
    const kv = member.kv
    const input: KvInput = rng.chance(0.6)
      ? { kind: 'write', key, value }
      // Expect a value that is plausibly current, so some compare-and-sets succeed.
      : { kind: 'cas', key, expected: rng.chance(0.7) ? kv?.store.get(key) : `c${client}v${rng.int(this.sequence)}`, value }
    this.count(input.kind)
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
      if (member.service === service && kv?.applied.has(input.value) === true) {
        this.violated(`commit of ${input.value} on ${member.name} rejected with ${String(err.name)} although ${member.name} had applied it`)
      }
      if (err.name === 'CommitTimeoutError' && !signal.aborted && member.service === service && member.started) {
        this.gaveUp++
      }
      this.end(op, NOT_COMMITTED.has(err.name) ? null : undefined)
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
