/**
 * A linearizability checker for histories of a key-value store whose keys are
 * independent registers (initial value `undefined`), supporting read, write
 * and compare-and-set.
 *
 * The algorithm is Wing & Gong's search with Lowe's memoisation (the approach
 * of Porcupine and Knossos): the history is split by key (linearizability is
 * compositional), each key's calls and returns are sorted by time into a
 * doubly linked list, and a depth-first search picks, at each step, an
 * operation whose call comes before the first remaining return, applies it to
 * the register, and unlinks its call and return ("lift"); on a dead end it
 * backtracks ("unlift"). A cache of (set of linearized operations, register
 * value) pairs keeps the search from exploring a configuration twice.
 *
 * Times and ties: calls and returns are ordered by time; when a return and a
 * call have the same time, the call is ordered first, so the two operations
 * count as concurrent (either order is allowed). That never reports a false
 * violation, but it cannot see a violation between an operation returning at t
 * and one invoked at t. The simulator should therefore stamp every invocation
 * and return with strictly increasing times, in the order they happen (a
 * global counter is enough).
 *
 * Unknown outcomes: an operation without `output` (timed out, its node
 * crashed) may have taken effect at any point after its invocation, or never.
 * It is given a return time of +infinity (its `returned` is ignored) and any
 * output is accepted for it; taking effect "at the very end" is equivalent to
 * never taking effect. Unknown reads constrain nothing and are dropped.
 *
 * Counterexamples are shrunk (within a time budget) only by steps after which
 * the smaller history can fail only if the original does, so what is left is
 * itself a proof: keep a time prefix (operations still pending at the cut
 * become unknown), start at a quiescent point from an unconstrained value,
 * drop operations that cannot change the value (reads, failed
 * compare-and-sets), and drop operations whose written value nobody left
 * observes (when no compare-and-set failed). Each step is kept only if the
 * result still fails. The operations that wrote the values the remaining ones
 * observe are then added back for context, again only if it still fails.
 *
 * The search itself adds a few sound prunings to the textbook algorithm; see
 * `search`. On histories from a replicated state machine, 2,000 operations over
 * 5 keys check in about 10 ms; what makes it slow is many concurrent writes to
 * one key, hence the time budget.
 */

export type KvInput =
  | { kind: 'read', key: string }
  | { kind: 'write', key: string, value: string }
  | { kind: 'cas', key: string, expected: string | undefined, value: string }

export type KvOutput =
  | { kind: 'read', value: string | undefined }
  | { kind: 'write' }
  | { kind: 'cas', ok: boolean }

export interface Operation {
  client: number
  input: KvInput
  /** What the operation returned; undefined: its outcome is unknown (it may or may not have taken effect) */
  output?: KvOutput
  /** Virtual time of the invocation */
  invoked: number
  /** Virtual time of the return; ignored (taken as +infinity) when `output` is undefined */
  returned?: number
}

export interface CheckOptions {
  /**
   * Time budget (wall-clock ms) for deciding; past it the result is a failure
   * with verdict 'unknown' instead of a hang. Default 10000.
   */
  timeoutMs?: number
  /** Time budget (wall-clock ms) for shrinking a counterexample. Default 1000. */
  shrinkMs?: number
}

export interface CheckSuccess {
  ok: true
}

export interface CheckFailure {
  ok: false
  /**
   * 'illegal': the history is not linearizable, and `counterexample` is a
   * sub-history that is not linearizable either. 'unknown': the time budget
   * ran out while checking `key` (treat it as a failure to check; the
   * counterexample is empty).
   */
  verdict: 'illegal' | 'unknown'
  key: string
  /** The operations involved (the caller's own objects), ordered by invocation time */
  counterexample: Operation[]
  /**
   * 'undefined': the counterexample is not linearizable from the key's
   * initial value (undefined). 'unconstrained': it is not linearizable
   * whatever the value before its first operation (earlier operations were
   * left out at a quiescent point of the history).
   */
  initialValue: 'undefined' | 'unconstrained'
  explanation: string
}

export type CheckResult = CheckSuccess | CheckFailure

