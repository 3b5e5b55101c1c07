import { InvalidParametersError as Libp2pInvalidParametersError } from '@libp2p/interface'
import { expect } from 'aegir/chai'
import * as c from '../src/constants.ts'
import { CORE_DEFAULTS } from '../src/core/index.ts'
import { InvalidParametersError } from '../src/index.ts'
import { coreTicks, resolveOptions } from '../src/options.ts'
import type { RaftInit, StateMachine } from '../src/index.ts'

function expectInvalid (init: unknown): void {
  expect(() => resolveOptions(init as RaftInit)).to.throw().with.property('name', 'InvalidParametersError')
}

describe('options: resolveOptions', () => {
  it('throws js-libp2p\'s own InvalidParametersError, which the package exports too', () => {
    expect(InvalidParametersError).to.equal(Libp2pInvalidParametersError)
    expect(() => resolveOptions({ electionTimeout: -1 })).to.throw(Libp2pInvalidParametersError)
  })

  it('fills in the documented defaults', () => {
    const options = resolveOptions({})
    expect(options.group).to.equal(c.GROUP)
    expect(options.bootstrap).to.be.undefined()
    expect(options.electionTimeout).to.equal(c.ELECTION_TIMEOUT)
    expect(options.heartbeatInterval).to.equal(c.HEARTBEAT_INTERVAL)
    expect(options.commitTimeout).to.equal(c.COMMIT_TIMEOUT)
    expect(options.maxCommandSize).to.equal(c.MAX_COMMAND_SIZE)
    expect(options.maxMessageSize).to.equal(c.MAX_MESSAGE_SIZE)
    expect(options.maxInboundStreams).to.equal(c.MAX_INBOUND_STREAMS)
    expect(options.maxQueuedFrames).to.equal(c.MAX_QUEUED_FRAMES)
    expect(options.datastorePrefix).to.equal(c.DATASTORE_PREFIX)
    expect(options.preVote).to.equal(CORE_DEFAULTS.preVote)
    expect(options.checkQuorum).to.equal(CORE_DEFAULTS.checkQuorum)
    expect(options.maxEntriesPerAppend).to.equal(CORE_DEFAULTS.maxEntriesPerAppend)
    expect(options.maxBytesPerAppend).to.equal(CORE_DEFAULTS.maxBytesPerAppend)
    expect(options.maxInflightAppends).to.equal(CORE_DEFAULTS.maxInflightAppends)
  })

  it('gives a default state machine with all three methods', async () => {
    const sm = resolveOptions({}).stateMachine
    expect(sm.apply).to.be.a('function')
    expect(sm.snapshot).to.be.a('function')
    expect(sm.restore).to.be.a('function')
    expect(await sm.apply(Uint8Array.of(1), { index: 1, term: 1 })).to.be.undefined()
    expect(await sm.snapshot()).to.be.an.instanceOf(Uint8Array)
  })

  it('keeps every valid value it is given', () => {
    const stateMachine: StateMachine = { apply: () => 1, snapshot: () => new Uint8Array(0), restore: () => {} }
    const init: Required<Omit<RaftInit, 'bootstrap' | 'datastore'>> = {
      group: 'my-group_1.x',
      stateMachine,
      electionTimeout: 3000,
      heartbeatInterval: 250,
      preVote: false,
      checkQuorum: true,
      readMode: 'lease',
      commitTimeout: 1,
      maxEntriesPerAppend: 1,
      maxBytesPerAppend: 10,
      maxInflightAppends: 1,
      maxCommandSize: 20,
      maxMessageSize: 20 + 64 * 1024,
      maxInboundStreams: 1,
      maxQueuedFrames: 1,
      snapshotThreshold: 1,
      trailingEntries: 0,
      join: ['12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'],
      joinAsVoter: true,
      authorizeJoin: () => true,
      datastorePrefix: '/x/y'
    }
    const bootstrap = ['12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN']
    expect(resolveOptions({ ...init, bootstrap })).to.deep.equal({ ...init, bootstrap })
    expect(resolveOptions({ ...init, bootstrap: [] }).bootstrap).to.deep.equal([])
    expect(resolveOptions({ ...init, bootstrap: 'self' }).bootstrap).to.equal('self')
  })

  it('accepts a heartbeat interval of exactly half the election timeout', () => {
    expect(resolveOptions({ electionTimeout: 200, heartbeatInterval: 100 }).heartbeatInterval).to.equal(100)
  })

  describe('rejects', () => {
    const counts = ['electionTimeout', 'heartbeatInterval', 'commitTimeout', 'maxEntriesPerAppend', 'maxBytesPerAppend',
      'maxInflightAppends', 'maxCommandSize', 'maxMessageSize', 'maxInboundStreams', 'maxQueuedFrames', 'snapshotThreshold'] as const
    const bad: Array<[string, unknown]> = [
      ['a non-integer', 1.5],
      ['zero', 0],
      ['a negative number', -1],
      ['a string', '100'],
      ['NaN', NaN],
      ['Infinity', Infinity],
      ['a boolean', true]
    ]
    for (const key of counts) {
      for (const [what, value] of bad) {
        it(`${key} as ${what}`, () => {
          expectInvalid({ [key]: value })
        })
      }
    }

    for (const [what, value] of bad.filter(([what]) => what !== 'zero')) {
      it(`trailingEntries as ${what}`, () => {
        expectInvalid({ trailingEntries: value })
      })
    }

    it('accepts trailingEntries of zero (keep no entries behind a snapshot)', () => {
      expect(resolveOptions({ trailingEntries: 0 }).trailingEntries).to.equal(0)
    })

    for (const key of ['preVote', 'checkQuorum'] as const) {
      it(`${key} that is not a boolean`, () => {
        expectInvalid({ [key]: 'true' })
        expectInvalid({ [key]: 1 })
      })
    }

    for (const group of ['', 'a/b', 'a b', '../x', 'ä', 42]) {
      it(`group ${JSON.stringify(group)}`, () => {
        expectInvalid({ group })
      })
    }

    for (const datastorePrefix of ['raft', '', 'raft/x', 7]) {
      it(`datastorePrefix ${JSON.stringify(datastorePrefix)}`, () => {
        expectInvalid({ datastorePrefix })
      })
    }

    it('heartbeatInterval more than half the electionTimeout', () => {
      expectInvalid({ electionTimeout: 1000, heartbeatInterval: 501 })
      expectInvalid({ electionTimeout: 100 })
      expectInvalid({ heartbeatInterval: 1000 })
    })

    it('maxMessageSize too small for a command or an append plus framing', () => {
      expectInvalid({ maxMessageSize: c.MAX_COMMAND_SIZE + 64 * 1024 - 1 })
      expectInvalid({ maxCommandSize: c.MAX_MESSAGE_SIZE })
      expectInvalid({ maxBytesPerAppend: c.MAX_MESSAGE_SIZE - 64 * 1024 + 1 })
      expect(resolveOptions({ maxMessageSize: c.MAX_COMMAND_SIZE + 64 * 1024 }).maxMessageSize).to.equal(c.MAX_COMMAND_SIZE + 64 * 1024)
    })

    it('a stateMachine missing a method', () => {
      const apply = (): undefined => undefined
      const snapshot = (): Uint8Array => new Uint8Array(0)
      const restore = (): void => {}
      expectInvalid({ stateMachine: { snapshot, restore } })
      expectInvalid({ stateMachine: { apply, restore } })
      expectInvalid({ stateMachine: { apply, snapshot } })
      expectInvalid({ stateMachine: { apply: 'x', snapshot, restore } })
      expectInvalid({ stateMachine: 'sm' })
    })

    it('a bootstrap that is not an array', () => {
      expectInvalid({ bootstrap: '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN' })
      expectInvalid({ bootstrap: {} })
      expectInvalid({ bootstrap: 'me' })
      expectInvalid({ join: 'x' })
      expectInvalid({ joinAsVoter: 'yes' })
      expectInvalid({ authorizeJoin: true })
      expectInvalid({ bootstrap: 1 })
    })
  })
})

