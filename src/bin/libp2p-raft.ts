#!/usr/bin/env node
/**
 * `libp2p-raft`: operator tools for a stopped member's `datastore-level`
 * store. `inspect` prints its stored Raft state and never writes; `recover`
 * runs `recoverCluster` on it.
 */
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { LevelDatastore } from 'datastore-level'
import { formatInspection, inspectStore } from '../tools/inspect.ts'
import { recoverCluster } from '../tools/recover-cluster.ts'

const USAGE = `Usage:
  libp2p-raft inspect <level folder> [--group <group>] [--prefix <prefix>] [--entries <n>] [--json]
  libp2p-raft recover <level folder> --voter <peer id> [--voter <peer id> ...] [--learner <peer id> ...]
                      [--group <group>] [--prefix <prefix>] [--json]

Commands:
  inspect   Print a stopped member's stored Raft state: term, vote, commit index,
            configuration, log range, snapshot and the last entries. Reads only.
  recover   After a majority of the voters is lost for good, make the survivors the
            stored configuration of this stopped member. Run it on every survivor,
            with the same lists, before starting any of them (see recoverCluster).

Options:
  --group <group>     The member's RaftInit.group (default: default)
  --prefix <prefix>   The member's RaftInit.datastorePrefix (default: /raft)
  --entries <n>       inspect: how many of the last entries to list (default: 10)
  --voter <peer id>   recover: a surviving voter (repeat for each)
  --learner <peer id> recover: a surviving learner (repeat for each)
  --json              Print JSON instead of text
  -h, --help          Print this help`

/** A mistake in the command line: exit code 2 and the usage. */
class UsageError extends Error {}

const OPTIONS = {
  group: { type: 'string' },
  prefix: { type: 'string' },
  entries: { type: 'string' },
  voter: { type: 'string', multiple: true },
  learner: { type: 'string', multiple: true },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' }
} as const

/** Runs the command line `args`; resolves with the exit code. */
async function main (args: string[]): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true })
  } catch (err: any) {
    throw new UsageError(err.message)
  }
  const { values, positionals } = parsed
  const [command, folder, ...extra] = positionals
  if (values.help === true || command === 'help') {
    print(USAGE)
    return 0
  }
  if (command !== 'inspect' && command !== 'recover') {
    throw new UsageError(command === undefined ? 'no command given' : `unknown command '${command}'`)
  }
  if (folder === undefined || extra.length > 0) {
    throw new UsageError(folder === undefined ? `${command} needs the folder of a member's level store` : `unexpected argument '${extra[0]}'`)
  }
  return command === 'inspect' ? inspect(folder, values) : recover(folder, values)
}

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values']

async function inspect (folder: string, values: Values): Promise<number> {
  if (values.voter !== undefined || values.learner !== undefined) {
    throw new UsageError('--voter and --learner are options of recover')
  }
  const options = { group: values.group, datastorePrefix: values.prefix, entries: count(values.entries) }
  const inspection = await withStore(folder, async store => inspectStore(store, options))
  print(values.json === true ? JSON.stringify(inspection, null, 2) : formatInspection(inspection))
  return 0
}

async function recover (folder: string, values: Values): Promise<number> {
  if (values.entries !== undefined) {
    throw new UsageError('--entries is an option of inspect')
  }
  if (values.voter === undefined) {
    throw new UsageError('recover needs at least one --voter')
  }
  const options = { group: values.group, datastorePrefix: values.prefix, voters: values.voter, learners: values.learner ?? [] }
  const result = await withStore(folder, async store => recoverCluster(store, options))
  const learners = result.learners.length > 0 ? `; learners ${result.learners.join(', ')}` : ''
  const entries = `${result.rewrittenEntries} configuration entr${result.rewrittenEntries === 1 ? 'y' : 'ies'}`
  print(values.json === true
    ? JSON.stringify(result, null, 2)
    : [
        `recovered: voters ${result.voters.join(', ')}${learners}`,
        result.rewrittenEntries === 0 && !result.rewroteSnapshot
          ? 'nothing to rewrite: the stored configuration already is the survivors'
          : `rewrote ${entries}${result.rewroteSnapshot ? ' and the snapshot\'s configuration' : ''}`,
        `term ${result.term}, commit index ${result.commitIndex}, last entry ${result.lastIndex} of term ${result.lastTerm}`
      ].join('\n'))
  return 0
}

function print (text: string): void {
  process.stdout.write(`${text}\n`)
}

/** `--entries`: a whole number of at least 0. */
function count (text: string | undefined): number | undefined {
  if (text === undefined) {
    return undefined
  }
  const n = Number(text)
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) {
    throw new UsageError(`--entries must be a whole number, not '${text}'`)
  }
  return n
}

/** Opens an existing level store (never creating one), runs `fn` on it and closes it. */
async function withStore<T> (folder: string, fn: (store: LevelDatastore) => Promise<T>): Promise<T> {
  if (await stat(folder).catch(() => undefined) === undefined) {
    throw new Error(`${folder} does not exist`)
  }
  // every LevelDB folder has a CURRENT file; opening any other folder would leave LevelDB's files in it
  if (await stat(join(folder, 'CURRENT')).catch(() => undefined) === undefined) {
    throw new Error(`${folder} is not a level store (it has no CURRENT file)`)
  }
  const store = new LevelDatastore(folder, { createIfMissing: false })
  try {
    // through `db`, whose error says why (the datastore's own open hides it)
    await store.db.open()
  } catch (err: any) {
    // LevelDB locks its folder: a running member holds the lock
    throw new Error(`cannot open ${folder} (is the member still running?): ${String(err.cause?.message ?? err.message)}`)
  }
  try {
    return await fn(store)
  } finally {
    await store.close()
  }
}

try {
  process.exitCode = await main(process.argv.slice(2))
} catch (err: any) {
  process.stderr.write(`libp2p-raft: ${String(err.message)}\n`)
  if (err instanceof UsageError) {
    process.stderr.write(`\n${USAGE}\n`)
  }
  process.exitCode = err instanceof UsageError ? 2 : 1
}