/** Checks that `history` (operations on all keys, in any order) is linearizable. */
export function checkLinearizable (history: Operation[], options: CheckOptions = {}): CheckResult {
  const timeoutMs = options.timeoutMs ?? 10_000
  const shrinkMs = options.shrinkMs ?? 1000
  const deadline = performance.now() + timeoutMs
  const keys = [...partition(history).values()]
  // small keys first: their violations are found (and shrunk) fastest
  keys.sort((a, b) => a.ops.length - b.ops.length || compare(a.key, b.key))

  // Reads of values that nobody could have written yet are found at once.
  for (const kh of keys) {
    const bad = impossibleObservation(kh.ops)
    if (bad !== undefined) {
      return impossibleObservationFailure(kh, bad)
    }
  }

  let timedOut: KeyHistory | undefined
  for (const kh of keys) {
    const result = search(kh.ops, UNDEFINED, deadline)
    if (result.verdict === 'illegal') {
      return illegalFailure(kh, performance.now() + shrinkMs)
    }
    if (result.verdict === 'timeout') {
      timedOut ??= kh
    }
  }
  if (timedOut !== undefined) {
    return {
      ok: false,
      verdict: 'unknown',
      key: timedOut.key,
      counterexample: [],
      initialValue: 'undefined',
      explanation: `could not decide within ${timeoutMs} ms whether the ${timedOut.ops.length} operations on key ${JSON.stringify(timedOut.key)} are linearizable (too much concurrency or too many unknown outcomes); raise timeoutMs or check a shorter history`
    }
  }
  return { ok: true }
}

/** A short listing of a failed check: the key, the operations in invocation order with their times, and why. */
export function formatCounterexample (result: CheckResult): string {
  if (result.ok) {
    return 'linearizable'
  }
  if (result.verdict === 'unknown') {
    return `key ${JSON.stringify(result.key)}: undecided: ${result.explanation}`
  }
  const start = result.initialValue === 'undefined' ? 'from the initial value undefined' : 'whatever the value before them'
  const lines = [`key ${JSON.stringify(result.key)}: not linearizable (${result.counterexample.length} ops, ${start})`]
  const rows = result.counterexample.map(op => [timeSpan(op), describe(op)])
  const width = Math.max(...rows.map(r => r[0].length))
  for (const [span, what] of rows) {
    lines.push(`  ${span.padEnd(width)}  ${what}`)
  }
  lines.push(`why: ${result.explanation}`)
  return lines.join('\n')
}

// ---------------------------------------------------------------------------
// Internal representation

function compare<T extends string | number> (a: T, b: T): number {
  if (a === b) {
    return 0
  }
  return a < b ? -1 : 1
}

/** Register values are interned per key: 0 is `undefined`, ANY is "could be anything", FAIL rejects a step. */
const UNDEFINED = 0
const ANY = -1
const FAIL = -2

const READ = 0
const WRITE = 1
const CAS = 2

/** Search modes: at the start of a level, scanning its candidates, at a dead end */
const START = 0
const SCAN = 1
const DEAD = 2

interface Op {
  src: Operation
  kind: number
  /** Outcome unknown: return time +infinity, any output accepted */
  unknown: boolean
  /** read: value returned; write: value written; cas: expected value */
  a: number
  /** cas: new value */
  b: number
  /** cas: whether it succeeded */
  ok: boolean
  invoked: number
  returned: number
}

interface KeyHistory {
  key: string
  /** The checked operations (unknown reads left out) */
  ops: Op[]
  /** Interned value number -> value */
  names: Array<string | undefined>
}

function partition (history: Operation[]): Map<string, KeyHistory> {
  const keys = new Map<string, KeyHistory>()
  const interned = new Map<string, Map<string, number>>()
  for (const src of history) {
    validate(src)
    const key = src.input.key
    let kh = keys.get(key)
    let ids = interned.get(key)
    if (kh === undefined || ids === undefined) {
      kh = { key, ops: [], names: [undefined] }
      ids = new Map()
      keys.set(key, kh)
      interned.set(key, ids)
    }
    const names = kh.names
    const map = ids
    const intern = (value: string | undefined): number => {
      if (value === undefined) {
        return UNDEFINED
      }
      let id = map.get(value)
      if (id === undefined) {
        id = names.length
        names.push(value)
        map.set(value, id)
      }
      return id
    }
    const out = src.output
    const unknown = out === undefined
    const op: Op = { src, kind: READ, unknown, a: 0, b: 0, ok: false, invoked: src.invoked, returned: unknown ? Infinity : src.returned ?? Infinity }
    const input = src.input
    if (input.kind === 'read') {
      if (unknown) {
        continue
      }
      op.a = intern(out.kind === 'read' ? out.value : undefined)
    } else if (input.kind === 'write') {
      op.kind = WRITE
      op.a = intern(input.value)
    } else {
      op.kind = CAS
      op.a = intern(input.expected)
      op.b = intern(input.value)
      op.ok = out?.kind === 'cas' && out.ok
    }
    kh.ops.push(op)
  }
  return keys
}

