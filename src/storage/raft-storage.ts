import { Key } from 'interface-datastore'
import { decodeEntry, decodeHardState, encodeEntry, encodeHardState } from '../pb/translate.ts'
import { deleteKeys, keyRange, keyRangeDown, MAX_BATCH_DELETES } from './batched-delete.ts'
import { decodeSnapshotRecord, encodeSnapshotRecord } from './snapshot-record.ts'
import { SnapshotStore } from './snapshot-store.ts'
import type { IncomingSnapshot, StoredSnapshot } from './snapshot-store.ts'
import type { CoreState, Entry, HardState, SnapshotMeta } from '../core/index.ts'
import type { AbortOptions } from '@libp2p/interface'
import type { Datastore } from 'interface-datastore'

export type { IncomingSnapshot, StoredSnapshot } from './snapshot-store.ts'

/** A group's stored state, as `RaftStorage.read` finds it. */
export interface StoredState {
  hardState?: HardState
  /** The log `load` keeps: contiguous, and following the snapshot */
  entries: Entry[]
  snapshot?: StoredSnapshot
  /** Indexes of stored entries `load` deletes: leftovers of a write or an installation a crash interrupted */
  leftovers: number[]
}

/** Where a group's state lives in the datastore: `<prefix>/<group>`. */
export function storageRoot (prefix: string, group: string): Key {
  return new Key(`${prefix}/${group}`)
}

/** Log keys carry the index zero-padded to 20 digits, so key order is index order. */
const INDEX_WIDTH = 20

/**
 * Raft's durable state in the host's datastore, under `<prefix>/<group>/`.
 * The datastore's batches must be atomic or applied in order (LevelDB's are
 * atomic; `datastore-core` applies puts in order), so a crash cannot leave
 * a commit index without the entries it covers.
 *
 * - `state`: the hard state (term, vote, commit index);
 * - `log/<index>`: one key per log entry;
 * - `snapshot`: the current snapshot (a `SnapshotRecord`);
 * - `snapshots/<id>/<chunk>`: snapshot data (see `SnapshotStore`).
 *
 * A write puts the entries and then the hard state in one batch, so a
 * datastore with atomic batches never shows a commit index ahead of its log.
 *
 * A snapshot's chunks are written before the `snapshot` pointer names them,
 * and the chunks it replaces are deleted only after, so a crash leaves the
 * old or the new snapshot whole; `load` removes the leftovers. Once a
 * snapshot covers them, entries can be deleted from the front of the log
 * (`compactLog`), or all of them when a leader's snapshot replaces the log
 * (`installSnapshot`).
 */
export class RaftStorage {
  private readonly datastore: Datastore
  private readonly root: Key
  private readonly logPrefix: string
  private readonly snapshots: SnapshotStore
  /** Lowest log index stored (`lastIndex + 1` when none is), so compaction never rescans the log */
  private firstIndex = 1
  /** Highest log index stored, or the snapshot's index when no entry is */
  private lastIndex = 0
  private current: StoredSnapshot | undefined
  /** The tail of the chain that serializes moves of the `snapshot` pointer */
  private switching: Promise<unknown> = Promise.resolve()

  constructor (datastore: Datastore, root: Key) {
    this.datastore = datastore
    this.root = root
    this.logPrefix = root.child(new Key('log')).toString() + '/'
    this.snapshots = new SnapshotStore(datastore, root)
  }

  /** The current snapshot, if any (known after `load`). */
  get snapshot (): StoredSnapshot | undefined {
    return this.current
  }

  private stateKey (): Key {
    return this.root.child(new Key('state'))
  }

  private pointerKey (): Key {
    return this.root.child(new Key('snapshot'))
  }

  private entryKey (index: number): Key {
    return new Key(this.logPrefix + String(index).padStart(INDEX_WIDTH, '0'))
  }

  /**
   * Reads what a previous run left; `undefined` when this group has never
   * stored anything. Must run before the first `write`, which relies on
   * knowing the stored log's end.
   */
  async load (options?: AbortOptions): Promise<CoreState | undefined> {
    const stored = await this.read(options)
    await deleteKeys(this.datastore, (stored?.leftovers ?? []).map(index => this.entryKey(index)), options)
    await this.snapshots.removeAllExcept(stored?.snapshot?.id, options)
    this.current = stored?.snapshot
    this.lastIndex = stored?.entries.at(-1)?.index ?? stored?.snapshot?.meta.index ?? 0
    this.firstIndex = stored?.entries[0]?.index ?? this.lastIndex + 1
    if (stored === undefined) {
      return undefined
    }
    const { hardState, entries, snapshot } = stored
    return snapshot === undefined ? { hardState, entries } : { hardState, entries, snapshot: snapshot.meta }
  }

