/**
 * The chaos cluster as the controller sees it: member processes, each in
 * its own network namespace with a level datastore in its own folder, and
 * the delay relay in the hub. Members are started with
 * `ip netns exec <ns> node member-process.ts` and talked to over IPC; they
 * are killed, paused, resumed, restarted and wiped by pid and folder.
 *
 * A member's identity (key, address, folder) outlives its processes, so a
 * restart is the same member. Exits nobody asked for are recorded as
 * crashes, and each member's peak resident memory (VmHWM) is sampled.
 */

import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { MEMBER_PORT, Network, memberAddress } from './netns.ts'
import type { RelayCommand, RelayReport } from './delay-relay.ts'
import type { FromMember, MemberInit, MemberRequest, MemberStatus, Reply, ToMember } from './protocol.ts'
import type { ChildProcess } from 'node:child_process'

const MEMBER_SCRIPT = fileURLToPath(new URL('./member-process.ts', import.meta.url))
const RELAY_SCRIPT = fileURLToPath(new URL('./delay-relay.ts', import.meta.url))
const NODE_FLAGS = ['--experimental-transform-types', '--disable-warning=ExperimentalWarning']

/** Raft timing for the members: the library's defaults, which a busy 2-core CI machine copes with. */
export const TIMING = { electionTimeout: 1000, heartbeatInterval: 100, commitTimeout: 10_000 }

/** Members take a snapshot every this many entries, so snapshots and compaction happen during every run. */
export const SNAPSHOT_THRESHOLD = 400

export class MemberGoneError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'MemberGoneError'
  }
}

export class RequestTimeoutError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'RequestTimeoutError'
  }
}

export async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

/** Polls `check` until it returns something other than undefined; rejects after `timeoutMs`. */
export async function waitFor<T> (check: () => Promise<T | undefined>, timeoutMs: number, what: string, intervalMs = 100): Promise<T> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const value = await check().catch(() => undefined)
    if (value !== undefined) {
      return value
    }
    if (performance.now() > deadline) {
      throw new Error(`timed out after ${(timeoutMs / 1000).toFixed(0)} s waiting for ${what}`)
    }
    await sleep(intervalMs)
  }
}

function readPeakRss (pid: number): number | undefined {
  try {
    const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match === null ? undefined : Number(match[1]) * 1024
  } catch {
    return undefined
  }
}

interface Pending {
  resolve(reply: Reply): void
  reject(err: Error): void
  timer: NodeJS.Timeout
}

export interface StartOptions {
  bootstrap: string[]
  join?: string[]
}

export class Member {
  readonly index: number
  readonly name: string
  readonly ns: string
  readonly dir: string
  readonly peerId: string
  readonly address: string
  private readonly key: string
  proc: ChildProcess | undefined
  pid = 0
  /** SIGSTOPped */
  paused = false
  /** unexpected exits, with the member's last output */
  readonly crashes: string[] = []
  peakRss = 0
  private expectExit = false
  private exited: Promise<void> = Promise.resolve()
  private nextId = 1
  private readonly pending = new Map<number, Pending>()
  private output: string[] = []
  private startOptions: StartOptions = { bootstrap: [] }

  constructor (index: number, ns: string, dir: string, key: string, peerId: string) {
    this.index = index
    this.name = `n${index + 1}`
    this.ns = ns
    this.dir = dir
    this.key = key
    this.peerId = peerId
    this.address = `/ip4/${memberAddress(index)}/tcp/${MEMBER_PORT}/p2p/${peerId}`
  }

  get running (): boolean {
    return this.proc !== undefined
  }

  /** Running and not paused: it can answer. */
  get up (): boolean {
    return this.running && !this.paused
  }