function validate (op: Operation): void {
  let problem: string | undefined
  if (typeof op.invoked !== 'number' || !Number.isFinite(op.invoked)) {
    problem = 'invoked must be a finite number'
  } else if (op.output !== undefined) {
    if (op.output.kind !== op.input.kind) {
      problem = 'output kind differs from input kind'
    } else if (typeof op.returned !== 'number' || Number.isNaN(op.returned)) {
      problem = 'an operation with an output needs a return time'
    } else if (op.returned < op.invoked) {
      problem = 'returned before it was invoked'
    }
  }
  if (problem !== undefined) {
    throw new TypeError(`bad operation in history (${problem}): ${JSON.stringify(op)}`)
  }
}

/** The register's next value after `op`, from value `s`, or FAIL if `op` cannot have returned what it did. */
function step (s: number, op: Op): number {
  if (op.kind === READ) {
    if (op.unknown) {
      return s
    }
    return s === ANY || s === op.a ? op.a : FAIL
  }
  if (op.kind === WRITE) {
    return op.a
  }
  if (op.unknown) {
    // from "anything" it may or may not succeed: still anything
    if (s === ANY) {
      return ANY
    }
    return s === op.a ? op.b : s
  }
  if (op.ok) {
    return s === ANY || s === op.a ? op.b : FAIL
  }
  // a failed cas leaves "anything but expected", approximated (soundly) by anything
  return s === op.a ? FAIL : s
}

/**
 * Calls and returns in time order, as event numbers: e < n is the call of
 * ops[e], e >= n the return of ops[e - n]. Ties: calls before returns, then by
 * operation index.
 */
function sortedEvents (ops: Op[]): number[] {
  const n = ops.length
  const events = Array.from({ length: 2 * n }, (_, i) => i)
  const time = (e: number): number => e < n ? ops[e].invoked : ops[e - n].returned
  events.sort((x, y) => {
    const tx = time(x)
    const ty = time(y)
    if (tx !== ty) {
      return tx < ty ? -1 : 1
    }
    const rx = x < n ? 0 : 1
    const ry = y < n ? 0 : 1
    if (rx !== ry) {
      return rx - ry
    }
    return x - y
  })
  return events
}

// ---------------------------------------------------------------------------
// The search

interface Deepest {
  /** Linearized ops, in order */
  order: number[]
  /** The value after them */
  state: number
  /** The op whose return stopped the search there */
  blocker: number
}

type SearchResult =
  | { verdict: 'ok' }
  | { verdict: 'illegal', deepest?: Deepest }
  | { verdict: 'timeout' }

/**
 * Whether `ops` (one key) can be linearized from register value `initial`.
 *
 * Beyond the textbook search: candidates are tried earliest return first (an
 * op of a replicated state machine takes effect shortly before it returns);
 * a read or failed cas that can go now goes without trying alternatives
 * (see `Search.start`); and unknown-outcome ops, which are optional (return at
 * +infinity) and could make the search try every subset of them, are kept in
 * check three ways. They are tried after the known ops, only when a
 * candidate needs their effect (see `Search.useful`). And the cache treats a
 * configuration as explored when one with the same known ops, the same value
 * and a subset of its unknown ops was: anything reachable from the larger set
 * is reachable from the smaller one, with the extra unknown ops moved to the
 * end.
 */
function search (ops: Op[], initial: number, deadline: number, explain = false): SearchResult {
  return new Search(ops, initial, explain).run(deadline)
}

class Search {
  private readonly ops: Op[]
  private readonly n: number
  private readonly explain: boolean
  /** Known-outcome ops not linearized yet */
  private remaining = 0

  // The doubly linked list of events: e < n is the call of op e, e >= n the
  // return of op e - n; node 2n is the head, -1 the end.
  private readonly head: number
  private readonly next: Int32Array
  private readonly prev: Int32Array

