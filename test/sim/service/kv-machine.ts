/**
 * The replicated key-value store the service campaign's clients use: a real
 * `StateMachine` (one per incarnation, as a restarted process would build
 * anew) whose commands are the checker's operations as JSON.
 */
import { execute } from '../workload.ts'
import type { StateMachine } from '../../../src/index.ts'
import type { KvInput, KvOutput } from '../linearizability.ts'

export class KvMachine implements StateMachine {
  readonly store = new Map<string, string>()
  /** The values of the writes and compare-and-sets this incarnation applied (each client value is unique) */
  readonly applied = new Set<string>()
  /** Called with a command this incarnation applies a second time: each client command must take effect once */
  onDuplicate: (value: string) => void = () => {}

  apply (command: Uint8Array): KvOutput {
    const input = JSON.parse(new TextDecoder().decode(command)) as KvInput
    if (input.kind !== 'read') {
      if (this.applied.has(input.value)) {
        this.onDuplicate(input.value)
      }
      this.applied.add(input.value)
    }
    return execute(this.store, input)
  }

  snapshot (): Uint8Array {
    return new TextEncoder().encode(this.dump())
  }

  restore (snapshot: Uint8Array): void {
    this.store.clear()
    for (const [key, value] of JSON.parse(new TextDecoder().decode(snapshot)) as Array<[string, string]>) {
      this.store.set(key, value)
    }
  }

  /** The whole state, comparable across members. */
  dump (): string {
    return JSON.stringify([...this.store].sort(([a], [b]) => a.localeCompare(b)))
  }
}

export function encodeInput (input: KvInput): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(input))
}
