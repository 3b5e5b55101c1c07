/**
 * The chaos members' replicated state machine: independent string registers
 * with write and compare-and-set, whose `apply` returns the operation's
 * output in the linearizability checker's terms (reads do not go through the
 * log: they use `raft.read()` and then `get`).
 */

import type { StateMachine } from '../../src/index.ts'
import type { KvOutput } from '../sim/linearizability.ts'

export type KvCommand =
  | { op: 'write', key: string, value: string }
  | { op: 'cas', key: string, expected: string | undefined, value: string }

const encoder = new TextEncoder()
const decoder = new TextDecoder()

export function encodeCommand (command: KvCommand): Uint8Array {
  return encoder.encode(JSON.stringify(command))
}

export class KvMachine implements StateMachine {
  readonly values = new Map<string, string>()

  apply (command: Uint8Array): KvOutput {
    const parsed = JSON.parse(decoder.decode(command)) as KvCommand
    if (parsed.op === 'write') {
      this.values.set(parsed.key, parsed.value)
      return { kind: 'write' }
    }
    if (parsed.op === 'cas') {
      // JSON drops an undefined `expected`: then the register must be unset
      if (this.values.get(parsed.key) !== parsed.expected) {
        return { kind: 'cas', ok: false }
      }
      this.values.set(parsed.key, parsed.value)
      return { kind: 'cas', ok: true }
    }
    throw new Error(`unknown command ${decoder.decode(command)}`)
  }

  get (key: string): string | undefined {
    return this.values.get(key)
  }

  snapshot (): Uint8Array {
    return encoder.encode(JSON.stringify([...this.values]))
  }

  restore (snapshot: Uint8Array): void {
    this.values.clear()
    for (const [key, value] of JSON.parse(decoder.decode(snapshot)) as Array<[string, string]>) {
      this.values.set(key, value)
    }
  }
}