  /** Starts a process for this member (with the options of the first start on restarts). */
  async start (options?: StartOptions, acceptJoins = true): Promise<void> {
    if (this.running) {
      throw new Error(`${this.name} is already running`)
    }
    if (options !== undefined) {
      this.startOptions = options
    }
    this.expectExit = false
    this.paused = false
    this.output = []
    const proc = spawn('ip', ['netns', 'exec', this.ns, process.execPath, ...NODE_FLAGS, MEMBER_SCRIPT], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc']
    })
    this.proc = proc
    this.pid = proc.pid ?? 0
    const keep = (chunk: Buffer): void => {
      const lines = chunk.toString().split('\n').filter(line => line.trim() !== '')
      this.output.push(...lines)
      this.output = this.output.slice(-30)
      if (process.env.CHAOS_DEBUG !== undefined) {
        process.stderr.write(lines.map(line => `${this.name}| ${line}\n`).join(''))
      }
    }
    proc.stdout?.on('data', keep)
    proc.stderr?.on('data', keep)
    proc.on('error', (err) => { keep(Buffer.from(`process error: ${err.message}`)) })
    let onReady: (() => void) | undefined
    let onFail: ((err: Error) => void) | undefined
    const ready = new Promise<void>((resolve, reject) => { onReady = resolve; onFail = reject })
    this.exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        this.sampleRss()
        this.proc = undefined
        this.paused = false
        const how = signal !== null ? `signal ${signal}` : `code ${code}`
        const err = new MemberGoneError(`${this.name} exited with ${how}`)
        for (const pending of this.pending.values()) {
          clearTimeout(pending.timer)
          pending.reject(err)
        }
        this.pending.clear()
        if (!this.expectExit) {
          this.crashes.push([`${this.name} (pid ${this.pid}) exited unexpectedly with ${how}`, ...this.output.map(line => `  ${this.name}| ${line}`)].join('\n'))
        }
        onFail?.(err)
        resolve()
      })
    })
    proc.on('message', (message: FromMember) => {
      if (message.type === 'ready') {
        onReady?.()
      } else if (message.type === 'reply') {
        const pending = this.pending.get(message.id)
        if (pending !== undefined) {
          this.pending.delete(message.id)
          clearTimeout(pending.timer)
          pending.resolve(message)
        }
      } else if (message.type === 'fatal') {
        this.output.push(`fatal: ${message.error}`)
      }
    })
    const init: MemberInit = {
      type: 'init',
      name: this.name,
      privateKey: this.key,
      dir: this.dir,
      listen: `/ip4/${memberAddress(this.index)}/tcp/${MEMBER_PORT}`,
      bootstrap: this.startOptions.bootstrap,
      join: this.startOptions.join ?? [],
      acceptJoins,
      ...TIMING,
      snapshotThreshold: SNAPSHOT_THRESHOLD
    }
    proc.send(init satisfies ToMember)
    const timeout = setTimeout(() => { onFail?.(new Error(`${this.name} did not start within 60 s`)) }, 60_000)
    try {
      await ready
    } catch (err) {
      await this.kill()
      throw err
    } finally {
      clearTimeout(timeout)
    }
  }

  /** Sends a request; rejects with MemberGoneError if the process exits first, RequestTimeoutError after `timeoutMs`. */
  async request (request: MemberRequest, timeoutMs: number): Promise<Reply> {
    const proc = this.proc
    if (proc === undefined) {
      throw new MemberGoneError(`${this.name} is not running`)
    }
    const id = this.nextId++
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id)
        reject(new RequestTimeoutError(`${this.name}: no answer to ${request.type} within ${timeoutMs} ms`))
      }, timeoutMs)
      this.pending.set(id, { resolve, reject, timer })
      try {
        proc.send({ ...request, id } satisfies ToMember)
      } catch (err: any) {
        this.pending.delete(id)
        clearTimeout(timer)
        reject(new MemberGoneError(`${this.name}: ${err.message}`))
      }
    })
  }

  async status (timeoutMs = 3000): Promise<MemberStatus> {
    const reply = await this.request({ type: 'status' }, timeoutMs)
    if (!reply.ok || reply.status === undefined) {
      throw new Error(`${this.name}: status failed`)
    }
    return reply.status
  }

  async state (timeoutMs = 10_000): Promise<Record<string, string>> {
    const reply = await this.request({ type: 'state' }, timeoutMs)
    if (!reply.ok || reply.values === undefined) {
      throw new Error(`${this.name}: state failed`)
    }
    return reply.values
  }

  sampleRss (): void {
    if (this.pid !== 0 && this.proc !== undefined) {
      this.peakRss = Math.max(this.peakRss, readPeakRss(this.pid) ?? 0)
    }
  }

  /** SIGKILL, and wait until the process is gone. */
  async kill (): Promise<void> {
    if (this.proc === undefined) {
      return
    }
    this.expectExit = true
    this.sampleRss()
    this.proc.kill('SIGKILL')
    await this.exited
  }

  pause (): void {
    if (this.proc !== undefined && !this.paused) {
      this.proc.kill('SIGSTOP')
      this.paused = true
    }
  }

  resume (): void {
    if (this.proc !== undefined && this.paused) {
      this.proc.kill('SIGCONT')
      this.paused = false
    }
  }

  /** A clean stop (libp2p and the datastore closed); SIGKILL if it does not finish within 10 s. */
  async stop (): Promise<void> {
    if (this.proc === undefined) {
      return
    }
    this.resume()
    this.expectExit = true
    await this.request({ type: 'stop' }, 10_000).catch(() => {})
    const timer = setTimeout(() => { this.proc?.kill('SIGKILL') }, 5000)
    await this.exited
    clearTimeout(timer)
  }

  /** Deletes the member's datastore (it must not be running). */
  async wipe (): Promise<void> {
    if (this.running) {
      throw new Error(`${this.name} is running: kill it before wiping`)
    }
    await rm(this.dir, { recursive: true, force: true })
  }
}

