import type { Clock } from './seams.ts'
import type { NodeId } from '../core/index.ts'

/** Joins a peer may send in a burst (a refusal and a retry at once, say); after that, one per interval. */
export const JOIN_BURST = 3
/** Joins from non-members handled at once; more are dropped until one is answered. */
export const MAX_PENDING_JOINS = 16
/** Non-members remembered as having asked lately; past this many at once, joins are dropped. */
const MAX_RECENT_JOINERS = 1024

/** A peer's allowance: joins it may still send, as of `at`. */
interface Allowance {
  tokens: number
  at: number
}

/**
 * Bounds what non-members' join requests cost a member: each peer may ask
 * `JOIN_BURST` times at once, then once per `interval` (a joiner asks once
 * per attempt, and waits an election timeout between attempts), and only a
 * few requests wait for the leader's answer at once. What is not admitted
 * is dropped unanswered.
 */
export class JoinLimiter {
  private readonly clock: Clock
  private readonly interval: number
  /** Peers that asked lately, least recently first */
  private readonly allowances = new Map<NodeId, Allowance>()
  private pending = 0

  constructor (clock: Clock, interval: number) {
    this.clock = clock
    this.interval = interval
  }

  /** Peers whose allowance is not full again yet. */
  get tracked (): number {
    return this.allowances.size
  }

  /**
   * Whether a join from `peer` may be handled now. If so, returns the
   * function to call once it is answered; if not, undefined (drop it).
   */
  admit (peer: NodeId): (() => void) | undefined {
    const now = this.clock.now()
    this.forgetRefilled(now)
    const allowance = this.allowances.get(peer)
    const tokens = allowance === undefined ? JOIN_BURST : Math.min(JOIN_BURST, allowance.tokens + (now - allowance.at) / this.interval)
    const full = allowance === undefined && this.allowances.size >= MAX_RECENT_JOINERS
    if (tokens < 1 || this.pending >= MAX_PENDING_JOINS || full) {
      return undefined
    }
    this.allowances.delete(peer)
    this.allowances.set(peer, { tokens: tokens - 1, at: now })
    this.pending++
    let settled = false
    return () => {
      if (!settled) {
        settled = true
        this.pending--
      }
    }
  }

  /** Drops peers whose allowance has filled up again: they are as good as never heard. */
  private forgetRefilled (now: number): void {
    for (const [peer, allowance] of this.allowances) {
      if (now - allowance.at < JOIN_BURST * this.interval) {
        return
      }
      this.allowances.delete(peer)
    }
  }
}
