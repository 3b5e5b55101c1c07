/**
 * A member's machine-level storage: the disk, and the operating system's
 * page cache in front of it. A process writes into the page cache; what it
 * reads is the page cache's view. A process crash keeps the page cache (the
 * OS still flushes it); a power loss drops it, and with it every write not
 * yet on the disk.
 *
 * Two modes. `synced`, a store that syncs each write: a write is on the disk
 * by the time it lands in the page cache, so its promise resolving means it
 * is durable. `unsynced`, a store that never syncs: writes sit in the page
 * cache until a periodic background flush writes them out in order, and a
 * power loss during a flush leaves a random prefix of it on the disk.
 */
import { MemoryDatastore } from 'datastore-core/memory'
import { Key } from 'interface-datastore'
import type { World } from '../world.ts'

/** How a member's store treats its writes; see `MemberDisk`. */
export type DiskMode = 'synced' | 'unsynced'

export type DiskWrite = { type: 'put', key: Key, value: Uint8Array } | { type: 'delete', key: Key }

/** How often an unsynced disk's background flush starts, after a write waits for it (virtual ms). */
const FLUSH_INTERVAL: [number, number] = [50, 500]

/** How long one background flush takes (virtual ms). */
const FLUSH_DURATION: [number, number] = [1, 20]

export class MemberDisk {
  readonly mode: DiskMode
  /** What a process reads: every write the OS accepted, flushed or not (replaced on power loss) */
  view = new MemoryDatastore()
  /** Power losses this disk went through */
  powerLosses = 0
  /** Writes a power loss dropped from the page cache before they reached the disk */
  lost = 0
  private readonly world: World
  /** What is on the disk: survives power loss */
  private readonly durable = new Map<string, Uint8Array>()
  /** Writes accepted and not yet flushed */
  private pending: DiskWrite[] = []
  /** The flush in progress: a power loss tears it */
  private flushing: DiskWrite[] | undefined
  private flushScheduled = false
  /** Bumped by each power loss, so that a flush scheduled before it does nothing after it */
  private epoch = 0

  constructor (mode: DiskMode, world: World) {
    this.mode = mode
    this.world = world
  }

  /** The OS accepted `writes` from a process: they are in the page cache, and on the disk when synced. */
  accept (writes: DiskWrite[]): void {
    apply(this.view, writes)
    if (this.mode === 'synced') {
      this.store(writes)
      return
    }
    this.pending.push(...writes)
    this.scheduleFlush()
  }

  /**
   * The power went: the page cache is gone, a flush in progress reached the
   * disk in part, and the view is what the disk holds. The process dies too:
   * the caller crashes it first, so that its torn writes land before this.
   */
  powerLoss (): void {
    this.powerLosses++
    this.epoch++
    if (this.flushing !== undefined) {
      const landed = this.world.rng.int(this.flushing.length + 1)
      this.store(this.flushing.slice(0, landed))
      this.lost += this.flushing.length - landed
      this.flushing = undefined
    }
    this.lost += this.pending.length
    this.pending = []
    this.flushScheduled = false
    this.view = new MemoryDatastore()
    for (const [key, value] of this.durable) {
      void this.view.put(new Key(key), value)
    }
  }

  private scheduleFlush (): void {
    if (this.flushScheduled) {
      return
    }
    this.flushScheduled = true
    const epoch = this.epoch
    this.world.schedule(this.world.between(FLUSH_INTERVAL), () => {
      if (epoch !== this.epoch) {
        return
      }
      this.flushScheduled = false
      this.flush(epoch)
    })
  }

  /** Writes out what is pending, unless a flush is still running (which schedules the next when it ends). */
  private flush (epoch: number): void {
    if (this.flushing !== undefined || this.pending.length === 0) {
      return
    }
    const writes = this.pending
    this.pending = []
    this.flushing = writes
    this.world.schedule(this.world.between(FLUSH_DURATION), () => {
      if (epoch !== this.epoch) {
        return
      }
      this.store(writes)
      this.flushing = undefined
      if (this.pending.length > 0) {
        this.scheduleFlush()
      }
    })
  }

  private store (writes: DiskWrite[]): void {
    for (const w of writes) {
      if (w.type === 'put') {
        this.durable.set(w.key.toString(), w.value)
      } else {
        this.durable.delete(w.key.toString())
      }
    }
  }
}

/** Applies writes to a memory datastore, whose changes are visible at once. */
function apply (store: MemoryDatastore, writes: DiskWrite[]): void {
  for (const w of writes) {
    if (w.type === 'put') {
      void store.put(w.key, w.value)
    } else {
      void store.delete(w.key)
    }
  }
}
