/**
 * Recovery of a group that lost a majority of its voters for good: rewrites a
 * stopped survivor's stored configuration so the survivors elect a leader
 * among themselves.
 */
import { isPeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { InvalidParametersError } from '../errors.ts'
import { groupStorage } from './group-storage.ts'
import type { GroupOptions } from './group-storage.ts'
import type { Configuration, CoreState, Entry } from '../core/index.ts'
import type { AbortOptions, PeerId } from '@libp2p/interface'
import type { Datastore } from 'interface-datastore'

export interface RecoverClusterOptions extends GroupOptions, AbortOptions {
  /** The surviving voters (this member among them, unless it is a learner); give every survivor the same list. */
  voters: Array<PeerId | string>
  /**
   * The surviving learners, if any; they must be recovered too.
   *
   * @default []
   */
  learners?: Array<PeerId | string>
}

/** What `recoverCluster` did, and where this member's log stands. */
export interface RecoveryResult {
  /** The configuration the member now holds */
  voters: string[]
  learners: string[]
  /** Configuration entries of the log rewritten (0 when a previous run already did) */
  rewrittenEntries: number
  /** Whether the snapshot's configuration was rewritten (false without a snapshot, or when a previous run did) */
  rewroteSnapshot: boolean
  /** The member's current term */
  term: number
  /** The highest index the member stored as committed (it may lag: a commit index alone is written with the next entries) */
  commitIndex: number
  /** The member's last log entry: survivors elect the one whose last entry has the highest term, then index */
  lastIndex: number
  lastTerm: number
}

/**
 * Makes the given survivors the configuration stored in a **stopped**
 * member's datastore, so that once restarted they elect a leader among
 * themselves: the last resort when a majority of the voters is lost for good
 * (what hashicorp/raft's `RecoverCluster` and etcd's `--force-new-cluster`
 * are for).
 *
 * It rewrites every configuration entry of the stored log, and the
 * configuration of the stored snapshot, to the survivors (keeping the
 * addresses stored for them), so whichever configuration the member would
 * fall back on is the survivors'. It adds and removes no entry and changes
 * no index, term, vote or commit index: a new configuration entry would
 * need, on each survivor alone, a term that no survivor ever used (or two
 * logs that differ could look alike) and that ranks the survivors' logs as
 * their real ends do (or the least complete could win the election), which
 * no survivor can know. So the survivors' logs keep Raft's guarantees, and
 * once restarted they elect, by the usual rules, the member with the most
 * up-to-date log among those that vote (a majority of the survivors: both
 * of two, two of three). Its log then prevails: entries after a survivor's
 * commit index stay uncommitted until that leader commits its own log, and
 * entries only other survivors hold are replaced then, as after any
 * election. The state machine never sees configuration entries, so
 * rewriting old ones changes no state.
 *
 * Safe only when all of this holds:
 * - a majority of the voters is lost **for good**: with a majority alive, fix the network or restart members instead, they recover by themselves;
 * - every survivor is stopped, and every survivor is recovered with the **same** `voters` and `learners` before any of them starts again;
 * - the lost members never start again with their stored state (wipe their stores: they may rejoin later as new members through `addVoter`, `addLearner` or `join`), nor does any member left out of the lists;
 * - every peer listed is a survivor that holds its own store.
 *
 * Writes acknowledged by the old majority survive when the elected survivor
 * holds them; compare the survivors' `lastTerm` and `lastIndex` (or
 * `libp2p-raft inspect`) to see which one does. Writes no survivor holds are
 * lost. Running it again with the same lists changes nothing; if it was
 * interrupted, run it again. Nothing stops it on a running member's store
 * but LevelDB's lock: stop the member first.
 *
 * @throws {InvalidParametersError} when `voters` is empty, a peer id is not
 * valid, a peer is both voter and learner, or the datastore holds no Raft
 * state for the group
 */
export async function recoverCluster (datastore: Datastore, options: RecoverClusterOptions): Promise<RecoveryResult> {
  const { voters, learners } = survivingMembers(options)
  const { storage, noState } = groupStorage(datastore, options)
  const state = await storage.load(options)
  if (state === undefined) {
    throw noState()
  }
  const survivors = (config: Configuration): Configuration => recoveredConfig(config, voters, learners)

  const entries = (state.entries ?? []).flatMap((entry): Entry[] => {
    if (entry.type !== 'config' || sameConfig(entry.config, survivors(entry.config))) {
      return []
    }
    return [{ ...entry, config: survivors(entry.config) }]
  })
  await storage.overwriteEntries(entries, options)

  const snapshot = state.snapshot
  const rewroteSnapshot = snapshot !== undefined && !sameConfig(snapshot.config, survivors(snapshot.config))
  if (rewroteSnapshot) {
    await storage.replaceSnapshotMeta({ ...snapshot, config: survivors(snapshot.config) }, options)
  }

  return { voters, learners, rewrittenEntries: entries.length, rewroteSnapshot, ...logPosition(state) }
}

/** The checked lists of survivors. */
function survivingMembers (options: RecoverClusterOptions): { voters: string[], learners: string[] } {
  const voters = peerIdList(options.voters, 'voter')
  const learners = peerIdList(options.learners ?? [], 'learner')
  if (voters.length === 0) {
    throw new InvalidParametersError('recovery needs at least one surviving voter')
  }
  const both = learners.find(id => voters.includes(id))
  if (both !== undefined) {
    throw new InvalidParametersError(`${both} is given both as a voter and as a learner`)
  }
  return { voters, learners }
}

/** Where a member's stored log stands. */
function logPosition (state: CoreState): Pick<RecoveryResult, 'term' | 'commitIndex' | 'lastIndex' | 'lastTerm'> {
  const last = state.entries?.at(-1) ?? state.snapshot
  return {
    term: state.hardState?.term ?? 0,
    commitIndex: Math.max(state.hardState?.commit ?? 0, state.snapshot?.index ?? 0),
    lastIndex: last?.index ?? 0,
    lastTerm: last?.term ?? 0
  }
}

/** Peer ids in their string form, checked, without duplicates, sorted so that every survivor stores the same configuration. */
function peerIdList (list: Array<PeerId | string>, role: string): string[] {
  if (!Array.isArray(list)) {
    throw new InvalidParametersError(`the ${role}s must be a list of peer ids`)
  }
  const ids = list.map(item => {
    if (isPeerId(item)) {
      return item.toString()
    }
    try {
      return peerIdFromString(String(item)).toString()
    } catch {
      throw new InvalidParametersError(`${role} ${String(item)} is not a valid peer id`)
    }
  })
  return [...new Set(ids)].sort()
}

/** The survivors as a configuration, with the addresses `config` holds for them. */
function recoveredConfig (config: Configuration, voters: string[], learners: string[]): Configuration {
  const members = new Set([...voters, ...learners])
  const addresses = Object.entries(config.addresses ?? {}).filter(([id]) => members.has(id))
  return addresses.length > 0 ? { voters, learners, addresses: Object.fromEntries(addresses) } : { voters, learners }
}

function sameConfig (a: Configuration, b: Configuration): boolean {
  const members = (c: Configuration): string => JSON.stringify([c.voters, c.learners, Object.entries(c.addresses ?? {}).sort()])
  return members(a) === members(b)
}
