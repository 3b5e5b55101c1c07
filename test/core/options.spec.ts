import { expect } from 'aegir/chai'
import { CORE_DEFAULTS, RaftCore, bootstrapState } from '../../src/core/raft-core.ts'
import { InvalidParametersError, NotLeaderError } from '../../src/errors.ts'
import type { CoreInit } from '../../src/core/raft-core.ts'

function init (extra: Record<string, unknown> = {}): CoreInit {
  return { id: 'a', random: () => 0, ...extra } as unknown as CoreInit
}

function expectInvalid (extra: Record<string, unknown>, pattern?: RegExp): void {
  let error: unknown
  try {
    // eslint-disable-next-line no-new
    new RaftCore(init(extra))
  } catch (err) {
    error = err
  }
  expect(error, `options ${JSON.stringify(extra)} were accepted`).to.be.an('error')
  expect(error).to.have.property('name', 'InvalidParametersError')
  expect(error).to.be.an.instanceOf(InvalidParametersError)
  if (pattern !== undefined) {
    expect((error as Error).message).to.match(pattern)
  }
}

/** Ticks a single-voter node until it leads; returns how many ticks that took. */
function ticksToLead (core: RaftCore, max = 100): number {
  for (let i = 1; i <= max; i++) {
    core.tick()
    if (core.role === 'leader') {
      return i
    }
  }
  return Infinity
}

