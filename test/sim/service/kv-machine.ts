/**
 * The replicated key-value store the service campaign's clients use: a real
 * `StateMachine` (one per incarnation, as a restarted process would build
 * anew) whose commands are the checker's operations as JSON.
 */
import { execute } from '../workload.ts'
import type { StateMachine } from '../../../src/index.ts'
import type { KvInput, KvOutput } from '../linearizability.ts'

interface KvSnapshot {
  store: Array<[string, string]>
  applied: string[]
}

export class KvMachine implements StateMachine {
  readonly store = new Map<string, string>()
  /**
   * The ids of the writes and compare-and-sets applied to this state (each
   * client value is unique): kept in snapshots, so that a command applied
   * again after a restore is caught too
   */
  readonly applied = new Set<string>()
  /** The ids of the writes and compare-and-sets this incarnation ran itself (not those a snapshot brought) */
  private readonly ran = new Set<string>()
  /** Called with a command applied a second time to this state: each client command must take effect once */
  onDuplicate: (value: string) => void = () => {}

  apply (command: Uint8Array): KvOutput {
    const input = JSON.parse(new TextDecoder().decode(command)) as KvInput
    if (input.kind !== 'read') {
      const id = writeId(input.value)
      if (this.applied.has(id)) {
        this.onDuplicate(id)
      }
      this.applied.add(id)
      this.ran.add(id)
    }
    return execute(this.store, input)
  }

  /** Whether the write or compare-and-set that writes `value` took effect on this state (here or before a snapshot it restored). */
  hasApplied (value: string): boolean {
    return this.applied.has(writeId(value))
  }

  /** Whether this incarnation ran the write or compare-and-set that writes `value` (a snapshot may since have replaced the state). */
  ranHere (value: string): boolean {
    return this.ran.has(writeId(value))
  }

  snapshot (): Uint8Array {
    const snapshot: KvSnapshot = { store: [...this.store], applied: [...this.applied] }
    return new TextEncoder().encode(JSON.stringify(snapshot))
  }

  restore (snapshot: Uint8Array): void {
    const { store, applied } = JSON.parse(new TextDecoder().decode(snapshot)) as KvSnapshot
    this.store.clear()
    for (const [key, value] of store) {
      this.store.set(key, value)
    }
    this.applied.clear()
    for (const id of applied) {
      this.applied.add(id)
    }
  }

  /** The whole state, comparable across members. */
  dump (): string {
    return JSON.stringify([...this.store].sort(([a], [b]) => a.localeCompare(b)))
  }
}

/** A client value without the padding some carry: unique per command. */
function writeId (value: string): string {
  const padding = value.indexOf('.')
  return padding === -1 ? value : value.slice(0, padding)
}

export function encodeInput (input: KvInput): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(input))
}
