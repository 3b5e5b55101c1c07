import type { AbortOptions } from '@libp2p/interface'
import type { Datastore, Key } from 'interface-datastore'

/** Most deletes in one batch, so removing a long log or a large snapshot never builds one huge batch. */
export const MAX_BATCH_DELETES = 1024

/**
 * Deletes `keys` in the order given, committing every `MAX_BATCH_DELETES`:
 * a crash part way leaves only the keys that come later in that order.
 */
export async function deleteKeys (datastore: Datastore, keys: Iterable<Key>, options?: AbortOptions): Promise<void> {
  let batch = datastore.batch()
  let pending = 0
  for (const key of keys) {
    batch.delete(key)
    pending++
    if (pending === MAX_BATCH_DELETES) {
      await batch.commit(options)
      batch = datastore.batch()
      pending = 0
    }
  }
  if (pending > 0) {
    await batch.commit(options)
  }
}

/** The keys `keyOf(from)` … `keyOf(to - 1)`, lazily, lowest first. */
export function * keyRange (from: number, to: number, keyOf: (n: number) => Key): Generator<Key> {
  for (let n = from; n < to; n++) {
    yield keyOf(n)
  }
}

/** The same keys as `keyRange`, highest first. */
export function * keyRangeDown (from: number, to: number, keyOf: (n: number) => Key): Generator<Key> {
  for (let n = to - 1; n >= from; n--) {
    yield keyOf(n)
  }
}