  // The linearized ops, with an incremental (Zobrist) hash over the known ones.
  private readonly words: number
  private readonly bits: Uint32Array
  private readonly known: Uint32Array
  private readonly zobrist: Int32Array
  private hash = 0
  private readonly cache = new Map<number, Uint32Array[]>()

  /** Known ops whose step, when legal, leaves the value as it is */
  private readonly pure: Uint8Array

  // The path: op linearized at each depth, the value before it, and whether
  // it was forced (then its level has no alternatives).
  private depth = 0
  private state: number
  private readonly stackOp: Int32Array
  private readonly stackState: Int32Array
  private readonly stackForced: Uint8Array

  // Each level's candidates, in the order they are tried:
  // pool[levelStart[d] .. levelEnd[d]), the next one at levelNext[d].
  private readonly pool: number[] = []
  private readonly levelStart: Int32Array
  private readonly levelNext: Int32Array
  private readonly levelEnd: Int32Array
  /** The op whose return closes each level's candidates */
  private readonly levelBlocker: Int32Array
  private deepest: Deepest | undefined

  constructor (ops: Op[], initial: number, explain: boolean) {
    const n = ops.length
    this.ops = ops
    this.n = n
    this.explain = explain
    this.state = initial

    this.head = 2 * n
    this.next = new Int32Array(2 * n + 1)
    this.prev = new Int32Array(2 * n + 1)
    let last = this.head
    for (const e of sortedEvents(ops)) {
      this.next[last] = e
      this.prev[e] = last
      last = e
    }
    this.next[last] = -1

    this.words = (n + 31) >>> 5
    this.bits = new Uint32Array(this.words)
    this.known = new Uint32Array(this.words)
    this.zobrist = new Int32Array(n)
    this.pure = new Uint8Array(n)
    let seed = 0x2545f491
    for (let i = 0; i < n; i++) {
      const op = ops[i]
      if (op.unknown) {
        continue
      }
      this.remaining++
      this.known[i >>> 5] |= 1 << (i & 31)
      seed ^= seed << 13
      seed ^= seed >>> 17
      seed ^= seed << 5
      this.zobrist[i] = seed
      this.pure[i] = op.kind === READ || (op.kind === CAS && (!op.ok || op.a === op.b)) ? 1 : 0
    }

    this.stackOp = new Int32Array(n)
    this.stackState = new Int32Array(n)
    this.stackForced = new Uint8Array(n)
    this.levelStart = new Int32Array(n + 1)
    this.levelNext = new Int32Array(n + 1)
    this.levelEnd = new Int32Array(n + 1)
    this.levelBlocker = new Int32Array(n + 1)
  }

  run (deadline: number): SearchResult {
    if (this.remaining === 0) {
      return { verdict: 'ok' }
    }
    let mode = START
    let iterations = 0
    for (;;) {
      if ((++iterations & 1023) === 0 && performance.now() > deadline) {
        return { verdict: 'timeout' }
      }
      if (mode === START) {
        mode = this.start()
      } else if (mode === SCAN) {
        mode = this.scan()
      } else {
        if (this.depth === 0) {
          this.record()
          return { verdict: 'illegal', deepest: this.deepest }
        }
        mode = this.backtrack()
      }
      if (this.remaining === 0) {
        return { verdict: 'ok' }
      }
    }
  }

  /**
   * A new level: collects the candidates, the calls before the first
   * remaining return. A pure one that may go now goes first, without trying
   * alternatives: moving it to the front of any completion changes nothing
   * any other op sees, and every op that returned before its call is in.
   */
  private start (): number {
    const { ops, n, next, pool, depth, state } = this
    const afterUnknown = depth > 0 && ops[this.stackOp[depth - 1]].unknown
    const base = pool.length
    this.levelStart[depth] = this.levelNext[depth] = base
    let c = next[this.head]
    for (; c < n; c = next[c]) {
      if (this.pure[c] === 1 && step(state, ops[c]) === state) {
        pool.length = base
        this.levelEnd[depth] = base
        this.levelBlocker[depth] = c
        return this.tryPush(c, state, true) ? START : DEAD
      }
      if (!ops[c].unknown || this.useful(c, afterUnknown)) {
        this.insertCandidate(base, c)
      }
    }
    this.levelEnd[depth] = pool.length
    this.levelBlocker[depth] = c - n
    return SCAN
  }

