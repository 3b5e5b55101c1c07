import { sha256 } from '@noble/hashes/sha2.js'
import { Key } from 'interface-datastore'
import { equals as uint8ArrayEquals } from 'uint8arrays/equals'
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import { SNAPSHOT_CHUNK_SIZE } from '../constants.ts'
import { InvalidSnapshotError } from '../errors.ts'
import { deleteKeys, keyRange } from './batched-delete.ts'
import type { SnapshotMeta } from '../core/index.ts'
import type { AbortOptions } from '@libp2p/interface'
import type { Datastore } from 'interface-datastore'

/** Chunk numbers are zero-padded so key order is chunk order. */
const CHUNK_WIDTH = 10
/** Chunks put per batch when saving: bounds a batch's size without a commit per chunk. */
const CHUNKS_PER_BATCH = 4

/** A durable snapshot: its Raft metadata and where its data is. */
export interface StoredSnapshot {
  meta: SnapshotMeta
  /** Names the snapshot's chunk directory; unique per snapshot */
  id: string
  /** Bytes of data */
  size: number
  /** Number of chunks (0 for empty data) */
  chunks: number
  /** SHA-256 of the whole data */
  checksum: Uint8Array
}

/** A snapshot being received from a leader, chunk by chunk; not visible until installSnapshot. */
export interface IncomingSnapshot {
  /** Stores the next chunk (awaiting it is the receiver's back-pressure); throws InvalidSnapshotError if it exceeds the announced size/chunk count */
  write(chunk: Uint8Array, options?: AbortOptions): Promise<void>
  /** Checks chunk count, size and checksum (InvalidSnapshotError if wrong, after discarding); returns the staged snapshot */
  finish(options?: AbortOptions): Promise<StoredSnapshot>
  /** Deletes whatever was staged; nothing once `finish` succeeded (its result owns the chunks then: see `RaftStorage.discardSnapshot`) */
  discard(options?: AbortOptions): Promise<void>
}

/**
 * Snapshot data, as chunks under `<root>/snapshots/<id>/<chunk>`. It knows
 * nothing of which snapshot is current: chunks written here stay invisible
 * until the caller points at them, and the caller says when to remove them.
 */
export class SnapshotStore {
  private readonly datastore: Datastore
  private readonly prefix: string
  /** Reads in progress per snapshot id */
  private readonly readers = new Map<string, number>()
  /** Replaced snapshots (id → chunks) whose removal waits for their last reader */
  private readonly retired = new Map<string, number>()

  constructor (datastore: Datastore, root: Key) {
    this.datastore = datastore
    this.prefix = root.child(new Key('snapshots')).toString() + '/'
  }

  private chunkKey (id: string, chunk: number): Key {
    return new Key(`${this.prefix}${id}/${String(chunk).padStart(CHUNK_WIDTH, '0')}`)
  }

  /** Writes `data` as the chunks of a new snapshot that nothing points at yet. */
  async save (meta: SnapshotMeta, data: Uint8Array, options?: AbortOptions): Promise<StoredSnapshot> {
    const id = newId(meta)
    const chunks = Math.ceil(data.byteLength / SNAPSHOT_CHUNK_SIZE)
    for (let first = 0; first < chunks; first += CHUNKS_PER_BATCH) {
      const batch = this.datastore.batch()
      for (let n = first; n < Math.min(chunks, first + CHUNKS_PER_BATCH); n++) {
        // a copy: a memory datastore keeps the value it is given, and the caller may reuse `data`
        batch.put(this.chunkKey(id, n), data.slice(n * SNAPSHOT_CHUNK_SIZE, (n + 1) * SNAPSHOT_CHUNK_SIZE))
      }
      await batch.commit(options)
    }
    return { meta, id, size: data.byteLength, chunks, checksum: sha256(data) }
  }

  /** Stages a snapshot that arrives chunk by chunk, under a new id. */
  receive (meta: SnapshotMeta, size: number, chunks: number, checksum: Uint8Array): IncomingSnapshot {
    const id = newId(meta)
    return new StagedSnapshot(this.datastore, { meta, id, size, chunks, checksum }, n => this.chunkKey(id, n))
  }

  /**
   * Yields the chunks in order, one read at a time, and fails with
   * `InvalidSnapshotError` on a missing chunk or, at the end, on a size or
   * checksum mismatch: what was yielded is only trustworthy once the
   * generator completes.
   */
  async * read (snapshot: StoredSnapshot, options?: AbortOptions): AsyncGenerator<Uint8Array> {
    this.readers.set(snapshot.id, (this.readers.get(snapshot.id) ?? 0) + 1)
    try {
      const check = new DataCheck(snapshot)
      for (let n = 0; n < snapshot.chunks; n++) {
        const chunk = await this.getChunk(snapshot.id, n, options)
        check.add(chunk)
        yield chunk
      }
      check.verify()
    } finally {
      await this.release(snapshot.id)
    }
  }

  /**
   * Deletes a snapshot's chunks; while it is being read (say, streamed to a
   * follower) the last reader deletes them instead, so a new snapshot never
   * breaks a transfer of the previous one.
   */
  async remove (snapshot: Pick<StoredSnapshot, 'id' | 'chunks'>, options?: AbortOptions): Promise<void> {
    if (this.readers.has(snapshot.id)) {
      this.retired.set(snapshot.id, snapshot.chunks)
      return
    }
    await deleteKeys(this.datastore, keyRange(0, snapshot.chunks, n => this.chunkKey(snapshot.id, n)), options)
  }

