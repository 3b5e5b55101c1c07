/**
 * The chaos suite's network: one Linux network namespace per member, each
 * with a veth to a hub namespace that holds a bridge, so members talk over
 * real TCP between real IP addresses and faults can be injected per member
 * with iptables.
 *
 * Addresses are in one /16, so every address is on-link everywhere. Member
 * i listens on 10.99.0.<i+1>, port MEMBER_PORT. The hub owns 10.99.0.254
 * (where the delay relay listens) and one address 10.99.1.<i+1> per member
 * (the relay's source address when it forwards that member's connections,
 * so the far end can tell who it is).
 *
 * Every member's outbound connections to another member are DNATed (nat
 * OUTPUT) to the relay in the hub, which forwards them to the real peer,
 * optionally holding data back (see `delay-relay.ts`): the kernel has no
 * netem. Partitions are DROP rules in each member's own chains, matched on
 * the connection's original addresses (conntrack), so they cut relayed and
 * direct traffic alike, including connections open before the cut.
 *
 * Names start with a run-unique prefix `lprc<pid>-<n>`; leftovers of crashed
 * runs (whose pid is gone) are removed by `removeStale()`.
 */

import { execFile, execFileSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { promisify } from 'node:util'

const run = promisify(execFile)

export const MEMBER_PORT = 4001
/** Relay port for connections to member j: RELAY_BASE_PORT + j. */
export const RELAY_BASE_PORT = 20000
/** Most members a network can hold (relay ports and DNAT rules are set up for all of them). */
export const MAX_MEMBERS = 8
export const RELAY_ADDRESS = '10.99.0.254'
const PREFIX_PATTERN = /^lprc(\d+)-\d+-/

export function memberAddress (index: number): string {
  return `10.99.0.${index + 1}`
}

/** The hub address the relay uses as source for member `index`'s connections. */
export function relaySourceAddress (index: number): string {
  return `10.99.1.${index + 1}`
}

/** Runs a command, rejecting with its stderr on failure. */
export async function sh (cmd: string, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, { timeout: 20_000 })
    return stdout
  } catch (err: any) {
    throw new Error(`${cmd} ${args.join(' ')} failed: ${String(err.stderr ?? err.message).trim()}`)
  }
}

function pidAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err: any) {
    return err.code === 'EPERM'
  }
}

async function listNamespaces (): Promise<string[]> {
  const out = await sh('ip', ['netns', 'list'])
  return out.split('\n').map(line => line.split(' ')[0]).filter(name => name !== '')
}

function killQuietly (pid: number): void {
  try {
    process.kill(pid, 'SIGKILL')
  } catch (err) {
    void err
  }
}

