/**
 * The datastore form of the snapshot pointer: a protobuf `SnapshotRecord`.
 */
import { InvalidMessageError } from '@libp2p/interface'
import { SnapshotRecord } from '../pb/raft.ts'
import { decodeWith, snapshotMetaFromPb, snapshotMetaToPb } from '../pb/translate.ts'
import type { StoredSnapshot } from './snapshot-store.ts'

export function encodeSnapshotRecord (snapshot: StoredSnapshot): Uint8Array {
  return SnapshotRecord.encode({
    meta: snapshotMetaToPb(snapshot.meta),
    id: snapshot.id,
    size: snapshot.size,
    chunks: snapshot.chunks,
    // protons types bytes as ArrayBuffer-backed; encoding reads any Uint8Array
    checksum: snapshot.checksum as Uint8Array<ArrayBuffer>
  })
}

export function decodeSnapshotRecord (bytes: Uint8Array): StoredSnapshot {
  const pb = decodeWith(SnapshotRecord.decode, bytes, 'snapshot record')
  if (pb.id === '') {
    // without an id there is no telling where the chunks are
    throw new InvalidMessageError('the snapshot record has no id')
  }
  return { meta: snapshotMetaFromPb(pb.meta), id: pb.id, size: pb.size, chunks: pb.chunks, checksum: pb.checksum }
}
