/** Where an entry was appended. */
interface Slot {
  index: number
  term: number
}

/**
 * The forwarded commands a leader appended in its current term, by sender
 * and request id, so that a request that arrives again is answered with
 * where it went rather than appended twice. Only the current term matters:
 * a leader refuses requests meant for any other. It holds at most
 * `capacity` requests; once it has had to forget one, a request that was
 * sent before and is not remembered is refused instead of appended (its
 * member then learns its fate from its own log).
 */
export class AppendedRequests {
  private readonly capacity: number
  private readonly slots = new Map<string, Slot>()
  private term = -1
  private forgot = false

  constructor (capacity: number) {
    this.capacity = capacity
  }

  /** Where the request was appended in `term`, if it was. */
  get (term: number, sender: string, id: number): Slot | undefined {
    this.enter(term)
    return this.slots.get(`${sender}/${id}`)
  }

  /** Whether a request not remembered may be appended: a first send may; one sent before only if none was forgotten. */
  mayAppend (term: number, sentBefore: boolean): boolean {
    this.enter(term)
    return !sentBefore || !this.forgot
  }

  remember (term: number, sender: string, id: number, slot: Slot): void {
    this.enter(term)
    this.slots.set(`${sender}/${id}`, slot)
    if (this.slots.size > this.capacity) {
      this.slots.delete(this.slots.keys().next().value as string)
      this.forgot = true
    }
  }

  private enter (term: number): void {
    if (term !== this.term) {
      this.term = term
      this.slots.clear()
      this.forgot = false
    }
  }
}
