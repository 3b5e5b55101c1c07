/**
 * Deliberately broken variants of the Raft core, each with one classic bug,
 * to prove the simulation campaign can fail. They patch a fresh core's
 * internals at run time; nothing here is reachable from the library.
 */
import { RaftCore } from '../../src/core/index.ts'
import { quorumIndex } from '../../src/core/quorum.ts'
import type { CoreFactory } from './simulator.ts'
import type { CoreInit, Entry, SnapshotRequest } from '../../src/core/index.ts'

export interface BrokenVariant {
  name: string
  /** Scenarios most likely to expose it; the proof test searches these */
  scenarios: string[]
  makeCore: CoreFactory
}

/** The core's private parts the variants reach into. */
interface Internals {
  id: string
  _term: number
  _role: string
  _config: { voters: string[] }
  progress: Map<string, { match: number }>
  log: RaftCore['log']
  configEntry: { index: number } | undefined
  canChangeConfig(): boolean
  maybeCommit(): boolean
  hardState(): { term: number, vote?: string, commit: number }
  reads: { takeWaiting(): Array<{ id: number, from: string }> }
  startReads(): void
  answerReads(confirmed: Array<{ id: number, from: string, index: number }>): void
  handleSnapshot(m: SnapshotRequest): void
}

function patched (init: CoreInit, patch: (core: Internals) => void): RaftCore {
  const core = new RaftCore(init)
  patch(core as unknown as Internals)
  return core
}

export const BROKEN_VARIANTS: BrokenVariant[] = [
  {
    name: 'commits entries of earlier terms by counting replicas',
    scenarios: ['figure-8-scripted', 'figure-8'],
    // One entry per request: a follower can acknowledge an old entry before the new leader's own.
    makeCore: (init) => patched({ ...init, maxEntriesPerAppend: 1, maxInflightAppends: 1 }, core => {
      core.maybeCommit = () => {
        const index = quorumIndex(core._config.voters, id => id === core.id ? core.log.stable : (core.progress.get(id)?.match ?? 0))
        return index > core.log.committed && core.log.commitTo(index)
      }
    })
  },
  {
    name: 'grants votes without making them durable',
    scenarios: ['restart-storm', 'restart-all', 'figure-8'],
    // Without pre-vote, candidates collide in one term more often.
    makeCore: (init) => patched({ ...init, preVote: false }, core => {
      core.hardState = () => ({ term: core._term, commit: core.log.committed })
    })
  },
  {
    name: 'accepts AppendEntries without the previous-term check',
    scenarios: ['stale-leader', 'fast-backoff', 'leader-partitions', 'figure-8'],
    makeCore: (init) => patched(init, core => {
      const original = core.log.maybeAppend.bind(core.log)
      core.log.maybeAppend = (prevIndex: number, prevTerm: number, commit: number, entries: Entry[]) =>
        original(prevIndex, core.log.term(prevIndex) ?? prevTerm, commit, entries)
    })
  },
  {
    name: 'serves reads without confirming it still leads',
    scenarios: ['stale-leader', 'leader-partitions', 're-election'],
    // Without check-quorum a cut-off leader keeps believing it leads, and answers from stale state.
    makeCore: (init) => patched({ ...init, checkQuorum: false }, core => {
      core.startReads = () => {
        const index = core.log.committed
        core.answerReads(core.reads.takeWaiting().map(request => ({ ...request, index })))
      }
    })
  },
  {
    name: 'installs a snapshot its log already covers, rolling its state back',
    scenarios: ['snapshot-install-unreliable', 'snapshot-install-crashes', 'snapshot-install-lagging'],
    // Every snapshot looks newer than its log: it forgets how far it committed, and that it holds the snapshot's last entry.
    makeCore: (init) => patched(init, core => {
      const original = core.handleSnapshot.bind(core)
      core.handleSnapshot = (m) => {
        const matchTerm = core.log.matchTerm
        core.log.committed = Math.min(core.log.committed, m.snapshot.index - 1)
        core.log.matchTerm = () => false
        try {
          original(m)
        } finally {
          core.log.matchTerm = matchTerm
        }
      }
    })
  },
  {
    name: 'votes for candidates whose log is behind',
    scenarios: ['stale-leader', 'restart-leader', 'figure-8', 'churn'],
    makeCore: (init) => patched(init, core => {
      core.log.isUpToDate = () => true
    })
  },
  {
    name: 'changes its configuration before an entry of its own term has committed',
    scenarios: ['membership-2015'],
    // Still one change at a time, but a new leader may build on a change an earlier leader left uncommitted.
    makeCore: (init) => patched(init, core => {
      core.canChangeConfig = () => core._role === 'leader' && (core.configEntry === undefined || core.configEntry.index <= core.log.committed)
    })
  }
]