/** Kills whatever still runs in a namespace, then deletes it (synchronously: also used on SIGINT). */
function deleteNamespaceSync (name: string): void {
  // best effort throughout: the namespace or its processes may be gone already
  try {
    const pids = execFileSync('ip', ['netns', 'pids', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    for (const pid of pids.split('\n').filter(p => p !== '')) {
      killQuietly(Number(pid))
    }
  } catch (err) {
    void err
  }
  try {
    execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' })
  } catch (err) {
    void err
  }
}

/** Removes namespaces left by chaos runs whose process no longer exists. */
export async function removeStale (): Promise<string[]> {
  const removed: string[] = []
  for (const name of await listNamespaces()) {
    const match = PREFIX_PATTERN.exec(name)
    if (match !== null && !pidAlive(Number(match[1]))) {
      deleteNamespaceSync(name)
      removed.push(name)
    }
  }
  return removed
}

/** Why the suite cannot run here, or undefined when it can. */
export async function unsupportedReason (): Promise<string | undefined> {
  if (process.platform !== 'linux') {
    return `needs Linux network namespaces (this is ${process.platform})`
  }
  if (process.getuid?.() !== 0) {
    return 'needs root (it creates network namespaces and iptables rules)'
  }
  for (const [cmd, args] of [['ip', ['-V']], ['iptables', ['-V']]] as const) {
    try {
      await sh(cmd, [...args])
    } catch {
      return `needs \`${cmd}\` (${cmd === 'ip' ? 'iproute2' : 'apt-get install iptables'})`
    }
  }
  // a namespace and an iptables rule in it, to be sure the kernel allows both
  const probe = `lprc${process.pid}-0-probe`
  try {
    await sh('ip', ['netns', 'add', probe])
    await sh('ip', ['netns', 'exec', probe, 'iptables', '-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '-d', '10.0.0.1', '-j', 'DNAT', '--to-destination', '10.0.0.2:1'])
    await sh('ip', ['netns', 'exec', probe, 'iptables', '-A', 'OUTPUT', '-m', 'statistic', '--mode', 'random', '--probability', '0.5', '-m', 'conntrack', '--ctorigdst', '10.0.0.1', '-j', 'DROP'])
  } catch (err: any) {
    return `cannot set up namespaces with iptables rules: ${err.message}`
  } finally {
    deleteNamespaceSync(probe)
  }
  return undefined
}

let networks = 0
const live = new Set<Network>()
let handlersInstalled = false

/** On Ctrl-C or SIGTERM, remove every namespace still up before exiting. */
function installSignalHandlers (): void {
  if (handlersInstalled) {
    return
  }
  handlersInstalled = true
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const network of live) {
        network.destroySync()
      }
      process.exit(130)
    })
  }
}

export class Network {
  readonly prefix: string
  readonly hub: string
  private readonly members = new Map<number, string>()
  /** folders to remove with the network (the members' datastores), also on Ctrl-C */
  private readonly folders: string[] = []
  private destroyed = false

  constructor () {
    this.prefix = `lprc${process.pid}-${++networks}`
    this.hub = `${this.prefix}-hub`
  }

  /** The namespace of member `index`. */
  namespace (index: number): string {
    const ns = this.members.get(index)
    if (ns === undefined) {
      throw new Error(`no namespace for member ${index}`)
    }
    return ns
  }

  get indices (): number[] {
    return [...this.members.keys()]
  }

  async create (): Promise<void> {
    installSignalHandlers()
    live.add(this)
    await sh('ip', ['netns', 'add', this.hub])
    await this.ipIn(this.hub, ['link', 'set', 'lo', 'up'])
    await this.ipIn(this.hub, ['link', 'add', 'br0', 'type', 'bridge'])
    await this.ipIn(this.hub, ['addr', 'add', `${RELAY_ADDRESS}/16`, 'dev', 'br0'])
    for (let i = 0; i < MAX_MEMBERS; i++) {
      await this.ipIn(this.hub, ['addr', 'add', `${relaySourceAddress(i)}/16`, 'dev', 'br0'])
    }
    await this.ipIn(this.hub, ['link', 'set', 'br0', 'up'])
  }

  /** Removes `folder` together with the network. */
  removeWithNetwork (folder: string): void {
    this.folders.push(folder)
  }

