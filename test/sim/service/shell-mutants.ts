/**
 * Deliberately broken variants of the shell, each one mistake a real shell
 * could make, made by replacing one method of a shipped class for the
 * length of a run. The service campaign must catch every one of them (see
 * `shell-mutants.spec.ts`): proof that it can fail where it matters.
 */
import { CommitTimeoutError } from '../../../src/errors.ts'
import { AppendedRequests } from '../../../src/service/appended-requests.ts'
import { Forwarder } from '../../../src/service/forwarder.ts'
import { Inbound } from '../../../src/service/inbound.ts'
import { ClientSessionTable } from '../../../src/service/session-table.ts'
import { Snapshots } from '../../../src/service/snapshots.ts'
import { Waiters } from '../../../src/service/waiters.ts'
import type { SessionStamp } from '../../../src/core/index.ts'
import type { CommitResult } from '../../../src/index.ts'
import type { ProposeResponse } from '../../../src/pb/raft.ts'

export interface ShellMutant {
  name: string
  /** The scenarios expected to expose it */
  scenarios: string[]
  /** Breaks the shell; returns how to mend it */
  apply(): () => void
}

/** Replaces `method` on `proto` until the returned function puts it back. */
function replace (proto: object, method: string, make: (original: (...args: any[]) => any) => (this: any, ...args: any[]) => any): () => void {
  const target = proto as Record<string, any>
  const original = target[method]
  target[method] = make(original)
  return () => { target[method] = original }
}

/** The private state a mutant reaches into (it is the same object the shipped code uses). */
interface ForwardWaiters { forwards: Map<number, { resolve(result: CommitResult): void, reject(err: Error): void }> }

export const SHELL_MUTANTS: ShellMutant[] = [
  {
    name: 'resolves a forwarded commit when the leader answers, before the entry is applied here',
    scenarios: ['service-basic'],
    apply: () => replace(Forwarder.prototype, 'commandAnswered', (original) => function (this: any, response: ProposeResponse, forwarded: unknown) {
      original.call(this, response, forwarded)
      if (response.error === undefined) {
        (this.waiters as ForwardWaiters).forwards.get(response.id)?.resolve({ index: response.index, term: response.term, result: undefined })
      }
    })
  },
  {
    name: 'serves a read before this node has applied up to the read index',
    scenarios: ['service-basic', 'service-partitions'],
    apply: () => replace(Waiters.prototype, 'appliedUpTo', () => async function () {})
  },
  {
    name: 'sends a forwarded command again as soon as the leader changes, before it is proven not committed',
    scenarios: ['service-forwarding-leader-changes', 'service-leader-crash'],
    apply: () => replace(Waiters.prototype, 'leaderChanged', (original) => function (this: any) {
      original.call(this)
      // As if an entry of a later term than any waiting had been applied: every forward counts as lost.
      this.appliedForForwards(0, { term: Infinity, result: undefined }, undefined)
    })
  },
  {
    name: 'restores the stored snapshot over newer applied state at a restart in place',
    scenarios: ['service-random-faults'],
    apply: () => replace(Snapshots.prototype, 'restoreStored', (original) => async function (this: any, options: unknown) {
      const stored = this.storage.snapshot
      if (stored !== undefined && stored.meta.index <= this.driver.appliedIndex) {
        // The state goes back to the snapshot's, while the applied index says it holds more.
        await this.options.stateMachine.restore(await this.storage.snapshotData(stored, options))
        return
      }
      await original.call(this, options)
    })
  },
  {
    name: 'gives up on forwarded commands when the leader changes (outcome unknown), as before the request ids',
    scenarios: ['regression-forwards-across-leader-crashes'],
    apply: () => replace(Forwarder.prototype, 'leaderChanged', (original) => function (this: any, leader: string | undefined) {
      original.call(this, leader)
      for (const [id, waiter] of (this.waiters as ForwardWaiters).forwards) {
        (this.waiters as ForwardWaiters).forwards.delete(id)
        waiter.reject(new CommitTimeoutError())
      }
    })
  },
  {
    name: 'appends a forwarded command again when its request arrives again',
    scenarios: ['regression-duplicated-proposals'],
    apply: () => replace(AppendedRequests.prototype, 'get', () => function () { return undefined })
  },
  {
    name: 'steps frames from peers outside the group into its core',
    scenarios: ['service-outsider'],
    apply: () => replace(Inbound.prototype, 'isMember', () => function () { return true })
  },
  {
    name: 'applies a command sent again within a client session again, instead of answering with its first result',
    scenarios: ['service-sessions'],
    apply: () => replace(ClientSessionTable.prototype, 'apply', (original) => function (this: any, index: number, stamp: SessionStamp, apply: () => unknown) {
      // Sessions still open (sequence 0), but no command is ever recognised as a copy.
      return stamp.sequence === 0 ? original.call(this, index, stamp, apply) : apply()
    })
  },
  {
    name: 'drops the commits waiting for their entries when the leader changes',
    scenarios: ['service-forwarding-leader-changes', 'service-leader-crash'],
    apply: () => replace(Waiters.prototype, 'leaderChanged', (original) => function (this: any) {
      original.call(this)
      this.applies.clear()
      this.forwards.clear()
    })
  }
]
