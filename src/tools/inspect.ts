/**
 * A read-only look at a stopped member's stored Raft state: what
 * `libp2p-raft inspect` prints.
 */
import { toString as uint8ArrayToString } from 'uint8arrays/to-string'
import { RaftLog } from '../core/log.ts'
import { groupStorage } from './group-storage.ts'
import type { GroupOptions } from './group-storage.ts'
import type { AddressBook, Configuration, Entry } from '../core/index.ts'
import type { AbortOptions } from '@libp2p/interface'
import type { Datastore } from 'interface-datastore'

/** Command bytes shown in an entry's preview. */
const PREVIEW_BYTES = 32

export interface InspectOptions extends GroupOptions, AbortOptions {
  /**
   * How many of the last log entries to list.
   *
   * @default 10
   */
  entries?: number
}

/** A member's stored state, as it would start from it. Plain data, ready for `JSON.stringify`. */
export interface Inspection {
  group: string
  datastorePrefix: string
  term: number
  /** Whom the member voted for in `term`, if anyone */
  vote?: string
  /**
   * The highest index the member stored as committed (at least the
   * snapshot's). It may lag behind what the member knew: a commit index
   * alone is written with the next entries or term change.
   */
  commitIndex: number
  /** The configuration the member would follow */
  configuration: {
    voters: string[]
    learners: string[]
    /** Where members listened, as stored with the configuration */
    addresses: AddressBook
    /** Where it comes from: a configuration entry in the log, or the snapshot (when the log holds none) */
    source: 'log' | 'snapshot'
    /** The index of that entry, or the snapshot's */
    index: number
  }
  log: {
    /** The first entry still in the log (earlier ones are compacted into the snapshot) */
    firstIndex: number
    lastIndex: number
    lastTerm: number
    /** Stored entries the member deletes when it starts: leftovers of a write a crash interrupted */
    leftovers: number
  }
  snapshot?: {
    index: number
    term: number
    /** Bytes of state machine data */
    size: number
    chunks: number
    id: string
    voters: string[]
    learners: string[]
  }
  /** The last entries of the log, oldest first */
  entries: EntrySummary[]
}

export interface EntrySummary {
  index: number
  term: number
  type: Entry['type']
  /** Bytes of command data (0 for other entries) */
  size: number
  /** A command's first bytes: as text when they are printable, else in hex */
  preview?: string
  /** The id of the forwarded request that proposed a command */
  request?: number
  /** Where a command belongs in a client session (sequence 0 opens the session) */
  session?: { client: number, sequence: number }
  /** A configuration entry's members */
  voters?: string[]
  learners?: string[]
}

/**
 * Reads a member's stored Raft state without changing anything. Run it on a
 * stopped member: a running one changes its state meanwhile (and a LevelDB
 * store cannot be opened twice).
 *
 * @throws {InvalidParametersError} when the datastore holds no Raft state for the group
 */
export async function inspectStore (datastore: Datastore, options: InspectOptions = {}): Promise<Inspection> {
  const { storage, group, datastorePrefix, noState } = groupStorage(datastore, options)
  const stored = await storage.read(options)
  if (stored === undefined) {
    throw noState()
  }
  const { hardState, entries, snapshot, leftovers } = stored
  const snapshotMeta = snapshot?.meta ?? { index: 0, term: 0, config: { voters: [], learners: [] } }
  // the core's own view of the log: where it starts, what is committed, which configuration rules
  const log = new RaftLog(snapshotMeta, entries, hardState?.commit ?? 0)
  const configEntry = log.lastConfigEntry()
  const config = configEntry?.config ?? snapshotMeta.config
  return {
    group,
    datastorePrefix,
    term: hardState?.term ?? 0,
    ...(hardState?.vote === undefined ? {} : { vote: hardState.vote }),
    commitIndex: log.committed,
    configuration: { ...members(config), addresses: config.addresses ?? {}, source: configEntry === undefined ? 'snapshot' : 'log', index: configEntry?.index ?? snapshotMeta.index },
    log: { firstIndex: log.firstIndex(), lastIndex: log.lastIndex(), lastTerm: log.lastTerm(), leftovers: leftovers.length },
    ...(snapshot === undefined ? {} : { snapshot: { index: snapshot.meta.index, term: snapshot.meta.term, size: snapshot.size, chunks: snapshot.chunks, id: snapshot.id, ...members(snapshot.meta.config) } }),
    entries: lastEntries(log, options.entries ?? 10).map(summarize)
  }
}

