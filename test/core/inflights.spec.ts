import { expect } from 'aegir/chai'
import { Inflights } from '../../src/core/inflights.ts'

describe('core: Inflights', () => {
  it('starts empty', () => {
    const inf = new Inflights(3)
    expect(inf.capacity).to.equal(3)
    expect(inf.size).to.equal(0)
    expect(inf.full()).to.be.false()
  })

  it('fills up to its capacity', () => {
    const inf = new Inflights(3)
    inf.add(1)
    expect(inf.size).to.equal(1)
    expect(inf.full()).to.be.false()
    inf.add(2)
    expect(inf.full()).to.be.false()
    inf.add(3)
    expect(inf.size).to.equal(3)
    expect(inf.full()).to.be.true()
  })

  it('rejects adding when full, and stays as it was', () => {
    const inf = new Inflights(2)
    inf.add(1)
    inf.add(2)
    expect(() => { inf.add(3) }).to.throw(/full/)
    expect(inf.size).to.equal(2)
    // the entries already there are intact
    inf.freeLE(1)
    expect(inf.size).to.equal(1)
    inf.freeLE(2)
    expect(inf.size).to.equal(0)
  })

  it('works with a capacity of one', () => {
    const inf = new Inflights(1)
    inf.add(5)
    expect(inf.full()).to.be.true()
    expect(() => { inf.add(6) }).to.throw()
    inf.freeLE(5)
    expect(inf.full()).to.be.false()
    inf.add(6)
    expect(inf.size).to.equal(1)
  })

  it('rejects a capacity below one or not an integer', () => {
    expect(() => new Inflights(0)).to.throw(RangeError)
    expect(() => new Inflights(-1)).to.throw(RangeError)
    expect(() => new Inflights(1.5)).to.throw(RangeError)
    expect(() => new Inflights(Number.NaN)).to.throw(RangeError)
  })

  describe('freeLE', () => {
    it('frees every request up to and including the index', () => {
      const inf = new Inflights(5)
      for (const i of [2, 4, 6, 8, 10]) {
        inf.add(i)
      }
      inf.freeLE(6)
      expect(inf.size).to.equal(2)
      expect(inf.full()).to.be.false()
    })

    it('frees nothing below the oldest', () => {
      const inf = new Inflights(3)
      inf.add(5)
      inf.add(7)
      inf.freeLE(4)
      expect(inf.size).to.equal(2)
    })

    it('frees requests between indexes: only those at or below', () => {
      const inf = new Inflights(3)
      inf.add(5)
      inf.add(7)
      inf.freeLE(6)
      expect(inf.size).to.equal(1)
      inf.freeLE(6)
      expect(inf.size).to.equal(1)
      inf.freeLE(7)
      expect(inf.size).to.equal(0)
    })

    it('frees everything with a large index, and is harmless when empty', () => {
      const inf = new Inflights(3)
      inf.add(1)
      inf.add(2)
      inf.freeLE(100)
      expect(inf.size).to.equal(0)
      inf.freeLE(100)
      expect(inf.size).to.equal(0)
    })
  })

  describe('freeFirst', () => {
    it('frees only the oldest request', () => {
      const inf = new Inflights(3)
      inf.add(1)
      inf.add(2)
      inf.add(3)
      inf.freeFirst()
      expect(inf.size).to.equal(2)
      expect(inf.full()).to.be.false()
      // 1 is gone: freeing up to 1 frees nothing more
      inf.freeLE(1)
      expect(inf.size).to.equal(2)
      inf.freeLE(2)
      expect(inf.size).to.equal(1)
    })

    it('does nothing when empty', () => {
      const inf = new Inflights(2)
      inf.freeFirst()
      expect(inf.size).to.equal(0)
      inf.add(1)
      inf.add(2)
      expect(inf.full()).to.be.true()
    })
  })

  it('reset empties the window', () => {
    const inf = new Inflights(3)
    inf.add(1)
    inf.add(2)
    inf.add(3)
    inf.freeFirst()
    inf.reset()
    expect(inf.size).to.equal(0)
    expect(inf.full()).to.be.false()
    inf.add(10)
    inf.add(11)
    inf.add(12)
    expect(inf.full()).to.be.true()
    inf.freeLE(10)
    expect(inf.size).to.equal(2)
  })

  describe('ring buffer wrap-around', () => {
    it('keeps the order of requests across the end of the buffer', () => {
      const inf = new Inflights(4)
      for (const i of [1, 2, 3, 4]) {
        inf.add(i)
      }
      inf.freeLE(3)
      // start is now at slot 3; these wrap to slots 0..2
      inf.add(5)
      inf.add(6)
      inf.add(7)
      expect(inf.full()).to.be.true()
      expect(() => { inf.add(8) }).to.throw()
      inf.freeLE(4)
      expect(inf.size).to.equal(3)
      inf.freeLE(5)
      expect(inf.size).to.equal(2)
      inf.freeFirst()
      expect(inf.size).to.equal(1)
      inf.freeLE(6)
      expect(inf.size).to.equal(1)
      inf.freeLE(7)
      expect(inf.size).to.equal(0)
    })

    it('survives many laps', () => {
      const inf = new Inflights(3)
      let next = 1
      let oldest = 1
      for (let lap = 0; lap < 20; lap++) {
        while (!inf.full()) {
          inf.add(next++)
        }
        expect(inf.size).to.equal(3)
        // free the two oldest by index, one at a time
        inf.freeLE(oldest)
        expect(inf.size).to.equal(2)
        inf.freeLE(oldest + 1)
        expect(inf.size).to.equal(1)
        oldest += 2
      }
      // one request is left: the oldest not yet freed
      inf.freeLE(oldest - 1)
      expect(inf.size).to.equal(1)
      inf.freeLE(oldest)
      expect(inf.size).to.equal(0)
    })
  })
})
