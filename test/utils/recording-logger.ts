/**
 * A libp2p `Logger` for tests that records when it is called: `log(...)`
 * calls in `infos`, `log.error(...)` calls in `errors`, each with the time
 * (performance.now) it happened, and lets a test wait for the n-th of either.
 */
import type { ComponentLogger, Logger } from '@libp2p/interface'

type Kind = 'infos' | 'errors'

export interface RecordingLogger {
  log: Logger
  /** The same logger for every component */
  components: ComponentLogger
  infos: Array<{ at: number, args: unknown[] }>
  errors: Array<{ at: number, args: unknown[] }>
  /** Resolves with the time of the n-th call of that kind, once it has happened. */
  reached(kind: Kind, n: number): Promise<number>
}

export function recordingLogger (): RecordingLogger {
  const calls: Record<Kind, Array<{ at: number, args: unknown[] }>> = { infos: [], errors: [] }
  const waiters: Array<{ kind: Kind, n: number, resolve(): void }> = []
  const record = (kind: Kind, args: unknown[]): void => {
    calls[kind].push({ at: performance.now(), args })
    for (const w of waiters.filter(w => w.kind === kind && calls[kind].length >= w.n)) {
      waiters.splice(waiters.indexOf(w), 1)
      w.resolve()
    }
  }
  const log = Object.assign((...args: unknown[]): void => { record('infos', args) }, {
    error: (...args: unknown[]): void => { record('errors', args) },
    trace: (): void => {},
    enabled: true,
    newScope: (): Logger => log
  }) as unknown as Logger
  return {
    log,
    components: { forComponent: () => log },
    ...calls,
    reached: async (kind, n) => {
      if (calls[kind].length < n) {
        const { promise, resolve } = Promise.withResolvers<void>()
        waiters.push({ kind, n, resolve })
        await promise
      }
      return calls[kind][n - 1].at
    }
  }
}
