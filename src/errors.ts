/**
 * The errors this module throws. Match on `err.name`.
 */

/** A call needs the leader, and this node is not it. `leader` names the one it knows of, if any. */
export class NotLeaderError extends Error {
  static name = 'NotLeaderError'
  readonly leader: string | undefined

  constructor (leader?: string, message = leader === undefined ? 'Not the leader, and no leader is known' : `Not the leader; the leader is ${leader}`) {
    super(message)
    this.name = 'NotLeaderError'
    this.leader = leader
  }
}

/** An option or argument has a value that cannot work. */
export class InvalidParametersError extends Error {
  static name = 'InvalidParametersError'

  constructor (message = 'Invalid parameters') {
    super(message)
    this.name = 'InvalidParametersError'
  }
}
