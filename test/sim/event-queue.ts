/**
 * The simulator's agenda: callbacks ordered by virtual time, ties broken by
 * scheduling order, so a run is a pure function of its seed.
 */
export class EventQueue {
  private readonly heap: Array<{ at: number, seq: number, run(): void | Promise<void> }> = []
  private seq = 0

  get size (): number {
    return this.heap.length
  }

  push (at: number, run: () => void | Promise<void>): void {
    this.heap.push({ at, seq: this.seq++, run })
    let i = this.heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.before(i, parent)) {
        break
      }
      this.swap(i, parent)
      i = parent
    }
  }

  /** The time of the next event, if any. */
  peek (): number | undefined {
    return this.heap[0]?.at
  }

  pop (): { at: number, run(): void | Promise<void> } | undefined {
    const top = this.heap[0]
    const last = this.heap.pop()
    if (top === undefined || last === undefined || this.heap.length === 0) {
      return top
    }
    this.heap[0] = last
    let i = 0
    for (;;) {
      const left = 2 * i + 1
      const right = left + 1
      let next = i
      if (left < this.heap.length && this.before(left, next)) {
        next = left
      }
      if (right < this.heap.length && this.before(right, next)) {
        next = right
      }
      if (next === i) {
        return top
      }
      this.swap(i, next)
      i = next
    }
  }

  private before (a: number, b: number): boolean {
    const x = this.heap[a]
    const y = this.heap[b]
    return x.at < y.at || (x.at === y.at && x.seq < y.seq)
  }

  private swap (a: number, b: number): void {
    const t = this.heap[a]
    this.heap[a] = this.heap[b]
    this.heap[b] = t
  }
}
