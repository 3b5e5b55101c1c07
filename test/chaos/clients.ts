/**
 * The workload: one closed-loop client per member, running reads, writes
 * and compare-and-sets on a few registers through that member, plus writes
 * of unique keys (each written once) whose acknowledgements are checked
 * against every member's final state.
 *
 * Times are `performance.now()` in the controller: the invocation is
 * stamped before the request is sent and the return after the answer
 * arrives, so each operation's real effect lies inside its interval.
 * A write whose outcome is unknown (the member timed out, died or was
 * paused past the deadline) is recorded without an output; a client that
 * saw one goes on under a new client id. Failures the API defines as "not
 * applied" (`NoLeaderError`, `NotCommittedError`, ...) are left out of the
 * history: if such a write was applied after all, a read that sees its
 * value makes the history fail the check.
 */

import { MemberGoneError, RequestTimeoutError, sleep } from './cluster.ts'
import type { Member } from './cluster.ts'
import type { KvInput, Operation } from '../sim/linearizability.ts'
import type { Rng } from '../utils/rng.ts'

/** How long a member may take over one operation (its own deadline), and the controller's margin on top. */
export const OP_TIMEOUT_MS = 5000
const CONTROLLER_MARGIN_MS = 5000
/** Pause between a client's operations: enough load to matter, not enough to starve two cores. */
const THINK_MS = 15
const REGISTERS = 3

/** Errors after which the operation certainly did not take effect (see docs/guide.md, "What a failed commit() tells you"). */
const NOT_APPLIED = new Set(['NoLeaderError', 'NotCommittedError', 'NotStartedError', 'InvalidParametersError', 'LeadershipTransferInProgressError'])

export class Workload {
  readonly history: Operation[] = []
  /** unique key → member name that acknowledged it */
  readonly acknowledged = new Map<string, string>()
  /** invocation and return times of every acknowledged write (for recovery times) */
  readonly acknowledgedWrites: Array<{ invoked: number, returned: number }> = []
  ok = 0
  failed = 0
  unknown = 0
  /** error names seen, with counts */
  readonly errors = new Map<string, number>()
  private readonly rng: Rng
  private readonly loops: Array<Promise<void>> = []
  private readonly clients = new Set<Member>()
  private stopped = false
  private nextClient = 0
  private nextUnique = 0

  constructor (rng: Rng) {
    this.rng = rng
  }

  /** Starts a client on `member` (once per member). */
  addClient (member: Member): void {
    if (this.clients.has(member) || this.stopped) {
      return
    }
    this.clients.add(member)
    this.loops.push(this.loop(member))
  }

  /** The first acknowledged write invoked at or after `time`: when did it return? */
  firstWriteAfter (time: number): number | undefined {
    let first: number | undefined
    for (const { invoked, returned } of this.acknowledgedWrites) {
      if (invoked >= time && (first === undefined || returned < first)) {
        first = returned
      }
    }
    return first
  }

  /** Stops issuing operations and waits for those in flight (bounded by their timeouts). */
  async stop (): Promise<void> {
    this.stopped = true
    await Promise.all(this.loops)
  }

  private count (name: string): void {
    this.errors.set(name, (this.errors.get(name) ?? 0) + 1)
  }

  private nextInput (client: number, seq: number, lastSeen: Map<string, string | undefined>): KvInput | { kind: 'unique', key: string } {
    const roll = this.rng.next()
    if (roll < 0.2) {
      return { kind: 'unique', key: `u/${++this.nextUnique}` }
    }
    const key = `r${this.rng.int(REGISTERS)}`
    const value = `${client}.${seq}`
    if (roll < 0.55) {
      return { kind: 'read', key }
    }
    if (roll < 0.8) {
      return { kind: 'write', key, value }
    }
    return { kind: 'cas', key, expected: lastSeen.get(key), value }
  }

  /** Runs one operation through `member`: did it take effect ('ok'), certainly not ('failed'), or maybe ('unknown')? */
  private async perform (member: Member, op: Operation, lastSeen: Map<string, string | undefined>): Promise<'ok' | 'failed' | 'unknown'> {
    const input = op.input
    try {
      const reply = await member.request({ type: 'op', input, timeoutMs: OP_TIMEOUT_MS }, OP_TIMEOUT_MS + CONTROLLER_MARGIN_MS)
      if (reply.ok && reply.output !== undefined) {
        op.output = reply.output
        op.returned = performance.now()
        if (reply.output.kind === 'read') {
          lastSeen.set(input.key, reply.output.value)
        } else if (input.kind !== 'read' && (reply.output.kind !== 'cas' || reply.output.ok)) {
          lastSeen.set(input.key, input.value)
        }
        return 'ok'
      }
      const name = reply.ok ? 'NoOutput' : reply.errorName
      this.count(name)
      // a read changes nothing, so a failed one is simply left out
      return NOT_APPLIED.has(name) || input.kind === 'read' ? 'failed' : 'unknown'
    } catch (err: any) {
      this.count(err instanceof MemberGoneError || err instanceof RequestTimeoutError ? err.name : 'ControllerError')
      return input.kind === 'read' ? 'failed' : 'unknown'
    }
  }

  private async loop (member: Member): Promise<void> {
    let client = this.nextClient++
    let seq = 0
    const lastSeen = new Map<string, string | undefined>()
    while (!this.stopped) {
      if (!member.up) {
        await sleep(100)
        continue
      }
      const next = this.nextInput(client, ++seq, lastSeen)
      const unique = next.kind === 'unique'
      const input: KvInput = next.kind === 'unique' ? { kind: 'write', key: next.key, value: 'x' } : next
      const op: Operation = { client, input, invoked: performance.now() }
      const outcome = await this.perform(member, op, lastSeen)
      if (outcome === 'ok') {
        this.ok++
        if (input.kind !== 'read') {
          this.acknowledgedWrites.push({ invoked: op.invoked, returned: op.returned ?? op.invoked })
        }
        if (unique) {
          this.acknowledged.set(input.key, member.name)
        } else {
          this.history.push(op)
        }
      } else if (outcome === 'failed') {
        this.failed++
      } else {
        this.unknown++
        if (!unique) {
          this.history.push(op)
        }
        // a client with an operation in limbo is a new client from now on
        client = this.nextClient++
      }
      await sleep(THINK_MS)
    }
  }
}
