import { expect } from 'aegir/chai'
import { Rng } from '../utils/rng.ts'
import { checkLinearizable, formatCounterexample } from './linearizability.ts'
import type { CheckFailure, CheckResult, KvOutput, Operation } from './linearizability.ts'

// Builders: `span` is [invoked, returned]; a single time means the outcome is unknown.
type Span = [number, number] | [number]

function at (client: number, span: Span, input: Operation['input'], output: KvOutput): Operation {
  if (span.length === 1) {
    return { client, input, invoked: span[0] }
  }
  return { client, input, output, invoked: span[0], returned: span[1] }
}

function read (client: number, key: string, value: string | undefined, span: [number, number]): Operation {
  return at(client, span, { kind: 'read', key }, { kind: 'read', value })
}

function write (client: number, key: string, value: string, span: Span): Operation {
  return at(client, span, { kind: 'write', key, value }, { kind: 'write' })
}

function cas (client: number, key: string, expected: string | undefined, value: string, ok: boolean, span: Span): Operation {
  return at(client, span, { kind: 'cas', key, expected, value }, { kind: 'cas', ok })
}

function expectOk (history: Operation[]): void {
  const result = checkLinearizable(history)
  expect(result.ok, formatCounterexample(result)).to.be.true()
}

function expectIllegal (history: Operation[], key: string, offending: Operation[]): CheckFailure {
  const result = checkLinearizable(history)
  expect(result.ok).to.be.false()
  const failure = result as CheckFailure
  expect(failure.verdict).to.equal('illegal')
  expect(failure.key).to.equal(key)
  for (const op of offending) {
    expect(failure.counterexample, formatCounterexample(failure)).to.include(op)
  }
  for (const op of failure.counterexample) {
    expect(op.input.key).to.equal(key)
    expect(history).to.include(op)
  }
  // ordered by invocation time
  const times = failure.counterexample.map(op => op.invoked)
  expect(times).to.deep.equal([...times].sort((a, b) => a - b))
  expect(failure.explanation).to.be.a('string').that.is.not.empty()
  return failure
}

