/**
 * A history of client operations for the linearizability checker, as the
 * simulated clients record it: times stamped strictly increasing in the
 * order things happen, and each operation with its output or, when its
 * outcome is unknown, without one.
 */
import type { KvOutput, Operation } from './linearizability.ts'

export class History {
  readonly operations: Operation[] = []
  completed = 0
  unknown = 0
  private stamp = 0

  /** The next time stamp. */
  now (): number {
    return ++this.stamp
  }

  /** Records an operation that returned `output`, or whose outcome is unknown (undefined). */
  record (op: Operation, output: KvOutput | undefined): void {
    if (output === undefined) {
      this.unknown++
    } else {
      op.output = output
      op.returned = this.now()
      this.completed++
    }
    this.operations.push(op)
  }
}
