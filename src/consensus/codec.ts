import { InvalidParametersError } from '../errors.ts'

/**
 * Turns values (states, ops) into the bytes stored in the Raft log and in
 * snapshots, and back. `decode(encode(v))` must give a value equal to `v`,
 * and `decode` must be deterministic: every member decodes every entry.
 *
 * The default is {@link jsonCodec}. Any serialisation fits; for example
 * CBOR with [cborg](https://www.npmjs.com/package/cborg):
 *
 * @example
 *
 * ```TypeScript
 * import * as cborg from 'cborg'
 * import type { Codec } from 'libp2p-raft/consensus'
 *
 * const cbor: Codec<PinOp> = {
 *   encode: (op) => cborg.encode(op),
 *   decode: (bytes) => cborg.decode(bytes)
 * }
 * ```
 *
 * or protobuf with a [protons](https://www.npmjs.com/package/protons)
 * generated message, whose `encode`/`decode` already have this shape:
 *
 * ```TypeScript
 * import { PinOp } from './pin-op.ts' // generated from pin-op.proto
 *
 * const protobuf: Codec<PinOp> = { encode: (op) => PinOp.encode(op), decode: (bytes) => PinOp.decode(bytes) }
 * ```
 */
export interface Codec<T> {
  /** Serialises a value. May throw if the value cannot be represented. */
  encode(value: T): Uint8Array
  /** Parses what `encode` produced. Must throw on bytes it cannot parse. */
  decode(bytes: Uint8Array): T
}

/**
 * UTF-8 JSON. Values must survive `JSON.stringify`/`JSON.parse` unchanged:
 * plain objects, arrays, strings, finite numbers, booleans and `null` (no
 * `Map`, `Set`, `Uint8Array`, `bigint` or `undefined` properties).
 */
export class JsonCodec<T> implements Codec<T> {
  private readonly encoder = new TextEncoder()
  private readonly decoder = new TextDecoder('utf-8', { fatal: true })

  encode (value: T): Uint8Array {
    const text: string | undefined = JSON.stringify(value)
    if (text === undefined) {
      throw new InvalidParametersError('The value cannot be encoded as JSON')
    }
    return this.encoder.encode(text)
  }

  decode (bytes: Uint8Array): T {
    return JSON.parse(this.decoder.decode(bytes))
  }
}

/** The default codec of the consensus helpers: UTF-8 JSON (see {@link JsonCodec}). */
export function jsonCodec<T> (): Codec<T> {
  return new JsonCodec<T>()
}