describe('sim: linearizability checker', () => {
  describe('accepts', () => {
    it('an empty history', () => {
      expectOk([])
    })

    it('a sequential history', () => {
      expectOk([
        read(1, 'x', undefined, [1, 2]),
        write(1, 'x', 'a', [3, 4]),
        read(2, 'x', 'a', [5, 6]),
        cas(1, 'x', 'a', 'b', true, [7, 8]),
        cas(2, 'x', 'a', 'c', false, [9, 10]),
        write(2, 'x', 'd', [11, 12]),
        read(1, 'x', 'd', [13, 14])
      ])
    })

    it('overlapping writes, read afterwards in either order', () => {
      const writes = [write(1, 'x', 'a', [1, 10]), write(2, 'x', 'b', [2, 9])]
      expectOk([...writes, read(3, 'x', 'a', [11, 12]), read(4, 'x', 'a', [13, 14])])
      expectOk([...writes, read(3, 'x', 'b', [11, 12]), read(4, 'x', 'b', [13, 14])])
    })

    it('reads during overlapping writes seeing old and new values', () => {
      expectOk([
        write(1, 'x', 'a', [1, 2]),
        write(2, 'x', 'b', [3, 20]),
        read(3, 'x', 'a', [4, 5]),
        read(3, 'x', 'b', [6, 7]),
        read(4, 'x', 'b', [8, 9]),
        // concurrent with nothing that changes it back: stays b
        read(4, 'x', 'b', [21, 22])
      ])
    })

    it('compare-and-set successes and failures, including from undefined', () => {
      expectOk([
        cas(1, 'x', undefined, 'a', true, [1, 2]),
        cas(2, 'x', undefined, 'b', false, [3, 4]),
        cas(1, 'x', 'a', 'c', true, [5, 8]),
        cas(2, 'x', 'a', 'd', false, [6, 9]),
        read(3, 'x', 'c', [10, 11])
      ])
    })

    it('concurrent cas from the same value where only one wins', () => {
      expectOk([
        write(0, 'x', '0', [1, 2]),
        cas(1, 'x', '0', '1', true, [3, 10]),
        cas(2, 'x', '0', '2', false, [4, 9]),
        read(3, 'x', '1', [11, 12])
      ])
    })

    it('an unknown-outcome write that took effect, even much later', () => {
      expectOk([
        write(1, 'x', 'a', [1, 2]),
        write(2, 'x', 'b', [3]),
        read(3, 'x', 'a', [4, 5]),
        read(3, 'x', 'a', [50, 51]),
        read(3, 'x', 'b', [100, 101])
      ])
    })

    it('an unknown-outcome write that never took effect', () => {
      expectOk([
        write(1, 'x', 'a', [1, 2]),
        write(2, 'x', 'b', [3]),
        read(3, 'x', 'a', [4, 5]),
        read(3, 'x', 'a', [100, 101])
      ])
    })

    it('unknown-outcome cas and reads', () => {
      expectOk([
        write(1, 'x', 'a', [1, 2]),
        cas(2, 'x', 'a', 'b', true, [3]),
        cas(2, 'x', 'b', 'c', false, [4]),
        { client: 4, input: { kind: 'read', key: 'x' }, invoked: 5 },
        read(3, 'x', 'b', [6, 7]),
        read(3, 'x', 'c', [8, 9])
      ])
    })

    it('reads of the initial undefined value, also concurrent with the first write', () => {
      expectOk([
        read(1, 'x', undefined, [1, 2]),
        write(2, 'x', 'a', [3, 10]),
        read(1, 'x', undefined, [4, 5]),
        read(1, 'x', 'a', [6, 7]),
        read(3, 'y', undefined, [8, 9])
      ])
    })

    it('treats a return and an invocation at the same time as concurrent', () => {
      expectOk([
        write(1, 'x', 'a', [1, 2]),
        write(1, 'x', 'b', [3, 5]),
        read(2, 'x', 'a', [5, 6])
      ])
      const stale = read(2, 'x', 'a', [6, 7])
      expectIllegal([
        write(1, 'x', 'a', [1, 2]),
        write(1, 'x', 'b', [3, 5]),
        stale
      ], 'x', [stale])
    })
  })

  describe('rejects', () => {
    it('a stale read after a completed write', () => {
      const old = write(1, 'x', 'a', [1, 2])
      const overwrite = write(1, 'x', 'b', [3, 4])
      const stale = read(2, 'x', 'a', [5, 6])
      const failure = expectIllegal([old, overwrite, stale, read(3, 'x', 'b', [7, 8])], 'x', [overwrite, stale])
      const text = formatCounterexample(failure)
      expect(text).to.include('key "x"')
      expect(text).to.include('[5, 6]')
      expect(text).to.include('read("x") -> "a"')
    })

    it('a read of a value never written', () => {
      const bad = read(2, 'x', 'zzz', [5, 6])
      const failure = expectIllegal([write(1, 'x', 'a', [1, 2]), read(3, 'x', 'a', [3, 4]), bad], 'x', [bad])
      expect(failure.counterexample).to.have.lengthOf(1)
      expect(failure.explanation).to.include('"zzz"')
    })

    it('two cas both succeeding from the same expected value', () => {
      const first = cas(1, 'x', '0', '1', true, [3, 10])
      const second = cas(2, 'x', '0', '2', true, [4, 9])
      expectIllegal([write(0, 'x', '0', [1, 2]), first, second], 'x', [first, second])
    })

    it('a read-your-write violation', () => {
      const mine = write(1, 'x', 'a', [1, 2])
      const mineAgain = read(1, 'x', undefined, [3, 4])
      expectIllegal([mine, mineAgain], 'x', [mine, mineAgain])
    })

    it('a value that disappears and comes back', () => {
      const set = write(1, 'x', 'a', [1, 2])
      const seen = read(2, 'x', 'a', [3, 4])
      const gone = read(2, 'x', undefined, [5, 6])
      const back = read(2, 'x', 'a', [7, 8])
      expectIllegal([set, seen, gone, back], 'x', [gone])
    })

    it('a value that flips back to an overwritten one', () => {
      const a = write(1, 'x', 'a', [1, 2])
      const b = write(1, 'x', 'b', [3, 10])
      const seesB = read(2, 'x', 'b', [4, 5])
      const seesA = read(3, 'x', 'a', [6, 7])
      expectIllegal([a, b, seesB, seesA], 'x', [seesB, seesA])
    })

    it('an unknown-outcome write observed before it was invoked', () => {
      const early = read(1, 'x', 'a', [1, 2])
      const late = write(2, 'x', 'a', [3])
      const failure = expectIllegal([early, late], 'x', [early, late])
      expect(failure.explanation).to.include('invoked at t=3')
    })

    it('a cas that failed though the value was the expected one', () => {
      const set = write(1, 'x', 'a', [1, 2])
      const failed = cas(2, 'x', 'a', 'b', false, [3, 4])
      expectIllegal([set, failed], 'x', [set, failed])
    })

    it('malformed operations', () => {
      expect(() => checkLinearizable([{ client: 1, input: { kind: 'read', key: 'x' }, output: { kind: 'write' }, invoked: 1, returned: 2 }])).to.throw(/kind/)
      expect(() => checkLinearizable([{ client: 1, input: { kind: 'write', key: 'x', value: 'a' }, output: { kind: 'write' }, invoked: 3, returned: 2 }])).to.throw(/before/)
      expect(() => checkLinearizable([{ client: 1, input: { kind: 'write', key: 'x', value: 'a' }, output: { kind: 'write' }, invoked: 3 }])).to.throw(/return time/)
    })
  })

  describe('per-key partitioning', () => {
    it('finds and reports the one bad key among many good ones', () => {
      const history: Operation[] = []
      let t = 0
      for (let k = 0; k < 20; k++) {
        const key = `k${k}`
        history.push(write(k, key, `${key}a`, [t++, t++]), read(k, key, `${key}a`, [t++, t++]))
      }
      const stale = read(99, 'k13', 'k13a', [t + 2, t + 3])
      history.push(write(98, 'k13', 'k13b', [t, t + 1]), stale)
      const failure = expectIllegal(history, 'k13', [stale])
      expect(failure.counterexample.length).to.be.at.most(4)
    })

    it('does not mix up values across keys', () => {
      const wrongKey = read(2, 'y', 'a', [3, 4])
      expectIllegal([write(1, 'x', 'a', [1, 2]), wrongKey], 'y', [wrongKey])
    })
  })

  describe('agrees with brute force', () => {
    it('on small random histories, and its counterexamples are not linearizable either', () => {
      const rng = new Rng(42)
      let illegal = 0
      for (let i = 0; i < 3000; i++) {
        const history = tinyHistory(rng)
        const result = checkLinearizable(history)
        const expected = bruteForce(history, [undefined])
        expect(result.ok, `${JSON.stringify(history)}\n${formatCounterexample(result)}`).to.equal(expected)
        if (!result.ok) {
          illegal++
          expect(result.verdict).to.equal('illegal')
          // not linearizable from undefined, or, when so reported, from any initial value
          const values = result.initialValue === 'undefined' ? [undefined] : [undefined, 'a', 'b', 'c', 'fresh']
          expect(bruteForce(result.counterexample, values), `${JSON.stringify(history)}\n${formatCounterexample(result)}`).to.be.false()
        }
      }
      // both outcomes well represented
      expect(illegal).to.be.within(500, 2500)
    })
  })

  describe('larger histories', () => {
    it('accepts ~2000 random ops over 5 keys from a real execution, quickly', () => {
      for (const seed of [1, 2, 3]) {
        const history = randomHistory(seed, 2000, 5)
        const started = performance.now()
        const result = checkLinearizable(history)
        const elapsed = performance.now() - started
        expect(result.ok, formatCounterexample(result)).to.be.true()
        expect(elapsed).to.be.below(500)
      }
    })

    it('rejects one read corrupted to a value never written', () => {
      const history = randomHistory(4, 2000, 5)
      const reads = history.filter(op => op.output?.kind === 'read')
      const victim = reads[Math.floor(reads.length / 2)]
      victim.output = { kind: 'read', value: 'never-written' }
      const failure = expectIllegal(history, victim.input.key, [victim])
      expect(failure.counterexample).to.have.lengthOf(1)
    })

    it('rejects one read corrupted to a stale value, with a small counterexample', () => {
      for (const seed of [5, 6, 7]) {
        const history = randomHistory(seed, 2000, 5)
        const victim = makeStale(history)
        const started = performance.now()
        const failure = expectIllegal(history, victim.input.key, [victim])
        expect(performance.now() - started).to.be.below(2000)
        expect(failure.counterexample.length, formatCounterexample(failure)).to.be.at.most(12)
      }
    })

    it('copes with many unknown-outcome writes', () => {
      // 40 writes whose outcome is unknown, then a violation at the end
      const history: Operation[] = []
      for (let i = 0; i < 40; i++) {
        history.push(write(i, 'x', `u${i}`, [i * 10]))
        history.push(write(100, 'x', `d${i}`, [i * 10 + 1, i * 10 + 2]))
        history.push(read(101, 'x', `d${i}`, [i * 10 + 3, i * 10 + 4]))
      }
      history.push(write(100, 'x', 'last', [1000, 1001]))
      const stale = read(101, 'x', 'd39', [1002, 1003])
      history.push(stale)
      const started = performance.now()
      expectIllegal(history, 'x', [stale])
      expect(performance.now() - started).to.be.below(1000)
      history.pop()
      expectOk(history)
    })

    it('reports unknown rather than hanging when the budget runs out', () => {
      // 24 concurrent writes, then reads that no order of them explains
      const history: Operation[] = []
      for (let i = 0; i < 24; i++) {
        history.push(write(i, 'x', `w${i}`, [i, 100 + i]))
      }
      history.push(read(50, 'x', 'w0', [200, 201]), read(50, 'x', 'w1', [202, 203]), read(50, 'x', 'w0', [204, 205]))
      const started = performance.now()
      const result: CheckResult = checkLinearizable(history, { timeoutMs: 50 })
      expect(performance.now() - started).to.be.below(1000)
      expect(result.ok).to.be.false()
      const failure = result as CheckFailure
      expect(failure.verdict).to.equal('unknown')
      expect(failure.key).to.equal('x')
      expect(formatCounterexample(failure)).to.include('could not decide')
    })
  })
})

