import { spawn } from 'node:child_process'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect } from 'aegir/chai'
import { MemoryDatastore } from 'datastore-core/memory'
import { LevelDatastore } from 'datastore-level'
import { formatInspection, inspectStore, preview } from '../../src/tools/inspect.ts'
import { set } from '../utils/kv.ts'
import { createLevelStores } from '../utils/level-stores.ts'
import { createClusterWith, stopAll, waitFor, waitForStableLeader } from '../utils/nodes.ts'
import { rejection } from '../utils/rejection.ts'
import type { RaftStatus } from '../../src/index.ts'
import type { Inspection } from '../../src/tools/inspect.ts'
import type { LevelStores } from '../utils/level-stores.ts'
import type { TestNode } from '../utils/nodes.ts'
import type { Datastore } from 'interface-datastore'

const CLI = fileURLToPath(new URL('../../src/bin/libp2p-raft.ts', import.meta.url))

/** Runs the CLI from its source, as `npx libp2p-raft` runs the built file. */
async function runCli (args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = spawn(process.execPath, ['--experimental-transform-types', '--disable-warning=ExperimentalWarning', CLI, ...args])
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', chunk => { stdout += String(chunk) })
  child.stderr.on('data', chunk => { stderr += String(chunk) })
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', resolve)
  })
  return { code, stdout, stderr }
}

/** Every key and value in a store, to show that a call changed nothing. */
async function contents (datastore: Datastore): Promise<string[]> {
  const out: string[] = []
  for await (const { key, value } of datastore.query({})) {
    out.push(`${key.toString()}=${Buffer.from(value).toString('hex')}`)
  }
  return out.sort()
}

/** What `status()` says that the store must say too (the stored commit index lags: see `inspectStore`). */
function figures (status: RaftStatus): Record<string, unknown> {
  return {
    term: status.term,
    firstIndex: status.firstIndex,
    lastIndex: status.lastIndex,
    snapshotIndex: status.snapshotIndex,
    voters: status.voters.map(String).sort(),
    learners: status.learners.map(String)
  }
}

function storedFigures (inspection: Inspection): Record<string, unknown> {
  return {
    term: inspection.term,
    firstIndex: inspection.log.firstIndex,
    lastIndex: inspection.log.lastIndex,
    snapshotIndex: inspection.snapshot?.index ?? 0,
    voters: [...inspection.configuration.voters].sort(),
    learners: inspection.configuration.learners
  }
}

