/**
 * When a waiting call gives up: at its time limit, when the caller's signal
 * aborts, or when the service stops. It owns no timer: the service expires
 * overdue deadlines on its own tick, so a call in flight costs one object and
 * at most one signal listener (timers per call were a measurable share of a
 * commit's CPU and garbage).
 */
export class Deadline {
  readonly expiresAt: number
  private readonly signal: AbortSignal | undefined
  private readonly callbacks = new Set<() => void>()
  private _expired = false
  private _failure: Error | undefined

  constructor (expiresAt: number, signal?: AbortSignal) {
    this.expiresAt = expiresAt
    this.signal = signal
    if (signal?.aborted === true) {
      this._expired = true
    } else {
      signal?.addEventListener('abort', this.expire, { once: true })
    }
  }

  get expired (): boolean {
    return this._expired
  }

  /** The error the call ends with whatever it waits on, when `fail()` ended it */
  get failure (): Error | undefined {
    return this._failure
  }

  /** Ends the call with `err` (a failure of the node itself): every wait rejects with it. */
  fail (err: Error): void {
    if (!this._expired) {
      this._failure = err
      this.expire()
    }
  }

  /** Calls `fn` when the deadline passes (at once if it has); returns a function that cancels the call. */
  onExpire (fn: () => void): () => void {
    if (this._expired) {
      fn()
      return () => {}
    }
    this.callbacks.add(fn)
    return () => { this.callbacks.delete(fn) }
  }

  readonly expire = (): void => {
    if (this._expired) {
      return
    }
    this._expired = true
    this.dispose()
    for (const fn of [...this.callbacks]) {
      fn()
    }
    this.callbacks.clear()
  }

  /**
   * Waits for what `register` sets up to settle the promise. `register`
   * returns a function that undoes it, called if the deadline passes first;
   * the promise then rejects with `onExpire()`.
   */
  async wait<T> (onExpire: () => Error, register: (resolve: (value: T) => void, reject: (err: Error) => void) => () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let unregister = (): void => {}
      const cancel = this.onExpire(() => {
        unregister()
        reject(this._failure ?? onExpire())
      })
      if (this._expired) {
        return
      }
      unregister = register(value => {
        cancel()
        resolve(value)
      }, err => {
        cancel()
        reject(err)
      })
    })
  }

  /** Releases the caller's signal once the call is over. */
  dispose (): void {
    this.signal?.removeEventListener('abort', this.expire)
  }
}
