/**
 * A libp2p logger for simulated runs that keeps the last lines of every
 * node in one ring, stamped with virtual time, and formats them only when a
 * run fails: cheap enough to leave on, and the story of a failure at hand.
 */
import { format } from 'node:util'
import type { World } from '../world.ts'
import type { ComponentLogger, Logger } from '@libp2p/interface'

const KEEP = 400

export class TraceLog {
  private readonly world: World
  private readonly lines: Array<{ at: number, node: string, error: boolean, args: unknown[] }> = []

  constructor (world: World) {
    this.world = world
  }

  /** A component logger for one node. */
  for (node: string): ComponentLogger {
    const record = (args: unknown[], error = false): void => {
      this.lines.push({ at: this.world.now, node, error, args })
      if (this.lines.length > KEEP * 2) {
        this.lines.splice(0, this.lines.length - KEEP)
      }
    }
    const make = (): Logger => Object.assign((...args: unknown[]): void => { record(args) }, {
      error: (...args: unknown[]): void => { record(args, true) },
      trace: (): void => {},
      enabled: true,
      newScope: (): Logger => make()
    }) as unknown as Logger
    return { forComponent: () => make() }
  }

  /** The last `count` lines, formatted (`%p` and `%e` as `%s`). */
  tail (count = 80): string {
    return this.lines.slice(-count).map(({ at, node, error, args }) => {
      const [first, ...rest] = args
      const text = typeof first === 'string' ? format(first.replace(/%[pe]/g, '%s'), ...rest) : format(first, ...rest)
      return `  ${String(Math.round(at)).padStart(7)} ${node}${error ? ' ERROR' : ''} ${text}`
    }).join('\n')
  }
}
