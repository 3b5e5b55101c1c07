import { expect } from 'aegir/chai'
import { JoinLimiter, MAX_PENDING_JOINS } from '../src/service/join-limiter.ts'
import type { Clock } from '../src/service/seams.ts'

function clockAt (time: { now: number }): Clock {
  return { now: () => time.now, every: () => () => {}, after: () => () => {}, soon: () => {} }
}

describe('join limiter', () => {
  it('hears each peer at most once per interval', () => {
    const time = { now: 0 }
    const limiter = new JoinLimiter(clockAt(time), 500)
    const done = limiter.admit('a')
    expect(done).to.be.a('function')
    done?.()
    time.now = 499
    expect(limiter.admit('a')).to.be.undefined()
    expect(limiter.admit('b')).to.be.a('function')
    time.now = 500
    expect(limiter.admit('a')).to.be.a('function')
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

  it('forgets peers heard longer than an interval ago, so its memory stays bounded', () => {
    const time = { now: 0 }
    const limiter = new JoinLimiter(clockAt(time), 10)
    for (let i = 0; i < 5000; i++) {
      time.now = i * 11
      const done = limiter.admit(`peer-${i}`)
      expect(done).to.be.a('function')
      done?.()
    }
    expect((limiter as any).lastHeard.size).to.be.at.most(1)
  })
})
