import { CommitTimeoutError } from '../errors.ts'
import type { Deadline } from './deadline.ts'
import type { Frame, ProposeResponse } from '../pb/raft.ts'

/** A request sent to another node and waiting for its answer. */
interface Pending {
  to: string
  /** Sent to `to` as the leader: the answer is void once it no longer leads */
  leader: boolean
  answer(response: ProposeResponse): void
  abandon(): void
}

/**
 * Requests this node sends to another and whose answer it awaits: commands
 * and membership changes forwarded to the leader, and joins sent to a
 * member. Each carries an id the answer echoes back; only the node asked
 * may answer it.
 */
export class Forwards {
  private readonly send: (to: string, frame: Frame) => void
  private readonly pending = new Map<number, Pending>()
  private nextId = 1

  constructor (send: (to: string, frame: Frame) => void) {
    this.send = send
  }

  /**
   * Sends the frame built for a fresh id and resolves with the answer;
   * rejects with CommitTimeoutError when none comes before the deadline or
   * the leader asked loses office (the request may have been carried out).
   */
  async request (to: string, frame: (id: number) => Frame, deadline: Deadline, leader = true): Promise<ProposeResponse> {
    const id = this.nextId++
    return deadline.wait(() => new CommitTimeoutError(), (resolve, reject) => {
      this.pending.set(id, {
        to,
        leader,
        answer: resolve,
        abandon: () => {
          this.pending.delete(id)
          reject(new CommitTimeoutError())
        }
      })
      this.send(to, frame(id))
      return () => { this.pending.delete(id) }
    })
  }

  /** An answer from `sender`; ignored unless it answers a request sent to `sender`. */
  answered (sender: string, response: ProposeResponse): void {
    const pending = this.pending.get(response.id)
    if (pending?.to === sender) {
      this.pending.delete(response.id)
      pending.answer(response)
    }
  }

  /**
   * Requests sent to a leader that lost office will get no answer: their
   * callers learn now (outcome unknown) instead of at their deadline.
   */
  leaderChanged (leader: string | undefined): void {
    for (const pending of [...this.pending.values()]) {
      if (pending.leader && pending.to !== leader) {
        pending.abandon()
      }
    }
  }
}