  /** Deletes the chunks of every snapshot but `keep`: leftovers of saves and transfers a crash interrupted. */
  async removeAllExcept (keep: string | undefined, options?: AbortOptions): Promise<void> {
    const doomed: Key[] = []
    for await (const key of this.datastore.queryKeys({ prefix: this.prefix }, options)) {
      const id = key.toString().slice(this.prefix.length).split('/')[0]
      if (id !== keep) {
        doomed.push(key)
      }
    }
    await deleteKeys(this.datastore, doomed, options)
  }

  private async getChunk (id: string, n: number, options?: AbortOptions): Promise<Uint8Array> {
    try {
      return await this.datastore.get(this.chunkKey(id, n), options)
    } catch (err: any) {
      if (err.name === 'NotFoundError') {
        throw new InvalidSnapshotError(`chunk ${n} of snapshot ${id} is missing`)
      }
      throw err
    }
  }

  private async release (id: string): Promise<void> {
    const readers = (this.readers.get(id) ?? 1) - 1
    if (readers > 0) {
      this.readers.set(id, readers)
      return
    }
    this.readers.delete(id)
    const chunks = this.retired.get(id)
    if (chunks !== undefined) {
      this.retired.delete(id)
      // the reader's own outcome does not depend on this; the next load removes what a failure leaves
      await this.remove({ id, chunks }).catch(() => {})
    }
  }
}

/** A snapshot's chunks as they arrive; nothing points at them until the caller installs the result. */
class StagedSnapshot implements IncomingSnapshot {
  private readonly datastore: Datastore
  private readonly snapshot: StoredSnapshot
  private readonly chunkKey: (n: number) => Key
  private readonly check: DataCheck
  /** Chunk numbers ever put: a put that failed may still have landed */
  private attempted = 0
  private writing: Promise<unknown> | undefined
  private closed = false
  private finished = false

  constructor (datastore: Datastore, snapshot: StoredSnapshot, chunkKey: (n: number) => Key) {
    this.datastore = datastore
    this.snapshot = snapshot
    this.chunkKey = chunkKey
    this.check = new DataCheck(snapshot)
  }

  /** Any failure discards everything staged, so the caller never has to tell what is left. */
  async write (chunk: Uint8Array, options?: AbortOptions): Promise<void> {
    this.assertOpen()
    if (this.writing !== undefined) {
      throw new Error('the previous chunk is still being written; await each write')
    }
    try {
      const n = this.check.chunks
      this.check.add(chunk)
      this.attempted = n + 1
      // a copy: a stream's chunk may be a view into a larger buffer the datastore would keep alive
      this.writing = Promise.resolve(this.datastore.put(this.chunkKey(n), chunk.slice(), options))
      await this.writing
    } catch (err) {
      await this.discardQuietly()
      throw err
    } finally {
      this.writing = undefined
    }
  }

  async finish (options?: AbortOptions): Promise<StoredSnapshot> {
    this.assertOpen()
    if (this.writing !== undefined) {
      throw new Error('a chunk is still being written; await each write')
    }
    this.closed = true
    try {
      this.check.verify()
    } catch (err) {
      await this.discardQuietly(options)
      throw err
    }
    this.finished = true
    return this.snapshot
  }

  async discard (options?: AbortOptions): Promise<void> {
    this.closed = true
    if (this.finished) {
      // a late cleanup must not delete a snapshot that may already be installed
      return
    }
    await this.writing?.catch(() => {})
    await deleteKeys(this.datastore, keyRange(0, this.attempted, this.chunkKey), options)
  }

  /** Discards without masking the error that called for it; the next load removes what a failure leaves. */
  private async discardQuietly (options?: AbortOptions): Promise<void> {
    await this.discard(options).catch(() => {})
  }

  private assertOpen (): void {
    if (this.closed) {
      throw new Error(`incoming snapshot ${this.snapshot.id} was already finished or discarded`)
    }
  }
}

/** The running chunk count, size and SHA-256 of a snapshot's data, against what its metadata promises. */
class DataCheck {
  chunks = 0
  private size = 0
  private readonly hash = sha256.create()
  private readonly expected: StoredSnapshot

  constructor (expected: StoredSnapshot) {
    this.expected = expected
  }

  /** Fails as soon as the data outgrows the promise, before anyone stores or uses the excess. */
  add (chunk: Uint8Array): void {
    const { id, chunks, size } = this.expected
    if (this.chunks + 1 > chunks || this.size + chunk.byteLength > size) {
      throw new InvalidSnapshotError(`snapshot ${id} has more than the ${chunks} chunks and ${size} bytes announced`)
    }
    this.hash.update(chunk)
    this.chunks++
    this.size += chunk.byteLength
  }

  verify (): void {
    const { id, chunks, size, checksum } = this.expected
    if (this.chunks !== chunks || this.size !== size) {
      throw new InvalidSnapshotError(`snapshot ${id} has ${this.chunks} chunks and ${this.size} bytes, not the ${chunks} chunks and ${size} bytes announced`)
    }
    if (!uint8ArrayEquals(this.hash.digest(), checksum)) {
      throw new InvalidSnapshotError(`snapshot ${id} does not match its checksum`)
    }
  }
}

/** `<20-digit index>-<term>-<random hex>`: sorts by index, and two saves of one index never share chunks. */
function newId (meta: SnapshotMeta): string {
  const nonce = globalThis.crypto.getRandomValues(new Uint8Array(8))
  return `${String(meta.index).padStart(20, '0')}-${meta.term}-${uint8ArrayToString(nonce, 'base16')}`
}
