import type { RaftWarning, RaftWarningCode } from '../index.ts'
import type { Logger } from '@libp2p/interface'

/**
 * The conditions worth an operator's attention that hold now, as
 * `status().warnings` lists them. Each is logged once when raised (under
 * `libp2p:raft:error`, the level usually enabled), not again while it holds.
 */
export class Warnings {
  private readonly log: Logger
  /** By code and peer: a condition holds once per peer */
  private readonly current = new Map<string, RaftWarning>()

  constructor (log: Logger) {
    this.log = log
  }

  raise (warning: RaftWarning): void {
    const key = keyOf(warning.code, warning.peer?.toString())
    if (!this.current.has(key)) {
      this.log.error('warning (%s): %s', warning.code, warning.message)
    }
    this.current.set(key, warning)
  }

  /** The condition no longer holds (for `peer`, or for every peer when none is given). */
  clear (code: RaftWarningCode, peer?: string): void {
    for (const [key, warning] of this.current) {
      if (warning.code === code && (peer === undefined || warning.peer?.toString() === peer)) {
        this.current.delete(key)
      }
    }
  }

  /** A new start: every condition is judged again. */
  reset (): void {
    this.current.clear()
  }

  has (code: RaftWarningCode, peer?: string): boolean {
    return this.current.has(keyOf(code, peer))
  }

  list (): RaftWarning[] {
    return [...this.current.values()]
  }
}

function keyOf (code: RaftWarningCode, peer: string | undefined): string {
  return peer === undefined ? code : `${code} ${peer}`
}
