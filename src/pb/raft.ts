import { decodeMessage, encodeMessage, enumeration, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface Configuration {
  voters: string[]
  learners: string[]
  addresses: MemberListenAddresses[]
}

export namespace Configuration {
  let _codec: Codec<Configuration>

  export const codec = (): Codec<Configuration> => {
    if (_codec == null) {
      _codec = message<Configuration>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.voters != null && obj.voters.length > 0) {
          for (const value of obj.voters) {
            w.uint32(10)
            w.string(value)
          }
        }

        if (obj.learners != null && obj.learners.length > 0) {
          for (const value of obj.learners) {
            w.uint32(18)
            w.string(value)
          }
        }

        if (obj.addresses != null && obj.addresses.length > 0) {
          for (const value of obj.addresses) {
            w.uint32(26)
            MemberListenAddresses.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          voters: [],
          learners: [],
          addresses: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.voters != null && obj.voters.length === opts.limits.voters) {
                throw new MaxLengthError('Decode error - repeated field "voters" had too many elements')
              }

              obj.voters.push(reader.string())
              break
            }
            case 2: {
              if (opts.limits?.learners != null && obj.learners.length === opts.limits.learners) {
                throw new MaxLengthError('Decode error - repeated field "learners" had too many elements')
              }

              obj.learners.push(reader.string())
              break
            }
            case 3: {
              if (opts.limits?.addresses != null && obj.addresses.length === opts.limits.addresses) {
                throw new MaxLengthError('Decode error - repeated field "addresses" had too many elements')
              }

              obj.addresses.push(MemberListenAddresses.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.addresses$
              }))
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          voters: 0,
          learners: 0,
          addresses: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.voters != null && obj.voters === opts.limits.voters) {
                throw new MaxLengthError('Streaming decode error - repeated field "voters" had too many elements')
              }

              yield {
                field: `${prefix}.voters[]`,
                index: obj.voters,
                value: reader.string()
              }

              obj.voters++

              break
            }
            case 2: {
              if (opts.limits?.learners != null && obj.learners === opts.limits.learners) {
                throw new MaxLengthError('Streaming decode error - repeated field "learners" had too many elements')
              }

              yield {
                field: `${prefix}.learners[]`,
                index: obj.learners,
                value: reader.string()
              }

              obj.learners++

              break
            }
            case 3: {
              if (opts.limits?.addresses != null && obj.addresses === opts.limits.addresses) {
                throw new MaxLengthError('Streaming decode error - repeated field "addresses" had too many elements')
              }

              for (const evt of MemberListenAddresses.codec().stream(reader, reader.uint32(), `${prefix}.addresses[]`, {
                limits: opts.limits?.addresses$
              })) {
                yield {
                  ...evt,
                  index: obj.addresses
                }
              }

              obj.addresses++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ConfigurationVotersFieldEvent {
    field: '$.voters[]'
    index: number
    value: string
  }

  export interface ConfigurationLearnersFieldEvent {
    field: '$.learners[]'
    index: number
    value: string
  }

  export interface ConfigurationAddressesIdFieldEvent {
    field: '$.addresses[].id'
    value: string
    index: number
  }

  export interface ConfigurationAddressesMultiaddrsFieldEvent {
    field: '$.addresses[].multiaddrs[]'
    index: number
    value: string
  }

  export function encode (obj: Partial<Configuration>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Configuration.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Configuration>): Configuration {
    return decodeMessage(buf, Configuration.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Configuration>): Generator<ConfigurationVotersFieldEvent | ConfigurationLearnersFieldEvent | ConfigurationAddressesIdFieldEvent | ConfigurationAddressesMultiaddrsFieldEvent> {
    return streamMessage(buf, Configuration.codec(), opts)
  }
}

export interface MemberListenAddresses {
  id: string
  multiaddrs: string[]
}

export namespace MemberListenAddresses {
  let _codec: Codec<MemberListenAddresses>

  export const codec = (): Codec<MemberListenAddresses> => {
    if (_codec == null) {
      _codec = message<MemberListenAddresses>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.id != null && obj.id !== '')) {
          w.uint32(10)
          w.string(obj.id)
        }

        if (obj.multiaddrs != null && obj.multiaddrs.length > 0) {
          for (const value of obj.multiaddrs) {
            w.uint32(18)
            w.string(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          id: '',
          multiaddrs: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.id = reader.string()
              break
            }
            case 2: {
              if (opts.limits?.multiaddrs != null && obj.multiaddrs.length === opts.limits.multiaddrs) {
                throw new MaxLengthError('Decode error - repeated field "multiaddrs" had too many elements')
              }

              obj.multiaddrs.push(reader.string())
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          multiaddrs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.id`,
                value: reader.string()
              }
              break
            }
            case 2: {
              if (opts.limits?.multiaddrs != null && obj.multiaddrs === opts.limits.multiaddrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "multiaddrs" had too many elements')
              }

              yield {
                field: `${prefix}.multiaddrs[]`,
                index: obj.multiaddrs,
                value: reader.string()
              }

              obj.multiaddrs++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface MemberListenAddressesIdFieldEvent {
    field: '$.id'
    value: string
  }

  export interface MemberListenAddressesMultiaddrsFieldEvent {
    field: '$.multiaddrs[]'
    index: number
    value: string
  }

  export function encode (obj: Partial<MemberListenAddresses>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, MemberListenAddresses.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<MemberListenAddresses>): MemberListenAddresses {
    return decodeMessage(buf, MemberListenAddresses.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<MemberListenAddresses>): Generator<MemberListenAddressesIdFieldEvent | MemberListenAddressesMultiaddrsFieldEvent> {
    return streamMessage(buf, MemberListenAddresses.codec(), opts)
  }
}

export interface Entry {
  index: number
  term: number
  type: Entry.Type
  data: Uint8Array<ArrayBuffer>
  config?: Configuration
  request?: number
  session?: SessionStamp
}

export namespace Entry {
  export enum Type {
    COMMAND = 'COMMAND',
    NOOP = 'NOOP',
    CONFIG = 'CONFIG'
  }

  enum __TypeValues {
    COMMAND = 0,
    NOOP = 1,
    CONFIG = 2
  }

  export namespace Type {
    export const codec = (): Codec<Type> => {
      return enumeration<Type>(__TypeValues)
    }
  }

  let _codec: Codec<Entry>

  export const codec = (): Codec<Entry> => {
    if (_codec == null) {
      _codec = message<Entry>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.index != null && obj.index !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.index)
        }

        if ((obj.term != null && obj.term !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.term)
        }

        if (obj.type != null && __TypeValues[obj.type] !== 0) {
          w.uint32(24)
          Entry.Type.codec().encode(obj.type, w)
        }

        if ((obj.data != null && obj.data.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.data)
        }

        if (obj.config != null) {
          w.uint32(42)
          Configuration.codec().encode(obj.config, w)
        }

        if (obj.request != null) {
          w.uint32(48)
          w.uint64Number(obj.request)
        }

        if (obj.session != null) {
          w.uint32(58)
          SessionStamp.codec().encode(obj.session, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          index: 0,
          term: 0,
          type: Type.COMMAND,
          data: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.index = reader.uint64Number()
              break
            }
            case 2: {
              obj.term = reader.uint64Number()
              break
            }
            case 3: {
              obj.type = Entry.Type.codec().decode(reader)
              break
            }
            case 4: {
              obj.data = reader.bytes()
              break
            }
            case 5: {
              obj.config = Configuration.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.config
              })
              break
            }
            case 6: {
              obj.request = reader.uint64Number()
              break
            }
            case 7: {
              obj.session = SessionStamp.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.session
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.index`,
                value: reader.uint64Number()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.term`,
                value: reader.uint64Number()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.type`,
                value: Entry.Type.codec().decode(reader)
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.data`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield * Configuration.codec().stream(reader, reader.uint32(), `${prefix}.config`, {
                limits: opts.limits?.config
              })

              break
            }
            case 6: {
              yield {
                field: `${prefix}.request`,
                value: reader.uint64Number()
              }
              break
            }
            case 7: {
              yield * SessionStamp.codec().stream(reader, reader.uint32(), `${prefix}.session`, {
                limits: opts.limits?.session
              })

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface EntryIndexFieldEvent {
    field: '$.index'
    value: number
  }

  export interface EntryTermFieldEvent {
    field: '$.term'
    value: number
  }

  export interface EntryTypeFieldEvent {
    field: '$.type'
    value: Entry.Type
  }

  export interface EntryDataFieldEvent {
    field: '$.data'
    value: Uint8Array<ArrayBuffer>
  }

  export interface EntryConfigVotersFieldEvent {
    field: '$.config.voters[]'
    index: number
    value: string
  }

  export interface EntryConfigLearnersFieldEvent {
    field: '$.config.learners[]'
    index: number
    value: string
  }

  export interface EntryConfigAddressesIdFieldEvent {
    field: '$.config.addresses[].id'
    value: string
    index: number
  }

  export interface EntryConfigAddressesMultiaddrsFieldEvent {
    field: '$.config.addresses[].multiaddrs[]'
    index: number
    value: string
  }

  export interface EntryRequestFieldEvent {
    field: '$.request'
    value: number
  }

  export interface EntrySessionClientFieldEvent {
    field: '$.session.client'
    value: number
  }

  export interface EntrySessionSequenceFieldEvent {
    field: '$.session.sequence'
    value: number
  }

  export interface EntrySessionAcknowledgedFieldEvent {
    field: '$.session.acknowledged'
    value: number
  }

  export function encode (obj: Partial<Entry>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Entry.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Entry>): Entry {
    return decodeMessage(buf, Entry.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Entry>): Generator<EntryIndexFieldEvent | EntryTermFieldEvent | EntryTypeFieldEvent | EntryDataFieldEvent | EntryConfigVotersFieldEvent | EntryConfigLearnersFieldEvent | EntryConfigAddressesIdFieldEvent | EntryConfigAddressesMultiaddrsFieldEvent | EntryRequestFieldEvent | EntrySessionClientFieldEvent | EntrySessionSequenceFieldEvent | EntrySessionAcknowledgedFieldEvent> {
    return streamMessage(buf, Entry.codec(), opts)
  }
}

export interface SessionStamp {
  client: number
  sequence: number
  acknowledged: number
}

export namespace SessionStamp {
  let _codec: Codec<SessionStamp>

  export const codec = (): Codec<SessionStamp> => {
    if (_codec == null) {
      _codec = message<SessionStamp>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.client != null && obj.client !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.client)
        }

        if ((obj.sequence != null && obj.sequence !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.sequence)
        }

        if ((obj.acknowledged != null && obj.acknowledged !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.acknowledged)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          client: 0,
          sequence: 0,
          acknowledged: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.client = reader.uint64Number()
              break
            }
            case 2: {
              obj.sequence = reader.uint64Number()
              break
            }
            case 3: {
              obj.acknowledged = reader.uint64Number()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.client`,
                value: reader.uint64Number()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.sequence`,
                value: reader.uint64Number()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.acknowledged`,
                value: reader.uint64Number()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface SessionStampClientFieldEvent {
    field: '$.client'
    value: number
  }

  export interface SessionStampSequenceFieldEvent {
    field: '$.sequence'
    value: number
  }

  export interface SessionStampAcknowledgedFieldEvent {
    field: '$.acknowledged'
    value: number
  }

  export function encode (obj: Partial<SessionStamp>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SessionStamp.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SessionStamp>): SessionStamp {
    return decodeMessage(buf, SessionStamp.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SessionStamp>): Generator<SessionStampClientFieldEvent | SessionStampSequenceFieldEvent | SessionStampAcknowledgedFieldEvent> {
    return streamMessage(buf, SessionStamp.codec(), opts)
  }
}

export interface SessionTable {
  sessions: ClientSession[]
}

export namespace SessionTable {
  let _codec: Codec<SessionTable>

  export const codec = (): Codec<SessionTable> => {
    if (_codec == null) {
      _codec = message<SessionTable>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.sessions != null && obj.sessions.length > 0) {
          for (const value of obj.sessions) {
            w.uint32(10)
            ClientSession.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          sessions: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.sessions != null && obj.sessions.length === opts.limits.sessions) {
                throw new MaxLengthError('Decode error - repeated field "sessions" had too many elements')
              }

              obj.sessions.push(ClientSession.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.sessions$
              }))
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          sessions: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.sessions != null && obj.sessions === opts.limits.sessions) {
                throw new MaxLengthError('Streaming decode error - repeated field "sessions" had too many elements')
              }

              for (const evt of ClientSession.codec().stream(reader, reader.uint32(), `${prefix}.sessions[]`, {
                limits: opts.limits?.sessions$
              })) {
                yield {
                  ...evt,
                  index: obj.sessions
                }
              }

              obj.sessions++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface SessionTableSessionsClientFieldEvent {
    field: '$.sessions[].client'
    value: number
    index: number
  }

  export interface SessionTableSessionsClosedUpToFieldEvent {
    field: '$.sessions[].closedUpTo'
    value: number
    index: number
  }

  export interface SessionTableSessionsResultsSequenceFieldEvent {
    field: '$.sessions[].results[].sequence'
    value: number
    index: number
  }

  export interface SessionTableSessionsResultsValueFieldEvent {
    field: '$.sessions[].results[].value'
    value: string
    index: number
  }

  export interface SessionTableSessionsResultsErrorNameFieldEvent {
    field: '$.sessions[].results[].errorName'
    value: string
    index: number
  }

  export interface SessionTableSessionsResultsErrorMessageFieldEvent {
    field: '$.sessions[].results[].errorMessage'
    value: string
    index: number
  }

  export function encode (obj: Partial<SessionTable>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SessionTable.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SessionTable>): SessionTable {
    return decodeMessage(buf, SessionTable.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SessionTable>): Generator<SessionTableSessionsClientFieldEvent | SessionTableSessionsClosedUpToFieldEvent | SessionTableSessionsResultsSequenceFieldEvent | SessionTableSessionsResultsValueFieldEvent | SessionTableSessionsResultsErrorNameFieldEvent | SessionTableSessionsResultsErrorMessageFieldEvent> {
    return streamMessage(buf, SessionTable.codec(), opts)
  }
}

export interface ClientSession {
  client: number
  closedUpTo: number
  results: SessionResult[]
}

export namespace ClientSession {
  let _codec: Codec<ClientSession>

  export const codec = (): Codec<ClientSession> => {
    if (_codec == null) {
      _codec = message<ClientSession>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.client != null && obj.client !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.client)
        }

        if ((obj.closedUpTo != null && obj.closedUpTo !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.closedUpTo)
        }

        if (obj.results != null && obj.results.length > 0) {
          for (const value of obj.results) {
            w.uint32(26)
            SessionResult.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          client: 0,
          closedUpTo: 0,
          results: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.client = reader.uint64Number()
              break
            }
            case 2: {
              obj.closedUpTo = reader.uint64Number()
              break
            }
            case 3: {
              if (opts.limits?.results != null && obj.results.length === opts.limits.results) {
                throw new MaxLengthError('Decode error - repeated field "results" had too many elements')
              }

              obj.results.push(SessionResult.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.results$
              }))
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          results: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.client`,
                value: reader.uint64Number()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.closedUpTo`,
                value: reader.uint64Number()
              }
              break
            }
            case 3: {
              if (opts.limits?.results != null && obj.results === opts.limits.results) {
                throw new MaxLengthError('Streaming decode error - repeated field "results" had too many elements')
              }

              for (const evt of SessionResult.codec().stream(reader, reader.uint32(), `${prefix}.results[]`, {
                limits: opts.limits?.results$
              })) {
                yield {
                  ...evt,
                  index: obj.results
                }
              }

              obj.results++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ClientSessionClientFieldEvent {
    field: '$.client'
    value: number
  }

  export interface ClientSessionClosedUpToFieldEvent {
    field: '$.closedUpTo'
    value: number
  }

  export interface ClientSessionResultsSequenceFieldEvent {
    field: '$.results[].sequence'
    value: number
    index: number
  }

  export interface ClientSessionResultsValueFieldEvent {
    field: '$.results[].value'
    value: string
    index: number
  }

  export interface ClientSessionResultsErrorNameFieldEvent {
    field: '$.results[].errorName'
    value: string
    index: number
  }

  export interface ClientSessionResultsErrorMessageFieldEvent {
    field: '$.results[].errorMessage'
    value: string
    index: number
  }

  export function encode (obj: Partial<ClientSession>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ClientSession.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ClientSession>): ClientSession {
    return decodeMessage(buf, ClientSession.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ClientSession>): Generator<ClientSessionClientFieldEvent | ClientSessionClosedUpToFieldEvent | ClientSessionResultsSequenceFieldEvent | ClientSessionResultsValueFieldEvent | ClientSessionResultsErrorNameFieldEvent | ClientSessionResultsErrorMessageFieldEvent> {
    return streamMessage(buf, ClientSession.codec(), opts)
  }
}

export interface SessionResult {
  sequence: number
  value?: string
  errorName?: string
  errorMessage?: string
}

export namespace SessionResult {
  let _codec: Codec<SessionResult>

  export const codec = (): Codec<SessionResult> => {
    if (_codec == null) {
      _codec = message<SessionResult>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.sequence != null && obj.sequence !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.sequence)
        }

        if (obj.value != null) {
          w.uint32(18)
          w.string(obj.value)
        }

        if (obj.errorName != null) {
          w.uint32(26)
          w.string(obj.errorName)
        }

        if (obj.errorMessage != null) {
          w.uint32(34)
          w.string(obj.errorMessage)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          sequence: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.sequence = reader.uint64Number()
              break
            }
            case 2: {
              obj.value = reader.string()
              break
            }
            case 3: {
              obj.errorName = reader.string()
              break
            }
            case 4: {
              obj.errorMessage = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.sequence`,
                value: reader.uint64Number()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.value`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.errorName`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.errorMessage`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface SessionResultSequenceFieldEvent {
    field: '$.sequence'
    value: number
  }

  export interface SessionResultValueFieldEvent {
    field: '$.value'
    value: string
  }

  export interface SessionResultErrorNameFieldEvent {
    field: '$.errorName'
    value: string
  }

  export interface SessionResultErrorMessageFieldEvent {
    field: '$.errorMessage'
    value: string
  }

  export function encode (obj: Partial<SessionResult>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SessionResult.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SessionResult>): SessionResult {
    return decodeMessage(buf, SessionResult.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SessionResult>): Generator<SessionResultSequenceFieldEvent | SessionResultValueFieldEvent | SessionResultErrorNameFieldEvent | SessionResultErrorMessageFieldEvent> {
    return streamMessage(buf, SessionResult.codec(), opts)
  }
}

export interface SnapshotMeta {
  index: number
  term: number
  config?: Configuration
  sessions?: Uint8Array<ArrayBuffer>
}

export namespace SnapshotMeta {
  let _codec: Codec<SnapshotMeta>

  export const codec = (): Codec<SnapshotMeta> => {
    if (_codec == null) {
      _codec = message<SnapshotMeta>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.index != null && obj.index !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.index)
        }

        if ((obj.term != null && obj.term !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.term)
        }

        if (obj.config != null) {
          w.uint32(26)
          Configuration.codec().encode(obj.config, w)
        }

        if (obj.sessions != null) {
          w.uint32(34)
          w.bytes(obj.sessions)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          index: 0,
          term: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.index = reader.uint64Number()
              break
            }
            case 2: {
              obj.term = reader.uint64Number()
              break
            }
            case 3: {
              obj.config = Configuration.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.config
              })
              break
            }
            case 4: {
              obj.sessions = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.index`,
                value: reader.uint64Number()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.term`,
                value: reader.uint64Number()
              }
              break
            }
            case 3: {
              yield * Configuration.codec().stream(reader, reader.uint32(), `${prefix}.config`, {
                limits: opts.limits?.config
              })

              break
            }
            case 4: {
              yield {
                field: `${prefix}.sessions`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface SnapshotMetaIndexFieldEvent {
    field: '$.index'
    value: number
  }

  export interface SnapshotMetaTermFieldEvent {
    field: '$.term'
    value: number
  }

  export interface SnapshotMetaConfigVotersFieldEvent {
    field: '$.config.voters[]'
    index: number
    value: string
  }

  export interface SnapshotMetaConfigLearnersFieldEvent {
    field: '$.config.learners[]'
    index: number
    value: string
  }

  export interface SnapshotMetaConfigAddressesIdFieldEvent {
    field: '$.config.addresses[].id'
    value: string
    index: number
  }

  export interface SnapshotMetaConfigAddressesMultiaddrsFieldEvent {
    field: '$.config.addresses[].multiaddrs[]'
    index: number
    value: string
  }

  export interface SnapshotMetaSessionsFieldEvent {
    field: '$.sessions'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<SnapshotMeta>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SnapshotMeta.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SnapshotMeta>): SnapshotMeta {
    return decodeMessage(buf, SnapshotMeta.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SnapshotMeta>): Generator<SnapshotMetaIndexFieldEvent | SnapshotMetaTermFieldEvent | SnapshotMetaConfigVotersFieldEvent | SnapshotMetaConfigLearnersFieldEvent | SnapshotMetaConfigAddressesIdFieldEvent | SnapshotMetaConfigAddressesMultiaddrsFieldEvent | SnapshotMetaSessionsFieldEvent> {
    return streamMessage(buf, SnapshotMeta.codec(), opts)
  }
}

export interface SnapshotRecord {
  meta?: SnapshotMeta
  id: string
  size: number
  chunks: number
  checksum: Uint8Array<ArrayBuffer>
}

export namespace SnapshotRecord {
  let _codec: Codec<SnapshotRecord>

  export const codec = (): Codec<SnapshotRecord> => {
    if (_codec == null) {
      _codec = message<SnapshotRecord>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.meta != null) {
          w.uint32(10)
          SnapshotMeta.codec().encode(obj.meta, w)
        }

        if ((obj.id != null && obj.id !== '')) {
          w.uint32(18)
          w.string(obj.id)
        }

        if ((obj.size != null && obj.size !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.size)
        }

        if ((obj.chunks != null && obj.chunks !== 0)) {
          w.uint32(32)
          w.uint32(obj.chunks)
        }

        if ((obj.checksum != null && obj.checksum.byteLength > 0)) {
          w.uint32(42)
          w.bytes(obj.checksum)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          id: '',
          size: 0,
          chunks: 0,
          checksum: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.meta = SnapshotMeta.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.meta
              })
              break
            }
            case 2: {
              obj.id = reader.string()
              break
            }
            case 3: {
              obj.size = reader.uint64Number()
              break
            }
            case 4: {
              obj.chunks = reader.uint32()
              break
            }
            case 5: {
              obj.checksum = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield * SnapshotMeta.codec().stream(reader, reader.uint32(), `${prefix}.meta`, {
                limits: opts.limits?.meta
              })

              break
            }
            case 2: {
              yield {
                field: `${prefix}.id`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.size`,
                value: reader.uint64Number()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.chunks`,
                value: reader.uint32()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.checksum`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface SnapshotRecordMetaIndexFieldEvent {
    field: '$.meta.index'
    value: number
  }

  export interface SnapshotRecordMetaTermFieldEvent {
    field: '$.meta.term'
    value: number
  }

  export interface SnapshotRecordMetaConfigVotersFieldEvent {
    field: '$.meta.config.voters[]'
    index: number
    value: string
  }

  export interface SnapshotRecordMetaConfigLearnersFieldEvent {
    field: '$.meta.config.learners[]'
    index: number
    value: string
  }

  export interface SnapshotRecordMetaConfigAddressesIdFieldEvent {
    field: '$.meta.config.addresses[].id'
    value: string
    index: number
  }

  export interface SnapshotRecordMetaConfigAddressesMultiaddrsFieldEvent {
    field: '$.meta.config.addresses[].multiaddrs[]'
    index: number
    value: string
  }

  export interface SnapshotRecordMetaSessionsFieldEvent {
    field: '$.meta.sessions'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SnapshotRecordIdFieldEvent {
    field: '$.id'
    value: string
  }

  export interface SnapshotRecordSizeFieldEvent {
    field: '$.size'
    value: number
  }

  export interface SnapshotRecordChunksFieldEvent {
    field: '$.chunks'
    value: number
  }

  export interface SnapshotRecordChecksumFieldEvent {
    field: '$.checksum'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<SnapshotRecord>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SnapshotRecord.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SnapshotRecord>): SnapshotRecord {
    return decodeMessage(buf, SnapshotRecord.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SnapshotRecord>): Generator<SnapshotRecordMetaIndexFieldEvent | SnapshotRecordMetaTermFieldEvent | SnapshotRecordMetaConfigVotersFieldEvent | SnapshotRecordMetaConfigLearnersFieldEvent | SnapshotRecordMetaConfigAddressesIdFieldEvent | SnapshotRecordMetaConfigAddressesMultiaddrsFieldEvent | SnapshotRecordMetaSessionsFieldEvent | SnapshotRecordIdFieldEvent | SnapshotRecordSizeFieldEvent | SnapshotRecordChunksFieldEvent | SnapshotRecordChecksumFieldEvent> {
    return streamMessage(buf, SnapshotRecord.codec(), opts)
  }
}

export interface HardState {
  term: number
  vote?: string
  commit: number
}

export namespace HardState {
  let _codec: Codec<HardState>

  export const codec = (): Codec<HardState> => {
    if (_codec == null) {
      _codec = message<HardState>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.term != null && obj.term !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.term)
        }

        if (obj.vote != null) {
          w.uint32(18)
          w.string(obj.vote)
        }

        if ((obj.commit != null && obj.commit !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.commit)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          term: 0,
          commit: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.term = reader.uint64Number()
              break
            }
            case 2: {
              obj.vote = reader.string()
              break
            }
            case 3: {
              obj.commit = reader.uint64Number()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.term`,
                value: reader.uint64Number()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.vote`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.commit`,
                value: reader.uint64Number()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface HardStateTermFieldEvent {
    field: '$.term'
    value: number
  }

  export interface HardStateVoteFieldEvent {
    field: '$.vote'
    value: string
  }

  export interface HardStateCommitFieldEvent {
    field: '$.commit'
    value: number
  }

  export function encode (obj: Partial<HardState>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, HardState.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<HardState>): HardState {
    return decodeMessage(buf, HardState.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<HardState>): Generator<HardStateTermFieldEvent | HardStateVoteFieldEvent | HardStateCommitFieldEvent> {
    return streamMessage(buf, HardState.codec(), opts)
  }
}

export interface RaftMessage {
  type: RaftMessage.Type
  from: string
  to: string
  term: number
  preVote: boolean
  lastIndex: number
  lastTerm: number
  granted: boolean
  prevIndex: number
  prevTerm: number
  entries: Entry[]
  commit: number
  success: boolean
  index: number
  hintIndex: number
  hintTerm: number
  context: number
  snapshot?: SnapshotMeta
  transfer: boolean
  leader?: string
}

export namespace RaftMessage {
  export enum Type {
    VOTE_REQUEST = 'VOTE_REQUEST',
    VOTE_RESPONSE = 'VOTE_RESPONSE',
    APPEND_REQUEST = 'APPEND_REQUEST',
    APPEND_RESPONSE = 'APPEND_RESPONSE',
    HEARTBEAT_REQUEST = 'HEARTBEAT_REQUEST',
    HEARTBEAT_RESPONSE = 'HEARTBEAT_RESPONSE',
    READ_INDEX_REQUEST = 'READ_INDEX_REQUEST',
    READ_INDEX_RESPONSE = 'READ_INDEX_RESPONSE',
    SNAPSHOT_REQUEST = 'SNAPSHOT_REQUEST',
    TIMEOUT_NOW = 'TIMEOUT_NOW'
  }

  enum __TypeValues {
    VOTE_REQUEST = 0,
    VOTE_RESPONSE = 1,
    APPEND_REQUEST = 2,
    APPEND_RESPONSE = 3,
    HEARTBEAT_REQUEST = 4,
    HEARTBEAT_RESPONSE = 5,
    READ_INDEX_REQUEST = 6,
    READ_INDEX_RESPONSE = 7,
    SNAPSHOT_REQUEST = 8,
    TIMEOUT_NOW = 9
  }

  export namespace Type {
    export const codec = (): Codec<Type> => {
      return enumeration<Type>(__TypeValues)
    }
  }

  let _codec: Codec<RaftMessage>

  export const codec = (): Codec<RaftMessage> => {
    if (_codec == null) {
      _codec = message<RaftMessage>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.type != null && __TypeValues[obj.type] !== 0) {
          w.uint32(8)
          RaftMessage.Type.codec().encode(obj.type, w)
        }

        if ((obj.from != null && obj.from !== '')) {
          w.uint32(18)
          w.string(obj.from)
        }

        if ((obj.to != null && obj.to !== '')) {
          w.uint32(26)
          w.string(obj.to)
        }

        if ((obj.term != null && obj.term !== 0)) {
          w.uint32(32)
          w.uint64Number(obj.term)
        }

        if ((obj.preVote != null && obj.preVote !== false)) {
          w.uint32(40)
          w.bool(obj.preVote)
        }

        if ((obj.lastIndex != null && obj.lastIndex !== 0)) {
          w.uint32(48)
          w.uint64Number(obj.lastIndex)
        }

        if ((obj.lastTerm != null && obj.lastTerm !== 0)) {
          w.uint32(56)
          w.uint64Number(obj.lastTerm)
        }

        if ((obj.granted != null && obj.granted !== false)) {
          w.uint32(64)
          w.bool(obj.granted)
        }

        if ((obj.prevIndex != null && obj.prevIndex !== 0)) {
          w.uint32(72)
          w.uint64Number(obj.prevIndex)
        }

        if ((obj.prevTerm != null && obj.prevTerm !== 0)) {
          w.uint32(80)
          w.uint64Number(obj.prevTerm)
        }

        if (obj.entries != null && obj.entries.length > 0) {
          for (const value of obj.entries) {
            w.uint32(90)
            Entry.codec().encode(value, w)
          }
        }

        if ((obj.commit != null && obj.commit !== 0)) {
          w.uint32(96)
          w.uint64Number(obj.commit)
        }

        if ((obj.success != null && obj.success !== false)) {
          w.uint32(104)
          w.bool(obj.success)
        }

        if ((obj.index != null && obj.index !== 0)) {
          w.uint32(112)
          w.uint64Number(obj.index)
        }

        if ((obj.hintIndex != null && obj.hintIndex !== 0)) {
          w.uint32(120)
          w.uint64Number(obj.hintIndex)
        }

        if ((obj.hintTerm != null && obj.hintTerm !== 0)) {
          w.uint32(128)
          w.uint64Number(obj.hintTerm)
        }

        if ((obj.context != null && obj.context !== 0)) {
          w.uint32(136)
          w.uint64Number(obj.context)
        }

        if (obj.snapshot != null) {
          w.uint32(146)
          SnapshotMeta.codec().encode(obj.snapshot, w)
        }

        if ((obj.transfer != null && obj.transfer !== false)) {
          w.uint32(152)
          w.bool(obj.transfer)
        }

        if (obj.leader != null) {
          w.uint32(162)
          w.string(obj.leader)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          type: Type.VOTE_REQUEST,
          from: '',
          to: '',
          term: 0,
          preVote: false,
          lastIndex: 0,
          lastTerm: 0,
          granted: false,
          prevIndex: 0,
          prevTerm: 0,
          entries: [],
          commit: 0,
          success: false,
          index: 0,
          hintIndex: 0,
          hintTerm: 0,
          context: 0,
          transfer: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.type = RaftMessage.Type.codec().decode(reader)
              break
            }
            case 2: {
              obj.from = reader.string()
              break
            }
            case 3: {
              obj.to = reader.string()
              break
            }
            case 4: {
              obj.term = reader.uint64Number()
              break
            }
            case 5: {
              obj.preVote = reader.bool()
              break
            }
            case 6: {
              obj.lastIndex = reader.uint64Number()
              break
            }
            case 7: {
              obj.lastTerm = reader.uint64Number()
              break
            }
            case 8: {
              obj.granted = reader.bool()
              break
            }
            case 9: {
              obj.prevIndex = reader.uint64Number()
              break
            }
            case 10: {
              obj.prevTerm = reader.uint64Number()
              break
            }
            case 11: {
              if (opts.limits?.entries != null && obj.entries.length === opts.limits.entries) {
                throw new MaxLengthError('Decode error - repeated field "entries" had too many elements')
              }

              obj.entries.push(Entry.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.entries$
              }))
              break
            }
            case 12: {
              obj.commit = reader.uint64Number()
              break
            }
            case 13: {
              obj.success = reader.bool()
              break
            }
            case 14: {
              obj.index = reader.uint64Number()
              break
            }
            case 15: {
              obj.hintIndex = reader.uint64Number()
              break
            }
            case 16: {
              obj.hintTerm = reader.uint64Number()
              break
            }
            case 17: {
              obj.context = reader.uint64Number()
              break
            }
            case 18: {
              obj.snapshot = SnapshotMeta.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.snapshot
              })
              break
            }
            case 19: {
              obj.transfer = reader.bool()
              break
            }
            case 20: {
              obj.leader = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          entries: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.type`,
                value: RaftMessage.Type.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.from`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.to`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.term`,
                value: reader.uint64Number()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.preVote`,
                value: reader.bool()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.lastIndex`,
                value: reader.uint64Number()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.lastTerm`,
                value: reader.uint64Number()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.granted`,
                value: reader.bool()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.prevIndex`,
                value: reader.uint64Number()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.prevTerm`,
                value: reader.uint64Number()
              }
              break
            }
            case 11: {
              if (opts.limits?.entries != null && obj.entries === opts.limits.entries) {
                throw new MaxLengthError('Streaming decode error - repeated field "entries" had too many elements')
              }

              for (const evt of Entry.codec().stream(reader, reader.uint32(), `${prefix}.entries[]`, {
                limits: opts.limits?.entries$
              })) {
                yield {
                  ...evt,
                  index: obj.entries
                }
              }

              obj.entries++

              break
            }
            case 12: {
              yield {
                field: `${prefix}.commit`,
                value: reader.uint64Number()
              }
              break
            }
            case 13: {
              yield {
                field: `${prefix}.success`,
                value: reader.bool()
              }
              break
            }
            case 14: {
              yield {
                field: `${prefix}.index`,
                value: reader.uint64Number()
              }
              break
            }
            case 15: {
              yield {
                field: `${prefix}.hintIndex`,
                value: reader.uint64Number()
              }
              break
            }
            case 16: {
              yield {
                field: `${prefix}.hintTerm`,
                value: reader.uint64Number()
              }
              break
            }
            case 17: {
              yield {
                field: `${prefix}.context`,
                value: reader.uint64Number()
              }
              break
            }
            case 18: {
              yield * SnapshotMeta.codec().stream(reader, reader.uint32(), `${prefix}.snapshot`, {
                limits: opts.limits?.snapshot
              })

              break
            }
            case 19: {
              yield {
                field: `${prefix}.transfer`,
                value: reader.bool()
              }
              break
            }
            case 20: {
              yield {
                field: `${prefix}.leader`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface RaftMessageTypeFieldEvent {
    field: '$.type'
    value: RaftMessage.Type
  }

  export interface RaftMessageFromFieldEvent {
    field: '$.from'
    value: string
  }

  export interface RaftMessageToFieldEvent {
    field: '$.to'
    value: string
  }

  export interface RaftMessageTermFieldEvent {
    field: '$.term'
    value: number
  }

  export interface RaftMessagePreVoteFieldEvent {
    field: '$.preVote'
    value: boolean
  }

  export interface RaftMessageLastIndexFieldEvent {
    field: '$.lastIndex'
    value: number
  }

  export interface RaftMessageLastTermFieldEvent {
    field: '$.lastTerm'
    value: number
  }

  export interface RaftMessageGrantedFieldEvent {
    field: '$.granted'
    value: boolean
  }

  export interface RaftMessagePrevIndexFieldEvent {
    field: '$.prevIndex'
    value: number
  }

  export interface RaftMessagePrevTermFieldEvent {
    field: '$.prevTerm'
    value: number
  }

  export interface RaftMessageEntriesIndexFieldEvent {
    field: '$.entries[].index'
    value: number
    index: number
  }

  export interface RaftMessageEntriesTermFieldEvent {
    field: '$.entries[].term'
    value: number
    index: number
  }

  export interface RaftMessageEntriesTypeFieldEvent {
    field: '$.entries[].type'
    value: Entry.Type
    index: number
  }

  export interface RaftMessageEntriesDataFieldEvent {
    field: '$.entries[].data'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface RaftMessageEntriesConfigVotersFieldEvent {
    field: '$.entries[].config.voters[]'
    index: number
    value: string
  }

  export interface RaftMessageEntriesConfigLearnersFieldEvent {
    field: '$.entries[].config.learners[]'
    index: number
    value: string
  }

  export interface RaftMessageEntriesConfigAddressesIdFieldEvent {
    field: '$.entries[].config.addresses[].id'
    value: string
    index: number
  }

  export interface RaftMessageEntriesConfigAddressesMultiaddrsFieldEvent {
    field: '$.entries[].config.addresses[].multiaddrs[]'
    index: number
    value: string
  }

  export interface RaftMessageEntriesRequestFieldEvent {
    field: '$.entries[].request'
    value: number
    index: number
  }

  export interface RaftMessageEntriesSessionClientFieldEvent {
    field: '$.entries[].session.client'
    value: number
    index: number
  }

  export interface RaftMessageEntriesSessionSequenceFieldEvent {
    field: '$.entries[].session.sequence'
    value: number
    index: number
  }

  export interface RaftMessageEntriesSessionAcknowledgedFieldEvent {
    field: '$.entries[].session.acknowledged'
    value: number
    index: number
  }

  export interface RaftMessageCommitFieldEvent {
    field: '$.commit'
    value: number
  }

  export interface RaftMessageSuccessFieldEvent {
    field: '$.success'
    value: boolean
  }

  export interface RaftMessageIndexFieldEvent {
    field: '$.index'
    value: number
  }

  export interface RaftMessageHintIndexFieldEvent {
    field: '$.hintIndex'
    value: number
  }

  export interface RaftMessageHintTermFieldEvent {
    field: '$.hintTerm'
    value: number
  }

  export interface RaftMessageContextFieldEvent {
    field: '$.context'
    value: number
  }

  export interface RaftMessageSnapshotIndexFieldEvent {
    field: '$.snapshot.index'
    value: number
  }

  export interface RaftMessageSnapshotTermFieldEvent {
    field: '$.snapshot.term'
    value: number
  }

  export interface RaftMessageSnapshotConfigVotersFieldEvent {
    field: '$.snapshot.config.voters[]'
    index: number
    value: string
  }

  export interface RaftMessageSnapshotConfigLearnersFieldEvent {
    field: '$.snapshot.config.learners[]'
    index: number
    value: string
  }

  export interface RaftMessageSnapshotConfigAddressesIdFieldEvent {
    field: '$.snapshot.config.addresses[].id'
    value: string
    index: number
  }

  export interface RaftMessageSnapshotConfigAddressesMultiaddrsFieldEvent {
    field: '$.snapshot.config.addresses[].multiaddrs[]'
    index: number
    value: string
  }

  export interface RaftMessageSnapshotSessionsFieldEvent {
    field: '$.snapshot.sessions'
    value: Uint8Array<ArrayBuffer>
  }

  export interface RaftMessageTransferFieldEvent {
    field: '$.transfer'
    value: boolean
  }

  export interface RaftMessageLeaderFieldEvent {
    field: '$.leader'
    value: string
  }

  export function encode (obj: Partial<RaftMessage>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, RaftMessage.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RaftMessage>): RaftMessage {
    return decodeMessage(buf, RaftMessage.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RaftMessage>): Generator<RaftMessageTypeFieldEvent | RaftMessageFromFieldEvent | RaftMessageToFieldEvent | RaftMessageTermFieldEvent | RaftMessagePreVoteFieldEvent | RaftMessageLastIndexFieldEvent | RaftMessageLastTermFieldEvent | RaftMessageGrantedFieldEvent | RaftMessagePrevIndexFieldEvent | RaftMessagePrevTermFieldEvent | RaftMessageEntriesIndexFieldEvent | RaftMessageEntriesTermFieldEvent | RaftMessageEntriesTypeFieldEvent | RaftMessageEntriesDataFieldEvent | RaftMessageEntriesConfigVotersFieldEvent | RaftMessageEntriesConfigLearnersFieldEvent | RaftMessageEntriesConfigAddressesIdFieldEvent | RaftMessageEntriesConfigAddressesMultiaddrsFieldEvent | RaftMessageEntriesRequestFieldEvent | RaftMessageEntriesSessionClientFieldEvent | RaftMessageEntriesSessionSequenceFieldEvent | RaftMessageEntriesSessionAcknowledgedFieldEvent | RaftMessageCommitFieldEvent | RaftMessageSuccessFieldEvent | RaftMessageIndexFieldEvent | RaftMessageHintIndexFieldEvent | RaftMessageHintTermFieldEvent | RaftMessageContextFieldEvent | RaftMessageSnapshotIndexFieldEvent | RaftMessageSnapshotTermFieldEvent | RaftMessageSnapshotConfigVotersFieldEvent | RaftMessageSnapshotConfigLearnersFieldEvent | RaftMessageSnapshotConfigAddressesIdFieldEvent | RaftMessageSnapshotConfigAddressesMultiaddrsFieldEvent | RaftMessageSnapshotSessionsFieldEvent | RaftMessageTransferFieldEvent | RaftMessageLeaderFieldEvent> {
    return streamMessage(buf, RaftMessage.codec(), opts)
  }
}

export interface ProposeRequest {
  id: number
  command: Uint8Array<ArrayBuffer>
  term: number
  again: boolean
  session?: SessionStamp
}

export namespace ProposeRequest {
  let _codec: Codec<ProposeRequest>

  export const codec = (): Codec<ProposeRequest> => {
    if (_codec == null) {
      _codec = message<ProposeRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.id != null && obj.id !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.id)
        }

        if ((obj.command != null && obj.command.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.command)
        }

        if ((obj.term != null && obj.term !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.term)
        }

        if ((obj.again != null && obj.again !== false)) {
          w.uint32(32)
          w.bool(obj.again)
        }

        if (obj.session != null) {
          w.uint32(42)
          SessionStamp.codec().encode(obj.session, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          id: 0,
          command: uint8ArrayAlloc(0),
          term: 0,
          again: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.id = reader.uint64Number()
              break
            }
            case 2: {
              obj.command = reader.bytes()
              break
            }
            case 3: {
              obj.term = reader.uint64Number()
              break
            }
            case 4: {
              obj.again = reader.bool()
              break
            }
            case 5: {
              obj.session = SessionStamp.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.session
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.id`,
                value: reader.uint64Number()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.command`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.term`,
                value: reader.uint64Number()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.again`,
                value: reader.bool()
              }
              break
            }
            case 5: {
              yield * SessionStamp.codec().stream(reader, reader.uint32(), `${prefix}.session`, {
                limits: opts.limits?.session
              })

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ProposeRequestIdFieldEvent {
    field: '$.id'
    value: number
  }

  export interface ProposeRequestCommandFieldEvent {
    field: '$.command'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ProposeRequestTermFieldEvent {
    field: '$.term'
    value: number
  }

  export interface ProposeRequestAgainFieldEvent {
    field: '$.again'
    value: boolean
  }

  export interface ProposeRequestSessionClientFieldEvent {
    field: '$.session.client'
    value: number
  }

  export interface ProposeRequestSessionSequenceFieldEvent {
    field: '$.session.sequence'
    value: number
  }

  export interface ProposeRequestSessionAcknowledgedFieldEvent {
    field: '$.session.acknowledged'
    value: number
  }

  export function encode (obj: Partial<ProposeRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ProposeRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ProposeRequest>): ProposeRequest {
    return decodeMessage(buf, ProposeRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ProposeRequest>): Generator<ProposeRequestIdFieldEvent | ProposeRequestCommandFieldEvent | ProposeRequestTermFieldEvent | ProposeRequestAgainFieldEvent | ProposeRequestSessionClientFieldEvent | ProposeRequestSessionSequenceFieldEvent | ProposeRequestSessionAcknowledgedFieldEvent> {
    return streamMessage(buf, ProposeRequest.codec(), opts)
  }
}

export interface ProposeResponse {
  id: number
  index: number
  term: number
  error?: string
  leader?: string
  refusal?: Refusal
}

export namespace ProposeResponse {
  let _codec: Codec<ProposeResponse>

  export const codec = (): Codec<ProposeResponse> => {
    if (_codec == null) {
      _codec = message<ProposeResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.id != null && obj.id !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.id)
        }

        if ((obj.index != null && obj.index !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.index)
        }

        if ((obj.term != null && obj.term !== 0)) {
          w.uint32(24)
          w.uint64Number(obj.term)
        }

        if (obj.error != null) {
          w.uint32(34)
          w.string(obj.error)
        }

        if (obj.leader != null) {
          w.uint32(42)
          w.string(obj.leader)
        }

        if (obj.refusal != null) {
          w.uint32(50)
          Refusal.codec().encode(obj.refusal, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          id: 0,
          index: 0,
          term: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.id = reader.uint64Number()
              break
            }
            case 2: {
              obj.index = reader.uint64Number()
              break
            }
            case 3: {
              obj.term = reader.uint64Number()
              break
            }
            case 4: {
              obj.error = reader.string()
              break
            }
            case 5: {
              obj.leader = reader.string()
              break
            }
            case 6: {
              obj.refusal = Refusal.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.refusal
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.id`,
                value: reader.uint64Number()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.index`,
                value: reader.uint64Number()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.term`,
                value: reader.uint64Number()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.error`,
                value: reader.string()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.leader`,
                value: reader.string()
              }
              break
            }
            case 6: {
              yield * Refusal.codec().stream(reader, reader.uint32(), `${prefix}.refusal`, {
                limits: opts.limits?.refusal
              })

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface ProposeResponseIdFieldEvent {
    field: '$.id'
    value: number
  }

  export interface ProposeResponseIndexFieldEvent {
    field: '$.index'
    value: number
  }

  export interface ProposeResponseTermFieldEvent {
    field: '$.term'
    value: number
  }

  export interface ProposeResponseErrorFieldEvent {
    field: '$.error'
    value: string
  }

  export interface ProposeResponseLeaderFieldEvent {
    field: '$.leader'
    value: string
  }

  export interface ProposeResponseRefusalReasonFieldEvent {
    field: '$.refusal.reason'
    value: Refusal.Reason
  }

  export interface ProposeResponseRefusalMessageFieldEvent {
    field: '$.refusal.message'
    value: string
  }

  export interface ProposeResponseRefusalLeaderFieldEvent {
    field: '$.refusal.leader'
    value: string
  }

  export interface ProposeResponseRefusalIndexFieldEvent {
    field: '$.refusal.index'
    value: number
  }

  export interface ProposeResponseRefusalTermFieldEvent {
    field: '$.refusal.term'
    value: number
  }

  export interface ProposeResponseRefusalTransfereeFieldEvent {
    field: '$.refusal.transferee'
    value: string
  }

  export interface ProposeResponseRefusalPeerFieldEvent {
    field: '$.refusal.peer'
    value: string
  }

  export function encode (obj: Partial<ProposeResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ProposeResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ProposeResponse>): ProposeResponse {
    return decodeMessage(buf, ProposeResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ProposeResponse>): Generator<ProposeResponseIdFieldEvent | ProposeResponseIndexFieldEvent | ProposeResponseTermFieldEvent | ProposeResponseErrorFieldEvent | ProposeResponseLeaderFieldEvent | ProposeResponseRefusalReasonFieldEvent | ProposeResponseRefusalMessageFieldEvent | ProposeResponseRefusalLeaderFieldEvent | ProposeResponseRefusalIndexFieldEvent | ProposeResponseRefusalTermFieldEvent | ProposeResponseRefusalTransfereeFieldEvent | ProposeResponseRefusalPeerFieldEvent> {
    return streamMessage(buf, ProposeResponse.codec(), opts)
  }
}

export interface Refusal {
  reason: Refusal.Reason
  message: string
  leader?: string
  index?: number
  term?: number
  transferee?: string
  peer?: string
}

export namespace Refusal {
  export enum Reason {
    OTHER = 'OTHER',
    NOT_LEADER = 'NOT_LEADER',
    NO_LEADER = 'NO_LEADER',
    NOT_VOTER = 'NOT_VOTER',
    NOT_MEMBER = 'NOT_MEMBER',
    INVALID_PARAMETERS = 'INVALID_PARAMETERS',
    NOT_COMMITTED = 'NOT_COMMITTED',
    COMMIT_TIMEOUT = 'COMMIT_TIMEOUT',
    MEMBERSHIP_CHANGE_IN_PROGRESS = 'MEMBERSHIP_CHANGE_IN_PROGRESS',
    LEADERSHIP_TRANSFER_IN_PROGRESS = 'LEADERSHIP_TRANSFER_IN_PROGRESS',
    CATCH_UP_TIMEOUT = 'CATCH_UP_TIMEOUT',
    JOIN_REFUSED = 'JOIN_REFUSED',
    LEADERSHIP_TRANSFER = 'LEADERSHIP_TRANSFER',
    REQUEST_FORGOTTEN = 'REQUEST_FORGOTTEN'
  }

  enum __ReasonValues {
    OTHER = 0,
    NOT_LEADER = 1,
    NO_LEADER = 2,
    NOT_VOTER = 3,
    NOT_MEMBER = 4,
    INVALID_PARAMETERS = 5,
    NOT_COMMITTED = 6,
    COMMIT_TIMEOUT = 7,
    MEMBERSHIP_CHANGE_IN_PROGRESS = 8,
    LEADERSHIP_TRANSFER_IN_PROGRESS = 9,
    CATCH_UP_TIMEOUT = 10,
    JOIN_REFUSED = 11,
    LEADERSHIP_TRANSFER = 12,
    REQUEST_FORGOTTEN = 13
  }

  export namespace Reason {
    export const codec = (): Codec<Reason> => {
      return enumeration<Reason>(__ReasonValues)
    }
  }

  let _codec: Codec<Refusal>

  export const codec = (): Codec<Refusal> => {
    if (_codec == null) {
      _codec = message<Refusal>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.reason != null && __ReasonValues[obj.reason] !== 0) {
          w.uint32(8)
          Refusal.Reason.codec().encode(obj.reason, w)
        }

        if ((obj.message != null && obj.message !== '')) {
          w.uint32(18)
          w.string(obj.message)
        }

        if (obj.leader != null) {
          w.uint32(26)
          w.string(obj.leader)
        }

        if (obj.index != null) {
          w.uint32(32)
          w.uint64Number(obj.index)
        }

        if (obj.term != null) {
          w.uint32(40)
          w.uint64Number(obj.term)
        }

        if (obj.transferee != null) {
          w.uint32(50)
          w.string(obj.transferee)
        }

        if (obj.peer != null) {
          w.uint32(58)
          w.string(obj.peer)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          reason: Reason.OTHER,
          message: ''
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.reason = Refusal.Reason.codec().decode(reader)
              break
            }
            case 2: {
              obj.message = reader.string()
              break
            }
            case 3: {
              obj.leader = reader.string()
              break
            }
            case 4: {
              obj.index = reader.uint64Number()
              break
            }
            case 5: {
              obj.term = reader.uint64Number()
              break
            }
            case 6: {
              obj.transferee = reader.string()
              break
            }
            case 7: {
              obj.peer = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.reason`,
                value: Refusal.Reason.codec().decode(reader)
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.message`,
                value: reader.string()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.leader`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.index`,
                value: reader.uint64Number()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.term`,
                value: reader.uint64Number()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.transferee`,
                value: reader.string()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.peer`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface RefusalReasonFieldEvent {
    field: '$.reason'
    value: Refusal.Reason
  }

  export interface RefusalMessageFieldEvent {
    field: '$.message'
    value: string
  }

  export interface RefusalLeaderFieldEvent {
    field: '$.leader'
    value: string
  }

  export interface RefusalIndexFieldEvent {
    field: '$.index'
    value: number
  }

  export interface RefusalTermFieldEvent {
    field: '$.term'
    value: number
  }

  export interface RefusalTransfereeFieldEvent {
    field: '$.transferee'
    value: string
  }

  export interface RefusalPeerFieldEvent {
    field: '$.peer'
    value: string
  }

  export function encode (obj: Partial<Refusal>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Refusal.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Refusal>): Refusal {
    return decodeMessage(buf, Refusal.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Refusal>): Generator<RefusalReasonFieldEvent | RefusalMessageFieldEvent | RefusalLeaderFieldEvent | RefusalIndexFieldEvent | RefusalTermFieldEvent | RefusalTransfereeFieldEvent | RefusalPeerFieldEvent> {
    return streamMessage(buf, Refusal.codec(), opts)
  }
}

export interface MembershipRequest {
  id: number
  change: MembershipRequest.Change
  peer: string
  addrs: Uint8Array<ArrayBuffer>[]
  voter: boolean
  timeout?: number
}

export namespace MembershipRequest {
  export enum Change {
    ADD_LEARNER = 'ADD_LEARNER',
    ADD_VOTER = 'ADD_VOTER',
    REMOVE = 'REMOVE',
    TRANSFER = 'TRANSFER',
    JOIN = 'JOIN'
  }

  enum __ChangeValues {
    ADD_LEARNER = 0,
    ADD_VOTER = 1,
    REMOVE = 2,
    TRANSFER = 3,
    JOIN = 4
  }

  export namespace Change {
    export const codec = (): Codec<Change> => {
      return enumeration<Change>(__ChangeValues)
    }
  }

  let _codec: Codec<MembershipRequest>

  export const codec = (): Codec<MembershipRequest> => {
    if (_codec == null) {
      _codec = message<MembershipRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.id != null && obj.id !== 0)) {
          w.uint32(8)
          w.uint64Number(obj.id)
        }

        if (obj.change != null && __ChangeValues[obj.change] !== 0) {
          w.uint32(16)
          MembershipRequest.Change.codec().encode(obj.change, w)
        }

        if ((obj.peer != null && obj.peer !== '')) {
          w.uint32(26)
          w.string(obj.peer)
        }

        if (obj.addrs != null && obj.addrs.length > 0) {
          for (const value of obj.addrs) {
            w.uint32(34)
            w.bytes(value)
          }
        }

        if ((obj.voter != null && obj.voter !== false)) {
          w.uint32(40)
          w.bool(obj.voter)
        }

        if (obj.timeout != null) {
          w.uint32(48)
          w.uint32(obj.timeout)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          id: 0,
          change: Change.ADD_LEARNER,
          peer: '',
          addrs: [],
          voter: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.id = reader.uint64Number()
              break
            }
            case 2: {
              obj.change = MembershipRequest.Change.codec().decode(reader)
              break
            }
            case 3: {
              obj.peer = reader.string()
              break
            }
            case 4: {
              if (opts.limits?.addrs != null && obj.addrs.length === opts.limits.addrs) {
                throw new MaxLengthError('Decode error - repeated field "addrs" had too many elements')
              }

              obj.addrs.push(reader.bytes())
              break
            }
            case 5: {
              obj.voter = reader.bool()
              break
            }
            case 6: {
              obj.timeout = reader.uint32()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          addrs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.id`,
                value: reader.uint64Number()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.change`,
                value: MembershipRequest.Change.codec().decode(reader)
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.peer`,
                value: reader.string()
              }
              break
            }
            case 4: {
              if (opts.limits?.addrs != null && obj.addrs === opts.limits.addrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "addrs" had too many elements')
              }

              yield {
                field: `${prefix}.addrs[]`,
                index: obj.addrs,
                value: reader.bytes()
              }

              obj.addrs++

              break
            }
            case 5: {
              yield {
                field: `${prefix}.voter`,
                value: reader.bool()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.timeout`,
                value: reader.uint32()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface MembershipRequestIdFieldEvent {
    field: '$.id'
    value: number
  }

  export interface MembershipRequestChangeFieldEvent {
    field: '$.change'
    value: MembershipRequest.Change
  }

  export interface MembershipRequestPeerFieldEvent {
    field: '$.peer'
    value: string
  }

  export interface MembershipRequestAddrsFieldEvent {
    field: '$.addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface MembershipRequestVoterFieldEvent {
    field: '$.voter'
    value: boolean
  }

  export interface MembershipRequestTimeoutFieldEvent {
    field: '$.timeout'
    value: number
  }

  export function encode (obj: Partial<MembershipRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, MembershipRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<MembershipRequest>): MembershipRequest {
    return decodeMessage(buf, MembershipRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<MembershipRequest>): Generator<MembershipRequestIdFieldEvent | MembershipRequestChangeFieldEvent | MembershipRequestPeerFieldEvent | MembershipRequestAddrsFieldEvent | MembershipRequestVoterFieldEvent | MembershipRequestTimeoutFieldEvent> {
    return streamMessage(buf, MembershipRequest.codec(), opts)
  }
}

export interface Frame {
  message?: RaftMessage
  propose?: ProposeRequest
  proposeResult?: ProposeResponse
  membership?: MembershipRequest
}

export namespace Frame {
  let _codec: Codec<Frame>

  export const codec = (): Codec<Frame> => {
    if (_codec == null) {
      _codec = message<Frame>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.message != null) {
          w.uint32(10)
          RaftMessage.codec().encode(obj.message, w)
        }

        if (obj.propose != null) {
          w.uint32(18)
          ProposeRequest.codec().encode(obj.propose, w)
        }

        if (obj.proposeResult != null) {
          w.uint32(26)
          ProposeResponse.codec().encode(obj.proposeResult, w)
        }

        if (obj.membership != null) {
          w.uint32(34)
          MembershipRequest.codec().encode(obj.membership, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {}

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.message = RaftMessage.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.message
              })
              break
            }
            case 2: {
              obj.propose = ProposeRequest.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.propose
              })
              break
            }
            case 3: {
              obj.proposeResult = ProposeResponse.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.proposeResult
              })
              break
            }
            case 4: {
              obj.membership = MembershipRequest.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.membership
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield * RaftMessage.codec().stream(reader, reader.uint32(), `${prefix}.message`, {
                limits: opts.limits?.message
              })

              break
            }
            case 2: {
              yield * ProposeRequest.codec().stream(reader, reader.uint32(), `${prefix}.propose`, {
                limits: opts.limits?.propose
              })

              break
            }
            case 3: {
              yield * ProposeResponse.codec().stream(reader, reader.uint32(), `${prefix}.proposeResult`, {
                limits: opts.limits?.proposeResult
              })

              break
            }
            case 4: {
              yield * MembershipRequest.codec().stream(reader, reader.uint32(), `${prefix}.membership`, {
                limits: opts.limits?.membership
              })

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface FrameMessageTypeFieldEvent {
    field: '$.message.type'
    value: RaftMessage.Type
  }

  export interface FrameMessageFromFieldEvent {
    field: '$.message.from'
    value: string
  }

  export interface FrameMessageToFieldEvent {
    field: '$.message.to'
    value: string
  }

  export interface FrameMessageTermFieldEvent {
    field: '$.message.term'
    value: number
  }

  export interface FrameMessagePreVoteFieldEvent {
    field: '$.message.preVote'
    value: boolean
  }

  export interface FrameMessageLastIndexFieldEvent {
    field: '$.message.lastIndex'
    value: number
  }

  export interface FrameMessageLastTermFieldEvent {
    field: '$.message.lastTerm'
    value: number
  }

  export interface FrameMessageGrantedFieldEvent {
    field: '$.message.granted'
    value: boolean
  }

  export interface FrameMessagePrevIndexFieldEvent {
    field: '$.message.prevIndex'
    value: number
  }

  export interface FrameMessagePrevTermFieldEvent {
    field: '$.message.prevTerm'
    value: number
  }

  export interface FrameMessageEntriesIndexFieldEvent {
    field: '$.message.entries[].index'
    value: number
    index: number
  }

  export interface FrameMessageEntriesTermFieldEvent {
    field: '$.message.entries[].term'
    value: number
    index: number
  }

  export interface FrameMessageEntriesTypeFieldEvent {
    field: '$.message.entries[].type'
    value: Entry.Type
    index: number
  }

  export interface FrameMessageEntriesDataFieldEvent {
    field: '$.message.entries[].data'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface FrameMessageEntriesConfigVotersFieldEvent {
    field: '$.message.entries[].config.voters[]'
    index: number
    value: string
  }

  export interface FrameMessageEntriesConfigLearnersFieldEvent {
    field: '$.message.entries[].config.learners[]'
    index: number
    value: string
  }

  export interface FrameMessageEntriesConfigAddressesIdFieldEvent {
    field: '$.message.entries[].config.addresses[].id'
    value: string
    index: number
  }

  export interface FrameMessageEntriesConfigAddressesMultiaddrsFieldEvent {
    field: '$.message.entries[].config.addresses[].multiaddrs[]'
    index: number
    value: string
  }

  export interface FrameMessageEntriesRequestFieldEvent {
    field: '$.message.entries[].request'
    value: number
    index: number
  }

  export interface FrameMessageEntriesSessionClientFieldEvent {
    field: '$.message.entries[].session.client'
    value: number
    index: number
  }

  export interface FrameMessageEntriesSessionSequenceFieldEvent {
    field: '$.message.entries[].session.sequence'
    value: number
    index: number
  }

  export interface FrameMessageEntriesSessionAcknowledgedFieldEvent {
    field: '$.message.entries[].session.acknowledged'
    value: number
    index: number
  }

  export interface FrameMessageCommitFieldEvent {
    field: '$.message.commit'
    value: number
  }

  export interface FrameMessageSuccessFieldEvent {
    field: '$.message.success'
    value: boolean
  }

  export interface FrameMessageIndexFieldEvent {
    field: '$.message.index'
    value: number
  }

  export interface FrameMessageHintIndexFieldEvent {
    field: '$.message.hintIndex'
    value: number
  }

  export interface FrameMessageHintTermFieldEvent {
    field: '$.message.hintTerm'
    value: number
  }

  export interface FrameMessageContextFieldEvent {
    field: '$.message.context'
    value: number
  }

  export interface FrameMessageSnapshotIndexFieldEvent {
    field: '$.message.snapshot.index'
    value: number
  }

  export interface FrameMessageSnapshotTermFieldEvent {
    field: '$.message.snapshot.term'
    value: number
  }

  export interface FrameMessageSnapshotConfigVotersFieldEvent {
    field: '$.message.snapshot.config.voters[]'
    index: number
    value: string
  }

  export interface FrameMessageSnapshotConfigLearnersFieldEvent {
    field: '$.message.snapshot.config.learners[]'
    index: number
    value: string
  }

  export interface FrameMessageSnapshotConfigAddressesIdFieldEvent {
    field: '$.message.snapshot.config.addresses[].id'
    value: string
    index: number
  }

  export interface FrameMessageSnapshotConfigAddressesMultiaddrsFieldEvent {
    field: '$.message.snapshot.config.addresses[].multiaddrs[]'
    index: number
    value: string
  }

  export interface FrameMessageSnapshotSessionsFieldEvent {
    field: '$.message.snapshot.sessions'
    value: Uint8Array<ArrayBuffer>
  }

  export interface FrameMessageTransferFieldEvent {
    field: '$.message.transfer'
    value: boolean
  }

  export interface FrameMessageLeaderFieldEvent {
    field: '$.message.leader'
    value: string
  }

  export interface FrameProposeIdFieldEvent {
    field: '$.propose.id'
    value: number
  }

  export interface FrameProposeCommandFieldEvent {
    field: '$.propose.command'
    value: Uint8Array<ArrayBuffer>
  }

  export interface FrameProposeTermFieldEvent {
    field: '$.propose.term'
    value: number
  }

  export interface FrameProposeAgainFieldEvent {
    field: '$.propose.again'
    value: boolean
  }

  export interface FrameProposeSessionClientFieldEvent {
    field: '$.propose.session.client'
    value: number
  }

  export interface FrameProposeSessionSequenceFieldEvent {
    field: '$.propose.session.sequence'
    value: number
  }

  export interface FrameProposeSessionAcknowledgedFieldEvent {
    field: '$.propose.session.acknowledged'
    value: number
  }

  export interface FrameProposeResultIdFieldEvent {
    field: '$.proposeResult.id'
    value: number
  }

  export interface FrameProposeResultIndexFieldEvent {
    field: '$.proposeResult.index'
    value: number
  }

  export interface FrameProposeResultTermFieldEvent {
    field: '$.proposeResult.term'
    value: number
  }

  export interface FrameProposeResultErrorFieldEvent {
    field: '$.proposeResult.error'
    value: string
  }

  export interface FrameProposeResultLeaderFieldEvent {
    field: '$.proposeResult.leader'
    value: string
  }

  export interface FrameProposeResultRefusalReasonFieldEvent {
    field: '$.proposeResult.refusal.reason'
    value: Refusal.Reason
  }

  export interface FrameProposeResultRefusalMessageFieldEvent {
    field: '$.proposeResult.refusal.message'
    value: string
  }

  export interface FrameProposeResultRefusalLeaderFieldEvent {
    field: '$.proposeResult.refusal.leader'
    value: string
  }

  export interface FrameProposeResultRefusalIndexFieldEvent {
    field: '$.proposeResult.refusal.index'
    value: number
  }

  export interface FrameProposeResultRefusalTermFieldEvent {
    field: '$.proposeResult.refusal.term'
    value: number
  }

  export interface FrameProposeResultRefusalTransfereeFieldEvent {
    field: '$.proposeResult.refusal.transferee'
    value: string
  }

  export interface FrameProposeResultRefusalPeerFieldEvent {
    field: '$.proposeResult.refusal.peer'
    value: string
  }

  export interface FrameMembershipIdFieldEvent {
    field: '$.membership.id'
    value: number
  }

  export interface FrameMembershipChangeFieldEvent {
    field: '$.membership.change'
    value: MembershipRequest.Change
  }

  export interface FrameMembershipPeerFieldEvent {
    field: '$.membership.peer'
    value: string
  }

  export interface FrameMembershipAddrsFieldEvent {
    field: '$.membership.addrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export interface FrameMembershipVoterFieldEvent {
    field: '$.membership.voter'
    value: boolean
  }

  export interface FrameMembershipTimeoutFieldEvent {
    field: '$.membership.timeout'
    value: number
  }

  export function encode (obj: Partial<Frame>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Frame.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Frame>): Frame {
    return decodeMessage(buf, Frame.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Frame>): Generator<FrameMessageTypeFieldEvent | FrameMessageFromFieldEvent | FrameMessageToFieldEvent | FrameMessageTermFieldEvent | FrameMessagePreVoteFieldEvent | FrameMessageLastIndexFieldEvent | FrameMessageLastTermFieldEvent | FrameMessageGrantedFieldEvent | FrameMessagePrevIndexFieldEvent | FrameMessagePrevTermFieldEvent | FrameMessageEntriesIndexFieldEvent | FrameMessageEntriesTermFieldEvent | FrameMessageEntriesTypeFieldEvent | FrameMessageEntriesDataFieldEvent | FrameMessageEntriesConfigVotersFieldEvent | FrameMessageEntriesConfigLearnersFieldEvent | FrameMessageEntriesConfigAddressesIdFieldEvent | FrameMessageEntriesConfigAddressesMultiaddrsFieldEvent | FrameMessageEntriesRequestFieldEvent | FrameMessageEntriesSessionClientFieldEvent | FrameMessageEntriesSessionSequenceFieldEvent | FrameMessageEntriesSessionAcknowledgedFieldEvent | FrameMessageCommitFieldEvent | FrameMessageSuccessFieldEvent | FrameMessageIndexFieldEvent | FrameMessageHintIndexFieldEvent | FrameMessageHintTermFieldEvent | FrameMessageContextFieldEvent | FrameMessageSnapshotIndexFieldEvent | FrameMessageSnapshotTermFieldEvent | FrameMessageSnapshotConfigVotersFieldEvent | FrameMessageSnapshotConfigLearnersFieldEvent | FrameMessageSnapshotConfigAddressesIdFieldEvent | FrameMessageSnapshotConfigAddressesMultiaddrsFieldEvent | FrameMessageSnapshotSessionsFieldEvent | FrameMessageTransferFieldEvent | FrameMessageLeaderFieldEvent | FrameProposeIdFieldEvent | FrameProposeCommandFieldEvent | FrameProposeTermFieldEvent | FrameProposeAgainFieldEvent | FrameProposeSessionClientFieldEvent | FrameProposeSessionSequenceFieldEvent | FrameProposeSessionAcknowledgedFieldEvent | FrameProposeResultIdFieldEvent | FrameProposeResultIndexFieldEvent | FrameProposeResultTermFieldEvent | FrameProposeResultErrorFieldEvent | FrameProposeResultLeaderFieldEvent | FrameProposeResultRefusalReasonFieldEvent | FrameProposeResultRefusalMessageFieldEvent | FrameProposeResultRefusalLeaderFieldEvent | FrameProposeResultRefusalIndexFieldEvent | FrameProposeResultRefusalTermFieldEvent | FrameProposeResultRefusalTransfereeFieldEvent | FrameProposeResultRefusalPeerFieldEvent | FrameMembershipIdFieldEvent | FrameMembershipChangeFieldEvent | FrameMembershipPeerFieldEvent | FrameMembershipAddrsFieldEvent | FrameMembershipVoterFieldEvent | FrameMembershipTimeoutFieldEvent> {
    return streamMessage(buf, Frame.codec(), opts)
  }
}

export interface PeerAddresses {
  multiaddrs: Uint8Array<ArrayBuffer>[]
}

export namespace PeerAddresses {
  let _codec: Codec<PeerAddresses>

  export const codec = (): Codec<PeerAddresses> => {
    if (_codec == null) {
      _codec = message<PeerAddresses>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.multiaddrs != null && obj.multiaddrs.length > 0) {
          for (const value of obj.multiaddrs) {
            w.uint32(10)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          multiaddrs: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.multiaddrs != null && obj.multiaddrs.length === opts.limits.multiaddrs) {
                throw new MaxLengthError('Decode error - repeated field "multiaddrs" had too many elements')
              }

              obj.multiaddrs.push(reader.bytes())
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const obj = {
          multiaddrs: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              if (opts.limits?.multiaddrs != null && obj.multiaddrs === opts.limits.multiaddrs) {
                throw new MaxLengthError('Streaming decode error - repeated field "multiaddrs" had too many elements')
              }

              yield {
                field: `${prefix}.multiaddrs[]`,
                index: obj.multiaddrs,
                value: reader.bytes()
              }

              obj.multiaddrs++

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface PeerAddressesMultiaddrsFieldEvent {
    field: '$.multiaddrs[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<PeerAddresses>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, PeerAddresses.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PeerAddresses>): PeerAddresses {
    return decodeMessage(buf, PeerAddresses.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PeerAddresses>): Generator<PeerAddressesMultiaddrsFieldEvent> {
    return streamMessage(buf, PeerAddresses.codec(), opts)
  }
}

export interface SnapshotOffer {
  message?: RaftMessage
  size: number
  chunks: number
  checksum: Uint8Array<ArrayBuffer>
}

export namespace SnapshotOffer {
  let _codec: Codec<SnapshotOffer>

  export const codec = (): Codec<SnapshotOffer> => {
    if (_codec == null) {
      _codec = message<SnapshotOffer>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.message != null) {
          w.uint32(10)
          RaftMessage.codec().encode(obj.message, w)
        }

        if ((obj.size != null && obj.size !== 0)) {
          w.uint32(16)
          w.uint64Number(obj.size)
        }

        if ((obj.chunks != null && obj.chunks !== 0)) {
          w.uint32(24)
          w.uint32(obj.chunks)
        }

        if ((obj.checksum != null && obj.checksum.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.checksum)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          size: 0,
          chunks: 0,
          checksum: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.message = RaftMessage.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.message
              })
              break
            }
            case 2: {
              obj.size = reader.uint64Number()
              break
            }
            case 3: {
              obj.chunks = reader.uint32()
              break
            }
            case 4: {
              obj.checksum = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield * RaftMessage.codec().stream(reader, reader.uint32(), `${prefix}.message`, {
                limits: opts.limits?.message
              })

              break
            }
            case 2: {
              yield {
                field: `${prefix}.size`,
                value: reader.uint64Number()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.chunks`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.checksum`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface SnapshotOfferMessageTypeFieldEvent {
    field: '$.message.type'
    value: RaftMessage.Type
  }

  export interface SnapshotOfferMessageFromFieldEvent {
    field: '$.message.from'
    value: string
  }

  export interface SnapshotOfferMessageToFieldEvent {
    field: '$.message.to'
    value: string
  }

  export interface SnapshotOfferMessageTermFieldEvent {
    field: '$.message.term'
    value: number
  }

  export interface SnapshotOfferMessagePreVoteFieldEvent {
    field: '$.message.preVote'
    value: boolean
  }

  export interface SnapshotOfferMessageLastIndexFieldEvent {
    field: '$.message.lastIndex'
    value: number
  }

  export interface SnapshotOfferMessageLastTermFieldEvent {
    field: '$.message.lastTerm'
    value: number
  }

  export interface SnapshotOfferMessageGrantedFieldEvent {
    field: '$.message.granted'
    value: boolean
  }

  export interface SnapshotOfferMessagePrevIndexFieldEvent {
    field: '$.message.prevIndex'
    value: number
  }

  export interface SnapshotOfferMessagePrevTermFieldEvent {
    field: '$.message.prevTerm'
    value: number
  }

  export interface SnapshotOfferMessageEntriesIndexFieldEvent {
    field: '$.message.entries[].index'
    value: number
    index: number
  }

  export interface SnapshotOfferMessageEntriesTermFieldEvent {
    field: '$.message.entries[].term'
    value: number
    index: number
  }

  export interface SnapshotOfferMessageEntriesTypeFieldEvent {
    field: '$.message.entries[].type'
    value: Entry.Type
    index: number
  }

  export interface SnapshotOfferMessageEntriesDataFieldEvent {
    field: '$.message.entries[].data'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface SnapshotOfferMessageEntriesConfigVotersFieldEvent {
    field: '$.message.entries[].config.voters[]'
    index: number
    value: string
  }

  export interface SnapshotOfferMessageEntriesConfigLearnersFieldEvent {
    field: '$.message.entries[].config.learners[]'
    index: number
    value: string
  }

  export interface SnapshotOfferMessageEntriesConfigAddressesIdFieldEvent {
    field: '$.message.entries[].config.addresses[].id'
    value: string
    index: number
  }

  export interface SnapshotOfferMessageEntriesConfigAddressesMultiaddrsFieldEvent {
    field: '$.message.entries[].config.addresses[].multiaddrs[]'
    index: number
    value: string
  }

  export interface SnapshotOfferMessageEntriesRequestFieldEvent {
    field: '$.message.entries[].request'
    value: number
    index: number
  }

  export interface SnapshotOfferMessageEntriesSessionClientFieldEvent {
    field: '$.message.entries[].session.client'
    value: number
    index: number
  }

  export interface SnapshotOfferMessageEntriesSessionSequenceFieldEvent {
    field: '$.message.entries[].session.sequence'
    value: number
    index: number
  }

  export interface SnapshotOfferMessageEntriesSessionAcknowledgedFieldEvent {
    field: '$.message.entries[].session.acknowledged'
    value: number
    index: number
  }

  export interface SnapshotOfferMessageCommitFieldEvent {
    field: '$.message.commit'
    value: number
  }

  export interface SnapshotOfferMessageSuccessFieldEvent {
    field: '$.message.success'
    value: boolean
  }

  export interface SnapshotOfferMessageIndexFieldEvent {
    field: '$.message.index'
    value: number
  }

  export interface SnapshotOfferMessageHintIndexFieldEvent {
    field: '$.message.hintIndex'
    value: number
  }

  export interface SnapshotOfferMessageHintTermFieldEvent {
    field: '$.message.hintTerm'
    value: number
  }

  export interface SnapshotOfferMessageContextFieldEvent {
    field: '$.message.context'
    value: number
  }

  export interface SnapshotOfferMessageSnapshotIndexFieldEvent {
    field: '$.message.snapshot.index'
    value: number
  }

  export interface SnapshotOfferMessageSnapshotTermFieldEvent {
    field: '$.message.snapshot.term'
    value: number
  }

  export interface SnapshotOfferMessageSnapshotConfigVotersFieldEvent {
    field: '$.message.snapshot.config.voters[]'
    index: number
    value: string
  }

  export interface SnapshotOfferMessageSnapshotConfigLearnersFieldEvent {
    field: '$.message.snapshot.config.learners[]'
    index: number
    value: string
  }

  export interface SnapshotOfferMessageSnapshotConfigAddressesIdFieldEvent {
    field: '$.message.snapshot.config.addresses[].id'
    value: string
    index: number
  }

  export interface SnapshotOfferMessageSnapshotConfigAddressesMultiaddrsFieldEvent {
    field: '$.message.snapshot.config.addresses[].multiaddrs[]'
    index: number
    value: string
  }

  export interface SnapshotOfferMessageSnapshotSessionsFieldEvent {
    field: '$.message.snapshot.sessions'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SnapshotOfferMessageTransferFieldEvent {
    field: '$.message.transfer'
    value: boolean
  }

  export interface SnapshotOfferMessageLeaderFieldEvent {
    field: '$.message.leader'
    value: string
  }

  export interface SnapshotOfferSizeFieldEvent {
    field: '$.size'
    value: number
  }

  export interface SnapshotOfferChunksFieldEvent {
    field: '$.chunks'
    value: number
  }

  export interface SnapshotOfferChecksumFieldEvent {
    field: '$.checksum'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<SnapshotOffer>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SnapshotOffer.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SnapshotOffer>): SnapshotOffer {
    return decodeMessage(buf, SnapshotOffer.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SnapshotOffer>): Generator<SnapshotOfferMessageTypeFieldEvent | SnapshotOfferMessageFromFieldEvent | SnapshotOfferMessageToFieldEvent | SnapshotOfferMessageTermFieldEvent | SnapshotOfferMessagePreVoteFieldEvent | SnapshotOfferMessageLastIndexFieldEvent | SnapshotOfferMessageLastTermFieldEvent | SnapshotOfferMessageGrantedFieldEvent | SnapshotOfferMessagePrevIndexFieldEvent | SnapshotOfferMessagePrevTermFieldEvent | SnapshotOfferMessageEntriesIndexFieldEvent | SnapshotOfferMessageEntriesTermFieldEvent | SnapshotOfferMessageEntriesTypeFieldEvent | SnapshotOfferMessageEntriesDataFieldEvent | SnapshotOfferMessageEntriesConfigVotersFieldEvent | SnapshotOfferMessageEntriesConfigLearnersFieldEvent | SnapshotOfferMessageEntriesConfigAddressesIdFieldEvent | SnapshotOfferMessageEntriesConfigAddressesMultiaddrsFieldEvent | SnapshotOfferMessageEntriesRequestFieldEvent | SnapshotOfferMessageEntriesSessionClientFieldEvent | SnapshotOfferMessageEntriesSessionSequenceFieldEvent | SnapshotOfferMessageEntriesSessionAcknowledgedFieldEvent | SnapshotOfferMessageCommitFieldEvent | SnapshotOfferMessageSuccessFieldEvent | SnapshotOfferMessageIndexFieldEvent | SnapshotOfferMessageHintIndexFieldEvent | SnapshotOfferMessageHintTermFieldEvent | SnapshotOfferMessageContextFieldEvent | SnapshotOfferMessageSnapshotIndexFieldEvent | SnapshotOfferMessageSnapshotTermFieldEvent | SnapshotOfferMessageSnapshotConfigVotersFieldEvent | SnapshotOfferMessageSnapshotConfigLearnersFieldEvent | SnapshotOfferMessageSnapshotConfigAddressesIdFieldEvent | SnapshotOfferMessageSnapshotConfigAddressesMultiaddrsFieldEvent | SnapshotOfferMessageSnapshotSessionsFieldEvent | SnapshotOfferMessageTransferFieldEvent | SnapshotOfferMessageLeaderFieldEvent | SnapshotOfferSizeFieldEvent | SnapshotOfferChunksFieldEvent | SnapshotOfferChecksumFieldEvent> {
    return streamMessage(buf, SnapshotOffer.codec(), opts)
  }
}

export interface SnapshotResult {
  ok: boolean
  error?: string
}

export namespace SnapshotResult {
  let _codec: Codec<SnapshotResult>

  export const codec = (): Codec<SnapshotResult> => {
    if (_codec == null) {
      _codec = message<SnapshotResult>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.ok != null && obj.ok !== false)) {
          w.uint32(8)
          w.bool(obj.ok)
        }

        if (obj.error != null) {
          w.uint32(18)
          w.string(obj.error)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          ok: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.ok = reader.bool()
              break
            }
            case 2: {
              obj.error = reader.string()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.ok`,
                value: reader.bool()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.error`,
                value: reader.string()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface SnapshotResultOkFieldEvent {
    field: '$.ok'
    value: boolean
  }

  export interface SnapshotResultErrorFieldEvent {
    field: '$.error'
    value: string
  }

  export function encode (obj: Partial<SnapshotResult>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SnapshotResult.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SnapshotResult>): SnapshotResult {
    return decodeMessage(buf, SnapshotResult.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SnapshotResult>): Generator<SnapshotResultOkFieldEvent | SnapshotResultErrorFieldEvent> {
    return streamMessage(buf, SnapshotResult.codec(), opts)
  }
}

export interface SnapshotReply {
  stored: number
  result?: SnapshotResult
}

export namespace SnapshotReply {
  let _codec: Codec<SnapshotReply>

  export const codec = (): Codec<SnapshotReply> => {
    if (_codec == null) {
      _codec = message<SnapshotReply>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.stored != null && obj.stored !== 0)) {
          w.uint32(8)
          w.uint32(obj.stored)
        }

        if (obj.result != null) {
          w.uint32(18)
          SnapshotResult.codec().encode(obj.result, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          stored: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.stored = reader.uint32()
              break
            }
            case 2: {
              obj.result = SnapshotResult.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.result
              })
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.stored`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield * SnapshotResult.codec().stream(reader, reader.uint32(), `${prefix}.result`, {
                limits: opts.limits?.result
              })

              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface SnapshotReplyStoredFieldEvent {
    field: '$.stored'
    value: number
  }

  export interface SnapshotReplyResultOkFieldEvent {
    field: '$.result.ok'
    value: boolean
  }

  export interface SnapshotReplyResultErrorFieldEvent {
    field: '$.result.error'
    value: string
  }

  export function encode (obj: Partial<SnapshotReply>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SnapshotReply.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SnapshotReply>): SnapshotReply {
    return decodeMessage(buf, SnapshotReply.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SnapshotReply>): Generator<SnapshotReplyStoredFieldEvent | SnapshotReplyResultOkFieldEvent | SnapshotReplyResultErrorFieldEvent> {
    return streamMessage(buf, SnapshotReply.codec(), opts)
  }
}
