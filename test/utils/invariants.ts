/**
 * Raft's safety properties, checked as a cluster runs: every batch a node
 * produces, every write it completes and every entry it applies is reported
 * here, across all nodes and all time, and the first violation throws an
 * `InvariantError` that says what broke.
 */
import type { Entry, HardState, NodeId, RaftCore, Ready, SnapshotMeta } from '../../src/core/index.ts'

/** A violated safety property, with enough context to debug it. */
export class InvariantError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'InvariantError'
  }
}

/** A short, comparable text form of an entry, e.g. `7@3:command(x=1)`. */
export function describe (entry: Entry): string {
  const head = `${entry.index}@${entry.term}:${entry.type}`
  if (entry.type === 'command') {
    return `${head}(${new TextDecoder().decode(entry.data)})`
  }
  return entry.type === 'config' ? `${head}(${JSON.stringify(entry.config)})` : head
}

export class SafetyChecker {
  private readonly leaders = new Map<number, NodeId>()
  private readonly seen = new Map<string, { entry: string, prevTerm: number | undefined }>()
  /** Every entry applied anywhere, by index: the one committed history */
  readonly committed: Entry[] = []
  private readonly durableTerm = new Map<NodeId, number>()
  private readonly durableCommit = new Map<NodeId, number>()
  /** Per incarnation: what the node last reported in memory */
  private readonly live = new Map<NodeId, { term: number, commit: number, applied: number }>()

  /** How many terms have had a leader so far. */
  leaderTerms (): number {
    return this.leaders.size
  }

  /** A node restarted: its in-memory progress starts again from its disk. */
  restarted (id: NodeId): void {
    this.live.delete(id)
  }

  /** Checks a batch the moment a node produces it. */
  onReady (id: NodeId, core: RaftCore, ready: Ready): void {
    const live = this.live.get(id) ?? { term: 0, commit: 0, applied: 0 }
    if (core.term < live.term || core.commitIndex < live.commit) {
      throw new InvariantError(`${id}'s term or commit index went back (term ${live.term} → ${core.term}, commit ${live.commit} → ${core.commitIndex})`)
    }
    this.live.set(id, { ...live, term: core.term, commit: core.commitIndex })
    // Election safety: at most one leader per term.
    if (core.role === 'leader') {
      const known = this.leaders.get(core.term)
      if (known === undefined) {
        this.leaders.set(core.term, id)
        // Leader completeness: a new leader holds every committed entry (or
        // a snapshot of it: only the term of the last compacted entry is kept).
        const compacted = core.log.firstIndex() - 1
        for (const entry of this.committed) {
          if (entry.index >= compacted && core.log.term(entry.index) !== entry.term) {
            throw new InvariantError(`leader completeness: ${id}, leader of term ${core.term}, lacks committed entry ${describe(entry)}`)
          }
        }
      } else if (known !== id) {
        throw new InvariantError(`election safety: ${known} and ${id} both lead term ${core.term}`)
      }
    }
    // Log matching: an (index, term) pair names one entry and one history.
    for (const entry of ready.entries) {
      const key = `${entry.index}:${entry.term}`
      const record = { entry: describe(entry), prevTerm: core.log.term(entry.index - 1) }
      const known = this.seen.get(key)
      if (known === undefined) {
        this.seen.set(key, record)
      } else if (known.entry !== record.entry || known.prevTerm !== record.prevTerm) {
        throw new InvariantError(`log matching: ${id} holds ${record.entry} after term ${record.prevTerm}; elsewhere ${known.entry} after term ${known.prevTerm}`)
      }
    }
  }

  /** Durable term and commit index never go back, across crashes too. */
  onWrite (id: NodeId, hardState: HardState | undefined): void {
    if (hardState === undefined) {
      return
    }
    const { term, commit } = hardState
    if (term < (this.durableTerm.get(id) ?? 0)) {
      throw new InvariantError(`${id}'s durable term went back to ${term}`)
    }
    if (commit < (this.durableCommit.get(id) ?? 0)) {
      throw new InvariantError(`${id}'s durable commit index went back to ${commit}`)
    }
    this.durableTerm.set(id, term)
    this.durableCommit.set(id, commit)
  }

  /**
   * A node's state machine was replaced by a snapshot's (installed from the
   * leader, or loaded at restart): it must be of the committed history, and
   * the node goes on applying right after it.
   */
  onRestore (id: NodeId, snapshot: SnapshotMeta): void {
    const live = this.live.get(id) ?? { term: 0, commit: 0, applied: 0 }
    if (snapshot.index < live.applied) {
      throw new InvariantError(`${id} restored a snapshot at ${snapshot.index} after applying up to ${live.applied}`)
    }
    const known = this.committed[snapshot.index - 1]
    if (known !== undefined && known.term !== snapshot.term) {
      throw new InvariantError(`state machine safety: ${id} restored a snapshot ending at ${snapshot.index}@${snapshot.term}, the committed entry there is ${describe(known)}`)
    }
    this.live.set(id, { ...live, applied: snapshot.index })
  }

  /** State machine safety: entries are applied in order, and the same entry at each index everywhere. */
  onApply (id: NodeId, entries: Entry[]): void {
    const live = this.live.get(id) ?? { term: 0, commit: 0, applied: 0 }
    for (const entry of entries) {
      if (entry.index !== live.applied + 1) {
        throw new InvariantError(`${id} applied index ${entry.index}, expected ${live.applied + 1}`)
      }
      live.applied = entry.index
      const first = this.committed[entry.index - 1]
      if (first === undefined) {
        this.committed.push(entry)
      } else if (describe(first) !== describe(entry)) {
        throw new InvariantError(`state machine safety: ${id} applied ${describe(entry)} at ${entry.index}, another node applied ${describe(first)}`)
      }
    }
    this.live.set(id, live)
  }
}
