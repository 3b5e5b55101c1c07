import { expect } from 'aegir/chai'
import { SessionExpiredError } from '../../src/errors.ts'
import { decodeResult, encodeResult } from '../../src/service/result-codec.ts'
import { ClientSessionTable } from '../../src/service/session-table.ts'
import type { Applied } from '../../src/service/session-table.ts'

/** A table and a counter of how often the state machine ran. */
function table (sessions = 4, results = 3, bytes = 1 << 20): { sessions: ClientSessionTable, run(result: unknown): () => Applied, runs(): number } {
  let runs = 0
  return {
    sessions: new ClientSessionTable({ sessions, results, bytes }),
    run: (result) => () => {
      runs++
      return { result }
    },
    runs: () => runs
  }
}

const stamp = (client: number, sequence: number, acknowledged = 0): { client: number, sequence: number, acknowledged: number } => ({ client, sequence, acknowledged })

describe('client session table', () => {
  it('opens a session under the index of its entry, and applies each sequence once', () => {
    const { sessions, run, runs } = table()
    expect(sessions.apply(7, stamp(0, 0), run('never'))).to.deep.equal({ result: undefined })
    expect(runs()).to.equal(0)
    expect(sessions.apply(8, stamp(7, 1), run('first'))).to.deep.equal({ result: 'first' })
    expect(sessions.apply(9, stamp(7, 1), run('second'))).to.deep.equal({ result: 'first' })
    expect(runs()).to.equal(1)
  })

  it('refuses commands of a session it does not know', () => {
    const { sessions, run, runs } = table()
    const applied = sessions.apply(3, stamp(2, 1), run('x'))
    expect(applied).to.have.property('error').that.is.an.instanceOf(SessionExpiredError)
    expect(runs()).to.equal(0)
  })

  it('forgets acknowledged results and refuses their sequences', () => {
    const { sessions, run, runs } = table()
    sessions.apply(1, stamp(0, 0), run(undefined))
    sessions.apply(2, stamp(1, 1), run('a'))
    sessions.apply(3, stamp(1, 2, 1), run('b'))
    const again = sessions.apply(4, stamp(1, 1, 1), run('a again'))
    expect(again).to.have.property('error').with.property('name', 'SessionExpiredError')
    expect(sessions.apply(5, stamp(1, 2, 1), run('b again'))).to.deep.equal({ result: 'b' })
    expect(runs()).to.equal(2)
  })

  it('keeps at most maxResults unacknowledged results, and refuses what it dropped rather than apply it twice', () => {
    const { sessions, run, runs } = table(4, 2)
    sessions.apply(1, stamp(0, 0), run(undefined))
    for (const sequence of [1, 2, 3]) {
      sessions.apply(1 + sequence, stamp(1, sequence), run(sequence))
    }
    expect(sessions.apply(5, stamp(1, 1), run('again'))).to.have.property('error').with.property('name', 'SessionExpiredError')
    expect(sessions.apply(6, stamp(1, 3), run('again'))).to.deep.equal({ result: 3 })
    expect(runs()).to.equal(3)
  })

  it('drops the least recently used session when one too many is opened', () => {
    const { sessions, run } = table(2)
    sessions.apply(1, stamp(0, 0), run(undefined))
    sessions.apply(2, stamp(0, 0), run(undefined))
    // Session 1 is used: session 2 is now the least recently used.
    sessions.apply(3, stamp(1, 1), run('one'))
    sessions.apply(4, stamp(0, 0), run(undefined))
    expect(sessions.size).to.equal(2)
    expect(sessions.apply(5, stamp(2, 1), run('two'))).to.have.property('error').with.property('name', 'SessionExpiredError')
    expect(sessions.apply(6, stamp(1, 1), run('again'))).to.deep.equal({ result: 'one' })
  })

  it('keeps an apply error as the answer to every copy', () => {
    const { sessions } = table()
    sessions.apply(1, stamp(0, 0), () => ({ result: undefined }))
    const failed = Object.assign(new Error('bad command'), { name: 'KvError' })
    expect(sessions.apply(2, stamp(1, 1), () => ({ result: undefined, error: failed }))).to.have.property('error', failed)
    const copy = sessions.apply(3, stamp(1, 1), () => ({ result: 'ran twice' })) as Applied
    expect(copy.error).to.include({ name: 'KvError', message: 'bad command' })
  })

  it('answers every copy from what it kept, whatever the first caller did with the result', () => {
    const { sessions, run } = table()
    sessions.apply(1, stamp(0, 0), run(undefined))
    const first = sessions.apply(2, stamp(1, 1), run({ n: 1 })) as Applied
    ;(first.result as { n: number }).n = 99
    expect(sessions.apply(3, stamp(1, 1), run('x'))).to.deep.equal({ result: { n: 1 } })
  })

  it('keeps what it cannot write as undefined, and what is thrown that is not an Error as an error, alike on every member', () => {
    const { sessions, run } = table()
    sessions.apply(1, stamp(0, 0), run(undefined))
    const circular: Record<string, unknown> = {}
    circular.self = circular
    sessions.apply(2, stamp(1, 1), run(circular))
    sessions.apply(3, stamp(1, 2), () => ({ result: undefined, error: null as any }))
    expect(sessions.apply(4, stamp(1, 1), run('x'))).to.deep.equal({ result: undefined })
    expect((sessions.apply(5, stamp(1, 2), run('x')) as Applied).error).to.include({ name: 'Error', message: 'null' })
    const copy = table()
    copy.sessions.restore(sessions.encode())
    expect(copy.sessions.apply(6, stamp(1, 1), copy.run('x'))).to.deep.equal({ result: undefined })
    expect((copy.sessions.apply(7, stamp(1, 2), copy.run('x')) as Applied).error).to.include({ name: 'Error', message: 'null' })
  })

  it('stays within its byte limit: other sessions go first, least recently used first, then the oldest results of the current one', () => {
    const { sessions, run } = table(10, 10, 400)
    sessions.apply(1, stamp(0, 0), run(undefined))
    sessions.apply(2, stamp(0, 0), run(undefined))
    sessions.apply(3, stamp(1, 1), run('a'.repeat(100)))
    sessions.apply(4, stamp(2, 1), run('b'.repeat(100)))
    expect(sessions.size).to.equal(2)
    // Session 2 now needs more room than the limit leaves: session 1 goes, then session 2's oldest result.
    sessions.apply(5, stamp(2, 2), run('c'.repeat(150)))
    sessions.apply(6, stamp(2, 3), run('d'.repeat(150)))
    expect(sessions.encodedBytes).to.be.at.most(400)
    expect(sessions.size).to.equal(1)
    expect(sessions.apply(7, stamp(1, 1), run('x'))).to.have.property('error').with.property('name', 'SessionExpiredError')
    expect(sessions.apply(8, stamp(2, 1), run('x'))).to.have.property('error').with.property('name', 'SessionExpiredError')
    expect(sessions.apply(9, stamp(2, 3), run('x'))).to.deep.equal({ result: 'd'.repeat(150) })
    expect(sessions.encode().byteLength).to.be.at.most(400)
  })

  it('waits for a state machine that applies asynchronously', async () => {
    const { sessions } = table()
    sessions.apply(1, stamp(0, 0), () => ({ result: undefined }))
    expect(await sessions.apply(2, stamp(1, 1), async () => ({ result: 'later' }))).to.deep.equal({ result: 'later' })
    expect(sessions.apply(3, stamp(1, 1), () => ({ result: 'ran twice' }))).to.deep.equal({ result: 'later' })
  })

  it('restores from its encoding the same answers, order of use and bounds', () => {
    const { sessions, run } = table(2, 2)
    sessions.apply(1, stamp(0, 0), run(undefined))
    sessions.apply(2, stamp(0, 0), run(undefined))
    sessions.apply(3, stamp(1, 1), run({ bytes: Uint8Array.of(1, 2), big: 5n, list: [1, 'two', null] }))
    sessions.apply(4, stamp(2, 1), () => ({ result: undefined, error: Object.assign(new Error('no'), { name: 'KvError' }) }))
    for (const sequence of [2, 3, 4]) {
      sessions.apply(3 + sequence, stamp(1, sequence), run(sequence))
    }
    const copy = table(2, 2)
    copy.sessions.restore(sessions.encode())
    const failed = copy.sessions.apply(10, stamp(2, 1), copy.run('again')) as Applied
    expect(failed.error).to.include({ name: 'KvError', message: 'no' })
    expect(copy.sessions.apply(11, stamp(1, 4), copy.run('again'))).to.deep.equal({ result: 4 })
    expect(copy.sessions.apply(12, stamp(1, 1), copy.run('again'))).to.have.property('error').with.property('name', 'SessionExpiredError')
    // Session 1 was used last: opening one more drops session 2.
    copy.sessions.apply(13, stamp(0, 0), copy.run(undefined))
    expect(copy.sessions.apply(14, stamp(2, 1), copy.run('x'))).to.have.property('error').with.property('name', 'SessionExpiredError')
    const restoredCopy = table(2, 2)
    restoredCopy.sessions.restore(sessions.encode())
    expect(restoredCopy.sessions.apply(15, stamp(1, 3), restoredCopy.run('x'))).to.deep.equal({ result: 3 })
    expect(restoredCopy.sessions.apply(16, stamp(1, 1), restoredCopy.run('x'))).to.have.property('error').with.property('name', 'SessionExpiredError')
    expect(copy.runs()).to.equal(0)
    copy.sessions.restore(undefined)
    expect(copy.sessions.size).to.equal(0)
  })
})

