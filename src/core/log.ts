import type { ConfigEntry, Entry, SnapshotMeta } from './types.ts'

/**
 * The replicated log as one node sees it: the entries after the last one
 * compacted away (into a snapshot), plus three cursors.
 *
 * - `committed`: highest index known to be committed.
 * - `applied`: highest index handed to the shell to apply (or restored from a snapshot).
 * - `stable`: highest index known to be durably written.
 *
 * Entries from `unstable` on have not yet been handed to the shell to write.
 */
export class RaftLog {
  private entries: Entry[] = []
  /** The last entry compacted away: the log starts right after it, and only its term is kept */
  private compactedIndex: number
  private compactedTerm: number
  committed: number
  applied: number
  stable: number
  private unstable: number

  /**
   * Starts from a snapshot and the stored entries. The entries start right
   * after the snapshot, or at or before it when compaction kept some behind
   * it; then the first one only marks where the log starts (its term is all
   * that is kept of it). The snapshot's entries count as committed and
   * applied; so does everything up to `applied`, how far the state machine
   * already is (it kept its state across a restart).
   */
  constructor (snapshot: Pick<SnapshotMeta, 'index' | 'term'>, entries: Entry[], committed: number, applied = 0) {
    const start = entries[0] !== undefined && entries[0].index <= snapshot.index ? entries[0] : snapshot
    this.compactedIndex = start.index
    this.compactedTerm = start.term
    const kept = start === snapshot ? entries : entries.slice(1)
    for (const [i, entry] of kept.entries()) {
      if (entry.index !== start.index + 1 + i) {
        throw new Error(`log entries are not contiguous after ${start.index}: found ${entry.index} at position ${i}`)
      }
    }
    this.entries = [...kept]
    if (!this.matchTerm(snapshot.index, snapshot.term)) {
      throw new Error(`the stored log disagrees with the snapshot at ${snapshot.index}`)
    }
    this.stable = this.lastIndex()
    this.unstable = this.stable + 1
    this.committed = Math.min(Math.max(committed, applied, snapshot.index), this.lastIndex())
    this.applied = Math.max(snapshot.index, Math.min(applied, this.committed))
  }

  firstIndex (): number {
    return this.compactedIndex + 1
  }

  lastIndex (): number {
    return this.compactedIndex + this.entries.length
  }

  lastTerm (): number {
    return this.term(this.lastIndex()) ?? 0
  }

  /** The term of the entry at `index`, or `undefined` when it is compacted away or not there yet. */
  term (index: number): number | undefined {
    if (index === this.compactedIndex) {
      return this.compactedTerm
    }
    return this.entry(index)?.term
  }

  entry (index: number): Entry | undefined {
    if (index <= this.compactedIndex) {
      return undefined
    }
    return this.entries[index - this.compactedIndex - 1]
  }

  matchTerm (index: number, term: number): boolean {
    return this.term(index) === term
  }

  /** Whether a log ending at (`lastIndex`, `lastTerm`) is at least as up to date as this one (§5.4.1). */
  isUpToDate (lastIndex: number, lastTerm: number): boolean {
    const myLastTerm = this.lastTerm()
    return lastTerm > myLastTerm || (lastTerm === myLastTerm && lastIndex >= this.lastIndex())
  }

  /** Appends entries that directly follow the last one (the leader's own proposals). */
  append (entries: Entry[]): void {
    for (const [i, entry] of entries.entries()) {
      if (entry.index !== this.lastIndex() + 1 + i) {
        throw new Error(`cannot append entry ${entry.index} after ${this.lastIndex() + i}`)
      }
    }
    this.entries.push(...entries)
  }

