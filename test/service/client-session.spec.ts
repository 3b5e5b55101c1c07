import { expect } from 'aegir/chai'
import { CommitTimeoutError } from '../../src/errors.ts'
import { ClientSession } from '../../src/service/client-session.ts'
import { systemClock } from '../../src/service/system-clock.ts'
import { Waiters } from '../../src/service/waiters.ts'
import type { SessionStamp } from '../../src/core/index.ts'
import type { CommitResult } from '../../src/index.ts'
import type { Deadline } from '../../src/service/deadline.ts'

/** A session whose commits go to `send`, which sees every stamp. */
function session (send: (stamp: SessionStamp, deadline: Deadline) => Promise<CommitResult>): { session: ClientSession, stamps: SessionStamp[] } {
  const stamps: SessionStamp[] = []
  const waiters = new Waiters(systemClock, { commitTimeout: 10_000, electionTimeout: 100 }, { appliedIndex: 0 })
  return {
    stamps,
    session: new ClientSession({
      id: 7,
      check: () => {},
      commit: async (_command, deadline, stamp) => {
        stamps.push(stamp)
        return send(stamp, deadline)
      },
      waiters,
      clock: systemClock,
      retryPause: 5
    })
  }
}

const applied = (index: number): CommitResult => ({ index, term: 1, result: index })
const command = Uint8Array.of(1)

describe('client session (the client half)', () => {
  it('numbers commands, and acknowledges every sequence whose answer a caller has', async () => {
    const { session: s, stamps } = session(async (stamp) => applied(stamp.sequence))
    expect(await s.commit(command)).to.include({ sequence: 1, result: 1 })
    expect(await s.commit(command)).to.include({ sequence: 2 })
    expect(stamps.map(({ sequence, acknowledged }) => [sequence, acknowledged])).to.deep.equal([[1, 0], [2, 1]])
    expect(stamps.every(stamp => stamp.client === 7)).to.equal(true)
  })

  it('keeps a sequence whose outcome is unknown open, so that a retry can still get its result', async () => {
    const caller = new AbortController()
    let hold = true
    const { session: s, stamps } = session(async (stamp, deadline) => {
      if (stamp.sequence === 1 && hold) {
        return new Promise((_resolve, reject) => { deadline.onExpire(() => { reject(new CommitTimeoutError()) }) })
      }
      return applied(stamp.sequence)
    })
    const first = s.commit(command, { signal: caller.signal })
    caller.abort()
    const err = await first.then(() => undefined, (err: any) => err)
    expect(err).to.include({ name: 'AbortError', sequence: 1 })
    await s.commit(command)
    hold = false
    expect(await s.commit(command, { sequence: 1 })).to.include({ sequence: 1 })
    await s.commit(command)
    expect(stamps.map(({ sequence, acknowledged }) => [sequence, acknowledged])).to.deep.equal([[1, 0], [2, 0], [1, 0], [3, 2]])
  })

  it('never acknowledges the sequence a call is still sending, though another call for it finished', async () => {
    let attempts = 0
    const { session: s, stamps } = session(async (stamp) => {
      attempts++
      if (attempts === 1) {
        // The first copy's answer is lost: the call sends it again after a pause.
        throw new CommitTimeoutError()
      }
      return applied(stamp.sequence)
    })
    const first = s.commit(command)
    // Meanwhile the caller retries the same sequence, and that call finishes first.
    expect(await s.commit(command, { sequence: 1 })).to.include({ sequence: 1 })
    expect(await first).to.include({ sequence: 1 })
    expect(stamps.map(({ sequence, acknowledged }) => [sequence, acknowledged])).to.deep.equal([[1, 0], [1, 0], [1, 0]])
  })

  it('takes no sequence for a call aborted before it started, and refuses a sequence it never handed out', async () => {
    const { session: s, stamps } = session(async (stamp) => applied(stamp.sequence))
    await expect(s.commit(command, { signal: AbortSignal.abort() })).to.eventually.be.rejected.with.property('name', 'AbortError')
    await expect(s.commit(command, { sequence: 1 })).to.eventually.be.rejected.with.property('name', 'InvalidParametersError')
    expect(await s.commit(command)).to.include({ sequence: 1 })
    expect(stamps).to.have.length(1)
  })
})