  /** Inserts candidate c into the level's list: earliest return first (an op takes effect shortly before it returns). */
  private insertCandidate (base: number, c: number): void {
    const { ops, pool } = this
    const a = ops[c]
    let i = pool.length
    pool.push(c)
    while (i > base) {
      const b = ops[pool[i - 1]]
      if (b.returned < a.returned || (b.returned === a.returned && b.invoked <= a.invoked)) {
        break
      }
      pool[i] = pool[i - 1]
      i--
    }
    pool[i] = c
  }

  /** Tries the level's next candidate. */
  private scan (): number {
    const depth = this.depth
    if (this.levelNext[depth] === this.levelEnd[depth]) {
      return DEAD
    }
    const c = this.pool[this.levelNext[depth]++]
    const s = step(this.state, this.ops[c])
    return s !== FAIL && this.tryPush(c, s, false) ? START : SCAN
  }

  /** Linearizes op c, giving value s, unless the resulting configuration was covered already. */
  private tryPush (c: number, s: number, forced: boolean): boolean {
    const bit = 1 << (c & 31)
    this.bits[c >>> 5] |= bit
    const hash = this.hash ^ this.zobrist[c]
    if (this.seen(hash, s, this.ops[c].unknown)) {
      this.bits[c >>> 5] &= ~bit
      return false
    }
    const depth = this.depth
    this.stackOp[depth] = c
    this.stackState[depth] = this.state
    this.stackForced[depth] = forced ? 1 : 0
    this.depth = depth + 1
    this.state = s
    this.hash = hash
    this.lift(c)
    if (!this.ops[c].unknown) {
      this.remaining--
    }
    return true
  }

  /** A dead end: back to the previous level. */
  private backtrack (): number {
    this.record()
    this.pool.length = this.levelStart[this.depth]
    const depth = --this.depth
    const c = this.stackOp[depth]
    this.state = this.stackState[depth]
    this.bits[c >>> 5] &= ~(1 << (c & 31))
    this.hash ^= this.zobrist[c]
    this.unlift(c)
    if (!this.ops[c].unknown) {
      this.remaining++
    }
    return this.stackForced[depth] === 1 ? DEAD : SCAN
  }

  private record (): void {
    if (this.explain && (this.deepest === undefined || this.depth > this.deepest.order.length)) {
      this.deepest = { order: Array.from(this.stackOp.subarray(0, this.depth)), state: this.state, blocker: this.levelBlocker[this.depth] }
    }
  }

  /**
   * Whether to try unknown op u now. In some completion, if there is one,
   * every unknown op before the last known one is directly followed by an op
   * that needs it: one that reads or expects the value it writes, or a failed
   * cas expecting the value it replaces. (Otherwise move it to the end, or
   * swap it with the op after it.) That op is a candidate now too. In
   * particular an unknown op directly follows another only if it is a cas
   * expecting the value the other wrote.
   */
  private useful (u: number, afterUnknown: boolean): boolean {
    const { ops, n, next, state } = this
    const op = ops[u]
    if (afterUnknown && !(op.kind === CAS && op.a === state)) {
      return false
    }
    const v = step(state, op)
    if (v === state) {
      return false
    }
    for (let x = next[this.head]; x < n; x = next[x]) {
      if (x !== u && needs(ops[x], v, state)) {
        return true
      }
    }
    return false
  }

  /**
   * Records the configuration (linearized ops, value s, whether an unknown op
   * was last, which restricts what comes next) unless one that covers it was
   * recorded; returns whether one was.
   */
  private seen (hash: number, s: number, afterUnknown: boolean): boolean {
    const { bits, known, words } = this
    const key = (hash ^ Math.imul(s + 3, 0x9e3779b1)) | 0
    const tag = ((s + 1) * 2 + (afterUnknown ? 1 : 0)) >>> 0
    let bucket = this.cache.get(key)
    if (bucket === undefined) {
      bucket = []
      this.cache.set(key, bucket)
    }
    for (const entry of bucket) {
      if (covers(entry, bits, known, words, tag)) {
        return true
      }
    }
    const entry = new Uint32Array(words + 1)
    entry.set(bits)
    entry[words] = tag
    bucket.push(entry)
    return false
  }

  private lift (c: number): void {
    const { next, prev } = this
    const r = c + this.n
    next[prev[c]] = next[c]
    prev[next[c]] = prev[c]
    next[prev[r]] = next[r]
    if (next[r] !== -1) {
      prev[next[r]] = prev[r]
    }
  }

