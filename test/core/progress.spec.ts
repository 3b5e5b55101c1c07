import { expect } from 'aegir/chai'
import { Progress } from '../../src/core/progress.ts'

/** A progress in `replicate` state with the given match. */
function replicating (match: number, maxInflight = 3): Progress {
  const pr = new Progress(match + 1, maxInflight)
  pr.maybeUpdate(match)
  pr.becomeReplicate()
  return pr
}

describe('core: Progress', () => {
  it('starts in probe, not paused, with nothing matched', () => {
    const pr = new Progress(5, 4)
    expect(pr.state).to.equal('probe')
    expect(pr.next).to.equal(5)
    expect(pr.match).to.equal(0)
    expect(pr.probeSent).to.be.false()
    expect(pr.isPaused()).to.be.false()
    expect(pr.inflights.capacity).to.equal(4)
  })

  describe('probe', () => {
    it('pauses after one send until an acknowledgement', () => {
      const pr = new Progress(5, 4)
      pr.sent(1, 5)
      expect(pr.isPaused()).to.be.true()
      // probing does not move next optimistically nor use the window
      expect(pr.next).to.equal(5)
      expect(pr.inflights.size).to.equal(0)
      expect(pr.maybeUpdate(5)).to.be.true()
      expect(pr.isPaused()).to.be.false()
    })

    it('pauses after an empty send too', () => {
      const pr = new Progress(5, 4)
      pr.sent(0, 4)
      expect(pr.isPaused()).to.be.true()
    })

    it('stays paused on a stale acknowledgement', () => {
      const pr = new Progress(5, 4)
      pr.maybeUpdate(3)
      pr.sent(1, 5)
      expect(pr.maybeUpdate(3)).to.be.false()
      expect(pr.isPaused()).to.be.true()
    })

    it('unpauses when probeSent is reset (a heartbeat response)', () => {
      const pr = new Progress(5, 4)
      pr.sent(1, 5)
      pr.probeSent = false
      expect(pr.isPaused()).to.be.false()
    })

    it('unpauses on a rejection of the outstanding probe', () => {
      const pr = new Progress(5, 4)
      pr.sent(1, 5)
      expect(pr.maybeDecrTo(4, 4)).to.be.true()
      expect(pr.isPaused()).to.be.false()
    })
  })

  describe('replicate', () => {
    it('streams until the window is full, advancing next optimistically', () => {
      const pr = replicating(4, 3)
      expect(pr.next).to.equal(5)
      pr.sent(2, 6)
      expect(pr.next).to.equal(7)
      expect(pr.isPaused()).to.be.false()
      pr.sent(1, 7)
      expect(pr.next).to.equal(8)
      expect(pr.isPaused()).to.be.false()
      pr.sent(3, 10)
      expect(pr.next).to.equal(11)
      expect(pr.inflights.size).to.equal(3)
      expect(pr.isPaused()).to.be.true()
    })

    it('does not count an empty request against the window', () => {
      const pr = replicating(4, 1)
      pr.sent(0, 4)
      expect(pr.next).to.equal(5)
      expect(pr.inflights.size).to.equal(0)
      expect(pr.isPaused()).to.be.false()
    })

    it('ignores probeSent', () => {
      const pr = replicating(4, 3)
      pr.probeSent = true
      expect(pr.isPaused()).to.be.false()
    })

    it('unpauses once an acknowledgement frees room', () => {
      const pr = replicating(4, 2)
      pr.sent(1, 5)
      pr.sent(1, 6)
      expect(pr.isPaused()).to.be.true()
      expect(pr.maybeUpdate(5)).to.be.true()
      pr.inflights.freeLE(5)
      expect(pr.isPaused()).to.be.false()
    })
  })

  describe('maybeUpdate', () => {
    it('raises match and next', () => {
      const pr = new Progress(3, 4)
      expect(pr.maybeUpdate(7)).to.be.true()
      expect(pr.match).to.equal(7)
      expect(pr.next).to.equal(8)
    })

    it('never lowers next when it is ahead', () => {
      const pr = replicating(2, 4)
      pr.sent(5, 7)
      expect(pr.next).to.equal(8)
      expect(pr.maybeUpdate(4)).to.be.true()
      expect(pr.match).to.equal(4)
      expect(pr.next).to.equal(8)
    })

    it('returns false and changes nothing for an old or equal index', () => {
      const pr = new Progress(3, 4)
      pr.maybeUpdate(7)
      pr.sent(1, 8)
      expect(pr.maybeUpdate(7)).to.be.false()
      expect(pr.maybeUpdate(2)).to.be.false()
      expect(pr.match).to.equal(7)
      expect(pr.next).to.equal(8)
      expect(pr.probeSent).to.be.true()
    })
  })

  describe('maybeDecrTo in replicate', () => {
    it('falls back to match + 1 on a fresh rejection, ignoring the hint', () => {
      const pr = replicating(5, 4)
      pr.sent(3, 8)
      pr.sent(2, 10)
      expect(pr.maybeDecrTo(8, 2)).to.be.true()
      expect(pr.next).to.equal(6)
      expect(pr.match).to.equal(5)
    })

    it('ignores a stale rejection at or below match', () => {
      const pr = replicating(5, 4)
      pr.sent(3, 8)
      expect(pr.maybeDecrTo(5, 0)).to.be.false()
      expect(pr.maybeDecrTo(3, 0)).to.be.false()
      expect(pr.next).to.equal(9)
    })
  })

  describe('maybeDecrTo in probe', () => {
    it('moves next to hint + 1 on a rejection of the outstanding probe', () => {
      const pr = new Progress(11, 4)
      pr.sent(0, 10)
      expect(pr.maybeDecrTo(10, 6)).to.be.true()
      expect(pr.next).to.equal(7)
      expect(pr.probeSent).to.be.false()
    })

    it('never moves next beyond the rejected index', () => {
      const pr = new Progress(11, 4)
      expect(pr.maybeDecrTo(10, 50)).to.be.true()
      expect(pr.next).to.equal(10)
    })

    it('never moves next below match + 1', () => {
      const pr = new Progress(11, 4)
      pr.maybeUpdate(5)
      // next stays 11 after the update
      expect(pr.next).to.equal(11)
      expect(pr.maybeDecrTo(10, 2)).to.be.true()
      expect(pr.next).to.equal(6)
    })

    it('ignores a stale rejection of a request other than the last one sent', () => {
      const pr = new Progress(11, 4)
      pr.sent(0, 10)
      expect(pr.maybeDecrTo(9, 3)).to.be.false()
      expect(pr.maybeDecrTo(11, 3)).to.be.false()
      expect(pr.next).to.equal(11)
      // and the probe stays outstanding
      expect(pr.isPaused()).to.be.true()
    })

    it('a repeat of the same rejection after moving is stale', () => {
      const pr = new Progress(11, 4)
      expect(pr.maybeDecrTo(10, 6)).to.be.true()
      expect(pr.maybeDecrTo(10, 3)).to.be.false()
      expect(pr.next).to.equal(7)
    })
  })

  describe('becomeProbe / becomeReplicate', () => {
    it('becomeReplicate sets next to match + 1 and empties the window', () => {
      const pr = new Progress(11, 2)
      pr.maybeUpdate(4)
      pr.becomeReplicate()
      expect(pr.state).to.equal('replicate')
      expect(pr.next).to.equal(5)
      pr.sent(1, 5)
      pr.sent(1, 6)
      expect(pr.isPaused()).to.be.true()
      pr.becomeReplicate()
      expect(pr.inflights.size).to.equal(0)
      expect(pr.next).to.equal(5)
      expect(pr.isPaused()).to.be.false()
    })

    it('becomeProbe sets next to match + 1, empties the window and clears probeSent', () => {
      const pr = replicating(4, 2)
      pr.sent(1, 5)
      pr.sent(1, 6)
      pr.probeSent = true
      pr.becomeProbe()
      expect(pr.state).to.equal('probe')
      expect(pr.next).to.equal(5)
      expect(pr.inflights.size).to.equal(0)
      expect(pr.probeSent).to.be.false()
      expect(pr.isPaused()).to.be.false()
      // and it now probes one at a time
      pr.sent(1, 5)
      expect(pr.isPaused()).to.be.true()
      expect(pr.next).to.equal(5)
    })

    it('becomeProbe from probe also resets next to match + 1', () => {
      const pr = new Progress(11, 2)
      pr.maybeUpdate(3)
      pr.becomeProbe()
      expect(pr.next).to.equal(4)
      expect(pr.match).to.equal(3)
    })
  })
})
