import type { Clock } from './seams.ts'
import type { NodeId } from '../core/index.ts'

/** Joins from non-members handled at once; more are dropped until one is answered. */
export const MAX_PENDING_JOINS = 16
/** Non-members remembered as having asked lately; past this many at once, joins are dropped. */
const MAX_RECENT_JOINERS = 1024

/**
 * Bounds what non-members' join requests cost a member: each peer is heard
 * at most once per `interval` (a joiner asks once per election timeout), and
 * only a few requests wait for the leader's answer at once.
 */
export class JoinLimiter {
  private readonly clock: Clock
  private readonly interval: number
  /** When each peer was last heard, oldest first */
  private readonly lastHeard = new Map<NodeId, number>()
  private pending = 0

  constructor (clock: Clock, interval: number) {
    this.clock = clock
    this.interval = interval
  }

  /**
   * Whether a join from `peer` may be handled now. If so, returns the
   * function to call once it is answered; if not, undefined (drop it).
   */
  admit (peer: NodeId): (() => void) | undefined {
    const now = this.clock.now()
    this.forgetBefore(now - this.interval)
    const last = this.lastHeard.get(peer)
    if ((last !== undefined && now - last < this.interval) || this.pending >= MAX_PENDING_JOINS || this.lastHeard.size >= MAX_RECENT_JOINERS) {
      return undefined
    }
    this.lastHeard.delete(peer)
    this.lastHeard.set(peer, now)
    this.pending++
    let settled = false
    return () => {
      if (!settled) {
        settled = true
        this.pending--
      }
    }
  }

  private forgetBefore (time: number): void {
    for (const [peer, heard] of this.lastHeard) {
      if (heard >= time) {
        return
      }
      this.lastHeard.delete(peer)
    }
  }
}
