import type { Clock } from './seams.ts'

/** Runs `fn` after pending I/O callbacks (setImmediate where it exists, as in Node.js). */
const runSoon: (fn: () => void) => void = typeof globalThis.setImmediate === 'function'
  ? (fn) => { globalThis.setImmediate(fn) }
  : (fn) => { setTimeout(fn, 0) }

/** The real clock: `Date.now()` and the platform's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  every: (ms, fn) => {
    const timer = setInterval(fn, ms)
    return () => { clearInterval(timer) }
  },
  after: (ms, fn) => {
    const timer = setTimeout(fn, ms)
    return () => { clearTimeout(timer) }
  },
  soon: runSoon
}
