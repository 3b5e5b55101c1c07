/**
 * One incarnation's clock on the world's agenda. A crash stops it: its
 * timers never fire again, as a killed process's would not. A slow node's
 * clock runs slow: its timers fire late and its `now()` lags by as much.
 */
import type { Clock } from '../../../src/service/seams.ts'
import type { World } from '../world.ts'

export class VirtualClock implements Clock {
  private readonly world: World
  private readonly slowness: () => number
  private stopped = false
  /** Its own time, advanced at its own rate */
  private elapsed = 0
  private lastSeen: number

  constructor (world: World, slowness: () => number) {
    this.world = world
    this.slowness = slowness
    this.lastSeen = world.now
  }

  /** The process died: nothing it scheduled runs any more. */
  stop (): void {
    this.stopped = true
  }

  now (): number {
    this.elapsed += (this.world.now - this.lastSeen) / this.slowness()
    this.lastSeen = this.world.now
    return Math.floor(this.elapsed)
  }

  every (ms: number, fn: () => void): () => void {
    let cancelled = false
    const next = (): void => {
      this.world.schedule(ms * this.slowness(), () => {
        if (!cancelled && !this.stopped) {
          fn()
          next()
        }
      })
    }
    next()
    return () => { cancelled = true }
  }

  after (ms: number, fn: () => void): () => void {
    let cancelled = false
    this.world.schedule(ms * this.slowness(), () => {
      if (!cancelled && !this.stopped) {
        fn()
      }
    })
    return () => { cancelled = true }
  }

  soon (fn: () => void): void {
    this.world.schedule(0, () => {
      if (!this.stopped) {
        fn()
      }
    })
  }
}
