import { expect } from 'aegir/chai'
import { Entry as PbEntry, RaftMessage } from '../src/pb/raft.ts'
import { decodeEntry, decodeHardState, encodeEntry, encodeHardState, entryFromPb, entryToPb, messageFromPb, messageToPb } from '../src/pb/translate.ts'
import type { Entry, HardState, Message } from '../src/core/types.ts'

const BIG = 2 ** 40
const MAX = Number.MAX_SAFE_INTEGER

/** Message -> protobuf object -> bytes -> protobuf object -> message. */
function roundTrip (m: Message): Message {
  return messageFromPb(RaftMessage.decode(RaftMessage.encode(messageToPb(m))))
}

const entries: Entry[] = [
  { type: 'command', index: 1, term: 1, data: Uint8Array.of(1, 2, 3) },
  { type: 'command', index: 2, term: 1, data: new Uint8Array(0) },
  { type: 'noop', index: 3, term: 2 },
  { type: 'config', index: 4, term: 2, config: { voters: ['a', 'b', 'c'], learners: ['d'] } },
  { type: 'config', index: 5, term: 2, config: { voters: ['a', 'b'], learners: [], addresses: { a: ['/ip4/10.0.0.1/tcp/4001'], b: ['/ip4/10.0.0.2/tcp/4001', '/dns4/b.example/tcp/4001'] } } },
  { type: 'command', index: BIG, term: BIG - 1, data: new Uint8Array(1000).fill(7) },
  // forwarded by a member: the request's id travels with the entry
  { type: 'command', index: BIG + 1, term: BIG - 1, data: Uint8Array.of(9), request: MAX },
  { type: 'noop', index: MAX, term: MAX }
]

const messages: Message[] = [
  { type: 'vote-request', from: 'a', to: 'b', term: 3, preVote: false, lastIndex: 10, lastTerm: 2 },
  { type: 'vote-request', from: 'a', to: 'b', term: 4, preVote: true, lastIndex: BIG, lastTerm: BIG },
  { type: 'vote-request', from: 'a', to: 'b', term: 0, preVote: false, lastIndex: 0, lastTerm: 0 },
  { type: 'vote-response', from: 'b', to: 'a', term: 3, preVote: false, granted: true },
  { type: 'vote-response', from: 'b', to: 'a', term: 4, preVote: true, granted: false },
  { type: 'append-request', from: 'a', to: 'b', term: 5, prevIndex: 0, prevTerm: 0, entries: [], commit: 0 },
  { type: 'append-request', from: 'a', to: 'b', term: BIG, prevIndex: BIG - 7, prevTerm: BIG - 1, entries, commit: BIG },
  { type: 'append-response', from: 'b', to: 'a', term: 5, success: true, index: 12, hintIndex: 0, hintTerm: 0 },
  { type: 'append-response', from: 'b', to: 'a', term: 5, success: false, index: BIG, hintIndex: BIG - 2, hintTerm: 3 },
  { type: 'heartbeat-request', from: 'a', to: 'b', term: 6, commit: BIG, context: 0 },
  { type: 'heartbeat-request', from: 'a', to: 'b', term: 6, commit: 0, context: 7 },
  { type: 'heartbeat-response', from: 'b', to: 'a', term: MAX, context: 0 },
  { type: 'heartbeat-response', from: 'b', to: 'a', term: 6, context: BIG },
  { type: 'read-index-request', from: 'b', to: 'a', term: 6, id: 42 },
  { type: 'read-index-response', from: 'a', to: 'b', term: 6, id: 42, index: BIG },
  // a snapshot's configuration carries the members' addresses with it
  { type: 'snapshot-request', from: 'a', to: 'b', term: 5, snapshot: { index: BIG, term: 5, config: { voters: ['a', 'b'], learners: ['c'], addresses: { a: ['/ip4/10.0.0.1/tcp/4001'], c: ['/ip6/::1/tcp/4002'] } } } }
]

