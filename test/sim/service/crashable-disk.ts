/**
 * One incarnation's view of its node's disk. The disk (a `MemberDisk`: the
 * page cache and the disk behind it) survives crashes; the view does not:
 * every write takes virtual time before the OS accepts it, and a crash while
 * it is in flight hands the OS a random prefix of it (batches reach the
 * store one key at a time, puts then deletes, as datastore-core applies
 * them). After the crash every write is refused, so nothing the dead
 * process still had in flight can reach the disk the next incarnation reads.
 */
import { BaseDatastore } from 'datastore-core'
import type { World } from '../world.ts'
import type { DiskWrite, MemberDisk } from './member-disk.ts'
import type { AbortOptions } from '@libp2p/interface'
import type { Batch, Key, Pair, Query, KeyQuery } from 'interface-datastore'

/** The process that owned this view has crashed. */
export class CrashedError extends Error {
  constructor () {
    super('the process crashed')
    this.name = 'CrashedError'
  }
}

export class CrashableDisk extends BaseDatastore {
  private readonly disk: MemberDisk
  private readonly world: World
  private readonly latency: () => readonly [number, number]
  private crashed = false
  /** Writes this view has in flight: a crash tears them */
  private readonly inFlight = new Set<() => void>()
  /** Writes torn by a crash, over the view's life */
  torn = 0

  constructor (disk: MemberDisk, world: World, latency: () => readonly [number, number]) {
    super()
    this.disk = disk
    this.world = world
    this.latency = latency
  }

  /** The process died: writes in flight land partly or not at all, later ones never. */
  crash (): void {
    this.crashed = true
    for (const tear of [...this.inFlight]) {
      tear()
    }
  }

  async put (key: Key, value: Uint8Array, options?: AbortOptions): Promise<Key> {
    await this.write([{ type: 'put', key, value }], options)
    return key
  }

  async delete (key: Key, options?: AbortOptions): Promise<void> {
    await this.write([{ type: 'delete', key }], options)
  }

  batch (): Batch {
    const puts: DiskWrite[] = []
    const deletes: DiskWrite[] = []
    return {
      put: (key, value) => { puts.push({ type: 'put', key, value }) },
      delete: (key) => { deletes.push({ type: 'delete', key }) },
      commit: async (options) => { await this.write([...puts, ...deletes], options) }
    }
  }

  async get (key: Key, options?: AbortOptions): Promise<Uint8Array> {
    return this.disk.view.get(key, options)
  }

  async has (key: Key, options?: AbortOptions): Promise<boolean> {
    return this.disk.view.has(key, options)
  }

  async * query (q: Query, options?: AbortOptions): AsyncGenerator<Pair> {
    yield * this.disk.view.query(q, options)
  }

  async * queryKeys (q: KeyQuery, options?: AbortOptions): AsyncGenerator<Key> {
    yield * this.disk.view.queryKeys(q, options)
  }

  /** Applies `writes` after the disk's latency; a crash meanwhile applies a random prefix and fails. */
  private async write (writes: DiskWrite[], options?: AbortOptions): Promise<void> {
    if (this.crashed) {
      throw new CrashedError()
    }
    options?.signal?.throwIfAborted()
    await new Promise<void>((resolve, reject) => {
      const tear = (): void => {
        this.inFlight.delete(tear)
        this.torn++
        this.disk.accept(writes.slice(0, this.world.rng.int(writes.length + 1)))
        reject(new CrashedError())
      }
      this.inFlight.add(tear)
      this.world.schedule(this.world.between(this.latency()), () => {
        if (this.inFlight.delete(tear)) {
          this.disk.accept(writes)
          resolve()
        }
      })
    })
  }
}