  private unlift (c: number): void {
    const { next, prev } = this
    const r = c + this.n
    if (next[r] !== -1) {
      prev[next[r]] = r
    }
    next[prev[r]] = r
    prev[next[c]] = c
    next[prev[c]] = c
  }
}

/** Whether op x, next after some op that took the value from s to v, needs that op to explain its result. */
function needs (x: Op, v: number, s: number): boolean {
  if (x.kind === READ) {
    return !x.unknown && x.a === v
  }
  if (x.kind !== CAS) {
    return false
  }
  return x.unknown || x.ok ? x.a === v : x.a === s
}

/**
 * Whether a recorded configuration covers the current one: the same value,
 * explored with no more restrictions (tag), the same known ops and a subset
 * of the unknown ones.
 */
function covers (entry: Uint32Array, bits: Uint32Array, known: Uint32Array, words: number, tag: number): boolean {
  if (entry[words] >>> 1 !== tag >>> 1 || (entry[words] & 1) > (tag & 1)) {
    return false
  }
  for (let w = 0; w < words; w++) {
    if (((entry[w] ^ bits[w]) & (entry[w] | known[w])) !== 0) {
      return false
    }
  }
  return true
}

/**
 * A completed read (or successful cas) that observed a value no operation
 * invoked before it returned could have written: an immediate violation.
 */
function impossibleObservation (ops: Op[]): Op | undefined {
  const n = ops.length
  const written = new Set<number>()
  for (const e of sortedEvents(ops)) {
    if (e < n) {
      const op = ops[e]
      if (op.kind === WRITE) {
        written.add(op.a)
      } else if (op.kind === CAS) {
        written.add(op.b)
      }
      continue
    }
    const op = ops[e - n]
    if (op.unknown || op.kind === WRITE || (op.kind === CAS && !op.ok)) {
      continue
    }
    if (op.a !== UNDEFINED && !written.has(op.a)) {
      return op
    }
  }
  return undefined
}

// ---------------------------------------------------------------------------
// Counterexamples

function impossibleObservationFailure (kh: KeyHistory, bad: Op): CheckFailure {
  const value = kh.names[bad.a]
  // for context: the writes of that value, all invoked too late
  const writers = kh.ops.filter(op => op !== bad && writes(op) === bad.a).sort((x, y) => x.invoked - y.invoked).slice(0, 2)
  let explanation = `${describe(bad.src)} saw the value ${JSON.stringify(value)} (returning at t=${bad.returned}), but no operation invoked by then writes it`
  if (writers.length > 0) {
    explanation += ` (the first write of it is invoked at t=${writers[0].invoked})`
  }
  return {
    ok: false,
    verdict: 'illegal',
    key: kh.key,
    counterexample: inOrder([bad, ...writers]),
    initialValue: 'undefined',
    explanation
  }
}

function illegalFailure (kh: KeyHistory, deadline: number): CheckFailure {
  const { ops, initial } = shrink(kh, deadline)
  // report (and explain) the operations as they happened: restoring the
  // outcomes that shrinking made unknown only adds constraints
  const original = new Map(kh.ops.map(op => [op.src, op]))
  const shown = ops.map(op => original.get(op.src) ?? op)
  const result = search(shown, initial, performance.now() + 1000, true)
  const explanation = result.verdict === 'illegal' && result.deepest !== undefined
    ? explain(kh, shown, initial, result.deepest)
    : `no order of these ${shown.length} operations respects both their times and the register semantics`
  return {
    ok: false,
    verdict: 'illegal',
    key: kh.key,
    counterexample: inOrder(shown),
    initialValue: initial === UNDEFINED ? 'undefined' : 'unconstrained',
    explanation
  }
}

function inOrder (ops: Op[]): Operation[] {
  const end = (op: Operation): number => op.output === undefined ? Infinity : op.returned ?? Infinity
  return ops.map(op => op.src).sort((a, b) => a.invoked - b.invoked || compare(end(a), end(b)))
}

