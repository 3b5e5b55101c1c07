import { Inflights } from './inflights.ts'

/**
 * How a follower's replication is going, as its leader sees it.
 *
 * In `probe` the leader does not know where the logs diverge: it sends one
 * request at a time and waits for the answer (or a heartbeat response)
 * before sending the next. In `replicate` the follower is in step: the
 * leader streams entries as soon as they exist, optimistically advancing
 * `next`, up to a window of in-flight requests. In `snapshot` the entries
 * the follower needs are compacted away: the leader's shell is sending it a
 * snapshot, and nothing else is sent until that ends.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot'

export class Progress {
  /** Highest index known to be in the follower's log */
  match = 0
  /** Index of the next entry to send */
  next: number
  state: ProgressState = 'probe'
  /** In `probe`: a request is outstanding */
  probeSent = false
  /** In `snapshot`: the index of the snapshot being sent */
  pendingSnapshot = 0
  /** Heard from since the last check-quorum round */
  recentActive = false
  readonly inflights: Inflights

  constructor (next: number, maxInflight: number) {
    this.next = next
    this.inflights = new Inflights(maxInflight)
  }

  becomeProbe (): void {
    this.state = 'probe'
    this.next = this.match + 1
    this.probeSent = false
    this.inflights.reset()
  }

  becomeReplicate (): void {
    this.state = 'replicate'
    this.next = this.match + 1
    this.inflights.reset()
  }

  becomeSnapshot (index: number): void {
    this.state = 'snapshot'
    this.pendingSnapshot = index
    this.inflights.reset()
  }

  /**
   * The snapshot transfer ended. Probe from after it if it arrived (else
   * from the match index, which sends a new one), but only once the
   * follower has answered a heartbeat: it may still be busy, or down.
   */
  snapshotEnded (delivered: boolean): void {
    const after = delivered ? this.pendingSnapshot + 1 : 0
    this.becomeProbe()
    this.next = Math.max(this.next, after)
    this.probeSent = true
  }

  /** Whether the leader must hold back new requests to this follower. */
  isPaused (): boolean {
    switch (this.state) {
      case 'probe': return this.probeSent
      case 'replicate': return this.inflights.full()
      default: return true
    }
  }

  /** Records a request carrying `count` entries up to `lastIndex`. */
  sent (count: number, lastIndex: number): void {
    if (this.state === 'replicate') {
      if (count > 0) {
        this.next = lastIndex + 1
        this.inflights.add(lastIndex)
      }
    } else {
      this.probeSent = true
    }
  }

  /** Records an acknowledgement up to `index`. Returns false when it tells nothing new. */
  maybeUpdate (index: number): boolean {
    if (index <= this.match) {
      return false
    }
    this.match = index
    this.next = Math.max(this.next, index + 1)
    this.probeSent = false
    return true
  }

  /**
   * Handles a rejection of the request whose `prevIndex` was `rejected`, where
   * the logs can agree at most up to `hint`. Returns false for a stale
   * rejection (of a request the leader has already moved past).
   */
  maybeDecrTo (rejected: number, hint: number): boolean {
    if (this.state === 'snapshot') {
      // Answers to requests sent before the snapshot: it supersedes them.
      return false
    }
    if (this.state === 'replicate') {
      if (rejected <= this.match) {
        return false
      }
      this.next = this.match + 1
      return true
    }
    if (this.next - 1 !== rejected) {
      return false
    }
    this.next = Math.max(Math.min(rejected, hint + 1), this.match + 1)
    this.probeSent = false
    return true
  }
}