/**
 * A history from a real sequential execution of `count` ops over `keys` keys:
 * each op takes effect at its own point in time, inside a random interval
 * around it; 3% have an unknown outcome (and took effect or not). Values are
 * unique.
 */
function randomHistory (seed: number, count: number, keys: number): Operation[] {
  const rng = new Rng(seed)
  const store = new Map<string, string>()
  const history: Operation[] = []
  let sequence = 0
  for (let i = 0; i < count; i++) {
    const point = i * 10 + 5
    const invoked = point - rng.int(150)
    const returned = point + rng.int(150)
    const key = `k${rng.int(keys)}`
    const client = rng.int(16)
    const current = store.get(key)
    const unknown = rng.chance(0.03)
    const applies = !unknown || rng.chance(0.5)
    const roll = rng.next()
    let op: Operation
    if (roll < 0.4) {
      op = { client, input: { kind: 'read', key }, output: { kind: 'read', value: current }, invoked, returned }
    } else if (roll < 0.75) {
      const value = `v${sequence++}`
      op = { client, input: { kind: 'write', key, value }, output: { kind: 'write' }, invoked, returned }
      if (applies) {
        store.set(key, value)
      }
    } else {
      let expected = current
      if (rng.chance(0.4)) {
        expected = rng.chance(0.3) ? undefined : `v${rng.int(sequence + 1)}`
      }
      const value = `v${sequence++}`
      const ok = current === expected
      op = { client, input: { kind: 'cas', key, expected, value }, output: { kind: 'cas', ok }, invoked, returned }
      if (applies && ok) {
        store.set(key, value)
      }
    }
    if (unknown) {
      delete op.output
      delete op.returned
    }
    history.push(op)
  }
  return history
}

