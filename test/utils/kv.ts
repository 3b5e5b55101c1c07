import type { StateMachine } from '../../src/index.ts'

/** A key-value state machine for tests: `set key value` commands; apply returns the previous value. */
export class KvStateMachine implements StateMachine {
  readonly values = new Map<string, string>()
  /** Every applied command, in order: `index:text` */
  readonly history: string[] = []

  apply (command: Uint8Array, entry: { index: number }): string | undefined {
    const text = new TextDecoder().decode(command)
    this.history.push(`${entry.index}:${text}`)
    const [op, key, value] = text.split(' ')
    if (op === 'throw') {
      throw new Error(`asked to throw: ${key}`)
    }
    const previous = this.values.get(key)
    this.values.set(key, value)
    return previous
  }

  snapshot (): Uint8Array {
    return new TextEncoder().encode(JSON.stringify([...this.values]))
  }

  restore (snapshot: Uint8Array): void {
    this.values.clear()
    for (const [key, value] of JSON.parse(new TextDecoder().decode(snapshot)) as Array<[string, string]>) {
      this.values.set(key, value)
    }
  }
}

export function set (key: string, value: string): Uint8Array {
  return new TextEncoder().encode(`set ${key} ${value}`)
}