function explain (kh: KeyHistory, ops: Op[], initial: number, deepest: Deepest): string {
  const value = (s: number): string => s === ANY ? 'unconstrained' : JSON.stringify(kh.names[s]) ?? 'undefined'
  const parts: string[] = [`no order of these ${ops.length} operations respects both their times and the register semantics`]
  const order = deepest.order.map(i => short(ops[i].src))
  if (order.length > 0) {
    const listed = order.length > 6 ? ['…', ...order.slice(-6)] : order
    parts.push(`; the longest consistent order found covers ${order.length}: ${listed.join(', ')}, leaving the value ${value(deepest.state)}`)
  } else {
    parts.push(`; starting from value ${value(initial)}`)
  }
  const blocker = ops[deepest.blocker]
  const s = deepest.state
  let why: string
  if (step(s, blocker) !== FAIL) {
    why = 'no consistent order continues from there'
  } else if (blocker.kind === READ) {
    why = `it read ${value(blocker.a)} while the value was ${value(s)}`
  } else if (blocker.ok) {
    why = `it succeeded, expecting ${value(blocker.a)}, while the value was ${value(s)}`
  } else {
    why = `it failed, though the value was the expected ${value(blocker.a)}`
  }
  parts.push(`; then ${short(blocker.src)} (returned at t=${blocker.returned}) must take effect, but ${why}`)
  return parts.join('')
}

/**
 * Shrinks the operations of a non-linearizable key history with steps that
 * preserve non-linearizability (see the module comment), within a time budget.
 */
function shrink (kh: KeyHistory, deadline: number): { ops: Op[], initial: number } {
  const fails = (ops: Op[], initial: number): boolean => {
    if (initial === UNDEFINED && impossibleObservation(ops) !== undefined) {
      return true
    }
    const now = performance.now()
    if (now > deadline) {
      return false
    }
    // one search may use at most half of what is left
    return search(ops, initial, now + (deadline - now) / 2).verdict === 'illegal'
  }

  let ops = shortestPrefix(kh.ops, fails)
  let initial = UNDEFINED
  for (let round = 0; round < 4; round++) {
    const before = ops.length
    const cut = latestWindow(ops, fails)
    if (cut !== undefined) {
      ops = cut
      initial = ANY
    }
    ops = dropRemovable(ops, initial, fails)
    if (ops.length === before) {
      break
    }
  }
  ops = addWriters(kh.ops, ops, initial, fails)
  return { ops, initial }
}

type Fails = (ops: Op[], initial: number) => boolean

function weaken (op: Op): Op {
  return op.unknown ? op : { ...op, unknown: true, returned: Infinity }
}

/**
 * The shortest failing time prefix: the ops invoked before some point, those
 * still pending there made unknown. If a prefix is not linearizable, neither
 * is any longer one, so this is a binary search.
 */
function shortestPrefix (ops: Op[], fails: Fails): Op[] {
  const n = ops.length
  const events = sortedEvents(ops)
  const position = new Int32Array(2 * n)
  events.forEach((e, i) => { position[e] = i })
  const calls = events.filter(e => e < n)
  const prefix = (k: number): Op[] => {
    if (k >= n) {
      return ops
    }
    const cut = position[calls[k]]
    return calls.slice(0, k).map(c => position[c + n] > cut ? weaken(ops[c]) : ops[c])
  }
  let lo = 1
  let hi = n
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (fails(prefix(mid), UNDEFINED)) {
      hi = mid
    } else {
      lo = mid + 1
    }
  }
  return prefix(hi)
}

/**
 * The latest quiescent point (no known-outcome op pending) such that the ops
 * not yet returned by then still fail from an unconstrained value; undefined
 * if there is none. Windows are probed from the end, growing exponentially,
 * then bisected, so failing searches run on short windows.
 */
function latestWindow (ops: Op[], fails: Fails): Op[] | undefined {
  const n = ops.length
  const events = sortedEvents(ops)
  const cuts: number[] = []
  let open = 0
  events.forEach((e, i) => {
    if (e < n) {
      if (!ops[e].unknown) {
        open++
      }
    } else if (!ops[e - n].unknown) {
      open--
      if (open === 0 && i + 1 < events.length) {
        cuts.push(i + 1)
      }
    }
  })
  if (cuts.length === 0) {
    return undefined
  }
  const position = new Int32Array(2 * n)
  events.forEach((e, i) => { position[e] = i })
  const window = (cut: number): Op[] => ops.filter((_, i) => position[i + n] >= cut)
  // find the largest index j into cuts whose window fails
  let bad = -1
  let good = cuts.length
  for (let stride = 1; ; stride *= 2) {
    const j = cuts.length - stride
    if (j <= bad) {
      break
    }
    if (fails(window(cuts[j]), ANY)) {
      bad = j
      break
    }
    good = j
  }
  if (bad === -1) {
    // the probes never failed; check the earliest cut before giving up on windows
    if (good > 0 && fails(window(cuts[0]), ANY)) {
      bad = 0
    } else {
      return undefined
    }
  }
  while (good - bad > 1) {
    const mid = (good + bad) >>> 1
    if (fails(window(cuts[mid]), ANY)) {
      bad = mid
    } else {
      good = mid
    }
  }
  return window(cuts[bad])
}

