/**
 * The simulated world every node of a run lives in: one seeded random
 * source, one virtual clock and one agenda of events, ties broken by
 * scheduling order. Running an event lets every promise it settles run to
 * completion before the next event starts, so a run is a pure function of
 * its seed even though the service it drives is asynchronous. (The core
 * simulator, whose shell awaits its own work, runs events more cheaply.)
 */
import { Rng } from '../utils/rng.ts'
import { EventQueue } from './event-queue.ts'

/** Lets every pending promise callback run: they all do before the next macrotask. */
async function drainMicrotasks (): Promise<void> {
  await new Promise<void>(resolve => { setImmediate(resolve) })
}

export class World {
  readonly rng: Rng
  now = 0
  /** The first error an event threw or rejected with, or a check reported; the run stops on it. */
  failure: Error | undefined
  private readonly events = new EventQueue()
  private readonly watchers = new Set<() => void>()

  constructor (seed: number) {
    this.rng = new Rng(seed)
  }

  schedule (delay: number, run: () => void | Promise<void>): void {
    this.events.push(this.now + delay, run)
  }

  /** Resolves `ms` virtual milliseconds from now. */
  async sleep (ms: number): Promise<void> {
    await new Promise<void>(resolve => { this.schedule(ms, resolve) })
  }

  /** A whole number of milliseconds in [min, max]. */
  between ([min, max]: readonly [number, number]): number {
    return min + this.rng.int(max - min + 1)
  }

  /** Calls `check` after every event until the returned function is called (checks throw to fail the run). */
  watch (check: () => void): () => void {
    this.watchers.add(check)
    return () => { this.watchers.delete(check) }
  }

  /** Runs events until virtual time `until`, or until `stop` says so; returns whether `stop` fired. */
  async run (until: number, stop?: () => boolean): Promise<boolean> {
    for (;;) {
      if (stop?.() === true) {
        return true
      }
      const at = this.events.peek()
      if (at === undefined || at > until) {
        this.now = Math.max(this.now, until)
        return false
      }
      const event = this.events.pop()
      if (event !== undefined) {
        this.now = event.at
        await this.runEvent(event.run)
        for (const watcher of this.watchers) {
          watcher()
        }
      }
    }
  }

  /** Runs one event and every promise callback it sets off; throws the run's failure, if any. */
  protected async runEvent (run: () => void | Promise<void>): Promise<void> {
    // An event that rejects fails the run through the microtask that reports it.
    void Promise.resolve(run()).catch((err: unknown) => { this.fail(err) })
    await drainMicrotasks()
    if (this.failure !== undefined) {
      throw this.failure
    }
  }

  /** Fails the run with `err`, unless it failed already. */
  fail (err: unknown): void {
    this.failure ??= err instanceof Error ? err : new Error(String(err))
  }

  /** Runs until `condition` holds or `within` virtual ms pass; returns whether it held. */
  async until (within: number, condition: () => boolean): Promise<boolean> {
    return this.run(this.now + within, condition)
  }
}
