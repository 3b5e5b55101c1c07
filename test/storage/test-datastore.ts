import { MemoryDatastore } from 'datastore-core/memory'
import type { AbortOptions } from '@libp2p/interface'
import type { Batch, Key } from 'interface-datastore'

export type Op = { op: 'put' | 'delete', key: string } | { op: 'commit' }

/**
 * A memory datastore that records every put, delete and batch commit in
 * order, and can "crash": once `budget` puts and deletes have been done,
 * every further one fails, as if the process had died right there. Batches
 * apply their items one by one (datastore-core's behaviour), so a crash can
 * land inside a batch.
 */
export class TestDatastore extends MemoryDatastore {
  readonly ops: Op[] = []
  budget = Infinity
  private done = 0

  /** Allows `budget` more puts and deletes, then crashes. */
  crashAfter (budget: number): void {
    this.done = 0
    this.budget = budget
  }

  /** The puts and deletes done since the last `crashAfter`. */
  get changes (): number {
    return this.done
  }

  revive (): void {
    this.budget = Infinity
  }

  put (key: Key, value: Uint8Array, options?: AbortOptions): Key | Promise<Key> {
    this.spend()
    this.ops.push({ op: 'put', key: key.toString() })
    return super.put(key, value, options)
  }

  delete (key: Key, options?: AbortOptions): void | Promise<void> {
    this.spend()
    this.ops.push({ op: 'delete', key: key.toString() })
    return super.delete(key, options)
  }

  batch (): Batch {
    const inner = super.batch()
    return {
      put: (key, value) => { inner.put(key, value) },
      delete: (key) => { inner.delete(key) },
      commit: async (options?: AbortOptions) => {
        await inner.commit(options)
        this.ops.push({ op: 'commit' })
      }
    }
  }

  private spend (): void {
    if (this.done >= this.budget) {
      throw new Error('crash')
    }
    this.done++
  }
}
