import type { ConfigEntry, Entry, SnapshotMeta } from './types.ts'

/**
 * The replicated log as one node sees it: the entries after its latest
 * snapshot, plus three cursors.
 *
 * - `committed`: highest index known to be committed.
 * - `applied`: highest index handed to the shell to apply.
 * - `stable`: highest index known to be durably written.
 *
 * Entries from `unstable` on have not yet been handed to the shell to write.
 */
export class RaftLog {
  private entries: Entry[] = []
  private snapshotIndex: number
  private snapshotTerm: number
  committed: number
  applied: number
  stable: number
  private unstable: number

  /**
   * `applied` is how far the state machine already is (entries up to it are
   * committed, whatever the stored commit index says, and are not handed out
   * again).
   */
  constructor (snapshot: Pick<SnapshotMeta, 'index' | 'term'>, entries: Entry[], committed: number, applied = 0) {
    this.snapshotIndex = snapshot.index
    this.snapshotTerm = snapshot.term
    for (const [i, entry] of entries.entries()) {
      if (entry.index !== snapshot.index + 1 + i) {
        throw new Error(`log entries are not contiguous after the snapshot at ${snapshot.index}: found ${entry.index} at position ${i}`)
      }
    }
    this.entries = [...entries]
    this.stable = this.lastIndex()
    this.unstable = this.stable + 1
    this.committed = Math.min(Math.max(committed, applied, snapshot.index), this.lastIndex())
    this.applied = Math.max(snapshot.index, Math.min(applied, this.committed))
  }

  firstIndex (): number {
    return this.snapshotIndex + 1
  }

  lastIndex (): number {
    return this.snapshotIndex + this.entries.length
  }

  lastTerm (): number {
    return this.term(this.lastIndex()) ?? 0
  }

  /** The term of the entry at `index`, or `undefined` when it is compacted away or not there yet. */
  term (index: number): number | undefined {
    if (index === this.snapshotIndex) {
      return this.snapshotTerm
    }
    return this.entry(index)?.term
  }

  entry (index: number): Entry | undefined {
    if (index <= this.snapshotIndex) {
      return undefined
    }
    return this.entries[index - this.snapshotIndex - 1]
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
    this.entries.length = from - this.snapshotIndex - 1
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
    while (i > this.snapshotIndex) {
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
    const out = this.entries.slice(this.unstable - this.snapshotIndex - 1)
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
    const out = this.entries.slice(this.applied - this.snapshotIndex, to - this.snapshotIndex)
    this.applied = to
    return out
  }

  /** The latest configuration entry in the log (after the snapshot), if any. */
  lastConfigEntry (): ConfigEntry | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const entry = this.entries[i]
      if (entry.type === 'config') {
        return entry
      }
    }
    return undefined
  }
}
