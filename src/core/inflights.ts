/**
 * A bounded window of in-flight AppendEntries requests to one follower, kept
 * as a ring buffer of the last index each request carries. When it is full
 * the leader stops sending until acknowledgements free room, which bounds the
 * memory and bandwidth a slow follower can tie up.
 */
export class Inflights {
  readonly capacity: number
  private readonly buffer: number[]
  private start = 0
  private count = 0

  constructor (capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`in-flight capacity must be a positive integer, got ${capacity}`)
    }
    this.capacity = capacity
    this.buffer = new Array<number>(capacity)
  }

  get size (): number {
    return this.count
  }

  full (): boolean {
    return this.count === this.capacity
  }

  /** Records a request whose last entry is `lastIndex`; indexes must increase. */
  add (lastIndex: number): void {
    if (this.full()) {
      throw new Error('cannot add to a full in-flight window')
    }
    this.buffer[(this.start + this.count) % this.capacity] = lastIndex
    this.count++
  }

  /** Frees every request whose last index is at or below `index` (they were acknowledged). */
  freeLE (index: number): void {
    while (this.count > 0 && this.buffer[this.start] <= index) {
      this.start = (this.start + 1) % this.capacity
      this.count--
    }
  }

  /** Frees the oldest request, so a leader whose acknowledgements were lost can make progress. */
  freeFirst (): void {
    if (this.count > 0) {
      this.start = (this.start + 1) % this.capacity
      this.count--
    }
  }

  reset (): void {
    this.start = 0
    this.count = 0
  }
}
