import { Key } from 'interface-datastore'
import { decodeEntry, decodeHardState, encodeEntry, encodeHardState } from '../codec.ts'
import type { CoreState, Entry, HardState } from '../core/index.ts'
import type { AbortOptions } from '@libp2p/interface'
import type { Datastore } from 'interface-datastore'

/** Log keys carry the index zero-padded to 20 digits, so key order is index order. */
const INDEX_WIDTH = 20

/**
 * Raft's durable state in the host's datastore, under `<prefix>/<group>/`.
 * The datastore's batches must be atomic or applied in order (LevelDB's are
 * atomic; `datastore-core` applies puts in order), so a crash cannot leave
 * a commit index without the entries it covers.
 *
 * - `state`: the hard state (term, vote, commit index);
 * - `log/<index>`: one key per log entry.
 *
 * A write puts the entries and then the hard state in one batch, so a
 * datastore with atomic batches never shows a commit index ahead of its log.
 */
export class RaftStorage {
  private readonly datastore: Datastore
  private readonly root: Key
  private readonly logPrefix: string
  /** Highest log index stored */
  private lastIndex = 0

  constructor (datastore: Datastore, root: Key) {
    this.datastore = datastore
    this.root = root
    this.logPrefix = root.child(new Key('log')).toString() + '/'
  }

  private stateKey (): Key {
    return this.root.child(new Key('state'))
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
    let hardState: HardState | undefined
    try {
      hardState = decodeHardState(await this.datastore.get(this.stateKey(), options))
    } catch (err: any) {
      if (err.name !== 'NotFoundError') {
        throw err
      }
    }
    const entries: Entry[] = []
    for await (const { value } of this.datastore.query({ prefix: this.logPrefix }, options)) {
      entries.push(decodeEntry(value))
    }
    if (hardState === undefined && entries.length === 0) {
      return undefined
    }
    entries.sort((a, b) => a.index - b.index)
    const log = contiguousPrefix(entries)
    const orphans = entries.slice(log.length)
    if (orphans.length > 0) {
      // Entries beyond a gap are leftovers of an interrupted write: a later
      // append must never find them still standing after its own entries.
      const batch = this.datastore.batch()
      for (const entry of orphans) {
        batch.delete(this.entryKey(entry.index))
      }
      await batch.commit(options)
    }
    this.lastIndex = log.at(-1)?.index ?? 0
    return { hardState, entries: log }
  }

  /**
   * Makes a batch of work durable: `entries` replace every stored entry from
   * `entries[0].index` on.
   */
  async write (hardState: HardState | undefined, entries: Entry[], options?: AbortOptions): Promise<void> {
    const first = entries[0]
    const last = entries.at(-1)
    if (first !== undefined && last !== undefined && last.index < this.lastIndex) {
      // Remove the replaced tail first: a crash in between leaves a shorter
      // prefix of the old log, never old entries after new ones.
      const stale = this.datastore.batch()
      for (let i = last.index + 1; i <= this.lastIndex; i++) {
        stale.delete(this.entryKey(i))
      }
      await stale.commit(options)
    }
    const batch = this.datastore.batch()
    for (const entry of entries) {
      batch.put(this.entryKey(entry.index), encodeEntry(entry))
    }
    if (hardState !== undefined) {
      batch.put(this.stateKey(), encodeHardState(hardState))
    }
    await batch.commit(options)
    if (last !== undefined) {
      this.lastIndex = last.index
    }
  }
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
