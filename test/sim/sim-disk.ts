/**
 * A simulated node's disk: a memory datastore that survives crashes and can
 * be stopped part way through an operation, the way a crash stops a real
 * one. Batches reach it one key at a time, puts then deletes, in order (as
 * datastore-core applies them), so a stopped operation leaves a prefix of
 * its writes: exactly what the storage layer must recover from.
 */
import { MemoryDatastore } from 'datastore-core/memory'
import type { AbortOptions } from '@libp2p/interface'
import type { Key } from 'interface-datastore'

/** The disk stopped: the operation it interrupted left only some of its writes. */
export class TornWriteError extends Error {
  constructor () {
    super('the disk stopped part way through an operation')
    this.name = 'TornWriteError'
  }
}

export class SimDisk extends MemoryDatastore {
  /** Key writes still allowed before the disk stops (unlimited when undefined) */
  private budget: number | undefined

  /** Lets `writes` more puts or deletes through, then fails every one until `mend`. */
  tearAfter (writes: number): void {
    this.budget = writes
  }

  mend (): void {
    this.budget = undefined
  }

  put (key: Key, value: Uint8Array, options?: AbortOptions): Key | Promise<Key> {
    this.spend()
    return super.put(key, value, options)
  }

  delete (key: Key, options?: AbortOptions): void | Promise<void> {
    this.spend()
    return super.delete(key, options)
  }

  private spend (): void {
    if (this.budget === undefined) {
      return
    }
    if (this.budget <= 0) {
      throw new TornWriteError()
    }
    this.budget--
  }
}