  /**
   * AppendEntries on a follower: if the entry at `prevIndex` has `prevTerm`,
   * make the log agree with `entries`, truncating only from the first real
   * conflict (a stale, reordered request must never cut matching entries),
   * and advance the commit index. Returns the index of the last entry the
   * request proves to match, or `undefined` when the consistency check fails.
   */
  maybeAppend (prevIndex: number, prevTerm: number, commit: number, entries: Entry[]): number | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) {
      return undefined
    }
    const lastNew = prevIndex + entries.length
    const conflict = entries.find(entry => !this.matchTerm(entry.index, entry.term))
    if (conflict !== undefined) {
      if (conflict.index <= this.committed) {
        throw new Error(`entry ${conflict.index} conflicts with a committed entry (commit ${this.committed})`)
      }
      this.truncateAndAppend(entries.slice(conflict.index - prevIndex - 1))
    }
    this.commitTo(Math.min(commit, lastNew))
    return lastNew
  }

  private truncateAndAppend (entries: Entry[]): void {
    const from = entries[0].index
    this.entries.length = from - this.compactedIndex - 1
    this.entries.push(...entries)
    this.unstable = Math.min(this.unstable, from)
    this.stable = Math.min(this.stable, from - 1)
  }

  /**
   * The largest index at or below `index` whose term is at most `term`: the
   * last place where a log whose entry at `index` has term `term` could still
   * agree with this one (etcd's fast back-off).
   */
  findConflictByTerm (index: number, term: number): number {
    let i = Math.min(index, this.lastIndex())
    while (i > this.compactedIndex) {
      const t = this.term(i)
      if (t !== undefined && t <= term) {
        break
      }
      i--
    }
    return i
  }

  /** Entries from `from` on, at most `maxEntries` of them and about `maxBytes` of command data (always at least one). */
  slice (from: number, maxEntries: number, maxBytes: number): Entry[] {
    const out: Entry[] = []
    let bytes = 0
    for (let i = from; i <= this.lastIndex() && out.length < maxEntries; i++) {
      const entry = this.entry(i)
      if (entry === undefined) {
        break
      }
      const size = entry.type === 'command' ? entry.data.byteLength : 0
      if (out.length > 0 && bytes + size > maxBytes) {
        break
      }
      bytes += size
      out.push(entry)
    }
    return out
  }

  /** Raises the commit index, never beyond the last entry. Returns whether it moved. */
  commitTo (index: number): boolean {
    const target = Math.min(index, this.lastIndex())
    if (target > this.committed) {
      this.committed = target
      return true
    }
    return false
  }

  hasUnstable (): boolean {
    return this.unstable <= this.lastIndex()
  }

  /** Hands the entries not yet given to the shell for writing. */
  takeUnstable (): Entry[] {
    const out = this.entries.slice(this.unstable - this.compactedIndex - 1)
    this.unstable = this.lastIndex() + 1
    return out
  }

  /** Records that entries up to (`index`, `term`) are durable, unless they were replaced meanwhile. */
  stableTo (index: number, term: number): void {
    if (index > this.stable && this.matchTerm(index, term)) {
      this.stable = index
    }
  }

  hasCommittedToApply (): boolean {
    return this.applied < Math.min(this.committed, this.unstable - 1)
  }

  /**
   * Hands the committed entries not yet applied. Only entries already given to
   * the shell for writing qualify: it writes a batch before applying it.
   */
  takeCommitted (): Entry[] {
    const to = Math.min(this.committed, this.unstable - 1)
    if (to <= this.applied) {
      return []
    }
    const out = this.entries.slice(this.applied - this.compactedIndex, to - this.compactedIndex)
    this.applied = to
    return out
  }

  /**
   * Drops the entries up to `index`, which a durable snapshot covers. Only
   * applied entries qualify, and those were written before they were applied.
   */
  compact (index: number): void {
    const term = this.term(index)
    if (index > this.applied || term === undefined) {
      throw new Error(`cannot compact the log to ${index}: applied ${this.applied}, log starts after ${this.compactedIndex}`)
    }
    this.entries = this.entries.slice(index - this.compactedIndex)
    this.compactedIndex = index
    this.compactedTerm = term
    this.stable = Math.max(this.stable, index)
  }

  /** Replaces the whole log with a snapshot received from the leader: it ends there, committed and applied. */
  restore (snapshot: Pick<SnapshotMeta, 'index' | 'term'>): void {
    this.entries = []
    this.compactedIndex = snapshot.index
    this.compactedTerm = snapshot.term
    this.committed = snapshot.index
    this.applied = snapshot.index
    this.stable = snapshot.index
    this.unstable = snapshot.index + 1
  }

  /** The latest configuration entry in the log at or before `upTo`, if any. */
  lastConfigEntry (upTo = this.lastIndex()): ConfigEntry | undefined {
    for (let i = upTo - this.compactedIndex - 1; i >= 0; i--) {
      const entry = this.entries[i]
      if (entry.type === 'config') {
        return entry
      }
    }
    return undefined
  }
}