/**
 * Drops ops while the rest still fails, greedily in halving chunks. An op may
 * go if it cannot change the value (a read, a failed cas), or if nobody left
 * reads or expects the value it writes and no known-outcome cas left failed.
 * Both are sound: in a linearization of the original, deleting such ops (and
 * moving unknown-outcome cas ops that did nothing because of them to the end)
 * leaves a linearization of the rest, since the ops in between cannot tell the
 * value from the one before.
 */
function dropRemovable (ops: Op[], initial: number, fails: Fails): Op[] {
  let current = ops
  for (;;) {
    const candidates = removable(current)
    const before = current.length
    for (let size = Math.max(1, candidates.length >>> 1); size >= 1; size = size === 1 ? 0 : size >>> 1) {
      let i = 0
      while (i < candidates.length) {
        const group = new Set(candidates.slice(i, i + size))
        const trial = current.filter(op => !group.has(op))
        if (fails(trial, initial)) {
          current = trial
          candidates.splice(i, size)
        } else {
          i += size
        }
      }
    }
    if (current.length === before) {
      return current
    }
  }
}

function removable (ops: Op[]): Op[] {
  const observer = (op: Op): boolean => !op.unknown && (op.kind === READ || (op.kind === CAS && !op.ok))
  const observed = new Set<number>()
  let failedCas = false
  for (const op of ops) {
    if ((op.kind === READ && !op.unknown) || op.kind === CAS) {
      observed.add(op.a)
    }
    failedCas ||= op.kind === CAS && !op.unknown && !op.ok
  }
  return ops.filter(op => observer(op) || (!failedCas && !observed.has(op.kind === WRITE ? op.a : op.b)))
}

/** The value an op may write (a cas's new value), or -1 */
function writes (op: Op): number {
  if (op.kind === WRITE) {
    return op.a
  }
  return op.kind === CAS ? op.b : -1
}

/**
 * For context: adds the ops that wrote the values the counterexample reads or
 * expects, where it does not contain one, if it then still fails.
 */
function addWriters (all: Op[], ops: Op[], initial: number, fails: Fails): Op[] {
  const present = new Set(ops.map(op => op.src))
  const written = new Set(ops.map(writes))
  const observed = new Set<number>()
  for (const op of ops) {
    if (op.kind === READ || op.kind === CAS) {
      observed.add(op.a)
    }
  }
  let current = ops
  for (const value of observed) {
    if (value === UNDEFINED || written.has(value)) {
      continue
    }
    const writers = all.filter(op => !present.has(op.src) && writes(op) === value).slice(0, 2)
    if (writers.length === 0) {
      continue
    }
    const trial = [...current, ...writers]
    if (fails(trial, initial)) {
      current = trial
      writers.forEach(op => present.add(op.src))
    }
  }
  return current
}

// ---------------------------------------------------------------------------
// Formatting

function timeSpan (op: Operation): string {
  return op.output === undefined ? `[${op.invoked}, ∞)` : `[${op.invoked}, ${op.returned}]`
}

/** e.g. `c1 cas(x, "a" -> "b") -> ok` */
function describe (op: Operation): string {
  return `c${op.client} ${short(op)}`
}

function short (op: Operation): string {
  const v = (value: string | undefined): string => value === undefined ? 'undefined' : JSON.stringify(value)
  const input = op.input
  const out = op.output
  const key = JSON.stringify(input.key)
  if (input.kind === 'read') {
    return `read(${key}) -> ${out?.kind === 'read' ? v(out.value) : '?'}`
  }
  if (input.kind === 'write') {
    return `write(${key}, ${v(input.value)})${out === undefined ? ' -> ?' : ''}`
  }
  let result = '?'
  if (out?.kind === 'cas') {
    result = out.ok ? 'ok' : 'failed'
  }
  return `cas(${key}, ${v(input.expected)} -> ${v(input.value)}) -> ${result}`
}
