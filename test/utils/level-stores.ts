/**
 * Real on-disk stores for tests: `datastore-level` folders in a temporary
 * directory that `remove()` deletes.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LevelDatastore } from 'datastore-level'

export interface LevelStores {
  /** The temporary directory that holds the folders */
  dir: string
  /** Each store's folder, by position */
  folders: string[]
  /** Open stores, by position */
  stores: LevelDatastore[]
  /** Closes the stores and deletes the directory */
  remove(): Promise<void>
}

export async function createLevelStores (count: number): Promise<LevelStores> {
  const dir = await mkdtemp(join(tmpdir(), 'libp2p-raft-'))
  const folders = Array.from({ length: count }, (_, i) => join(dir, `member-${i}`))
  const stores = folders.map(folder => new LevelDatastore(folder))
  await Promise.all(stores.map(async store => store.open()))
  return {
    dir,
    folders,
    stores,
    remove: async () => {
      await Promise.all(stores.map(async store => store.close()))
      await rm(dir, { recursive: true, force: true })
    }
  }
}