function members (config: Configuration): { voters: string[], learners: string[] } {
  return { voters: [...config.voters], learners: [...config.learners] }
}

function lastEntries (log: RaftLog, count: number): Entry[] {
  const out: Entry[] = []
  for (let index = Math.max(log.firstIndex(), log.lastIndex() - count + 1); index <= log.lastIndex(); index++) {
    const entry = log.entry(index)
    if (entry !== undefined) {
      out.push(entry)
    }
  }
  return out
}

function summarize (entry: Entry): EntrySummary {
  const summary: EntrySummary = { index: entry.index, term: entry.term, type: entry.type, size: 0 }
  if (entry.type === 'command') {
    summary.size = entry.data.byteLength
    summary.preview = preview(entry.data)
    if (entry.request !== undefined) {
      summary.request = entry.request
    }
    if (entry.session !== undefined) {
      summary.session = { client: entry.session.client, sequence: entry.session.sequence }
    }
  } else if (entry.type === 'config') {
    Object.assign(summary, members(entry.config))
  }
  return summary
}

/** The data's first bytes as quoted text when they are printable UTF-8, else as `0x…` hex; `…` marks a cut. */
export function preview (data: Uint8Array): string {
  const head = data.subarray(0, PREVIEW_BYTES)
  const more = data.byteLength > PREVIEW_BYTES ? '…' : ''
  const text = new TextDecoder().decode(head)
  // invalid UTF-8 decodes to U+FFFD; control characters other than white space mean binary
  const printable = !/[\uFFFD\p{Cc}]/u.test(text.replace(/[\t\n\r]/g, ''))
  return printable ? JSON.stringify(text) + more : `0x${uint8ArrayToString(head, 'base16')}${more}`
}

/** The inspection as aligned text for people. */
export function formatInspection (inspection: Inspection): string {
  const { configuration, log, snapshot } = inspection
  const lines = [
    `group          ${inspection.group} (under ${inspection.datastorePrefix})`,
    `term           ${inspection.term}${inspection.vote === undefined ? '' : `, voted for ${inspection.vote}`}`,
    `commit index   ${inspection.commitIndex} (as stored)`,
    `log            ${log.firstIndex > log.lastIndex ? 'empty' : `${log.firstIndex}-${log.lastIndex}`}, last entry ${log.lastIndex} of term ${log.lastTerm}` +
      (log.leftovers > 0 ? ` (${log.leftovers} leftover entries, deleted at start)` : ''),
    `configuration  ${configuration.source === 'log' ? `entry ${configuration.index}` : `the snapshot's (at ${configuration.index})`}`,
    ...configuration.voters.map(id => memberLine('voter', id, configuration.addresses)),
    ...configuration.learners.map(id => memberLine('learner', id, configuration.addresses)),
    snapshot === undefined
      ? 'snapshot       none'
      : `snapshot       index ${snapshot.index}, term ${snapshot.term}, ${snapshot.size} bytes in ${snapshot.chunks} chunk${snapshot.chunks === 1 ? '' : 's'}\n` +
        `               ${membersText(snapshot)}`
  ]
  if (inspection.entries.length > 0) {
    lines.push(`last ${inspection.entries.length} entr${inspection.entries.length === 1 ? 'y' : 'ies'}`)
    const width = String(log.lastIndex).length
    for (const entry of inspection.entries) {
      lines.push(`  ${String(entry.index).padStart(width)}  term ${entry.term}  ${entryText(entry)}`)
    }
  }
  return lines.join('\n')
}

function memberLine (role: string, id: string, addresses: AddressBook): string {
  const where = addresses[id] ?? []
  return `  ${role.padEnd(8)} ${id}${where.length > 0 ? `  ${where.join(' ')}` : ''}`
}

function membersText (config: { voters: string[], learners: string[] }): string {
  const learners = config.learners.length > 0 ? `; learners ${config.learners.join(', ')}` : ''
  return `voters ${config.voters.join(', ')}${learners}`
}

function sessionText (session: EntrySummary['session']): string {
  if (session === undefined) {
    return ''
  }
  return session.sequence === 0 ? '  (opens a client session)' : `  (session ${session.client}, sequence ${session.sequence})`
}

function entryText (entry: EntrySummary): string {
  switch (entry.type) {
    case 'command':
      return `command  ${entry.size} bytes  ${entry.preview ?? ''}${entry.request === undefined ? '' : `  (request ${entry.request})`}${sessionText(entry.session)}`
    case 'config':
      return `config   ${membersText({ voters: entry.voters ?? [], learners: entry.learners ?? [] })}`
    default:
      return entry.type
  }
}