describe('core: options', () => {
  describe('RaftCore options', () => {
    const numeric = ['electionTicks', 'heartbeatTicks', 'maxEntriesPerAppend', 'maxBytesPerAppend', 'maxInflightAppends'] as const

    for (const key of numeric) {
      it(`rejects a non-integer ${key}`, () => {
        expectInvalid({ [key]: 1.5 }, new RegExp(key))
        expectInvalid({ [key]: Number.NaN }, new RegExp(key))
        expectInvalid({ [key]: Number.POSITIVE_INFINITY }, new RegExp(key))
      })

      it(`rejects a zero or negative ${key}`, () => {
        expectInvalid({ [key]: 0 }, new RegExp(key))
        expectInvalid({ [key]: -1 }, new RegExp(key))
      })

      it(`rejects a ${key} of the wrong type`, () => {
        expectInvalid({ [key]: '5' }, new RegExp(key))
        expectInvalid({ [key]: true }, new RegExp(key))
        expectInvalid({ [key]: null }, new RegExp(key))
      })
    }

    for (const key of ['preVote', 'checkQuorum'] as const) {
      it(`rejects a ${key} that is not a boolean`, () => {
        expectInvalid({ [key]: 'true' }, new RegExp(key))
        expectInvalid({ [key]: 1 }, new RegExp(key))
        expectInvalid({ [key]: 0 }, new RegExp(key))
        expectInvalid({ [key]: null }, new RegExp(key))
      })
    }

    it('rejects heartbeatTicks at or above electionTicks', () => {
      expectInvalid({ electionTicks: 5, heartbeatTicks: 5 }, /heartbeatTicks/)
      expectInvalid({ electionTicks: 5, heartbeatTicks: 6 }, /heartbeatTicks/)
      // against the default electionTicks (10)
      expectInvalid({ heartbeatTicks: 10 }, /heartbeatTicks/)
      // against the default heartbeatTicks (1)
      expectInvalid({ electionTicks: 1 }, /heartbeatTicks/)
    })

    it('accepts heartbeatTicks just below electionTicks', () => {
      expect(() => new RaftCore(init({ electionTicks: 5, heartbeatTicks: 4 }))).to.not.throw()
      expect(() => new RaftCore(init({ electionTicks: 2 }))).to.not.throw()
    })

    it('accepts no options and the defaults spelled out', () => {
      expect(() => new RaftCore(init())).to.not.throw()
      expect(() => new RaftCore(init({ ...CORE_DEFAULTS }))).to.not.throw()
    })

    it('treats an undefined option as the default', () => {
      const core = new RaftCore(init({ electionTicks: undefined, state: bootstrapState(['a']) }))
      expect(ticksToLead(core)).to.equal(CORE_DEFAULTS.electionTicks)
    })

    it('has the documented defaults', () => {
      expect(CORE_DEFAULTS).to.deep.equal({
        electionTicks: 10,
        heartbeatTicks: 1,
        preVote: true,
        checkQuorum: true,
        maxEntriesPerAppend: 256,
        maxBytesPerAppend: 1024 * 1024,
        maxInflightAppends: 16,
        readMode: 'safe'
      })
    })

    it('accepts only the read modes it knows, and leases only with check-quorum', () => {
      expectInvalid({ readMode: 'fast' }, /readMode/)
      expectInvalid({ readMode: 7 }, /readMode/)
      expectInvalid({ readMode: 'lease', checkQuorum: false }, /requires checkQuorum/)
      expect(() => new RaftCore(init({ readMode: 'lease' }))).to.not.throw()
    })

    it('uses the default election timeout, drawn from [electionTicks, 2 × electionTicks)', () => {
      expect(ticksToLead(new RaftCore(init({ state: bootstrapState(['a']) })))).to.equal(10)
      expect(ticksToLead(new RaftCore(init({ random: () => 0.99, state: bootstrapState(['a']) })))).to.equal(19)
    })

    it('uses a given electionTicks', () => {
      expect(ticksToLead(new RaftCore(init({ electionTicks: 3, state: bootstrapState(['a']) })))).to.equal(3)
    })
  })

  describe('bootstrapState', () => {
    it('throws InvalidParametersError without voters', () => {
      expect(() => bootstrapState([])).to.throw().with.property('name', 'InvalidParametersError')
    })

    it('starts from a configuration entry at index 1, term 1', () => {
      expect(bootstrapState(['a', 'b'])).to.deep.equal({
        hardState: { term: 1, commit: 0 },
        entries: [{ type: 'config', index: 1, term: 1, config: { voters: ['a', 'b'], learners: [] } }]
      })
    })

    it('removes duplicate voters, keeping the order', () => {
      const state = bootstrapState(['a', 'a', 'b'])
      const entry = state.entries[0]
      expect(entry.type).to.equal('config')
      expect(entry.type === 'config' ? entry.config.voters : undefined).to.deep.equal(['a', 'b'])
    })

    it('does not alias the caller\'s array', () => {
      const voters = ['a', 'b']
      const state = bootstrapState(voters)
      voters.push('c')
      const entry = state.entries[0]
      expect(entry.type === 'config' ? entry.config.voters : undefined).to.deep.equal(['a', 'b'])
    })

    it('gives a node its configuration', () => {
      const core = new RaftCore(init({ state: bootstrapState(['a', 'b', 'b', 'c']) }))
      expect(core.config).to.deep.equal({ voters: ['a', 'b', 'c'], learners: [] })
      expect(core.term).to.equal(1)
    })
  })

  describe('propose', () => {
    function follower (): RaftCore {
      return new RaftCore({ id: 'n2', random: () => 0, state: bootstrapState(['n1', 'n2', 'n3']) })
    }

    function proposeError (core: RaftCore): unknown {
      try {
        core.propose(new Uint8Array([1]))
      } catch (err) {
        return err
      }
      expect.fail('propose did not throw')
    }

    it('throws NotLeaderError on a follower that knows no leader', () => {
      const core = follower()
      const err = proposeError(core)
      expect(err).to.be.an.instanceOf(NotLeaderError)
      expect(err).to.have.property('name', 'NotLeaderError')
      expect(err).to.have.property('leader', undefined)
      expect(core.log.lastIndex()).to.equal(1)
    })

    it('throws NotLeaderError naming the known leader', () => {
      const core = follower()
      core.step({ type: 'heartbeat-request', from: 'n1', to: 'n2', term: 2, commit: 0, context: 0 })
      expect(core.leader).to.equal('n1')
      const err = proposeError(core)
      expect(err).to.be.an.instanceOf(NotLeaderError)
      expect(err).to.have.property('name', 'NotLeaderError')
      expect(err).to.have.property('leader', 'n1')
      expect((err as Error).message).to.include('n1')
      expect(core.log.lastIndex()).to.equal(1)
    })

    it('throws NotLeaderError while campaigning', () => {
      const core = follower()
      while (core.role === 'follower') {
        core.tick()
      }
      expect(core.role).to.equal('pre-candidate')
      expect(proposeError(core)).to.have.property('name', 'NotLeaderError')
    })

    it('appends on a leader', () => {
      const core = new RaftCore(init({ state: bootstrapState(['a']) }))
      ticksToLead(core)
      // config at 1, the leader's noop at 2
      expect(core.propose(new Uint8Array([1]))).to.deep.equal({ index: 3, term: 2 })
      expect(core.log.entry(3)?.type).to.equal('command')
    })
  })
})
