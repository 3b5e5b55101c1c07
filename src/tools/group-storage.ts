/**
 * The stored state of one Raft group in a member's datastore, as the
 * operator tools address it: by the group and datastore prefix the member
 * was started with.
 */
import { DATASTORE_PREFIX, GROUP } from '../constants.ts'
import { InvalidParametersError } from '../errors.ts'
import { RaftStorage, storageRoot } from '../storage/raft-storage.ts'
import type { Datastore } from 'interface-datastore'

/** Which group's state a tool works on. */
export interface GroupOptions {
  /**
   * The member's `RaftInit.group`.
   *
   * @default 'default'
   */
  group?: string
  /**
   * The member's `RaftInit.datastorePrefix`.
   *
   * @default '/raft'
   */
  datastorePrefix?: string
}

export interface GroupStorage {
  storage: RaftStorage
  group: string
  datastorePrefix: string
  /** The error for a datastore that holds nothing for this group */
  noState(): InvalidParametersError
}

export function groupStorage (datastore: Datastore, options: GroupOptions): GroupStorage {
  const group = options.group ?? GROUP
  const datastorePrefix = options.datastorePrefix ?? DATASTORE_PREFIX
  return {
    storage: new RaftStorage(datastore, storageRoot(datastorePrefix, group)),
    group,
    datastorePrefix,
    noState: () => new InvalidParametersError(`the datastore holds no Raft state for group '${group}' under ${datastorePrefix}`)
  }
}