/**
 * Makes a completed read in the second half return the value of a write that
 * was definitely overwritten before the read began: a stale read.
 */
function makeStale (history: Operation[]): Operation {
  const writes = history.filter(op => op.input.kind === 'write' && op.output !== undefined)
  const reads = history.filter(op => op.output?.kind === 'read')
  for (const victim of reads.slice(Math.floor(reads.length / 2))) {
    const key = victim.input.key
    const before = writes.filter(w => w.input.key === key && (w.returned ?? Infinity) < victim.invoked)
    for (const overwrite of before) {
      const old = before.find(w => (w.returned ?? Infinity) < overwrite.invoked)
      if (old !== undefined && old.input.kind === 'write' && victim.output?.kind === 'read' && victim.output.value !== old.input.value) {
        victim.output = { kind: 'read', value: old.input.value }
        return victim
      }
    }
  }
  throw new Error('no read to make stale')
}

/** Up to 7 ops on one key, values from a small set, times with ties, random outputs, some unknown. */
function tinyHistory (rng: Rng): Operation[] {
  const values = ['a', 'b', 'c']
  const maybe = (): string | undefined => rng.chance(0.2) ? undefined : rng.pick(values)
  const history: Operation[] = []
  const count = 1 + rng.int(7)
  for (let i = 0; i < count; i++) {
    const invoked = rng.int(12)
    const span: Span = rng.chance(0.15) ? [invoked] : [invoked, invoked + rng.int(5)]
    const roll = rng.next()
    if (roll < 0.4) {
      history.push(read(i, 'x', maybe(), [invoked, span[1] ?? invoked + 1]))
      if (span.length === 1) {
        delete history[i].output
        delete history[i].returned
      }
    } else if (roll < 0.7) {
      history.push(write(i, 'x', rng.pick(values), span))
    } else {
      history.push(cas(i, 'x', maybe(), rng.pick(values), rng.chance(0.5), span))
    }
  }
  return history
}

/**
 * Tries every order (for one key): an op must come after every op that
 * returned before it was invoked; unknown-outcome ops may be left out.
 */
function bruteForce (history: Operation[], initials: Array<string | undefined>): boolean {
  const known = history.filter(op => op.output !== undefined)
  const place = (done: Set<Operation>, value: string | undefined, placedKnown: number): boolean => {
    if (placedKnown === known.length) {
      return true
    }
    for (const op of history) {
      if (done.has(op) || history.some(p => !done.has(p) && p !== op && p.output !== undefined && (p.returned ?? Infinity) < op.invoked)) {
        continue
      }
      let next = value
      const input = op.input
      const out = op.output
      if (input.kind === 'read') {
        if (out?.kind === 'read' && out.value !== value) {
          continue
        }
      } else if (input.kind === 'write') {
        next = input.value
      } else {
        const ok = value === input.expected
        if (out?.kind === 'cas' && out.ok !== ok) {
          continue
        }
        next = ok ? input.value : value
      }
      done.add(op)
      const found = place(done, next, placedKnown + (out === undefined ? 0 : 1))
      done.delete(op)
      if (found) {
        return true
      }
    }
    return false
  }
  return initials.every(initial => place(new Set(), initial, 0))
}
