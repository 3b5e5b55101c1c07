import { expect } from 'aegir/chai'
import { JOIN_BURST, JoinLimiter, MAX_PENDING_JOINS } from '../src/service/join-limiter.ts'
import type { Clock } from '../src/service/seams.ts'

function clockAt (time: { now: number }): Clock {
  return { now: () => time.now, every: () => () => {}, after: () => () => {}, soon: () => {} }
}

describe('join limiter', () => {
  it(`hears a peer ${JOIN_BURST} times at once, then once per interval`, () => {
    const time = { now: 0 }
    const limiter = new JoinLimiter(clockAt(time), 500)
    for (let i = 0; i < JOIN_BURST; i++) {
      const done = limiter.admit('a')
      expect(done).to.be.a('function')
      done?.()
    }
    expect(limiter.admit('a')).to.be.undefined()
    expect(limiter.admit('b')).to.be.a('function')
    time.now = 499
    expect(limiter.admit('a')).to.be.undefined()
    time.now = 500
    expect(limiter.admit('a')).to.be.a('function')
    expect(limiter.admit('a')).to.be.undefined()
  })

  it(`handles at most ${MAX_PENDING_JOINS} joins at once, and more once they are answered`, () => {
    const time = { now: 0 }
    const limiter = new JoinLimiter(clockAt(time), 500)
    const pending = Array.from({ length: MAX_PENDING_JOINS }, (_, i) => limiter.admit(`p${i}`))
    expect(pending.every(done => typeof done === 'function')).to.be.true()
    expect(limiter.admit('one-more')).to.be.undefined()
    pending[0]?.()
    pending[0]?.()
    expect(limiter.admit('one-more')).to.be.a('function')
    expect(limiter.admit('another')).to.be.undefined()
  })

  it('forgets peers whose allowance filled up again, so its memory stays bounded', () => {
    const time = { now: 0 }
    const limiter = new JoinLimiter(clockAt(time), 10)
    for (let i = 0; i < 5000; i++) {
      time.now = i * 11
      const done = limiter.admit(`peer-${i}`)
      expect(done).to.be.a('function')
      done?.()
    }
    expect(limiter.tracked).to.be.at.most(JOIN_BURST)
  })
})
