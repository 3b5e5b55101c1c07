import { TypedEventEmitter } from 'main-event'
import type { Logger } from '@libp2p/interface'

type Listener = EventListenerOrEventListenerObject

/**
 * A typed event emitter whose listeners cannot hurt the emitter: an error a
 * listener throws (or a promise it rejects) is logged instead of becoming an
 * uncaught exception that could take the whole process down mid-apply.
 */
export class GuardedEventEmitter<EventMap extends Record<string, any>> extends TypedEventEmitter<EventMap> {
  private readonly guardLog: Logger
  private readonly guards = new WeakMap<Listener, Map<string, EventListener>>()

  constructor (log: Logger) {
    super()
    this.guardLog = log
  }

  addEventListener<K extends keyof EventMap>(type: K, listener: Listener | null, options?: boolean | AddEventListenerOptions): void {
    if (listener === null) {
      return
    }
    let byType = this.guards.get(listener)
    if (byType === undefined) {
      byType = new Map()
      this.guards.set(listener, byType)
    }
    let guarded = byType.get(String(type))
    if (guarded === undefined) {
      guarded = (evt: Event): void => {
        try {
          const result: unknown = typeof listener === 'function' ? listener(evt) : listener.handleEvent(evt)
          if (result instanceof Promise) {
            result.catch((err: unknown) => { this.guardLog.error('a %s listener rejected - %e', evt.type, err) })
          }
        } catch (err) {
          this.guardLog.error('a %s listener threw - %e', evt.type, err)
        }
      }
      byType.set(String(type), guarded)
    }
    super.addEventListener(type, guarded, options)
  }

  removeEventListener<K extends keyof EventMap>(type: K, listener?: Listener | null, options?: boolean | EventListenerOptions): void {
    const guarded = listener == null ? undefined : this.guards.get(listener)?.get(String(type))
    super.removeEventListener(type, guarded ?? listener, options)
  }
}
