/**
 * The demo's replicated key-value state machine. Commands are JSON
 * `{ "op": "set", "key": …, "value": … }`; `apply` returns the key's previous
 * value (or `null`). Besides the map it keeps a running sha256 over every
 * applied command with its log index, so two members can compare not just
 * their final states but the exact sequence that produced them.
 */

import { createHash } from 'node:crypto'
import type { StateMachine } from '../src/index.ts'

interface SetCommand {
  op: 'set'
  key: string
  value: string
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const ZERO = '0'.repeat(64)

export function encodeSet (key: string, value: string): Uint8Array {
  return encoder.encode(JSON.stringify({ op: 'set', key, value } satisfies SetCommand))
}

export class KvStateMachine implements StateMachine {
  readonly values = new Map<string, string>()
  /** sha256 chain: H(previous || index || command) over every applied command */
  historyDigest = ZERO
  /** Commands applied since this process started (a restarted member replays its log) */
  applied = 0

  apply (command: Uint8Array, entry: { index: number }): string | null {
    this.historyDigest = createHash('sha256')
      .update(this.historyDigest)
      .update(`:${entry.index}:`)
      .update(command)
      .digest('hex')
    this.applied++
    const parsed = JSON.parse(decoder.decode(command)) as Partial<SetCommand>
    if (parsed.op !== 'set' || typeof parsed.key !== 'string' || typeof parsed.value !== 'string') {
      throw new Error(`unknown command ${decoder.decode(command)}`)
    }
    const previous = this.values.get(parsed.key) ?? null
    this.values.set(parsed.key, parsed.value)
    return previous
  }

  snapshot (): Uint8Array {
    return encoder.encode(JSON.stringify({ values: this.sorted(), historyDigest: this.historyDigest }))
  }

  restore (snapshot: Uint8Array): void {
    const { values, historyDigest } = JSON.parse(decoder.decode(snapshot)) as { values: Array<[string, string]>, historyDigest: string }
    this.values.clear()
    for (const [key, value] of values) {
      this.values.set(key, value)
    }
    this.historyDigest = historyDigest
  }

  /** sha256 of the sorted key-value pairs: equal digests, equal states. */
  digest (): string {
    const hash = createHash('sha256')
    for (const [key, value] of this.sorted()) {
      hash.update(JSON.stringify([key, value])).update('\n')
    }
    return hash.digest('hex')
  }

  sorted (): Array<[string, string]> {
    return [...this.values].sort(([a], [b]) => Number(a > b) - Number(a < b))
  }
}
