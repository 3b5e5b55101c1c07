import { sha256 } from '@noble/hashes/sha2.js'
import { Key } from 'interface-datastore'
import { SNAPSHOT_CHUNK_SIZE } from '../../src/constants.ts'
import { encodeSnapshotRecord } from '../../src/storage/snapshot-record.ts'
import type { CommandEntry, Entry, SnapshotMeta } from '../../src/core/types.ts'
import type { StoredSnapshot } from '../../src/storage/raft-storage.ts'
import type { Datastore } from 'interface-datastore'

export const ROOT = new Key('/raft/default')
export const LOG = '/raft/default/log/'
export const CHUNKS = '/raft/default/snapshots/'
export const POINTER = new Key('/raft/default/snapshot')

export function meta (index: number, term: number, voters = ['peer-a', 'peer-b', 'peer-c']): SnapshotMeta {
  return { index, term, config: { voters, learners: [] } }
}

/** `size` deterministic pseudo-random bytes, different for each `seed`. */
export function data (size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size)
  let x = seed * 2654435761 >>> 0 || 1
  for (let i = 0; i < size; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    out[i] = x & 0xff
  }
  return out
}

export function cmd (index: number, term: number): CommandEntry {
  return { type: 'command', index, term, data: Uint8Array.of(index & 0xff, term & 0xff) }
}

/** Command entries `from`..`to` (inclusive), all of `term`. */
export function run (from: number, to: number, term: number): Entry[] {
  const out: Entry[] = []
  for (let i = from; i <= to; i++) {
    out.push(cmd(i, term))
  }
  return out
}

export function ids (entries: Entry[] | undefined): Array<[number, number]> {
  return (entries ?? []).map(e => [e.index, e.term])
}

export function logKey (index: number): Key {
  return new Key(LOG + String(index).padStart(20, '0'))
}

export function chunkKey (id: string, chunk: number): Key {
  return new Key(`${CHUNKS}${id}/${String(chunk).padStart(10, '0')}`)
}

/** Every key stored under `prefix`, sorted as strings. */
export async function keysUnder (datastore: Datastore, prefix: string): Promise<string[]> {
  const out: string[] = []
  for await (const key of datastore.queryKeys({ prefix })) {
    out.push(key.toString())
  }
  return out.sort()
}

/** The stored log indexes, ascending. */
export async function storedIndexes (datastore: Datastore): Promise<number[]> {
  return (await keysUnder(datastore, LOG)).map(k => Number(k.slice(LOG.length)))
}

/** The snapshot ids that have chunks stored. */
export async function chunkIds (datastore: Datastore): Promise<string[]> {
  const keys = await keysUnder(datastore, CHUNKS)
  return [...new Set(keys.map(k => k.slice(CHUNKS.length).split('/')[0]))].sort()
}

/**
 * Writes a snapshot's chunks (and, with `point`, the pointer) by hand, the
 * way an interrupted save or transfer would have left them.
 */
export async function writeByHand (datastore: Datastore, id: string, m: SnapshotMeta, bytes: Uint8Array, point: boolean): Promise<StoredSnapshot> {
  const chunks = Math.ceil(bytes.byteLength / SNAPSHOT_CHUNK_SIZE)
  for (let n = 0; n < chunks; n++) {
    await datastore.put(chunkKey(id, n), bytes.slice(n * SNAPSHOT_CHUNK_SIZE, (n + 1) * SNAPSHOT_CHUNK_SIZE))
  }
  const snapshot = { meta: m, id, size: bytes.byteLength, chunks, checksum: sha256(bytes) }
  if (point) {
    await datastore.put(POINTER, encodeSnapshotRecord(snapshot))
  }
  return snapshot
}

/** Collects an async iterable. */
export async function collect<T> (source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of source) {
    out.push(item)
  }
  return out
}