  /** Creates member `index`'s namespace, its veth to the hub and the DNAT rules to the relay. */
  async addMember (index: number): Promise<string> {
    if (index >= MAX_MEMBERS) {
      throw new Error(`at most ${MAX_MEMBERS} members`)
    }
    const ns = `${this.prefix}-m${index}`
    await sh('ip', ['netns', 'add', ns])
    this.members.set(index, ns)
    await sh('ip', ['link', 'add', 'name', `h${index}`, 'netns', this.hub, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns])
    await this.ipIn(this.hub, ['link', 'set', `h${index}`, 'master', 'br0'])
    await this.ipIn(this.hub, ['link', 'set', `h${index}`, 'up'])
    await this.ipIn(ns, ['link', 'set', 'lo', 'up'])
    await this.ipIn(ns, ['addr', 'add', `${memberAddress(index)}/16`, 'dev', 'eth0'])
    await this.ipIn(ns, ['link', 'set', 'eth0', 'up'])
    for (let j = 0; j < MAX_MEMBERS; j++) {
      if (j !== index) {
        await this.iptables(ns, ['-t', 'nat', '-A', 'OUTPUT', '-p', 'tcp', '-d', memberAddress(j), '--dport', String(MEMBER_PORT),
          '-j', 'DNAT', '--to-destination', `${RELAY_ADDRESS}:${RELAY_BASE_PORT + j}`])
      }
    }
    // duplicated and dropped packets must not make conntrack call a
    // connection's packets invalid (which skips NAT and the partition rules' matches)
    await sh('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.netfilter.nf_conntrack_tcp_be_liberal=1'])
    // our own chains, so a heal is a flush
    await this.iptables(ns, ['-N', 'CHAOS_OUT'])
    await this.iptables(ns, ['-N', 'CHAOS_IN'])
    await this.iptables(ns, ['-A', 'OUTPUT', '-j', 'CHAOS_OUT'])
    await this.iptables(ns, ['-A', 'INPUT', '-j', 'CHAOS_IN'])
    await this.iptables(ns, ['-t', 'mangle', '-N', 'CHAOS_DUP'])
    await this.iptables(ns, ['-t', 'mangle', '-A', 'OUTPUT', '-j', 'CHAOS_DUP'])
    return ns
  }

  /**
   * Drops every packet member `from` sends that belongs to a connection with
   * member `to` (dialled by either side, relayed or not): a one-way cut.
   */
  async blockOneWay (from: number, to: number): Promise<void> {
    const ns = this.namespace(from)
    for (const match of [['--ctorigdst', memberAddress(to)], ['--ctorigsrc', memberAddress(to)], ['--ctorigsrc', relaySourceAddress(to)]]) {
      await this.iptables(ns, ['-A', 'CHAOS_OUT', '-m', 'conntrack', ...match, '-j', 'DROP'])
    }
  }

  /** Cuts `a` and `b` apart in both directions. */
  async block (a: number, b: number): Promise<void> {
    await this.blockOneWay(a, b)
    await this.blockOneWay(b, a)
  }

  /** Every member drops each packet it sends with probability `p`. */
  async loss (p: number, members = this.indices): Promise<void> {
    for (const i of members) {
      await this.iptables(this.namespace(i), ['-A', 'CHAOS_OUT', '-o', 'eth0', '-m', 'statistic', '--mode', 'random', '--probability', String(p), '-j', 'DROP'])
    }
  }

  /** Every member sends a copy of each packet with probability `p` (TEE to the hub, which every packet goes to). */
  async duplicate (p: number, members = this.indices): Promise<void> {
    for (const i of members) {
      await this.iptables(this.namespace(i), ['-t', 'mangle', '-A', 'CHAOS_DUP', '-o', 'eth0', '-m', 'statistic', '--mode', 'random', '--probability', String(p),
        '-j', 'TEE', '--gateway', RELAY_ADDRESS])
    }
  }

  /** Removes every partition, loss and duplication rule. */
  async heal (): Promise<void> {
    for (const ns of this.members.values()) {
      await this.iptables(ns, ['-F', 'CHAOS_OUT'])
      await this.iptables(ns, ['-F', 'CHAOS_IN'])
      await this.iptables(ns, ['-t', 'mangle', '-F', 'CHAOS_DUP'])
    }
  }

  /** Deletes every namespace of this network (killing what runs in them) and its folders. */
  async destroy (): Promise<void> {
    this.destroySync()
  }

  destroySync (): void {
    if (this.destroyed) {
      return
    }
    this.destroyed = true
    live.delete(this)
    for (const ns of this.members.values()) {
      deleteNamespaceSync(ns)
    }
    deleteNamespaceSync(this.hub)
    for (const folder of this.folders) {
      rmSync(folder, { recursive: true, force: true })
    }
  }

  private async ipIn (ns: string, args: string[]): Promise<void> {
    await sh('ip', ['-n', ns, ...args])
  }

  private async iptables (ns: string, args: string[]): Promise<void> {
    await sh('ip', ['netns', 'exec', ns, 'iptables', '-w', '5', ...args])
  }
}
