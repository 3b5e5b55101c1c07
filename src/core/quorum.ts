import type { NodeId } from './types.ts'

/** The number of voters that make a majority. */
export function quorumSize (voters: number): number {
  return Math.floor(voters / 2) + 1
}

/** The highest index that a majority of `voters` hold, given each one's match index. */
export function quorumIndex (voters: NodeId[], matchOf: (id: NodeId) => number): number {
  if (voters.length === 0) {
    return 0
  }
  const matches = voters.map(matchOf).sort((a, b) => b - a)
  return matches[quorumSize(voters.length) - 1]
}

export type VoteOutcome = 'won' | 'lost' | 'pending'

/** Tallies the votes received so far; `votes` maps a voter to whether it granted. */
export function voteOutcome (voters: NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteOutcome {
  let granted = 0
  let rejected = 0
  for (const id of voters) {
    const vote = votes.get(id)
    if (vote === true) {
      granted++
    } else if (vote === false) {
      rejected++
    }
  }
  const needed = quorumSize(voters.length)
  if (granted >= needed) {
    return 'won'
  }
  if (voters.length - rejected < needed) {
    return 'lost'
  }
  return 'pending'
}