  /**
   * What is stored, as `load` sees it, without changing anything (`load`
   * then deletes the leftovers): for tools that look at a stopped member's
   * store. `undefined` when this group has never stored anything.
   */
  async read (options?: AbortOptions): Promise<StoredState | undefined> {
    const hardState = await this.getOptional(this.stateKey(), decodeHardState, options)
    const snapshot = await this.getOptional(this.pointerKey(), decodeSnapshotRecord, options)
    const entries: Entry[] = []
    for await (const { value } of this.datastore.query({ prefix: this.logPrefix }, options)) {
      entries.push(decodeEntry(value))
    }
    if (hardState === undefined && entries.length === 0 && snapshot === undefined) {
      return undefined
    }
    entries.sort((a, b) => a.index - b.index)
    // Entries beyond a gap are leftovers of an interrupted write: a later
    // append must never find them still standing after its own entries.
    let log = contiguousPrefix(entries)
    if (!followsSnapshot(log, snapshot?.meta)) {
      // leftovers of an installation a crash interrupted: the snapshot replaced them
      log = []
    }
    const leftovers = entries.slice(log.length).map(entry => entry.index)
    return { hardState, entries: log, snapshot, leftovers }
  }

  private async getOptional<T> (key: Key, decode: (bytes: Uint8Array) => T, options?: AbortOptions): Promise<T | undefined> {
    try {
      return decode(await this.datastore.get(key, options))
    } catch (err: any) {
      if (err.name !== 'NotFoundError') {
        throw err
      }
    }
  }

  /**
   * Makes a batch of work durable: `entries` replace every stored entry from
   * `entries[0].index` on.
   */
  async write (hardState: HardState | undefined, entries: Entry[], options?: AbortOptions): Promise<void> {
    const first = entries[0]
    const last = entries.at(-1)
    if (first !== undefined && first.index <= this.lastIndex) {
      // Remove the replaced entries first, highest first: a crash in between
      // (or within a batch that is applied in order but not atomically)
      // leaves a shorter prefix of the old log, never old entries after new ones.
      await deleteKeys(this.datastore, keyRangeDown(first.index, this.lastIndex + 1, i => this.entryKey(i)), options)
    }
    const batch = this.datastore.batch()
    for (const entry of entries) {
      batch.put(this.entryKey(entry.index), encodeEntry(entry))
    }
    if (hardState !== undefined) {
      batch.put(this.stateKey(), encodeHardState(hardState))
    }
    await batch.commit(options)
    if (first !== undefined && (this.firstIndex > this.lastIndex || first.index < this.firstIndex)) {
      this.firstIndex = first.index
    }
    if (last !== undefined) {
      this.lastIndex = last.index
    }
  }

  /**
   * Makes `data`, the state machine's state at `meta.index`, the current
   * snapshot. Returns the current snapshot instead, and keeps nothing of
   * `data`, when one at `meta.index` or later got there first.
   */
  async saveSnapshot (meta: SnapshotMeta, data: Uint8Array, options?: AbortOptions): Promise<StoredSnapshot> {
    if (this.current !== undefined && this.current.meta.index >= meta.index) {
      return this.current
    }
    const saved = await this.snapshots.save(meta, data, options)
    const { current, obsolete } = await this.exclusive(async () => {
      const previous = this.current
      if (previous !== undefined && previous.meta.index >= meta.index) {
        // a newer snapshot got there while the chunks were written (say, one installed from the leader)
        return { current: previous, obsolete: saved }
      }
      await this.point(saved, options)
      return { current: saved, obsolete: previous }
    })
    if (obsolete !== undefined) {
      await this.snapshots.remove(obsolete, options)
    }
    return current
  }

  /** Stages a snapshot streamed from the leader; `installSnapshot` makes the result current. */
  receiveSnapshot (meta: SnapshotMeta, size: number, chunks: number, checksum: Uint8Array): IncomingSnapshot {
    return this.snapshots.receive(meta, size, chunks, checksum)
  }

  /**
   * Makes a received snapshot current and deletes the whole log it replaces:
   * the next entries written follow `snapshot.meta.index`. Fails when the
   * current snapshot is already at that index or later.
   */
  async installSnapshot (snapshot: StoredSnapshot, options?: AbortOptions): Promise<void> {
    const previous = await this.exclusive(async () => {
      const previous = this.current
      if (previous !== undefined && previous.meta.index >= snapshot.meta.index) {
        if (snapshot.id !== previous.id) {
          // nothing will ever point at its chunks
          await this.snapshots.remove(snapshot, options)
        }
        throw new Error(`cannot install the snapshot at ${snapshot.meta.index}: the current one is at ${previous.meta.index}`)
      }
      await this.point(snapshot, options)
      // highest first: a crash part way leaves a prefix of the old log, which load() drops unless it
      // holds the snapshot's last entry (a suffix could follow the snapshot's index with older terms)
      await deleteKeys(this.datastore, keyRangeDown(this.firstIndex, this.lastIndex + 1, i => this.entryKey(i)), options)
      this.firstIndex = snapshot.meta.index + 1
      this.lastIndex = snapshot.meta.index
      return previous
    })
    if (previous !== undefined) {
      await this.snapshots.remove(previous, options)
    }
  }