describe('tools: inspect', function () {
  this.timeout(120_000)
  let nodes: TestNode[] = []
  let levels: LevelStores | undefined
  let statuses: RaftStatus[] = []
  const BINARY = Uint8Array.from([0x00, 0xff, 0x10, 0x80])

  // one real cluster, compacted behind a snapshot, stopped: every test reads its stores
  before(async () => {
    levels = await createLevelStores(3)
    const stores = levels.stores
    nodes = await createClusterWith(3, i => ({ datastore: stores[i], raft: { snapshotThreshold: 20, trailingEntries: 5 } }))
    const leader = await waitForStableLeader(nodes)
    for (let i = 0; i < 29; i++) {
      await leader.raft.commit(set(`k${i}`, `v${i}`))
    }
    // the last two before the binary one: a client session's opening and its first command
    const session = await leader.raft.openSession()
    await session.commit(set('k29', 'v29'))
    const last = await leader.raft.commit(BINARY)
    await waitFor(() => nodes.every(n => n.raft.commitIndex === last.index && n.raft.appliedIndex === last.index && n.raft.status().snapshotIndex > 0), 'every member to commit, apply and snapshot')
    statuses = nodes.map(n => n.raft.status())
    await stopAll(nodes)
  })

  after(async () => {
    await stopAll(nodes)
    await levels?.remove()
  })

  it('reads what each member reported before it stopped, and changes nothing', async () => {
    for (const [i, node] of nodes.entries()) {
      const before = await contents(node.datastore)
      const inspection = await inspectStore(node.datastore)
      expect(storedFigures(inspection)).to.deep.equal(figures(statuses[i]))
      // a commit index alone is not written: the stored one is at least the snapshot's, at most the live one
      expect(inspection.commitIndex).to.be.within(statuses[i].snapshotIndex, statuses[i].commitIndex)
      expect(inspection).to.include({ group: 'default', datastorePrefix: '/raft' })
      expect(inspection.configuration.source).to.equal('snapshot')
      expect(await contents(node.datastore)).to.deep.equal(before)
    }
  })

  it('lists the last entries with their type, size and data', async () => {
    const inspection = await inspectStore(nodes[0].datastore, { entries: 3 })
    const lastIndex = statuses[0].lastIndex
    expect(inspection.entries.map(e => e.index)).to.deep.equal([lastIndex - 2, lastIndex - 1, lastIndex])
    expect(inspection.entries[2]).to.deep.include({ type: 'command', size: 4, preview: '0x00ff1080', term: statuses[0].term })
    expect(inspection.entries[1]).to.deep.include({ type: 'command', size: 11, preview: '"set k29 v29"', session: { client: lastIndex - 2, sequence: 1 } })
    expect(inspection.entries[0]).to.deep.include({ type: 'command', size: 0, session: { client: 0, sequence: 0 } })
    expect((await inspectStore(nodes[0].datastore, { entries: 0 })).entries).to.deep.equal([])
    const text = formatInspection(inspection)
    expect(text).to.include(`commit index   ${inspection.commitIndex} (as stored)`)
    expect(text).to.include(`log            ${statuses[0].firstIndex}-${lastIndex}`)
    expect(text).to.include(`  ${lastIndex}  term ${statuses[0].term}  command  4 bytes  0x00ff1080`)
    expect(text).to.include(`"set k29 v29"  (session ${lastIndex - 2}, sequence 1)`)
    expect(text).to.include('(opens a client session)')
  })

  it('names a group or prefix with no state', async () => {
    const err = await rejection(inspectStore(nodes[0].datastore, { group: 'other' }))
    expect(err).to.have.property('name', 'InvalidParametersError')
    expect(err.message).to.include("no Raft state for group 'other' under /raft")
    expect((await rejection(inspectStore(new MemoryDatastore()))).name).to.equal('InvalidParametersError')
  })

  it('previews text as quoted text, anything else in hex, and cuts long data', () => {
    expect(preview(new TextEncoder().encode('héllo\tworld'))).to.equal('"héllo\\tworld"')
    expect(preview(Uint8Array.from([0x68, 0x69, 0x07]))).to.equal('0x686907')
    expect(preview(new Uint8Array(40).fill(0x61))).to.equal(`"${'a'.repeat(32)}"…`)
  })

  it('prints members with the addresses stored with the configuration', async () => {
    const inspection = await inspectStore(nodes[0].datastore)
    const [a, b] = inspection.configuration.voters
    inspection.configuration.addresses = { [a]: ['/ip4/127.0.0.1/tcp/4001', '/ip4/127.0.0.1/tcp/4002'] }
    inspection.configuration.learners = [b]
    inspection.configuration.voters = [a]
    const text = formatInspection(inspection)
    expect(text).to.include(`  voter    ${a}  /ip4/127.0.0.1/tcp/4001 /ip4/127.0.0.1/tcp/4002\n  learner  ${b}\n`)
  })

  it('the CLI prints the same as JSON and as text, recovers a member, and fails clearly', async () => {
    const node = nodes[2]
    const folder = levels?.folders[2] as string
    const expected = await inspectStore(node.datastore, { entries: 3 })
    // LevelDB locks its folder: the CLI opens it once the test lets go
    await (node.datastore as LevelDatastore).close()

    const json = await runCli(['inspect', folder, '--entries', '3', '--json'])
    expect(json.stderr).to.equal('')
    expect(json.code).to.equal(0)
    expect(JSON.parse(json.stdout)).to.deep.equal(expected)
    const text = await runCli(['inspect', folder, '--entries', '3'])
    expect(text.stdout).to.equal(formatInspection(expected) + '\n')

    const survivor = node.peerId.toString()
    const recovered = await runCli(['recover', folder, '--voter', survivor])
    expect(recovered.code).to.equal(0)
    expect(recovered.stdout).to.include(`recovered: voters ${survivor}`)
    const after = JSON.parse((await runCli(['inspect', folder, '--json'])).stdout)
    expect(after.configuration.voters).to.deep.equal([survivor])
    expect(after.snapshot.voters).to.deep.equal([survivor])

    const noGroup = await runCli(['inspect', folder, '--group', 'nope'])
    expect(noGroup.code).to.equal(1)
    expect(noGroup.stderr).to.include("no Raft state for group 'nope' under /raft")
    const missing = await runCli(['inspect', join(folder, 'missing')])
    expect(missing.code).to.equal(1)
    expect(missing.stderr).to.include('does not exist')
    const notLevel = join(levels?.dir as string, 'not-a-store')
    await mkdir(notLevel)
    const notStore = await runCli(['inspect', notLevel])
    expect(notStore.code).to.equal(1)
    expect(notStore.stderr).to.include('is not a level store')
    const unknown = await runCli(['inspect', folder, '--bogus'])
    expect(unknown.code).to.equal(2)
    expect(unknown.stderr).to.include("Unknown option '--bogus'")
    expect((await runCli(['frobnicate'])).code).to.equal(2)
    expect((await runCli(['recover', folder])).stderr).to.include('at least one --voter')

    // a running member holds the lock
    const open = new LevelDatastore(folder)
    await open.open()
    try {
      const locked = await runCli(['inspect', folder])
      expect(locked.code).to.equal(1)
      expect(locked.stderr).to.include('is the member still running?')
    } finally {
      await open.close()
    }
  })
})
