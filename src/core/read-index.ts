import { quorumSize } from './quorum.ts'
import type { NodeId } from './types.ts'

/** A linearizable read waiting for the leader to confirm it still leads. */
export interface ReadRequest {
  id: number
  /** The node that asked (the leader itself, or a follower that forwarded it) */
  from: NodeId
}

/** A confirmed read: once `index` is applied, local state may be read. */
export interface ConfirmedRead extends ReadRequest {
  index: number
}

interface Round {
  context: number
  index: number
  acks: Set<NodeId>
  requests: ReadRequest[]
}

/**
 * A leader's ReadIndex bookkeeping (thesis §6.4). Reads that arrive are
 * batched into rounds; a round records the commit index when it starts and
 * rides on the heartbeat broadcast that carries its context number (each
 * broadcast has the next number). Once a quorum of voters has answered that
 * heartbeat or a later one, the leader knew it still led when the round
 * started, so every read in it (and in any earlier round) may be served at
 * the recorded index.
 */
export class ReadIndexTracker {
  private waiting: ReadRequest[] = []
  private rounds: Round[] = []

  add (request: ReadRequest): void {
    this.waiting.push(request)
  }

  hasWaiting (): boolean {
    return this.waiting.length > 0
  }

  /** Hands every waiting request over at once, without a round (lease reads). */
  takeWaiting (): ReadRequest[] {
    const out = this.waiting
    this.waiting = []
    return out
  }

  /** Starts a round for the waiting requests at commit index `index`, riding on heartbeat `context`. */
  startRound (index: number, self: NodeId, context: number): void {
    this.rounds.push({ context, index, acks: new Set([self]), requests: this.takeWaiting() })
  }

  /**
   * Records that `from` answered a heartbeat carrying `context`, which
   * vouches for every round up to it. Returns the reads now confirmed.
   */
  ack (from: NodeId, context: number, voters: NodeId[]): ConfirmedRead[] {
    if (!voters.includes(from)) {
      return []
    }
    for (const round of this.rounds) {
      if (round.context <= context) {
        round.acks.add(from)
      }
    }
    const needed = quorumSize(voters.length)
    let last = -1
    this.rounds.forEach((round, i) => {
      if ([...round.acks].filter(id => voters.includes(id)).length >= needed) {
        last = i
      }
    })
    const done = this.rounds.splice(0, last + 1)
    return done.flatMap(round => round.requests.map(request => ({ ...request, index: round.index })))
  }

  /** Drops everything: the node no longer leads, so nothing pending may be confirmed. */
  reset (): void {
    this.waiting = []
    this.rounds = []
  }
}
