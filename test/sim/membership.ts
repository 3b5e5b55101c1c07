/**
 * Membership changes and leadership transfers as scenarios ask for them, run
 * the way the service's `Membership` runs them: a change is proposed on
 * whichever node leads once its core allows one (`canChangeConfig()`), and
 * proposed again when a leader change lost it, until a committed
 * configuration has it or a virtual-time deadline passes; a new voter
 * follows as a learner first and is promoted only once it has caught up.
 * A task is driven after every simulator event, so it reacts the moment a
 * core allows it, and a scenario can go on scripting faults while it runs.
 */
import { CORE_DEFAULTS } from '../../src/core/index.ts'
import type { SimNode, Simulator } from './simulator.ts'
import type { ConfigChange, Configuration, NodeId } from '../../src/core/index.ts'

/** Whether `config` already has what `change` asks for. */
export function inEffect (config: Configuration, change: ConfigChange): boolean {
  switch (change.type) {
    case 'add-voter': return config.voters.includes(change.id)
    case 'add-learner': return config.learners.includes(change.id)
    default: return !config.voters.includes(change.id) && !config.learners.includes(change.id)
  }
}

export function membersOf (config: Configuration): NodeId[] {
  return [...config.voters, ...config.learners]
}

/**
 * The newest configuration a running node knows to be committed: the
 * cluster's membership as far as the simulation can tell (a node that was
 * never added has none; one cut off may know an older one).
 */
export function committedConfig (sim: Simulator): Configuration | undefined {
  let best: SimNode | undefined
  for (const node of sim.nodes.values()) {
    const { core } = node
    const known = node.up && core.config.voters.length > 0 && core.configIndex <= core.commitIndex
    if (known && (best === undefined || core.configIndex > best.core.configIndex)) {
      best = node
    }
  }
  return best?.core.config
}

/** The service's test before promoting a learner: in step with the leader, and within `slack` entries of its log. */
export function caughtUp (id: NodeId, slack: number): (leader: SimNode) => boolean {
  return (leader) => {
    const pr = leader.core.progressOf(id)
    return pr !== undefined && pr.state === 'replicate' && pr.match + slack >= leader.core.log.lastIndex()
  }
}

/** One change of a task. */
export interface Step {
  change: ConfigChange
  /** Proposed only while this holds on the leader */
  when?(leader: SimNode): boolean
}

/** A configuration entry a task appended. */
export interface Proposal {
  node: NodeId
  index: number
  term: number
  change: ConfigChange
}

export interface TaskOptions {
  /** Virtual ms before the task gives up */
  within: number
  /** Propose only on this node, while it leads (a scenario that scripts who proposes) */
  on?: NodeId
}

/**
 * Changes to make in order. A step already in effect is skipped, and the
 * task is done once its last step is in effect in a committed
 * configuration, whoever proposed it.
 */
export class MembershipTask {
  status: 'running' | 'done' | 'timed-out' = 'running'
  readonly proposals: Proposal[] = []
  readonly deadline: number
  private step = 0
  private readonly sim: Simulator
  private readonly steps: Step[]
  private readonly on: NodeId | undefined
  private readonly unwatch: () => void

  constructor (sim: Simulator, steps: Step[], options: TaskOptions) {
    this.sim = sim
    this.steps = steps
    this.on = options.on
    this.deadline = sim.now + options.within
    this.unwatch = sim.watch(() => { this.drive() })
    this.drive()
  }

  /** Runs the simulation until the task ends; returns whether it got done. */
  async settle (): Promise<boolean> {
    await this.sim.run(this.deadline, () => this.status !== 'running')
    this.drive()
    return this.status === 'done'
  }

  /** Like `settle`, but a task that timed out fails the scenario. */
  async expectDone (what: string): Promise<void> {
    if (!await this.settle()) {
      throw new Error(`${what}: not done by ${this.deadline} ms (proposed ${JSON.stringify(this.proposals)}; committed configuration ${JSON.stringify(committedConfig(this.sim))})`)
    }
  }

  private drive (): void {
    if (this.status !== 'running') {
      return
    }
    const committed = committedConfig(this.sim)
    if (committed !== undefined) {
      if (inEffect(committed, this.steps[this.steps.length - 1].change)) {
        this.end('done')
        return
      }
      while (this.step < this.steps.length - 1 && inEffect(committed, this.steps[this.step].change)) {
        this.step++
      }
    }
    if (this.sim.now >= this.deadline) {
      this.end('timed-out')
      return
    }
    const leader = this.proposer()
    const { change, when } = this.steps[this.step]
    // A leader whose configuration has the change waits for it to commit.
    if (leader === undefined || inEffect(leader.core.config, change) || !leader.core.canChangeConfig() ||
      leader.core.transferTarget !== undefined || when?.(leader) === false) {
      return
    }
    this.proposals.push({ node: leader.id, ...leader.core.proposeConfigChange(change), change })
    this.sim.pump(leader)
  }

  private proposer (): SimNode | undefined {
    if (this.on === undefined) {
      return this.sim.leader()
    }
    const node = this.sim.node(this.on)
    return node.up && node.core.role === 'leader' ? node : undefined
  }

  private end (status: 'done' | 'timed-out'): void {
    this.status = status
    this.unwatch()
  }
}

export function changeMembership (sim: Simulator, change: ConfigChange, options: TaskOptions): MembershipTask {
  return new MembershipTask(sim, [{ change }], options)
}

/**
 * Adds a voter the way the service does: as a learner, promoted once it is
 * within `slack` entries of the leader (by default what one AppendEntries
 * request carries), so a node far behind never stalls commits.
 */
export function addVoter (sim: Simulator, id: NodeId, options: TaskOptions & { slack?: number }): MembershipTask {
  const slack = options.slack ?? sim.options.maxEntriesPerAppend ?? CORE_DEFAULTS.maxEntriesPerAppend
  return new MembershipTask(sim, [
    { change: { type: 'add-learner', id } },
    { change: { type: 'add-voter', id }, when: caughtUp(id, slack) }
  ], options)
}

export interface TransferOutcome {
  from: NodeId
  target: NodeId
  /** The term `from` led in */
  term: number
  /** Who leads, as `from` sees it once settled: the target, `from` again (it gave up), or another; undefined if it never settled */
  leader: NodeId | undefined
}

/**
 * Asks the leader (once there is one other than `to`, with no transfer under
 * way) to hand leadership to `to`, or to the most up-to-date voter, and
 * waits as the service does: until some leader is known again.
 */
export async function transferLeadership (sim: Simulator, to: NodeId | undefined, within: number): Promise<TransferOutcome | undefined> {
  const deadline = sim.now + within
  const ready = (): SimNode | undefined => {
    const leader = sim.leader()
    return leader !== undefined && leader.id !== to && leader.core.transferTarget === undefined ? leader : undefined
  }
  await sim.run(deadline, () => ready() !== undefined)
  const from = ready()
  if (from === undefined) {
    return undefined
  }
  const core = from.core
  const term = core.term
  const target = core.transferLeadership(to)
  sim.pump(from)
  const settled = (): boolean => core.leader === target || (core.role === 'leader' ? core.transferTarget !== target : core.leader !== undefined)
  // A crash ends the wait: what that incarnation saw no longer counts.
  const gone = (): boolean => !from.up || from.core !== core
  const done = await sim.run(deadline, () => gone() || settled())
  return { from: from.id, target, term, leader: done && !gone() ? core.leader : undefined }
}
