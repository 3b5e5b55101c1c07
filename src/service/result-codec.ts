/**
 * Apply results as text, so that a client session's results can travel in
 * snapshot metadata. JSON, with tags for what JSON cannot hold: `undefined`,
 * `bigint`, `Uint8Array`, non-finite numbers. Anything else that is not
 * plain data (functions, symbols, class instances such as `Map`) has no
 * faithful text form and is stored as `undefined`.
 */

import { fromString } from 'uint8arrays/from-string'
import { toString } from 'uint8arrays/to-string'

const TAG = '$raft'

type Tagged = { [TAG]: 'undefined' } | { [TAG]: 'bigint' | 'bytes' | 'number', value: string }

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
        return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toJson(item)]))
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
    const { [TAG]: kind, value: text } = value as Tagged & { value: string }
    switch (kind) {
      case 'bigint': return BigInt(text)
      case 'bytes': return fromString(text, 'base64')
      case 'number': return Number(text)
      default: return undefined
    }
  }
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, fromJson(item)]))
}
