import type { Batch } from 'interface-datastore'

/** `batch`, with `beforeCommit` run as each commit starts: for stores that count or fail their writes. */
export function hookedBatch (batch: Batch, beforeCommit: () => void): Batch {
  return {
    put: (key, value) => { batch.put(key, value) },
    delete: (key) => { batch.delete(key) },
    commit: async (options) => {
      beforeCommit()
      await batch.commit(options)
    }
  }
}
