import { NoLeaderError } from '../errors.ts'
import type { Driver } from './driver.ts'
import type { Clock } from './seams.ts'
import type { Warnings } from './warnings.ts'
import type { NodeId } from '../core/index.ts'
import type { RaftOptions } from '../options.ts'

export interface LeaderSightingsInit {
  /** Tells the term, role and configuration */
  driver: Driver
  clock: Clock
  /** Tell which members do not speak the group's protocol */
  warnings: Warnings
  options: Pick<RaftOptions, 'electionTimeout'>
  self: NodeId
}

/**
 * What this node saw of leaders and voters, so that a `NoLeaderError` says
 * why there was no leader: this node's term and role, how many of the other
 * voters it heard from within the last election timeout, which do not
 * speak the group's protocol, and the last leader it knew and when. It
 * costs a map entry per member, written as their messages arrive.
 */
export class LeaderSightings {
  private readonly driver: Driver
  private readonly clock: Clock
  private readonly warnings: Warnings
  private readonly options: LeaderSightingsInit['options']
  private readonly self: NodeId
  /** When each member's last Raft message arrived */
  private readonly heard = new Map<NodeId, number>()
  private lastLeader: { id: NodeId, term: number, at: number } | undefined

  constructor (init: LeaderSightingsInit) {
    this.driver = init.driver
    this.clock = init.clock
    this.warnings = init.warnings
    this.options = init.options
    this.self = init.self
  }

  heardFrom (id: NodeId): void {
    this.heard.set(id, this.clock.now())
  }

  leaderChanged (leader: NodeId | undefined, term: number): void {
    if (leader !== undefined) {
      this.lastLeader = { id: leader, term, at: this.clock.now() }
    }
  }

  /** Forgets members that left. */
  configChanged (): void {
    for (const id of this.heard.keys()) {
      if (!this.driver.inConfig(id)) {
        this.heard.delete(id)
      }
    }
  }

  /** A `NoLeaderError` that says `what` failed, then what this node saw. */
  noLeader (what: string): NoLeaderError {
    return new NoLeaderError(`${what}. ${this.describe()}`)
  }

  private describe (): string {
    const driver = this.driver
    const now = this.clock.now()
    const parts = [`This node is a ${driver.role === 'pre-candidate' ? 'follower running a pre-vote' : driver.role} in term ${driver.term}`]
    if (!driver.inConfig(this.self)) {
      parts.push('it belongs to no configuration')
    }
    const others = driver.config.voters.filter(id => id !== this.self)
    const recent = others.filter(id => now - (this.heard.get(id) ?? -Infinity) <= this.options.electionTimeout)
    parts.push(`it heard from ${recent.length} of the ${others.length} other voters within the last election timeout`)
    const silent = others.filter(id => this.warnings.has('protocol-unsupported', id))
    if (silent.length > 0) {
      parts.push(`voters that do not speak this group's protocol: ${silent.join(', ')}`)
    }
    const last = this.lastLeader
    parts.push(last === undefined ? 'it has seen no leader since it started' : `the last leader it knew was ${last.id}, in term ${last.term}, ${now - last.at} ms ago`)
    return parts.join('; ')
  }
}