describe('options: coreTicks', () => {
  it('matches the core defaults for the default timings', () => {
    expect(coreTicks(resolveOptions({}))).to.deep.equal({
      electionTicks: CORE_DEFAULTS.electionTicks,
      heartbeatTicks: CORE_DEFAULTS.heartbeatTicks
    })
  })

  it('derives electionTicks from electionTimeout / heartbeatInterval', () => {
    expect(coreTicks(resolveOptions({ electionTimeout: 3000, heartbeatInterval: 250 }))).to.deep.equal({ electionTicks: 12, heartbeatTicks: 1 })
    expect(coreTicks(resolveOptions({ electionTimeout: 200, heartbeatInterval: 100 }))).to.deep.equal({ electionTicks: 2, heartbeatTicks: 1 })
    expect(coreTicks(resolveOptions({ electionTimeout: 1050, heartbeatInterval: 100 })).electionTicks).to.be.oneOf([10, 11])
  })

  it('always gives at least two election ticks per heartbeat', () => {
    for (const [electionTimeout, heartbeatInterval] of [[2, 1], [3, 1], [201, 100], [999, 499]]) {
      const { electionTicks, heartbeatTicks } = coreTicks(resolveOptions({ electionTimeout, heartbeatInterval }))
      expect(electionTicks).to.be.at.least(2 * heartbeatTicks)
    }
  })
})

describe('options: read mode', () => {
  it('defaults to safe reads and accepts leases with check-quorum', () => {
    expect(resolveOptions({}).readMode).to.equal('safe')
    expect(resolveOptions({ readMode: 'lease' }).readMode).to.equal('lease')
  })

  it('rejects unknown read modes and leases without check-quorum', () => {
    expectInvalid({ readMode: 'fast' })
    expectInvalid({ readMode: 'lease', checkQuorum: false })
  })
})
