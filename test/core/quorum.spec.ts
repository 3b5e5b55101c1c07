import { expect } from 'aegir/chai'
import { quorumIndex, quorumSize, voteOutcome } from '../../src/core/quorum.ts'
import type { NodeId } from '../../src/core/types.ts'

function matches (m: Record<NodeId, number>): (id: NodeId) => number {
  return id => m[id] ?? 0
}

function votes (v: Record<NodeId, boolean>): Map<NodeId, boolean> {
  return new Map(Object.entries(v))
}

describe('core: quorum', () => {
  describe('quorumSize', () => {
    it('is a strict majority for 1..7 voters', () => {
      expect([1, 2, 3, 4, 5, 6, 7].map(quorumSize)).to.deep.equal([1, 2, 2, 3, 3, 4, 4])
    })
  })

  describe('quorumIndex', () => {
    it('is 0 without voters', () => {
      expect(quorumIndex([], () => 100)).to.equal(0)
    })

    it('is the only voter\'s match with one voter', () => {
      expect(quorumIndex(['a'], matches({ a: 7 }))).to.equal(7)
    })

    it('is the median with an odd number of voters', () => {
      expect(quorumIndex(['a', 'b', 'c'], matches({ a: 5, b: 9, c: 1 }))).to.equal(5)
      expect(quorumIndex(['a', 'b', 'c', 'd', 'e'], matches({ a: 2, b: 10, c: 4, d: 8, e: 6 }))).to.equal(6)
    })

    it('needs more than half with an even number of voters', () => {
      // 3 of 4 must hold it
      expect(quorumIndex(['a', 'b', 'c', 'd'], matches({ a: 10, b: 8, c: 6, d: 4 }))).to.equal(6)
      // 2 of 2
      expect(quorumIndex(['a', 'b'], matches({ a: 10, b: 3 }))).to.equal(3)
      // 4 of 6
      expect(quorumIndex(['a', 'b', 'c', 'd', 'e', 'f'], matches({ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 }))).to.equal(3)
    })

    it('sorts numerically, not as strings', () => {
      expect(quorumIndex(['a', 'b', 'c'], matches({ a: 9, b: 10, c: 100 }))).to.equal(10)
    })

    it('counts only the listed voters', () => {
      const asked: NodeId[] = []
      const all = matches({ a: 5, b: 3, c: 1, learner1: 100, learner2: 100 })
      const index = quorumIndex(['a', 'b', 'c'], id => {
        asked.push(id)
        return all(id)
      })
      // counting the learners too would give 5
      expect(index).to.equal(3)
      expect(asked.sort()).to.deep.equal(['a', 'b', 'c'])
    })

    it('ties resolve to the shared value', () => {
      expect(quorumIndex(['a', 'b', 'c'], matches({ a: 4, b: 4, c: 4 }))).to.equal(4)
    })
  })

  describe('voteOutcome', () => {
    const three = ['a', 'b', 'c']
    const four = ['a', 'b', 'c', 'd']

    it('a single voter wins on its own vote and loses on its own rejection', () => {
      expect(voteOutcome(['a'], votes({ a: true }))).to.equal('won')
      expect(voteOutcome(['a'], votes({ a: false }))).to.equal('lost')
      expect(voteOutcome(['a'], votes({}))).to.equal('pending')
    })

    it('three voters: won with two grants, lost with two rejections, pending otherwise', () => {
      expect(voteOutcome(three, votes({ a: true }))).to.equal('pending')
      expect(voteOutcome(three, votes({ a: true, b: true }))).to.equal('won')
      expect(voteOutcome(three, votes({ a: true, b: false }))).to.equal('pending')
      expect(voteOutcome(three, votes({ a: true, b: false, c: false }))).to.equal('lost')
      expect(voteOutcome(three, votes({ b: false, c: false }))).to.equal('lost')
      expect(voteOutcome(three, votes({ a: true, b: false, c: true }))).to.equal('won')
    })

    it('four voters need three grants; two rejections already lose', () => {
      expect(voteOutcome(four, votes({ a: true, b: true }))).to.equal('pending')
      expect(voteOutcome(four, votes({ a: true, b: true, c: true }))).to.equal('won')
      expect(voteOutcome(four, votes({ a: true, b: false }))).to.equal('pending')
      expect(voteOutcome(four, votes({ a: true, b: false, c: false }))).to.equal('lost')
      expect(voteOutcome(four, votes({ a: true, b: true, c: false }))).to.equal('pending')
    })

    it('two voters need both', () => {
      expect(voteOutcome(['a', 'b'], votes({ a: true }))).to.equal('pending')
      expect(voteOutcome(['a', 'b'], votes({ a: true, b: true }))).to.equal('won')
      expect(voteOutcome(['a', 'b'], votes({ a: true, b: false }))).to.equal('lost')
    })

    it('ignores grants from non-voters', () => {
      expect(voteOutcome(three, votes({ a: true, x: true, y: true }))).to.equal('pending')
      expect(voteOutcome(four, votes({ a: true, b: true, x: true }))).to.equal('pending')
    })

    it('ignores rejections from non-voters', () => {
      expect(voteOutcome(three, votes({ a: true, x: false, y: false }))).to.equal('pending')
      expect(voteOutcome(three, votes({ a: true, b: true, x: false, y: false, z: false }))).to.equal('won')
    })
  })
})