/** The relay process in the hub namespace (see `delay-relay.ts`). */
class Relay {
  private proc: ChildProcess | undefined
  private waiting: Array<(report: RelayReport) => void> = []

  async start (hub: string): Promise<void> {
    const proc = spawn('ip', ['netns', 'exec', hub, process.execPath, ...NODE_FLAGS, RELAY_SCRIPT], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    this.proc = proc
    proc.on('message', (report: RelayReport) => { this.waiting.shift()?.(report) })
    proc.once('exit', () => {
      this.proc = undefined
      for (const waiter of this.waiting.splice(0)) {
        waiter({ type: 'error', error: 'relay exited' })
      }
    })
    const report = await this.next(60_000)
    if (report.type !== 'ready') {
      throw new Error(`the delay relay did not start: ${report.type === 'error' ? report.error : report.type}`)
    }
  }

  async command (command: RelayCommand): Promise<void> {
    if (this.proc === undefined) {
      throw new Error('the delay relay is not running')
    }
    const answer = this.next(10_000)
    this.proc.send(command)
    const report = await answer
    if (report.type === 'error') {
      throw new Error(`delay relay: ${report.error}`)
    }
  }

  stop (): void {
    this.proc?.kill('SIGKILL')
  }

  private async next (timeoutMs: number): Promise<RelayReport> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => { resolve({ type: 'error', error: `no answer within ${timeoutMs} ms` }) }, timeoutMs)
      this.waiting.push((report) => { clearTimeout(timer); resolve(report) })
    })
  }
}

export class Cluster {
  readonly network = new Network()
  readonly members: Member[] = []
  private readonly relay = new Relay()
  private dir = ''
  private rssTimer: NodeJS.Timeout | undefined

  /** Creates the network and the relay (no members yet). */
  async create (): Promise<void> {
    this.dir = await mkdtemp(join(tmpdir(), `${this.network.prefix}-`))
    this.network.removeWithNetwork(this.dir)
    await this.network.create()
    await this.relay.start(this.network.hub)
    this.rssTimer = setInterval(() => {
      for (const member of this.members) {
        member.sampleRss()
      }
    }, 500)
  }

  /** Creates a member's identity, folder and namespace, without starting it. */
  async addMember (): Promise<Member> {
    const index = this.members.length
    const key = await generateKeyPair('Ed25519')
    const ns = await this.network.addMember(index)
    const member = new Member(index, ns, join(this.dir, `n${index + 1}`), Buffer.from(privateKeyToProtobuf(key)).toString('base64'), peerIdFromPrivateKey(key).toString())
    this.members.push(member)
    return member
  }

  /** Creates and starts `size` members that bootstrap one group (bootstrap multiaddrs, as a user would give them). */
  async bootstrap (size: number): Promise<Member[]> {
    const members: Member[] = []
    for (let i = 0; i < size; i++) {
      members.push(await this.addMember())
    }
    const bootstrap = members.map(m => m.address)
    await Promise.all(members.map(async m => { await m.start({ bootstrap }) }))
    return members
  }

  get running (): Member[] {
    return this.members.filter(m => m.running)
  }

  /** The member that leads in the highest term among the members that answer, if any. */
  async leader (): Promise<Member | undefined> {
    let best: { member: Member, term: number } | undefined
    await Promise.all(this.members.filter(m => m.up).map(async (member) => {
      const status = await member.status(2000).catch(() => undefined)
      if (status?.role === 'leader' && (best === undefined || status.term > best.term)) {
        best = { member, term: status.term }
      }
    }))
    return best?.member
  }

  async waitForLeader (timeoutMs: number): Promise<Member> {
    return waitFor(async () => this.leader(), timeoutMs, 'a leader', 200)
  }

  async setDelay (ms: number, jitter: number, members?: number[]): Promise<void> {
    await this.relay.command({ type: 'delay', ms, jitter, members })
  }

  /** Removes every network fault (partitions, loss, duplication, delay) and resumes paused members. */
  async heal (): Promise<void> {
    await this.network.heal()
    await this.setDelay(0, 0)
    for (const member of this.members) {
      member.resume()
    }
  }

  crashes (): string[] {
    return this.members.flatMap(m => m.crashes)
  }

  /** Kills every process, removes the namespaces and the folders. Safe to call more than once. */
  async destroy (): Promise<void> {
    clearInterval(this.rssTimer)
    await Promise.all(this.members.map(async m => { await m.kill() }))
    this.relay.stop()
    await this.network.destroy()
    if (this.dir !== '') {
      await rm(this.dir, { recursive: true, force: true })
    }
  }
}
