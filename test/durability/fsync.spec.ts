/**
 * On a real process: between a command's arrival (the `commit()` call) and
 * the resolution of its commit, the synced store makes the kernel sync the
 * data (fsync or fdatasync), as strace shows. The same run on
 * datastore-level's unsynced store shows no sync there: the test can tell
 * the two apart. Skipped, with the reason printed, where strace is missing
 * or cannot trace (no ptrace permission); CI installs it.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect } from 'aegir/chai'

const CHILD = fileURLToPath(new URL('./member-child.ts', import.meta.url))
const NODE_FLAGS = ['--experimental-transform-types', '--disable-warning=ExperimentalWarning']
const COMMITS = 3
const SYNC_CALLS = ['fsync', 'fdatasync', 'sync_file_range', 'msync']

/** Why strace cannot be used here, or undefined when it can. */
function straceUnusableReason (): string | undefined {
  const run = spawnSync('strace', ['-o', '/dev/null', 'true'], { encoding: 'utf8' })
  if (run.error !== undefined) {
    return `needs strace (${run.error.message})`
  }
  if (run.status !== 0) {
    return `needs strace to be allowed to trace (${run.stderr.trim()})`
  }
  return undefined
}

/** For each commit, the completed sync calls strace saw between its markers, as strace lines. */
function syncsPerCommit (trace: string): string[][] {
  const perCommit: string[][] = []
  let inside: string[] | undefined
  for (const line of trace.split('\n')) {
    if (line.includes('write(2, "@@arrive')) {
      inside = []
    } else if (line.includes('write(2, "@@resolved') && inside !== undefined) {
      perCommit.push(inside)
      inside = undefined
    } else if (inside !== undefined && completedSync(line)) {
      inside.push(line.trim())
    }
  }
  return perCommit
}

/** A sync call that returned 0: a whole line, or the end of one another thread's call interrupted. */
function completedSync (line: string): boolean {
  return SYNC_CALLS.some(call => line.includes(` ${call}(`) || line.includes(`<... ${call} resumed>`)) && /[=] 0$/.test(line.trim())
}

describe('durability: fsync between a command\'s arrival and its commit (strace, real process)', function () {
  this.timeout(120_000)
  let dir: string

  before(function () {
    const reason = straceUnusableReason()
    if (reason !== undefined) {
      // eslint-disable-next-line no-console
      console.log(`      fsync test skipped: it ${reason}`)
      this.skip()
    }
  })

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'libp2p-raft-fsync-'))
  })

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  /** Runs the child on `kind`'s store under strace; returns the trace. */
  async function traceMember (kind: 'synced' | 'plain'): Promise<string> {
    const traceFile = join(dir, `${kind}.strace`)
    const child = spawn('strace', ['-f', '-tt', '-s', '64', '-o', traceFile, '-e', `trace=${SYNC_CALLS.join(',')},write`, '-e', 'signal=none',
      process.execPath, ...NODE_FLAGS, CHILD, kind, join(dir, kind), String(COMMITS)], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject)
      child.once('exit', resolve)
    })
    expect(code).to.equal(0, `the member process failed: ${stderr}`)
    return readFile(traceFile, 'utf8')
  }

  it('the synced store: an fsync or fdatasync completes within every commit', async () => {
    const perCommit = syncsPerCommit(await traceMember('synced'))
    expect(perCommit).to.have.lengthOf(COMMITS)
    for (const [n, syncs] of perCommit.entries()) {
      expect(syncs, `commit ${n + 1}: no sync between its arrival and its resolution`).to.not.be.empty()
      // eslint-disable-next-line no-console
      console.log(`      commit ${n + 1}: ${syncs.join('; ')}`)
    }
  })

  it('the unsynced datastore-level store: no sync within any commit (what the test tells apart)', async () => {
    const perCommit = syncsPerCommit(await traceMember('plain'))
    expect(perCommit).to.have.lengthOf(COMMITS)
    expect(perCommit.flat()).to.deep.equal([])
  })
})