  /**
   * Deletes the chunks of a snapshot that will never be current (say, a
   * received one superseded before it was installed). Refuses the current one.
   */
  async discardSnapshot (snapshot: StoredSnapshot, options?: AbortOptions): Promise<void> {
    // in turn with pointer moves, so the check cannot go stale before the delete
    await this.exclusive(async () => {
      if (snapshot.id === this.current?.id) {
        throw new Error(`snapshot ${snapshot.id} is the current one`)
      }
      await this.snapshots.remove(snapshot, options)
    })
  }

  /**
   * Deletes the stored entries before `upTo`; the entry at `upTo` stays as
   * the log's starting point. `upTo` must be committed and written, and at
   * most one past the current snapshot (entries it does not cover must
   * stay). Safe alongside `write`, which only touches later entries.
   */
  async compactLog (upTo: number, options?: AbortOptions): Promise<void> {
    const covered = this.current?.meta.index ?? 0
    if (upTo > covered + 1) {
      throw new Error(`cannot compact the log up to ${upTo}: the current snapshot only covers up to ${covered}`)
    }
    // lowest first, so an interruption leaves a log that still reaches back to `upTo`
    while (this.firstIndex < upTo) {
      const from = this.firstIndex
      const to = Math.min(upTo, from + MAX_BATCH_DELETES)
      await deleteKeys(this.datastore, keyRange(from, to, i => this.entryKey(i)), options)
      this.firstIndex = Math.max(this.firstIndex, to)
    }
  }

  /**
   * Rewrites stored entries in place, in one batch: each replaces the stored
   * entry of the same index, which must have the same term. Only for tools
   * that change a stopped member's stored configuration (`recoverCluster`):
   * a running node never changes an entry it holds.
   */
  async overwriteEntries (entries: Entry[], options?: AbortOptions): Promise<void> {
    const batch = this.datastore.batch()
    for (const entry of entries) {
      const stored = await this.getOptional(this.entryKey(entry.index), decodeEntry, options)
      if (stored?.term !== entry.term || entry.index < this.firstIndex) {
        throw new Error(`cannot overwrite entry ${entry.index} of term ${entry.term}: the log holds no such entry`)
      }
      batch.put(this.entryKey(entry.index), encodeEntry(entry))
    }
    await batch.commit(options)
  }

  /**
   * Gives the current snapshot new metadata of the same index and term; its
   * data stays. Only for the tools `overwriteEntries` serves.
   */
  async replaceSnapshotMeta (meta: SnapshotMeta, options?: AbortOptions): Promise<void> {
    await this.exclusive(async () => {
      const current = this.current
      if (current?.meta.index !== meta.index || current.meta.term !== meta.term) {
        throw new Error(`cannot replace the metadata of the snapshot at ${meta.index} of term ${meta.term}: it is not the current one`)
      }
      await this.point({ ...current, meta }, options)
    })
  }

  /** The snapshot's chunks in order, one read at a time; see `SnapshotStore.read`. */
  readSnapshot (snapshot: StoredSnapshot, options?: AbortOptions): AsyncGenerator<Uint8Array> {
    return this.snapshots.read(snapshot, options)
  }

  /** The snapshot's whole data, verified against its size and checksum. */
  async snapshotData (snapshot: StoredSnapshot, options?: AbortOptions): Promise<Uint8Array> {
    const data = new Uint8Array(snapshot.size)
    let offset = 0
    for await (const chunk of this.readSnapshot(snapshot, options)) {
      // readSnapshot fails before yielding more than `size` bytes
      data.set(chunk, offset)
      offset += chunk.byteLength
    }
    return data
  }

  /** Moves the `snapshot` pointer; callers hold the `exclusive` turn. */
  private async point (snapshot: StoredSnapshot, options?: AbortOptions): Promise<void> {
    await this.datastore.put(this.pointerKey(), encodeSnapshotRecord(snapshot), options)
    this.current = snapshot
  }

  /** Runs `fn` after every earlier pointer move, so no two interleave their check and their move. */
  private async exclusive<T> (fn: () => Promise<T>): Promise<T> {
    const result = this.switching.then(fn)
    this.switching = result.catch(() => {})
    return result
  }
}

/**
 * Whether a stored log can follow snapshot (S, T): it is empty, starts at
 * S + 1, or holds entry S with term T (compaction keeps entries at or
 * below S, the first one as the log's starting point).
 */
function followsSnapshot (log: Entry[], snapshot: SnapshotMeta | undefined): boolean {
  const first = log[0]
  const { index, term } = snapshot ?? { index: 0, term: 0 }
  if (first === undefined || first.index === index + 1) {
    return true
  }
  return index >= first.index && log[index - first.index]?.term === term
}

/** The entries up to the first gap: an interrupted write can only have lost a tail. */
function contiguousPrefix (entries: Entry[]): Entry[] {
  const out: Entry[] = []
  for (const entry of entries) {
    const previous = out.at(-1)
    if (previous !== undefined && entry.index !== previous.index + 1) {
      break
    }
    out.push(entry)
  }
  return out
}
