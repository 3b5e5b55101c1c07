import { expect } from 'aegir/chai'
import { RaftLog } from '../../src/core/log.ts'
import type { CommandEntry, ConfigEntry, Entry, NoopEntry } from '../../src/core/types.ts'

function cmd (index: number, term: number, bytes = 1): CommandEntry {
  return { type: 'command', index, term, data: new Uint8Array(bytes) }
}

function noop (index: number, term: number): NoopEntry {
  return { type: 'noop', index, term }
}

function cfg (index: number, term: number, voters: string[]): ConfigEntry {
  return { type: 'config', index, term, config: { voters, learners: [] } }
}

/** Entries `from`..`to` (inclusive), all of `term`. */
function run (from: number, to: number, term: number): Entry[] {
  const out: Entry[] = []
  for (let i = from; i <= to; i++) {
    out.push(cmd(i, term))
  }
  return out
}

function ids (entries: Entry[]): Array<[number, number]> {
  return entries.map(e => [e.index, e.term])
}

/** An empty log with no snapshot. */
function emptyLog (): RaftLog {
  return new RaftLog({ index: 0, term: 0 }, [], 0)
}

/** A log whose entries (index, term) are given as terms from index 1, all handed out and durable. */
function logOfTerms (terms: number[], committed = 0): RaftLog {
  return new RaftLog({ index: 0, term: 0 }, terms.map((t, i) => cmd(i + 1, t)), committed)
}

/** Every entry from 1 to `lastIndex` as [index, term]. */
function contents (log: RaftLog): Array<[number, number | undefined]> {
  const out: Array<[number, number | undefined]> = []
  for (let i = log.firstIndex(); i <= log.lastIndex(); i++) {
    out.push([i, log.term(i)])
  }
  return out
}

