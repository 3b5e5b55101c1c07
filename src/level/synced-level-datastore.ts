import { LevelDatastore } from 'datastore-level'
import { Level } from 'level'
import type { DatabaseOptions, OpenOptions } from 'level'

/** What `SyncedLevelDatastore` takes: LevelDB's own database and open options (see `classic-level`). */
export type SyncedLevelDatastoreOptions = Omit<DatabaseOptions<string, Uint8Array>, 'keyEncoding' | 'valueEncoding'> & OpenOptions

/**
 * An interface-datastore `Datastore` on LevelDB (datastore-level's
 * `LevelDatastore`) whose every write - `put`, `delete` and each batch's
 * `commit` - resolves only once LevelDB has synced it to disk (`fsync` or
 * `fdatasync` of its write-ahead log). An acknowledged write then survives
 * an OS crash or a power loss, not only a crash of the process.
 *
 * A sync per write is cheap for Raft: the service writes one batch per
 * round of work, carrying every command that arrived while the previous
 * batch was being written (group commit), so one sync covers them all.
 *
 * Node.js only (a native binding): import it from `libp2p-raft/level`.
 *
 * @example
 *
 * ```ts
 * import { raft } from 'libp2p-raft'
 * import { SyncedLevelDatastore } from 'libp2p-raft/level'
 *
 * const datastore = new SyncedLevelDatastore('./raft-data')
 * await datastore.open()
 * const service = raft({ datastore, stateMachine })
 * ```
 */
export class SyncedLevelDatastore extends LevelDatastore {
  constructor (path: string, options: SyncedLevelDatastoreOptions = {}) {
    super(new SyncedLevel(path, { ...options, keyEncoding: 'utf8', valueEncoding: 'view' }), options)
  }
}

/** LevelDB whose writes ask for a sync, whatever options their caller passes. */
class SyncedLevel extends Level<string, Uint8Array> {
  override async put (key: any, value: any, options?: any): Promise<void> {
    await super.put(key, value, { ...options, sync: true })
  }

  override async del (key: any, options?: any): Promise<void> {
    await super.del(key, { ...options, sync: true })
  }

  override batch (operations?: any, options?: any): any {
    // Without operations: a chained batch, whose caller passes the sync option to its write() (LevelDatastore never asks for one)
    return operations === undefined ? super.batch() : super.batch(operations, { ...options, sync: true })
  }
}
