/**
 * `npm start`: a three-member libp2p-raft cluster on loopback, one process
 * per member, each with its own synced level datastore (`SyncedLevelDatastore`
 * from `libp2p-raft/level`: an acknowledged write survives power loss) in a
 * temporary folder, and a replicated key-value state machine.
 *
 * 1. starts the three members and waits for a leader;
 * 2. commits a stream of writes through all three (followers forward to the leader);
 * 3. kills the leader's process (SIGKILL) and waits for a new leader;
 * 4. commits more writes through the two survivors;
 * 5. restarts the killed member with the same key, port and folder and shows it catching up;
 * 6. commits a last batch through all three;
 * 7. checks that the three states are identical and hold every acknowledged write.
 *
 * Exits 0 on success, 1 with a message otherwise (130 when interrupted).
 * Every child process and the temporary folder are removed on the way out.
 *
 * Run with `npm start`, i.e.
 * `node --experimental-transform-types --disable-warning=ExperimentalWarning scripts/demo.ts`
 */

import { fork } from 'node:child_process'
import { rmSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { CommitAnswer, CommitRequest, FromNode, NodeState, StateRequest, StopRequest, ToNode } from './demo-protocol.ts'
import type { ChildProcess } from 'node:child_process'

/** Quick failover: elections start after 500-1000 ms without a leader. */
const TIMING = { electionTimeout: 500, heartbeatInterval: 50, commitTimeout: 10_000 }
/** Writes in each phase: all up, one member down, after the restart. */
const WRITES = { first: 2000, whileDown: 1500, last: 500 }
/** Writes cycle over this many keys, so later writes overwrite earlier ones. */
const KEYS = 500
/** Writes in flight at once. */
const WINDOW = 32
/** Attempts per write before the demo gives up (a write whose outcome is unknown is retried; `set` is idempotent). */
const ATTEMPTS = 4
/** The whole demo must finish within this. */
const DEADLINE = 110_000
const NODE_SCRIPT = fileURLToPath(new URL('./demo-node.ts', import.meta.url))

class DemoError extends Error {
  readonly exitCode: number

  constructor (message: string, exitCode = 1) {
    super(message)
    this.name = 'DemoError'
    this.exitCode = exitCode
  }
}

// ---- output ---------------------------------------------------------------

const t0 = performance.now()

function elapsed (): string {
  return ((performance.now() - t0) / 1000).toFixed(1).padStart(5)
}

function log (line: string): void {
  process.stdout.write(`[${elapsed()}s] ${line}\n`)
}

function seconds (ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`
}

function short (digest: string): string {
  return digest.slice(0, 12)
}

// ---- failure and cleanup ----------------------------------------------------

const aborter = new AbortController()
const failed = new Promise<never>((_resolve, reject) => {
  aborter.signal.addEventListener('abort', () => { reject(aborter.signal.reason) }, { once: true })
})
failed.catch(() => {})

/** Ends the demo with an error from anywhere (a member crashing, a signal, the deadline). */
function fail (err: Error): void {
  if (!aborter.signal.aborted) {
    aborter.abort(err)
  }
}

function checkNotFailed (): void {
  if (aborter.signal.aborted) {
    throw aborter.signal.reason
  }
}

async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

/** Polls `check` until it returns something, failing after `timeout` ms. */
async function waitFor<T> (check: () => Promise<T | undefined>, timeout: number, what: string): Promise<T> {
  const deadline = performance.now() + timeout
  for (;;) {
    checkNotFailed()
    const value = await check()
    if (value !== undefined) {
      return value
    }
    if (performance.now() > deadline) {
      throw new DemoError(`timed out after ${seconds(timeout)} waiting for ${what}`)
    }
    await sleep(50)
  }
}

// ---- cluster members ---------------------------------------------------------

interface Pending {
  resolve(message: FromNode & { type: 'reply' }): void
  reject(err: Error): void
}

/** One member: its identity and folder, and the child process running it. */
class Member {
  readonly name: string
  readonly peerId: string
  readonly port: number
  readonly dir: string
  readonly address: string
  private readonly key: string
  proc: ChildProcess | undefined
  pid = 0
  /** Latest values reported by the member's events */
  appliedIndex = 0
  onProgress: ((appliedIndex: number, commitIndex: number) => void) | undefined
  private expectExit = false
  private exited: Promise<void> = Promise.resolve()
  private nextId = 1
  private readonly pending = new Map<number, Pending>()
  private output: string[] = []
  private fatal: string | undefined

  constructor (name: string, key: string, peerId: string, port: number, dir: string) {
    this.name = name
    this.key = key
    this.peerId = peerId
    this.port = port
    this.dir = dir
    this.address = `/ip4/127.0.0.1/tcp/${port}/p2p/${peerId}`
  }

  get running (): boolean {
    return this.proc !== undefined
  }

  /** Starts the member's process and resolves with its first report. */
  async start (bootstrap: string[], names: Map<string, string>): Promise<FromNode & { type: 'ready' }> {
    this.expectExit = false
    this.output = []
    this.fatal = undefined
    this.appliedIndex = 0
    const proc = fork(NODE_SCRIPT, [], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], execArgv: process.execArgv })
    this.proc = proc
    this.pid = proc.pid ?? 0
    const keep = (chunk: Buffer): void => {
      const lines = chunk.toString().split('\n').filter(line => line.trim() !== '')
      this.output.push(...lines)
      this.output = this.output.slice(-20)
      if (process.env.DEBUG !== undefined) {
        // With DEBUG=libp2p:raft* (for example) the members' debug output is shown as it comes.
        process.stderr.write(lines.map(line => `${this.name}| ${line}\n`).join(''))
      }
    }
    proc.stdout?.on('data', keep)
    proc.stderr?.on('data', keep)
    proc.on('error', (err) => { keep(Buffer.from(`process error: ${err.message}`)) })
    let onReady: ((message: FromNode & { type: 'ready' }) => void) | undefined
    const ready = new Promise<FromNode & { type: 'ready' }>((resolve) => { onReady = resolve })
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        this.proc = undefined
        const how = signal !== null ? `signal ${signal}` : `code ${code}`
        const err = new DemoError(`${this.name} (pid ${this.pid}) exited with ${how}`)
        for (const pending of this.pending.values()) {
          pending.reject(err)
        }
        this.pending.clear()
        if (!this.expectExit) {
          const details = [
            ...(this.fatal === undefined ? [] : [`its last error: ${this.fatal}`]),
            ...this.output.map(line => `  ${this.name}| ${line}`)
          ]
          fail(new DemoError([`${this.name} (pid ${this.pid}) exited unexpectedly with ${how}`, ...details].join('\n')))
        }
        resolve()
      })
    })
    proc.on('message', (message: FromNode) => {
      switch (message.type) {
        case 'ready':
          onReady?.(message)
          break
        case 'reply': {
          const pending = this.pending.get(message.id)
          this.pending.delete(message.id)
          pending?.resolve(message)
          break
        }
        case 'role':
          if (message.role !== 'follower') {
            log(`${this.name} is ${message.role} at term ${message.term}`)
          }
          break
        case 'leader':
          if (message.leader === undefined) {
            log(`${this.name} knows no leader at term ${message.term}`)
          } else if (message.leader !== this.peerId) {
            log(`${this.name} follows ${names.get(message.leader) ?? message.leader} at term ${message.term}`)
          }
          break
        case 'progress':
          this.appliedIndex = message.appliedIndex
          this.onProgress?.(message.appliedIndex, message.commitIndex)
          break
        case 'fatal':
          this.fatal = message.error
          break
        default:
          break
      }
    })
    this.send({
      type: 'init',
      name: this.name,
      privateKey: this.key,
      port: this.port,
      dir: this.dir,
      bootstrap,
      ...TIMING
    })
    return Promise.race([ready, failed, sleep(30_000).then(() => {
      throw new DemoError(`${this.name} did not start within 30 s`)
    })])
  }

  private send (message: ToNode): void {
    if (this.proc?.connected !== true) {
      throw new DemoError(`${this.name} is not running`)
    }
    this.proc.send(message)
  }

  private async request (message: CommitRequest | StateRequest | StopRequest, timeout: number): Promise<FromNode & { type: 'reply' }> {
    const reply = await new Promise<FromNode & { type: 'reply' }>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(message.id)
        reject(new DemoError(`${this.name} did not answer a ${message.type} request within ${seconds(timeout)}`))
      }, timeout)
      this.pending.set(message.id, {
        resolve: (m) => { clearTimeout(timer); resolve(m) },
        reject: (err) => { clearTimeout(timer); reject(err) }
      })
      try {
        this.send(message)
      } catch (err: any) {
        this.pending.delete(message.id)
        clearTimeout(timer)
        reject(err)
      }
    })
    if (!reply.ok) {
      throw new Error(reply.error)
    }
    return reply
  }

  async commit (key: string, value: string): Promise<CommitAnswer> {
    const reply = await this.request({ type: 'commit', id: this.nextId++, key, value }, TIMING.commitTimeout + 5_000)
    if (!reply.ok || reply.commit === undefined) {
      throw new DemoError(`${this.name} answered a commit without a result`)
    }
    return reply.commit
  }

  async state (full = false): Promise<NodeState> {
    const reply = await this.request({ type: 'state', id: this.nextId++, full }, 10_000)
    if (!reply.ok || reply.state === undefined) {
      throw new DemoError(`${this.name} answered a state request without a state`)
    }
    return reply.state
  }

  /** Simulates a crash. */
  async kill (): Promise<void> {
    this.expectExit = true
    this.proc?.kill('SIGKILL')
    await this.exited
  }

  /** Stops libp2p and closes the datastore; kills the process if that takes too long. */
  async stop (): Promise<void> {
    if (this.proc === undefined) {
      return
    }
    this.expectExit = true
    try {
      await this.request({ type: 'stop', id: this.nextId++ }, 5_000)
    } catch {
      // killed below if it does not exit
    }
    await Promise.race([this.exited, sleep(2_000)])
    await this.kill()
  }
}

async function freePorts (count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer())
  const ports = await Promise.all(servers.map(async server => new Promise<number>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      if (address === null || typeof address === 'string') {
        reject(new Error('no TCP port'))
        return
      }
      resolve(address.port)
    })
  })))
  await Promise.all(servers.map(async server => new Promise(resolve => server.close(resolve))))
  return ports
}

// ---- the demo ---------------------------------------------------------------

interface Ack {
  key: string
  value: string
  index: number
  via: string
  forwarded: boolean
}

let tempDir: string | undefined
let members: Member[] = []
const acks: Ack[] = []
let written = 0

/** Waits until the given members agree on one leader, which is one of them. */
async function stableLeader (group: Member[], timeout: number): Promise<{ leader: Member, term: number }> {
  return waitFor(async () => {
    const states = await Promise.all(group.map(async m => m.state()))
    const leaders = group.filter((_, i) => states[i].role === 'leader')
    if (leaders.length !== 1) {
      return undefined
    }
    const leader = leaders[0]
    const term = states[group.indexOf(leader)].term
    return states.every(s => s.leader === leader.peerId && s.term === term) ? { leader, term } : undefined
  }, timeout, `one leader followed by ${group.map(m => m.name).join(', ')}`)
}

/** Commits `count` writes, spread round-robin over `via`, `WINDOW` at a time, with progress lines. */
async function writeStream (label: string, count: number, via: Member[]): Promise<void> {
  log(`${label}: ${count} writes through ${via.map(m => m.name).join(', ')}, ${WINDOW} in flight`)
  const started = performance.now()
  const step = Math.ceil(count / 5)
  let next = 0
  let done = 0
  let forwarded = 0
  let retried = 0
  const perMember = new Map(via.map(m => [m.name, 0]))

  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++
      const n = written++
      const key = `key-${String(n % KEYS).padStart(3, '0')}`
      const value = `value-${n}-${label.replace(/\W+/g, '')}`
      for (let attempt = 0; ; attempt++) {
        checkNotFailed()
        const member = via[(i + attempt) % via.length]
        try {
          const answer = await member.commit(key, value)
          acks.push({ key, value, index: answer.index, via: member.name, forwarded: answer.forwarded })
          perMember.set(member.name, (perMember.get(member.name) ?? 0) + 1)
          if (answer.forwarded) {
            forwarded++
          }
          break
        } catch (err: any) {
          checkNotFailed()
          if (attempt + 1 >= ATTEMPTS) {
            throw new DemoError(`write ${key}=${value} failed ${ATTEMPTS} times, last through ${member.name}: ${err.message}`)
          }
          retried++
          log(`  write ${key}=${value} through ${member.name} failed (${err.message}); retrying`)
          await sleep(200)
        }
      }
      done++
      if (done % step === 0 || done === count) {
        const rate = done / ((performance.now() - started) / 1000)
        const split = [...perMember].map(([name, c]) => `${name} ${c}`).join(', ')
        log(`  committed ${String(done).padStart(String(count).length)}/${count}  (through ${split}; ${forwarded} forwarded by followers)  ${rate.toFixed(0)} writes/s`)
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(WINDOW, count) }, worker))
  log(`${label}: ${count} writes committed in ${seconds(performance.now() - started)}${retried > 0 ? ` (${retried} retried)` : ''}`)
}

async function run (): Promise<void> {
  log('libp2p-raft demo: three members on loopback, one process each, each on a synced store (SyncedLevelDatastore from libp2p-raft/level: every write is fsynced before it is acknowledged, so acknowledged writes survive power loss) in a temporary folder')
  tempDir = await mkdtemp(join(tmpdir(), 'libp2p-raft-demo-'))
  const [keys, ports] = await Promise.all([
    Promise.all([0, 1, 2].map(async () => generateKeyPair('Ed25519'))),
    freePorts(3)
  ])
  members = keys.map((key, i) => new Member(
    `n${i + 1}`,
    Buffer.from(privateKeyToProtobuf(key)).toString('base64'),
    peerIdFromPrivateKey(key).toString(),
    ports[i],
    join(tempDir ?? '', `n${i + 1}`)
  ))
  const names = new Map(members.map(m => [m.peerId, m.name]))
  const bootstrap = members.map(m => m.address)
  for (const m of members) {
    log(`${m.name}: ${m.address}  data ${m.dir}`)
  }
  log(`election timeout ${TIMING.electionTimeout} ms, heartbeat ${TIMING.heartbeatInterval} ms`)

  // 1. start
  const readies = await Promise.all(members.map(async m => m.start(bootstrap, names)))
  log(`all three started (pids ${readies.map(r => r.pid).join(', ')}; startup ${readies.map(r => seconds(r.startupMs)).join(', ')})`)
  const first = await stableLeader(members, 30_000)
  log(`leader: ${first.leader.name} at term ${first.term}`)

  // 2. writes through everyone
  await writeStream('phase 1', WRITES.first, members)

  // 3. crash the leader
  const { leader: victim } = await stableLeader(members, 30_000)
  const victimState = await victim.state()
  log(`killing the leader ${victim.name} (pid ${victim.pid}) with SIGKILL at commit index ${victimState.commitIndex}`)
  const killedAt = performance.now()
  await victim.kill()
  const survivors = members.filter(m => m !== victim)
  const second = await stableLeader(survivors, 30_000)
  const failoverMs = performance.now() - killedAt
  log(`new leader: ${second.leader.name} at term ${second.term}, ${seconds(failoverMs)} after the kill`)

  // 4. writes while one member is down
  await writeStream('phase 2', WRITES.whileDown, survivors)
  const target = (await second.leader.state()).commitIndex

  // 5. restart the crashed member and watch it catch up
  log(`restarting ${victim.name} with the same key, port ${victim.port} and level folder; the leader's commit index is ${target}`)
  const restartedAt = performance.now()
  let lastShown = -1
  let ownLog = Infinity
  victim.onProgress = (appliedIndex) => {
    if (appliedIndex !== lastShown && appliedIndex < target) {
      lastShown = appliedIndex
      log(`  ${victim.name} applied ${appliedIndex}/${target}${appliedIndex <= ownLog ? ' (replaying its own log)' : ' (entries from the leader)'}`)
    }
  }
  const ready = await victim.start(bootstrap, names)
  const backAt = performance.now()
  ownLog = ready.state.commitIndex
  log(`${victim.name} is back (pid ${ready.pid}, started in ${seconds(ready.startupMs)}): its log holds ${ready.state.lastIndex} entries (commit index ${ready.state.commitIndex}, term ${ready.state.term}); ${target - ready.state.lastIndex} to fetch from the leader`)
  await waitFor(async () => (await victim.state()).appliedIndex >= target ? true : undefined, 30_000, `${victim.name} to apply index ${target}`)
  victim.onProgress = undefined
  const catchUpMs = performance.now() - restartedAt
  log(`  ${victim.name} applied ${target}/${target}: caught up ${seconds(catchUpMs)} after the restart (${seconds(performance.now() - backAt)} after its process was up)`)
  await stableLeader(members, 30_000)

  // 6. writes through everyone again, the restarted member included
  await writeStream('phase 3', WRITES.last, members)

  // 7. check
  log('waiting for all three to apply everything, then comparing them')
  await waitFor(async () => {
    const states = await Promise.all(members.map(async m => m.state()))
    const top = Math.max(...states.map(s => s.commitIndex))
    return states.every(s => s.appliedIndex === top && s.commitIndex === top && s.lastIndex === top) ? true : undefined
  }, 30_000, 'all three members to apply the same index')
  const states = await Promise.all(members.map(async m => m.state(true)))
  verify(states)
  process.stdout.write('\n')
  process.stdout.write('member  role      term  applied  keys  state digest  history digest  forwarded/through\n')
  members.forEach((m, i) => {
    const s = states[i]
    const through = acks.filter(a => a.via === m.name)
    const fwd = through.filter(a => a.forwarded).length
    process.stdout.write(`${m.name.padEnd(6)}  ${s.role.padEnd(8)}  ${String(s.term).padStart(4)}  ${String(s.appliedIndex).padStart(7)}  ${String(s.size).padStart(4)}  ${short(s.digest)}  ${short(s.historyDigest)}    ${fwd}/${through.length}\n`)
  })
  process.stdout.write('\n')
  log(`leader failover took ${seconds(failoverMs)}; the restarted member caught up in ${seconds(catchUpMs)}`)
  log(`OK: all three members applied the same ${states[0].appliedIndex} entries and hold identical states ` +
    `(${states[0].size} keys, digest ${short(states[0].digest)}); all ${acks.length} acknowledged writes are present`)
}

/** Throws unless the three states are identical and hold every acknowledged write. */
function verify (states: NodeState[]): void {
  const problems: string[] = []
  const [a] = states
  states.forEach((s, i) => {
    const name = members[i].name
    for (const field of ['appliedIndex', 'commitIndex', 'size', 'digest', 'historyDigest'] as const) {
      if (s[field] !== a[field]) {
        problems.push(`${name}'s ${field} is ${s[field]}, ${members[0].name}'s is ${a[field]}`)
      }
    }
  })
  if (acks.length !== written) {
    problems.push(`${acks.length} writes acknowledged of ${written} sent`)
  }
  const indexes = new Set(acks.map(ack => ack.index))
  if (indexes.size !== acks.length) {
    problems.push(`${acks.length - indexes.size} acknowledged writes share a log index with another`)
  }
  // The latest acknowledged write of each key must be its value everywhere.
  const expected = new Map<string, Ack>()
  for (const ack of acks) {
    const known = expected.get(ack.key)
    if (known === undefined || ack.index > known.index) {
      expected.set(ack.key, ack)
    }
  }
  states.forEach((s, i) => {
    const values = new Map(s.entries)
    let missing = 0
    for (const [key, ack] of expected) {
      if (values.get(key) !== ack.value) {
        if (missing++ < 3) {
          problems.push(`${members[i].name} has ${key}=${values.get(key) ?? '(nothing)'}, expected ${ack.value} (acknowledged at index ${ack.index} through ${ack.via})`)
        }
      }
    }
    if (missing > 3) {
      problems.push(`${members[i].name}: ${missing - 3} more keys differ from the acknowledged writes`)
    }
    if (values.size !== expected.size) {
      problems.push(`${members[i].name} holds ${values.size} keys, ${expected.size} were written`)
    }
    if (s.appliedIndex < Math.max(...acks.map(ack => ack.index))) {
      problems.push(`${members[i].name} applied only up to ${s.appliedIndex}`)
    }
  })
  if (problems.length > 0) {
    throw new DemoError(`the members do not agree:\n  ${problems.join('\n  ')}`)
  }
}

// ---- main -------------------------------------------------------------------

let interrupted = false
const onSignal = (signal: NodeJS.Signals): void => {
  if (interrupted) {
    // A second Ctrl-C: stop waiting for anything.
    for (const m of members) {
      m.proc?.kill('SIGKILL')
    }
    if (tempDir !== undefined) {
      rmSync(tempDir, { recursive: true, force: true, maxRetries: 3 })
    }
    process.exit(130)
  }
  interrupted = true
  fail(new DemoError(`interrupted by ${signal}`, 130))
}
process.on('SIGINT', onSignal)
process.on('SIGTERM', onSignal)
process.on('uncaughtException', (err) => { fail(err) })
process.on('unhandledRejection', (err) => { fail(err instanceof Error ? err : new Error(String(err))) })
const watchdog = setTimeout(() => { fail(new DemoError(`the demo did not finish within ${DEADLINE / 1000} s`)) }, DEADLINE)

let exitCode = 0
try {
  await Promise.race([run(), failed])
} catch (err: any) {
  exitCode = err instanceof DemoError ? err.exitCode : 1
  process.stderr.write(`\n[${elapsed()}s] FAILED: ${err instanceof DemoError ? err.message : (err?.stack ?? String(err))}\n`)
}
fail(new DemoError('finished'))
await Promise.all(members.map(async m => exitCode === 0 ? m.stop() : m.kill()))
if (tempDir !== undefined) {
  await rm(tempDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 })
}
clearTimeout(watchdog)
log(exitCode === 0 ? 'stopped the members and removed the temporary folder' : 'killed the members and removed the temporary folder')
process.exit(exitCode)