describe('result codec', () => {
  it('brings plain data back as it was', () => {
    const value = { tagged: { $raft: 'bigint', value: 'abc' }, text: 'a', n: 1.5, big: 12345678901234567890n, bytes: Uint8Array.of(0, 255), nested: [true, null, undefined, { inf: Infinity, nan: NaN }], none: undefined }
    const back = decodeResult(encodeResult(value)) as typeof value
    expect(back.tagged).to.deep.equal({ $raft: 'bigint', value: 'abc' })
    expect(back.text).to.equal('a')
    expect(back.n).to.equal(1.5)
    expect(back.big).to.equal(12345678901234567890n)
    expect(back.bytes).to.deep.equal(Uint8Array.of(0, 255))
    expect(back.nested.slice(0, 3)).to.deep.equal([true, null, undefined])
    expect(back.nested[3]).to.deep.equal({ inf: Infinity, nan: NaN })
    expect(back).to.have.property('none', undefined)
    expect(decodeResult(encodeResult(undefined))).to.equal(undefined)
    expect(decodeResult(encodeResult('plain'))).to.equal('plain')
  })

  it('stores what has no faithful text form as undefined', () => {
    expect(decodeResult(encodeResult(new Map([[1, 2]])))).to.equal(undefined)
    expect(decodeResult(encodeResult({ f: () => 1 }))).to.deep.equal({ f: undefined })
  })
})