describe('core: RaftLog', () => {
  describe('construction', () => {
    it('starts empty with no snapshot', () => {
      const log = emptyLog()
      expect(log.firstIndex()).to.equal(1)
      expect(log.lastIndex()).to.equal(0)
      expect(log.lastTerm()).to.equal(0)
      expect(log.term(0)).to.equal(0)
      expect(log.term(1)).to.be.undefined()
      expect(log.committed).to.equal(0)
      expect(log.applied).to.equal(0)
      expect(log.hasUnstable()).to.be.false()
    })

    it('starts after a snapshot with no entries', () => {
      const log = new RaftLog({ index: 10, term: 3 }, [], 10)
      expect(log.firstIndex()).to.equal(11)
      expect(log.lastIndex()).to.equal(10)
      expect(log.lastTerm()).to.equal(3)
      expect(log.term(10)).to.equal(3)
      expect(log.term(9)).to.be.undefined()
      expect(log.term(11)).to.be.undefined()
      expect(log.entry(10)).to.be.undefined()
      expect(log.committed).to.equal(10)
      expect(log.applied).to.equal(10)
      expect(log.stable).to.equal(10)
    })

    it('holds the entries after a snapshot and nothing compacted or missing', () => {
      const entries = [cmd(11, 3), cmd(12, 4), cmd(13, 4)]
      const log = new RaftLog({ index: 10, term: 3 }, entries, 12)
      expect(log.firstIndex()).to.equal(11)
      expect(log.lastIndex()).to.equal(13)
      expect(log.lastTerm()).to.equal(4)
      expect(log.term(10)).to.equal(3)
      expect(log.term(11)).to.equal(3)
      expect(log.term(12)).to.equal(4)
      expect(log.term(13)).to.equal(4)
      // compacted
      expect(log.term(9)).to.be.undefined()
      expect(log.term(1)).to.be.undefined()
      expect(log.entry(5)).to.be.undefined()
      // not there yet
      expect(log.term(14)).to.be.undefined()
      expect(log.entry(14)).to.be.undefined()
      expect(log.entry(12)).to.equal(entries[1])
      expect(log.matchTerm(10, 3)).to.be.true()
      expect(log.matchTerm(12, 4)).to.be.true()
      expect(log.matchTerm(12, 3)).to.be.false()
      expect(log.matchTerm(9, 3)).to.be.false()
    })

    it('treats stored entries as durable and already handed out for writing', () => {
      const log = new RaftLog({ index: 10, term: 3 }, run(11, 13, 3), 12)
      expect(log.stable).to.equal(13)
      expect(log.hasUnstable()).to.be.false()
      expect(log.takeUnstable()).to.deep.equal([])
    })

    it('re-applies committed entries after the snapshot on restart', () => {
      const log = new RaftLog({ index: 10, term: 3 }, run(11, 13, 3), 12)
      expect(log.applied).to.equal(10)
      expect(log.hasCommittedToApply()).to.be.true()
      expect(ids(log.takeCommitted())).to.deep.equal([[11, 3], [12, 3]])
    })

    it('clamps the commit index between the snapshot and the last entry', () => {
      expect(new RaftLog({ index: 10, term: 3 }, run(11, 13, 3), 50).committed).to.equal(13)
      expect(new RaftLog({ index: 10, term: 3 }, run(11, 13, 3), 2).committed).to.equal(10)
    })

    it('does not alias the caller\'s entry array', () => {
      const entries = run(1, 2, 1)
      const log = new RaftLog({ index: 0, term: 0 }, entries, 0)
      entries.push(cmd(3, 1))
      expect(log.lastIndex()).to.equal(2)
    })

    it('rejects entries that do not start right after the snapshot', () => {
      expect(() => new RaftLog({ index: 10, term: 3 }, [cmd(12, 3)], 0)).to.throw(/contiguous/)
      expect(() => new RaftLog({ index: 10, term: 3 }, [cmd(10, 2)], 0)).to.throw(/disagrees/)
      expect(() => new RaftLog({ index: 10, term: 3 }, [cmd(8, 3), cmd(9, 3)], 0)).to.throw(/disagrees/)
    })

    it('starts at the first entry when compaction kept entries behind the snapshot', () => {
      const log = new RaftLog({ index: 10, term: 3 }, [cmd(8, 2), cmd(9, 3), cmd(10, 3), cmd(11, 4)], 0)
      expect(log.firstIndex()).to.equal(9)
      expect(log.term(8)).to.equal(2)
      expect(log.entry(8)).to.be.undefined()
      expect(log.committed).to.equal(10)
      expect(log.applied).to.equal(10)
      expect(log.lastIndex()).to.equal(11)
    })

    it('rejects entries with a gap', () => {
      expect(() => new RaftLog({ index: 0, term: 0 }, [cmd(1, 1), cmd(2, 1), cmd(4, 1)], 0)).to.throw(/contiguous/)
    })

    it('rejects entries out of order', () => {
      expect(() => new RaftLog({ index: 0, term: 0 }, [cmd(2, 1), cmd(1, 1)], 0)).to.throw(/contiguous/)
    })
  })

  describe('isUpToDate', () => {
    // last entry (3, term 2)
    const log = logOfTerms([1, 2, 2])

    it('accepts a higher last term even with a shorter log', () => {
      expect(log.isUpToDate(1, 3)).to.be.true()
    })

    it('rejects a lower last term even with a longer log', () => {
      expect(log.isUpToDate(100, 1)).to.be.false()
    })

    it('with an equal last term, accepts an equal or longer log', () => {
      expect(log.isUpToDate(3, 2)).to.be.true()
      expect(log.isUpToDate(4, 2)).to.be.true()
    })

    it('with an equal last term, rejects a shorter log', () => {
      expect(log.isUpToDate(2, 2)).to.be.false()
    })

    it('uses the snapshot term when no entries follow the snapshot', () => {
      const snap = new RaftLog({ index: 10, term: 3 }, [], 10)
      expect(snap.isUpToDate(10, 3)).to.be.true()
      expect(snap.isUpToDate(9, 3)).to.be.false()
      expect(snap.isUpToDate(20, 2)).to.be.false()
      expect(snap.isUpToDate(1, 4)).to.be.true()
    })

    it('an empty log is out-voted by anything and matches an empty one', () => {
      const empty = emptyLog()
      expect(empty.isUpToDate(0, 0)).to.be.true()
      expect(empty.isUpToDate(1, 1)).to.be.true()
    })
  })

  describe('append', () => {
    it('appends entries that follow the last one', () => {
      const log = emptyLog()
      log.append([cmd(1, 1), cmd(2, 1)])
      log.append([noop(3, 2)])
      expect(log.lastIndex()).to.equal(3)
      expect(log.lastTerm()).to.equal(2)
      expect(log.entry(3)?.type).to.equal('noop')
    })

    it('appends right after a snapshot', () => {
      const log = new RaftLog({ index: 10, term: 3 }, [], 10)
      log.append([cmd(11, 4)])
      expect(log.lastIndex()).to.equal(11)
      expect(log.term(11)).to.equal(4)
    })

    it('rejects a gap', () => {
      const log = logOfTerms([1, 1])
      expect(() => { log.append([cmd(4, 1)]) }).to.throw(/cannot append entry 4 after 2/)
      expect(log.lastIndex()).to.equal(2)
    })

    it('rejects an entry that overwrites an existing index', () => {
      const log = logOfTerms([1, 1])
      expect(() => { log.append([cmd(2, 2)]) }).to.throw(/cannot append/)
      expect(log.term(2)).to.equal(1)
    })

    it('rejects a gap inside the batch', () => {
      const log = logOfTerms([1])
      expect(() => { log.append([cmd(2, 1), cmd(4, 1)]) }).to.throw(/cannot append entry 4/)
      expect(log.term(4)).to.be.undefined()
      expect(log.lastIndex()).to.equal(1)
    })

    it('makes appended entries unstable', () => {
      const log = logOfTerms([1])
      expect(log.hasUnstable()).to.be.false()
      log.append([cmd(2, 1)])
      expect(log.hasUnstable()).to.be.true()
      expect(ids(log.takeUnstable())).to.deep.equal([[2, 1]])
    })
  })

  describe('maybeAppend', () => {
    it('returns undefined when the entry at prevIndex has another term', () => {
      const log = logOfTerms([1, 1, 2])
      expect(log.maybeAppend(3, 1, 3, [cmd(4, 3)])).to.be.undefined()
      expect(contents(log)).to.deep.equal([[1, 1], [2, 1], [3, 2]])
      expect(log.committed).to.equal(0)
    })

    it('returns undefined when prevIndex is beyond the last entry', () => {
      const log = logOfTerms([1, 1])
      expect(log.maybeAppend(5, 1, 5, [cmd(6, 1)])).to.be.undefined()
      expect(log.lastIndex()).to.equal(2)
      expect(log.committed).to.equal(0)
    })

    it('appends new entries after a match', () => {
      const log = logOfTerms([1, 1])
      expect(log.maybeAppend(2, 1, 0, [cmd(3, 2), cmd(4, 2)])).to.equal(4)
      expect(contents(log)).to.deep.equal([[1, 1], [2, 1], [3, 2], [4, 2]])
    })

    it('matches at the snapshot index', () => {
      const log = new RaftLog({ index: 10, term: 3 }, [], 10)
      expect(log.maybeAppend(10, 3, 11, [cmd(11, 3)])).to.equal(11)
      expect(log.committed).to.equal(11)
      expect(log.maybeAppend(10, 2, 11, [cmd(11, 3)])).to.be.undefined()
    })

    it('an empty request returns prevIndex and keeps the log', () => {
      const log = logOfTerms([1, 1, 1])
      expect(log.maybeAppend(2, 1, 0, [])).to.equal(2)
      expect(log.lastIndex()).to.equal(3)
    })

    it('keeps the log when every entry already matches', () => {
      const log = logOfTerms([1, 1, 2, 2])
      const before = [log.entry(3), log.entry(4)]
      expect(log.maybeAppend(2, 1, 0, [cmd(3, 2), cmd(4, 2)])).to.equal(4)
      expect(contents(log)).to.deep.equal([[1, 1], [2, 1], [3, 2], [4, 2]])
      // the stored objects were not replaced
      expect([log.entry(3), log.entry(4)]).to.deep.equal(before)
      expect(log.entry(3)).to.equal(before[0])
      expect(log.hasUnstable()).to.be.false()
    })

    it('a stale shorter request never cuts matching entries after it', () => {
      const log = logOfTerms([1, 1, 1, 1, 1])
      // a reordered request that covers only 2..3
      expect(log.maybeAppend(1, 1, 0, [cmd(2, 1), cmd(3, 1)])).to.equal(3)
      expect(log.lastIndex()).to.equal(5)
      expect(contents(log)).to.deep.equal([[1, 1], [2, 1], [3, 1], [4, 1], [5, 1]])
      expect(log.hasUnstable()).to.be.false()
      expect(log.stable).to.equal(5)
    })

    it('a stale empty request never cuts entries after prevIndex', () => {
      const log = logOfTerms([1, 1, 1, 1, 1])
      expect(log.maybeAppend(2, 1, 0, [])).to.equal(2)
      expect(log.lastIndex()).to.equal(5)
    })

    it('appends the part of a request beyond the last entry', () => {
      const log = logOfTerms([1, 1, 1])
      expect(log.maybeAppend(1, 1, 0, [cmd(2, 1), cmd(3, 1), cmd(4, 1), cmd(5, 1)])).to.equal(5)
      expect(contents(log)).to.deep.equal([[1, 1], [2, 1], [3, 1], [4, 1], [5, 1]])
      // only the new ones need writing
      expect(ids(log.takeUnstable())).to.deep.equal([[4, 1], [5, 1]])
    })

    it('truncates from the first conflicting entry only', () => {
      const log = logOfTerms([1, 1, 1, 1, 1])
      // 2 and 3 match, 4 conflicts
      expect(log.maybeAppend(1, 1, 0, [cmd(2, 1), cmd(3, 1), cmd(4, 3)])).to.equal(4)
      expect(contents(log)).to.deep.equal([[1, 1], [2, 1], [3, 1], [4, 3]])
      expect(log.stable).to.equal(3)
      expect(ids(log.takeUnstable())).to.deep.equal([[4, 3]])
    })

    it('replaces a divergent tail that is longer than the new entries', () => {
      const log = logOfTerms([1, 2, 2, 2, 2])
      expect(log.maybeAppend(1, 1, 0, [cmd(2, 3)])).to.equal(2)
      expect(contents(log)).to.deep.equal([[1, 1], [2, 3]])
      expect(log.lastTerm()).to.equal(3)
    })

    it('truncates right after a snapshot', () => {
      const log = new RaftLog({ index: 10, term: 3 }, run(11, 13, 3), 10)
      expect(log.maybeAppend(10, 3, 0, [cmd(11, 4)])).to.equal(11)
      expect(log.lastIndex()).to.equal(11)
      expect(log.term(11)).to.equal(4)
      expect(log.term(10)).to.equal(3)
    })

    it('refuses to truncate a committed entry, and leaves the log as it was', () => {
      const log = logOfTerms([1, 1, 1, 1], 3)
      expect(() => log.maybeAppend(1, 1, 4, [cmd(2, 1), cmd(3, 2), cmd(4, 2)])).to.throw(/conflicts with a committed entry/)
      expect(contents(log)).to.deep.equal([[1, 1], [2, 1], [3, 1], [4, 1]])
      expect(log.committed).to.equal(3)
    })

    it('may truncate the entry right after the commit index', () => {
      const log = logOfTerms([1, 1, 1, 1], 3)
      expect(log.maybeAppend(3, 1, 3, [cmd(4, 2)])).to.equal(4)
      expect(log.term(4)).to.equal(2)
    })

    it('advances the commit index to the leader commit when it is lower than the last new entry', () => {
      const log = logOfTerms([1])
      expect(log.maybeAppend(1, 1, 2, [cmd(2, 1), cmd(3, 1), cmd(4, 1)])).to.equal(4)
      expect(log.committed).to.equal(2)
    })

    it('advances the commit index only up to the last new entry', () => {
      const log = logOfTerms([1, 1, 1, 1, 1])
      // the leader has committed 5, but this request only proves 1..3
      expect(log.maybeAppend(1, 1, 5, [cmd(2, 1), cmd(3, 1)])).to.equal(3)
      expect(log.committed).to.equal(3)
      // an empty request proves only prevIndex
      const other = logOfTerms([1, 1, 1, 1, 1])
      expect(other.maybeAppend(2, 1, 5, [])).to.equal(2)
      expect(other.committed).to.equal(2)
    })

    it('never moves the commit index backwards', () => {
      const log = logOfTerms([1, 1, 1, 1], 3)
      expect(log.maybeAppend(3, 1, 1, [cmd(4, 1)])).to.equal(4)
      expect(log.committed).to.equal(3)
    })

    it('does not advance the commit index when the check fails', () => {
      const log = logOfTerms([1, 1, 1])
      expect(log.maybeAppend(3, 2, 3, [])).to.be.undefined()
      expect(log.committed).to.equal(0)
    })
  })

  describe('findConflictByTerm', () => {
    // index: 1 2 3 4 5 6
    // term:  1 1 2 2 4 4
    const log = logOfTerms([1, 1, 2, 2, 4, 4])

    it('returns the index itself when its term is at most the given term', () => {
      expect(log.findConflictByTerm(6, 4)).to.equal(6)
      expect(log.findConflictByTerm(6, 5)).to.equal(6)
      expect(log.findConflictByTerm(3, 2)).to.equal(3)
    })

    it('skips back over entries of higher terms', () => {
      expect(log.findConflictByTerm(6, 3)).to.equal(4)
      expect(log.findConflictByTerm(6, 2)).to.equal(4)
      expect(log.findConflictByTerm(6, 1)).to.equal(2)
      expect(log.findConflictByTerm(4, 1)).to.equal(2)
    })

    it('returns 0 when every entry has a higher term', () => {
      expect(log.findConflictByTerm(6, 0)).to.equal(0)
    })

    it('starts from the last entry when the index is beyond it', () => {
      expect(log.findConflictByTerm(100, 4)).to.equal(6)
      expect(log.findConflictByTerm(100, 3)).to.equal(4)
    })

    it('stops at the snapshot index', () => {
      const snap = new RaftLog({ index: 10, term: 5 }, [cmd(11, 6), cmd(12, 7)], 10)
      expect(snap.findConflictByTerm(12, 7)).to.equal(12)
      expect(snap.findConflictByTerm(12, 6)).to.equal(11)
      expect(snap.findConflictByTerm(12, 1)).to.equal(10)
    })
  })

  describe('slice', () => {
    it('returns entries from the given index on', () => {
      const log = logOfTerms([1, 1, 2, 2])
      expect(ids(log.slice(2, 100, 1000))).to.deep.equal([[2, 1], [3, 2], [4, 2]])
      expect(ids(log.slice(4, 100, 1000))).to.deep.equal([[4, 2]])
    })

    it('returns nothing from beyond the last entry or from a compacted index', () => {
      const log = new RaftLog({ index: 10, term: 3 }, run(11, 12, 3), 10)
      expect(log.slice(13, 100, 1000)).to.deep.equal([])
      expect(log.slice(10, 100, 1000)).to.deep.equal([])
      expect(log.slice(5, 100, 1000)).to.deep.equal([])
      expect(ids(log.slice(11, 100, 1000))).to.deep.equal([[11, 3], [12, 3]])
    })

    it('returns at most maxEntries entries', () => {
      const log = logOfTerms([1, 1, 1, 1, 1])
      expect(ids(log.slice(1, 2, 1000))).to.deep.equal([[1, 1], [2, 1]])
      expect(ids(log.slice(2, 1, 1000))).to.deep.equal([[2, 1]])
    })

    it('stops before the entry that would exceed maxBytes', () => {
      const log = new RaftLog({ index: 0, term: 0 }, [cmd(1, 1, 40), cmd(2, 1, 40), cmd(3, 1, 40)], 0)
      expect(ids(log.slice(1, 100, 100))).to.deep.equal([[1, 1], [2, 1]])
      expect(ids(log.slice(1, 100, 80))).to.deep.equal([[1, 1], [2, 1]])
      expect(ids(log.slice(1, 100, 79))).to.deep.equal([[1, 1]])
      expect(ids(log.slice(1, 100, 120))).to.have.length(3)
    })

    it('always returns at least one entry, however large', () => {
      const log = new RaftLog({ index: 0, term: 0 }, [cmd(1, 1, 500), cmd(2, 1, 1)], 0)
      expect(ids(log.slice(1, 100, 10))).to.deep.equal([[1, 1]])
      expect(ids(log.slice(1, 100, 0))).to.deep.equal([[1, 1]])
    })

    it('counts only command data towards the byte limit', () => {
      const log = new RaftLog({ index: 0, term: 0 }, [cmd(1, 1, 10), noop(2, 1), cfg(3, 1, ['a']), cmd(4, 1, 10)], 0)
      expect(ids(log.slice(1, 100, 10))).to.deep.equal([[1, 1], [2, 1], [3, 1]])
      expect(ids(log.slice(1, 100, 20))).to.have.length(4)
    })

    it('applies both limits together', () => {
      const log = new RaftLog({ index: 0, term: 0 }, [cmd(1, 1, 1), cmd(2, 1, 1), cmd(3, 1, 1), cmd(4, 1, 100)], 0)
      expect(ids(log.slice(1, 2, 1000))).to.have.length(2)
      expect(ids(log.slice(1, 10, 50))).to.have.length(3)
    })
  })

  describe('commitTo', () => {
    it('raises the commit index and reports that it moved', () => {
      const log = logOfTerms([1, 1, 1])
      expect(log.commitTo(2)).to.be.true()
      expect(log.committed).to.equal(2)
    })

    it('never goes beyond the last entry', () => {
      const log = logOfTerms([1, 1, 1])
      expect(log.commitTo(10)).to.be.true()
      expect(log.committed).to.equal(3)
      expect(log.commitTo(11)).to.be.false()
      expect(log.committed).to.equal(3)
    })

    it('never goes backwards', () => {
      const log = logOfTerms([1, 1, 1], 2)
      expect(log.commitTo(1)).to.be.false()
      expect(log.commitTo(2)).to.be.false()
      expect(log.committed).to.equal(2)
    })
  })

  describe('takeUnstable / stableTo', () => {
    it('hands each new entry out once and tracks durability', () => {
      const log = emptyLog()
      log.append([cmd(1, 1), cmd(2, 1)])
      expect(log.hasUnstable()).to.be.true()
      const batch = log.takeUnstable()
      expect(ids(batch)).to.deep.equal([[1, 1], [2, 1]])
      expect(log.hasUnstable()).to.be.false()
      expect(log.takeUnstable()).to.deep.equal([])
      expect(log.stable).to.equal(0)
      log.append([cmd(3, 1)])
      expect(ids(log.takeUnstable())).to.deep.equal([[3, 1]])
      log.stableTo(2, 1)
      expect(log.stable).to.equal(2)
      log.stableTo(3, 1)
      expect(log.stable).to.equal(3)
    })

    it('ignores a stableTo for an index that is not there', () => {
      const log = emptyLog()
      log.append([cmd(1, 1)])
      log.takeUnstable()
      log.stableTo(2, 1)
      expect(log.stable).to.equal(0)
    })

    it('never moves stable backwards', () => {
      const log = emptyLog()
      log.append([cmd(1, 1), cmd(2, 1)])
      log.takeUnstable()
      log.stableTo(2, 1)
      log.stableTo(1, 1)
      expect(log.stable).to.equal(2)
    })

    it('a truncation while a batch is being written: the old batch\'s stableTo is a no-op and the new entries are handed again', () => {
      const log = logOfTerms([1])
      // the shell starts writing 2..4 of term 1
      expect(log.maybeAppend(1, 1, 0, [cmd(2, 1), cmd(3, 1), cmd(4, 1)])).to.equal(4)
      const first = log.takeUnstable()
      expect(ids(first)).to.deep.equal([[2, 1], [3, 1], [4, 1]])
      expect(log.hasUnstable()).to.be.false()

      // meanwhile a new leader replaces 3.. with entries of term 2
      expect(log.maybeAppend(2, 1, 0, [cmd(3, 2), cmd(4, 2)])).to.equal(4)
      expect(log.hasUnstable()).to.be.true()

      // the old write completes: (4, 1) is no longer in the log
      const last = first[first.length - 1]
      log.stableTo(last.index, last.term)
      expect(log.stable).to.equal(1)

      // the replacement is handed out, from the first replaced index
      const second = log.takeUnstable()
      expect(ids(second)).to.deep.equal([[3, 2], [4, 2]])
      log.stableTo(4, 2)
      expect(log.stable).to.equal(4)
    })

    it('a truncation to a shorter log: the old batch\'s stableTo is a no-op', () => {
      const log = logOfTerms([1])
      log.maybeAppend(1, 1, 0, run(2, 5, 1))
      const first = log.takeUnstable()
      log.maybeAppend(1, 1, 0, [cmd(2, 2)])
      log.stableTo(5, 1)
      expect(log.stable).to.equal(1)
      expect(ids(log.takeUnstable())).to.deep.equal([[2, 2]])
      expect(first).to.have.length(4)
    })

    it('a truncation after a batch was made durable lowers stable to before the conflict', () => {
      const log = logOfTerms([1])
      log.maybeAppend(1, 1, 0, run(2, 4, 1))
      log.takeUnstable()
      log.stableTo(4, 1)
      expect(log.stable).to.equal(4)
      log.maybeAppend(2, 1, 0, [cmd(3, 2)])
      expect(log.stable).to.equal(2)
      expect(ids(log.takeUnstable())).to.deep.equal([[3, 2]])
    })

    it('a truncation of durable entries loaded at start re-hands from the conflict', () => {
      const log = logOfTerms([1, 1, 1])
      expect(log.hasUnstable()).to.be.false()
      log.maybeAppend(1, 1, 0, [cmd(2, 2)])
      expect(log.stable).to.equal(1)
      expect(ids(log.takeUnstable())).to.deep.equal([[2, 2]])
    })

    it('a truncation beyond entries not yet handed out hands them all', () => {
      const log = logOfTerms([1])
      log.maybeAppend(1, 1, 0, run(2, 4, 1))
      // nothing taken yet; 4 is replaced
      log.maybeAppend(3, 1, 0, [cmd(4, 2)])
      expect(ids(log.takeUnstable())).to.deep.equal([[2, 1], [3, 1], [4, 2]])
    })
  })

  describe('takeCommitted', () => {
    it('hands only committed entries that were already handed for writing', () => {
      const log = emptyLog()
      log.append(run(1, 3, 1))
      log.commitTo(3)
      // not handed for writing yet
      expect(log.hasCommittedToApply()).to.be.false()
      expect(log.takeCommitted()).to.deep.equal([])
      expect(log.applied).to.equal(0)

      log.takeUnstable()
      expect(log.hasCommittedToApply()).to.be.true()
      expect(ids(log.takeCommitted())).to.deep.equal([[1, 1], [2, 1], [3, 1]])
      expect(log.applied).to.equal(3)
    })

    it('hands only up to the commit index', () => {
      const log = emptyLog()
      log.append(run(1, 4, 1))
      log.takeUnstable()
      log.commitTo(2)
      expect(ids(log.takeCommitted())).to.deep.equal([[1, 1], [2, 1]])
      expect(log.hasCommittedToApply()).to.be.false()
    })

    it('hands each entry exactly once', () => {
      const log = emptyLog()
      log.append(run(1, 4, 1))
      log.takeUnstable()
      log.commitTo(2)
      expect(ids(log.takeCommitted())).to.deep.equal([[1, 1], [2, 1]])
      expect(log.takeCommitted()).to.deep.equal([])
      log.commitTo(4)
      expect(ids(log.takeCommitted())).to.deep.equal([[3, 1], [4, 1]])
      expect(log.takeCommitted()).to.deep.equal([])
      expect(log.applied).to.equal(4)
    })

    it('stops at the last entry handed out when the commit index is beyond it', () => {
      const log = emptyLog()
      log.append(run(1, 2, 1))
      log.takeUnstable()
      log.append(run(3, 4, 1))
      log.commitTo(4)
      expect(ids(log.takeCommitted())).to.deep.equal([[1, 1], [2, 1]])
      log.takeUnstable()
      expect(ids(log.takeCommitted())).to.deep.equal([[3, 1], [4, 1]])
    })

    it('withholds committed entries that a truncation made unhanded again', () => {
      const log = logOfTerms([1])
      log.maybeAppend(1, 1, 0, run(2, 3, 1))
      log.takeUnstable()
      // 3 is replaced and the leader says 3 is committed
      log.maybeAppend(2, 1, 3, [cmd(3, 2)])
      expect(log.committed).to.equal(3)
      expect(ids(log.takeCommitted())).to.deep.equal([[1, 1], [2, 1]])
      expect(log.hasCommittedToApply()).to.be.false()
      log.takeUnstable()
      expect(ids(log.takeCommitted())).to.deep.equal([[3, 2]])
    })

    it('indexes correctly after a snapshot', () => {
      const log = new RaftLog({ index: 10, term: 3 }, run(11, 13, 3), 10)
      log.append([cmd(14, 4)])
      log.takeUnstable()
      log.commitTo(14)
      expect(ids(log.takeCommitted())).to.deep.equal([[11, 3], [12, 3], [13, 3], [14, 4]])
    })
  })

  describe('lastConfigEntry', () => {
    it('is undefined without config entries', () => {
      expect(emptyLog().lastConfigEntry()).to.be.undefined()
      expect(logOfTerms([1, 1]).lastConfigEntry()).to.be.undefined()
    })

    it('returns the latest config entry, not the first', () => {
      const first = cfg(1, 1, ['a'])
      const second = cfg(3, 1, ['a', 'b'])
      const log = new RaftLog({ index: 0, term: 0 }, [first, noop(2, 1), second, cmd(4, 1)], 0)
      expect(log.lastConfigEntry()).to.equal(second)
    })

    it('follows appends and truncations', () => {
      const first = cfg(1, 1, ['a'])
      const log = new RaftLog({ index: 0, term: 0 }, [first], 0)
      const second = cfg(2, 1, ['a', 'b'])
      log.append([second])
      expect(log.lastConfigEntry()).to.equal(second)
      // a new leader replaces entry 2
      log.maybeAppend(1, 1, 0, [noop(2, 2)])
      expect(log.lastConfigEntry()).to.equal(first)
    })

    it('ignores anything covered by the snapshot', () => {
      const log = new RaftLog({ index: 10, term: 3 }, [cmd(11, 3)], 10)
      expect(log.lastConfigEntry()).to.be.undefined()
    })
  })
})
