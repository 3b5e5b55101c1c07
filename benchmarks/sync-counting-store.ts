/**
 * The benchmark's durable store: a `SyncedLevelDatastore` that counts the
 * writes it syncs (each put, delete and batch commit is one sync), so the
 * benchmark can report syncs per second and commands per sync.
 */
import { SyncedLevelDatastore } from '../src/level/index.ts'
import { hookedBatch } from '../test/utils/hooked-batch.ts'
import type { AbortOptions } from '@libp2p/interface'
import type { Batch, Key } from 'interface-datastore'

export class SyncCountingStore extends SyncedLevelDatastore {
  /** Synced writes so far */
  syncs = 0

  override async put (key: Key, value: Uint8Array, options?: AbortOptions): Promise<Key> {
    this.syncs++
    return super.put(key, value, options)
  }

  override async delete (key: Key, options?: AbortOptions): Promise<void> {
    this.syncs++
    await super.delete(key, options)
  }

  override batch (): Batch {
    return hookedBatch(super.batch(), () => { this.syncs++ })
  }
}
