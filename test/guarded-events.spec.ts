import { expect } from 'aegir/chai'
import { GuardedEventEmitter } from '../src/service/guarded-events.ts'
import { recordingLogger } from './utils/recording-logger.ts'

interface Events {
  ping: CustomEvent<number>
  pong: CustomEvent<number>
}

/** Lets queued microtasks, ticks and immediates run, so a stray uncaught error would surface. */
async function settle (): Promise<void> {
  await new Promise<void>(resolve => { setImmediate(resolve) })
  await new Promise<void>(resolve => { setImmediate(resolve) })
}

describe('GuardedEventEmitter', () => {
  let uncaught: unknown[]
  let unhandled: unknown[]
  const onUncaught = (err: unknown): void => { uncaught.push(err) }
  const onUnhandled = (err: unknown): void => { unhandled.push(err) }

  beforeEach(() => {
    uncaught = []
    unhandled = []
    process.on('uncaughtException', onUncaught)
    process.on('unhandledRejection', onUnhandled)
  })

  afterEach(() => {
    process.removeListener('uncaughtException', onUncaught)
    process.removeListener('unhandledRejection', onUnhandled)
  })

  it('delivers events like a normal emitter', () => {
    const { log, errors } = recordingLogger()
    const emitter = new GuardedEventEmitter<Events>(log)
    const seen: number[] = []
    emitter.addEventListener('ping', (evt) => { seen.push((evt as CustomEvent<number>).detail) })
    emitter.safeDispatchEvent('ping', { detail: 1 })
    emitter.safeDispatchEvent('pong', { detail: 2 })
    emitter.safeDispatchEvent('ping', { detail: 3 })
    expect(seen).to.deep.equal([1, 3])
    expect(errors).to.be.empty()
  })

  it('logs a listener that throws and still runs the others', async () => {
    const { log, errors } = recordingLogger()
    const emitter = new GuardedEventEmitter<Events>(log)
    const seen: string[] = []
    const boom = new Error('boom')
    emitter.addEventListener('ping', () => { seen.push('first') })
    emitter.addEventListener('ping', () => { seen.push('thrower'); throw boom })
    emitter.addEventListener('ping', () => { seen.push('last') })

    expect(() => emitter.safeDispatchEvent('ping', { detail: 1 })).to.not.throw()
    expect(seen).to.deep.equal(['first', 'thrower', 'last'])
    expect(errors).to.have.lengthOf(1)
    expect(errors[0].args).to.include('ping')
    expect(errors[0].args).to.include(boom)

    await settle()
    expect(uncaught).to.be.empty()
  })

  it('logs a listener whose promise rejects and still runs the others', async () => {
    const { log, errors, reached } = recordingLogger()
    const emitter = new GuardedEventEmitter<Events>(log)
    const seen: string[] = []
    const boom = new Error('async boom')
    emitter.addEventListener('ping', async () => { seen.push('rejecter'); throw boom })
    emitter.addEventListener('ping', () => { seen.push('after') })

    emitter.safeDispatchEvent('ping', { detail: 1 })
    expect(seen).to.deep.equal(['rejecter', 'after'])
    await reached('errors', 1)
    expect(errors).to.have.lengthOf(1)
    expect(errors[0].args).to.include('ping')
    expect(errors[0].args).to.include(boom)

    await settle()
    expect(unhandled).to.be.empty()
    expect(uncaught).to.be.empty()
  })

  it('does not log a listener whose promise resolves', async () => {
    const { log, errors } = recordingLogger()
    const emitter = new GuardedEventEmitter<Events>(log)
    let done = false
    emitter.addEventListener('ping', async () => { await Promise.resolve(); done = true })
    emitter.safeDispatchEvent('ping', { detail: 1 })
    await settle()
    expect(done).to.be.true()
    expect(errors).to.be.empty()
  })

  it('removes a guarded listener', () => {
    const { log } = recordingLogger()
    const emitter = new GuardedEventEmitter<Events>(log)
    let calls = 0
    const listener = (): void => { calls++ }
    emitter.addEventListener('ping', listener)
    expect(emitter.listenerCount('ping')).to.equal(1)
    emitter.safeDispatchEvent('ping', { detail: 1 })

    emitter.removeEventListener('ping', listener)
    expect(emitter.listenerCount('ping')).to.equal(0)
    emitter.safeDispatchEvent('ping', { detail: 2 })
    expect(calls).to.equal(1)
  })

  it('removes a listener from one type only', () => {
    const { log } = recordingLogger()
    const emitter = new GuardedEventEmitter<Events>(log)
    const seen: string[] = []
    const listener = (evt: Event): void => { seen.push(evt.type) }
    emitter.addEventListener('ping', listener)
    emitter.addEventListener('pong', listener)
    emitter.removeEventListener('ping', listener)

    emitter.safeDispatchEvent('ping', { detail: 1 })
    emitter.safeDispatchEvent('pong', { detail: 2 })
    expect(seen).to.deep.equal(['pong'])
  })

  it('ignores removing a listener that was never added, or null', () => {
    const { log } = recordingLogger()
    const emitter = new GuardedEventEmitter<Events>(log)
    let calls = 0
    emitter.addEventListener('ping', () => { calls++ })
    emitter.removeEventListener('ping', () => {})
    emitter.removeEventListener('ping', null)
    emitter.removeEventListener('ping')
    emitter.safeDispatchEvent('ping', { detail: 1 })
    expect(calls).to.equal(1)
  })

  it('registers the same listener only once per type', () => {
    const { log } = recordingLogger()
    const emitter = new GuardedEventEmitter<Events>(log)
    let calls = 0
    const listener = (): void => { calls++ }
    emitter.addEventListener('ping', listener)
    emitter.addEventListener('ping', listener)
    emitter.safeDispatchEvent('ping', { detail: 1 })
    expect(calls).to.equal(1)
    expect(emitter.listenerCount('ping')).to.equal(1)
  })

  it('ignores a null listener', () => {
    const { log } = recordingLogger()
    const emitter = new GuardedEventEmitter<Events>(log)
    emitter.addEventListener('ping', null)
    expect(emitter.listenerCount('ping')).to.equal(0)
    expect(() => emitter.safeDispatchEvent('ping', { detail: 1 })).to.not.throw()
  })

  it('runs a once listener only once', () => {
    const { log } = recordingLogger()
    const emitter = new GuardedEventEmitter<Events>(log)
    const seen: number[] = []
    emitter.addEventListener('ping', (evt) => { seen.push((evt as CustomEvent<number>).detail) }, { once: true })
    emitter.safeDispatchEvent('ping', { detail: 1 })
    emitter.safeDispatchEvent('ping', { detail: 2 })
    expect(seen).to.deep.equal([1])
    expect(emitter.listenerCount('ping')).to.equal(0)
  })

  it('runs a once listener that throws only once, and can add it again', async () => {
    const { log, errors } = recordingLogger()
    const emitter = new GuardedEventEmitter<Events>(log)
    let calls = 0
    const listener = (): void => { calls++; throw new Error('once') }
    emitter.addEventListener('ping', listener, { once: true })
    emitter.safeDispatchEvent('ping', { detail: 1 })
    emitter.safeDispatchEvent('ping', { detail: 2 })
    expect(calls).to.equal(1)
    expect(errors).to.have.lengthOf(1)

    emitter.addEventListener('ping', listener, { once: true })
    emitter.safeDispatchEvent('ping', { detail: 3 })
    expect(calls).to.equal(2)
    await settle()
    expect(uncaught).to.be.empty()
  })

  it('removes a listener when its signal aborts', () => {
    const { log } = recordingLogger()
    const emitter = new GuardedEventEmitter<Events>(log)
    const controller = new AbortController()
    let calls = 0
    emitter.addEventListener('ping', () => { calls++ }, { signal: controller.signal })
    emitter.safeDispatchEvent('ping', { detail: 1 })
    controller.abort()
    emitter.safeDispatchEvent('ping', { detail: 2 })
    expect(calls).to.equal(1)
    expect(emitter.listenerCount('ping')).to.equal(0)
  })

  it('calls handleEvent on an object listener, with the object as this', () => {
    const { log } = recordingLogger()
    const emitter = new GuardedEventEmitter<Events>(log)
    const listener = {
      seen: [] as number[],
      handleEvent (evt: Event): void {
        this.seen.push((evt as CustomEvent<number>).detail)
      }
    }
    emitter.addEventListener('ping', listener)
    emitter.safeDispatchEvent('ping', { detail: 7 })
    expect(listener.seen).to.deep.equal([7])

    emitter.removeEventListener('ping', listener)
    emitter.safeDispatchEvent('ping', { detail: 8 })
    expect(listener.seen).to.deep.equal([7])
  })

  it('logs an object listener whose handleEvent throws', async () => {
    const { log, errors } = recordingLogger()
    const emitter = new GuardedEventEmitter<Events>(log)
    let after = false
    emitter.addEventListener('ping', { handleEvent: () => { throw new Error('object boom') } })
    emitter.addEventListener('ping', () => { after = true })
    emitter.safeDispatchEvent('ping', { detail: 1 })
    expect(after).to.be.true()
    expect(errors).to.have.lengthOf(1)
    await settle()
    expect(uncaught).to.be.empty()
  })

  it('logs an object listener whose handleEvent rejects', async () => {
    const { log, errors, reached } = recordingLogger()
    const emitter = new GuardedEventEmitter<Events>(log)
    emitter.addEventListener('ping', { handleEvent: async () => { throw new Error('object async boom') } })
    emitter.safeDispatchEvent('ping', { detail: 1 })
    await reached('errors', 1)
    expect(errors).to.have.lengthOf(1)
    await settle()
    expect(unhandled).to.be.empty()
  })
})
