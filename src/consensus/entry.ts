import { InvalidEntryError } from '../errors.ts'

/**
 * The kind of a consensus helper's log entry:
 *
 * - `'op'`: an operation (`commitOp`; for `StateConsensus`, `commitState`, whose op is "replace");
 * - `'rollback'`: an explicit rollback to a given state (`rollback`).
 */
export type ConsensusEntryType = 'op' | 'rollback'

/** First byte of every consensus entry: tells them from other commands in the same log. */
const MAGIC = 0xcc
const TYPE_BYTES: Record<ConsensusEntryType, number> = { op: 0x01, rollback: 0x02 }

/** Frames an encoded op or state as a log command: `0xcc`, the type byte (`0x01` op, `0x02` rollback), then the payload. */
export function encodeEntry (type: ConsensusEntryType, payload: Uint8Array): Uint8Array {
  const command = new Uint8Array(payload.byteLength + 2)
  command[0] = MAGIC
  command[1] = TYPE_BYTES[type]
  command.set(payload, 2)
  return command
}

/**
 * The type of a consensus helper's log command (for example the `command`
 * of a `raft:apply` event), or `undefined` if it is not one.
 */
export function consensusEntryType (command: Uint8Array): ConsensusEntryType | undefined {
  if (command.byteLength < 2 || command[0] !== MAGIC) {
    return undefined
  }
  if (command[1] === TYPE_BYTES.op) {
    return 'op'
  }
  if (command[1] === TYPE_BYTES.rollback) {
    return 'rollback'
  }
  return undefined
}

/** Splits a log command into its type and payload; throws `InvalidEntryError` if it is not a consensus entry. */
export function decodeEntry (command: Uint8Array): { type: ConsensusEntryType, payload: Uint8Array } {
  const type = consensusEntryType(command)
  if (type === undefined) {
    throw new InvalidEntryError()
  }
  return { type, payload: command.subarray(2) }
}