describe('codec', () => {
  describe('messages', () => {
    for (const m of messages) {
      it(`round-trips ${m.type} (term ${m.term})`, () => {
        expect(roundTrip(m)).to.deep.equal(m)
      })
    }

    it('round-trips every message type', () => {
      const types = new Set(messages.map(m => m.type))
      expect([...types].sort()).to.deep.equal([
        'append-request', 'append-response', 'heartbeat-request', 'heartbeat-response', 'read-index-request', 'read-index-response', 'snapshot-request', 'vote-request', 'vote-response'
      ])
    })

    it('round-trips peer-id-like node ids and unicode', () => {
      const m: Message = { type: 'heartbeat-response', from: '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN', to: 'nœud-β', term: 1, context: 0 }
      expect(roundTrip(m)).to.deep.equal(m)
    })

    it('keeps entry order and content in an append request', () => {
      const out = roundTrip(messages[6])
      expect(out.type).to.equal('append-request')
      if (out.type !== 'append-request') {
        return
      }
      expect(out.entries.map(e => e.type)).to.deep.equal(['command', 'command', 'noop', 'config', 'config', 'command', 'command', 'noop'])
      expect(out.entries.map(e => e.index)).to.deep.equal([1, 2, 3, 4, 5, BIG, BIG + 1, MAX])
    })

    it('throws InvalidMessageError for an unknown message type', () => {
      const pb = { ...messageToPb(messages[0]), type: 99 as unknown as RaftMessage.Type }
      expect(() => messageFromPb(pb)).to.throw().with.property('name', 'InvalidMessageError')
    })

    it('throws InvalidMessageError for an unknown entry type inside a message', () => {
      const pb = messageToPb(messages[6])
      pb.entries[0] = { ...pb.entries[0], type: 42 as unknown as PbEntry.Type }
      expect(() => messageFromPb(pb)).to.throw().with.property('name', 'InvalidMessageError')
    })

    it('rejects bytes that carry an unknown message type', () => {
      // field 1 (type), varint 99; the generated decoder already refuses the
      // enum value, so messageFromPb never sees it
      const bytes = Uint8Array.of(0x08, 99)
      expect(() => messageFromPb(RaftMessage.decode(bytes))).to.throw()
    })
  })

  describe('entries', () => {
    for (const entry of entries) {
      it(`round-trips a ${entry.type} entry at index ${entry.index}`, () => {
        expect(decodeEntry(encodeEntry(entry))).to.deep.equal(entry)
        expect(entryFromPb(entryToPb(entry))).to.deep.equal(entry)
      })
    }

    it('does not put command data in noop or config entries', () => {
      const pb = entryToPb({ type: 'config', index: 1, term: 1, config: { voters: ['a'], learners: [] } })
      expect(pb.data).to.have.lengthOf(0)
      expect(entryToPb({ type: 'noop', index: 1, term: 1 }).config).to.be.undefined()
    })

    it('throws InvalidMessageError for an unknown entry type', () => {
      const pb = { ...entryToPb(entries[0]), type: 7 as unknown as PbEntry.Type }
      expect(() => entryFromPb(pb)).to.throw().with.property('name', 'InvalidMessageError')
    })

    it('throws InvalidMessageError when the bytes carry an unknown entry type', () => {
      // field 1 (index) = 1, field 2 (term) = 1, field 3 (type) = 7
      const bytes = Uint8Array.of(0x08, 1, 0x10, 1, 0x18, 7)
      expect(() => decodeEntry(bytes)).to.throw().with.property('name', 'InvalidMessageError')
    })
  })

  describe('hard state', () => {
    const states: HardState[] = [
      { term: 0, commit: 0 },
      { term: 3, vote: '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN', commit: 2 },
      { term: BIG, vote: 'b', commit: BIG - 1 },
      { term: MAX, commit: MAX }
    ]

    for (const state of states) {
      it(`round-trips term ${state.term} ${state.vote === undefined ? 'without' : 'with'} a vote`, () => {
        const out = decodeHardState(encodeHardState(state))
        expect(out.term).to.equal(state.term)
        expect(out.commit).to.equal(state.commit)
        expect(out.vote).to.equal(state.vote)
      })
    }

    it('keeps an empty-string vote distinct from no vote', () => {
      expect(decodeHardState(encodeHardState({ term: 1, vote: '', commit: 0 })).vote).to.equal('')
      expect(decodeHardState(encodeHardState({ term: 1, commit: 0 })).vote).to.be.undefined()
    })
  })
})
