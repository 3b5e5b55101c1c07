import { quorumIndex } from './quorum.ts'
import type { NodeId } from './types.ts'

/**
 * When a leader may trust, without asking, that no other leader exists
 * (thesis §6.4.1). A follower that answers a heartbeat has just reset its
 * election timer, and with check-quorum it refuses votes for an election
 * timeout after that. So once a quorum has answered a heartbeat sent at tick
 * T, no other leader can be elected before T plus an election timeout, as
 * long as clocks advance at about the same rate. Each heartbeat broadcast
 * gets the next sequence number; followers echo it.
 */
export class LeaderLease {
  /** Send times of the heartbeats recent enough to still back a lease, oldest first */
  private readonly sentAt = new Map<number, number>()
  private readonly acked = new Map<NodeId, number>()
  private seq = 0
  private readonly electionTicks: number

  constructor (electionTicks: number) {
    this.electionTicks = electionTicks
  }

  /** The sequence number of the newest heartbeat broadcast (0: none yet). */
  get latest (): number {
    return this.seq
  }

  /** Records a heartbeat broadcast at tick `now`; returns its sequence number. */
  sent (now: number): number {
    // A heartbeat older than an election timeout can never back a lease again.
    for (const [seq, at] of this.sentAt) {
      if (at + this.electionTicks > now) {
        break
      }
      this.sentAt.delete(seq)
    }
    this.seq++
    this.sentAt.set(this.seq, now)
    return this.seq
  }

  /** Records that `from` answered heartbeat `seq`. */
  ack (from: NodeId, seq: number): void {
    if (seq > (this.acked.get(from) ?? 0)) {
      this.acked.set(from, seq)
    }
  }

  /** Whether a quorum answered a heartbeat sent less than `duration` ticks before `now`. */
  valid (now: number, duration: number, self: NodeId, voters: NodeId[]): boolean {
    const confirmed = quorumIndex(voters, id => id === self ? this.seq : (this.acked.get(id) ?? 0))
    const at = this.sentAt.get(confirmed)
    return at !== undefined && now < at + duration
  }

  reset (): void {
    this.sentAt.clear()
    this.acked.clear()
  }
}
