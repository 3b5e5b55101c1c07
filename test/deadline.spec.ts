import { expect } from 'aegir/chai'
import { Deadline } from '../src/service/deadline.ts'

describe('Deadline', () => {
  it('wait() resolves with what the registered callback settles, and stops listening', async () => {
    const deadline = new Deadline(Date.now() + 60_000)
    let unregistered = false
    const value = await deadline.wait(() => new Error('late'), (resolve) => {
      setTimeout(() => { resolve(7) }, 1)
      return () => { unregistered = true }
    })
    expect(value).to.equal(7)
    deadline.expire()
    expect(unregistered).to.be.false()
  })

  it('wait() rejects with the expiry error and undoes the registration when the deadline passes first', async () => {
    const deadline = new Deadline(Date.now() + 60_000)
    let unregistered = false
    const waiting = deadline.wait(() => new Error('late'), () => () => { unregistered = true })
    deadline.expire()
    await expect(waiting).to.eventually.be.rejectedWith('late')
    expect(unregistered).to.be.true()
  })

  it('fail() ends every wait, and later ones, with the given error instead of the expiry error', async () => {
    const deadline = new Deadline(Date.now() + 60_000)
    const waiting = deadline.wait(() => new Error('late'), () => () => {})
    const failure = new Error('disk full')
    deadline.fail(failure)
    await expect(waiting).to.eventually.be.rejected().and.equal(failure)
    await expect(deadline.wait(() => new Error('late'), () => () => {})).to.eventually.be.rejected().and.equal(failure)
    expect(deadline.failure).to.equal(failure)
  })

  it('wait() on an expired deadline rejects without registering', async () => {
    const controller = new AbortController()
    controller.abort()
    const deadline = new Deadline(Date.now() + 60_000, controller.signal)
    let registered = false
    await expect(deadline.wait(() => new Error('too late'), () => { registered = true; return () => {} })).to.eventually.be.rejectedWith('too late')
    expect(registered).to.be.false()
  })

  it('expires when the caller\'s signal aborts, and forgets the signal once disposed', async () => {
    const controller = new AbortController()
    const deadline = new Deadline(Date.now() + 60_000, controller.signal)
    const waiting = deadline.wait(() => new Error('aborted'), () => () => {})
    controller.abort()
    await expect(waiting).to.eventually.be.rejectedWith('aborted')
    const other = new AbortController()
    const disposed = new Deadline(Date.now() + 60_000, other.signal)
    disposed.dispose()
    other.abort()
    expect(disposed.expired).to.be.false()
  })
})
