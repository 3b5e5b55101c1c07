/**
 * Apply results as text, so that a client session's results can travel in
 * snapshot metadata. JSON, with tags for what JSON cannot hold: `undefined`,
 * `bigint`, `Uint8Array`, non-finite numbers, and plain objects that have a
 * key named like the tag. Anything else that is not plain data (functions,
 * symbols, class instances such as `Map`) has no faithful text form and is
 * stored as `undefined`. A circular value throws.
 */

import { fromString } from 'uint8arrays/from-string'
import { toString } from 'uint8arrays/to-string'

const TAG = '$raft'

type Tagged = { [TAG]: 'undefined' } | { [TAG]: 'bigint' | 'bytes' | 'number', value: string } | { [TAG]: 'object', value: Array<[string, unknown]> }

export function encodeResult (value: unknown): string {
  return JSON.stringify(toJson(value))
}

export function decodeResult (text: string): unknown {
  return fromJson(JSON.parse(text))
}

function toJson (value: unknown): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value
    case 'number':
      return Number.isFinite(value) ? value : tagged('number', String(value))
    case 'bigint':
      return tagged('bigint', value.toString())
    case 'object':
      if (value === null) {
        return null
      }
      if (value instanceof Uint8Array) {
        return tagged('bytes', toString(value, 'base64'))
      }
      if (Array.isArray(value)) {
        return value.map(toJson)
      }
      if (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null) {
        const entries = Object.entries(value).map(([key, item]): [string, unknown] => [key, toJson(item)])
        // An object with the tag's key is written as a list of entries, so that it never reads as a tag.
        return TAG in value ? { [TAG]: 'object', value: entries } : Object.fromEntries(entries)
      }
      return { [TAG]: 'undefined' }
    default:
      return { [TAG]: 'undefined' }
  }
}

function tagged (kind: 'bigint' | 'bytes' | 'number', value: string): Tagged {
  return { [TAG]: kind, value }
}

function fromJson (value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(fromJson)
  }
  if (value === null || typeof value !== 'object') {
    return value
  }
  if (TAG in value) {
    const tagged = value as Tagged
    switch (tagged[TAG]) {
      case 'bigint': return BigInt(tagged.value)
      case 'bytes': return fromString(tagged.value, 'base64')
      case 'number': return Number(tagged.value)
      case 'object': return Object.fromEntries(tagged.value.map(([key, item]) => [key, fromJson(item)]))
      default: return undefined
    }
  }
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, fromJson(item)]))
}
