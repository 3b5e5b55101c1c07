/**
 * `npm run chaos`: the fault-injection suite. Real member processes, each in
 * its own network namespace, with faults from outside (SIGKILL, SIGSTOP,
 * iptables, a delay relay) while clients on every member record a history
 * for the linearizability checker. Needs Linux, root, `ip` and `iptables`.
 *
 * Usage: `npm run chaos -- [--profile short|long] [--scenario NAME]
 * [--members 3|5] [--seconds N] [--seed N] [--quiet] [--list]`.
 *
 * Prints one line per run, a table, and `verdict: PASS` or
 * `verdict: FAIL (<why>)`; exits 1 on FAIL, 2 on bad arguments, 3 when the
 * machine cannot run it. The members' own debug output is shown with
 * CHAOS_DEBUG=1 DEBUG=libp2p:raft*.
 */

import { parseArgs } from 'node:util'
import { removeStale, unsupportedReason } from '../test/chaos/netns.ts'
import { formatDetails, formatRun, formatTable, passed, verdict } from '../test/chaos/report.ts'
import { runScenario } from '../test/chaos/run-scenario.ts'
import { PROFILES, allScenarios, scenario } from '../test/chaos/scenarios.ts'
import type { RunResult } from '../test/chaos/run-scenario.ts'
import type { PlannedRun } from '../test/chaos/scenarios.ts'

function usage (message: string): never {
  process.stderr.write(`${message}\nusage: npm run chaos -- [--profile short|long] [--scenario NAME] [--members N] [--seconds N] [--seed N] [--quiet] [--list]\n`)
  process.exit(2)
}

let args
try {
  args = parseArgs({
    options: {
      profile: { type: 'string', default: 'short' },
      scenario: { type: 'string', multiple: true },
      members: { type: 'string' },
      seconds: { type: 'string' },
      seed: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      list: { type: 'boolean', default: false }
    }
  }).values
} catch (err: any) {
  usage(err.message)
}

if (args.list) {
  for (const s of allScenarios()) {
    process.stdout.write(`${s.name.padEnd(36)} ${s.summary}\n`)
  }
  process.exit(0)
}

function number (value: string | undefined, what: string): number | undefined {
  if (value === undefined) {
    return undefined
  }
  const n = Number(value)
  if (!Number.isInteger(n) || n <= 0) {
    usage(`--${what} must be a positive integer`)
  }
  return n
}

const members = number(args.members, 'members')
const seconds = number(args.seconds, 'seconds')
const seed = number(args.seed, 'seed')
if (members !== undefined && (members < 1 || members > 7)) {
  usage('--members must be between 1 and 7')
}

let plan: PlannedRun[]
if (args.scenario !== undefined) {
  const profile = PROFILES[args.profile] ?? []
  plan = args.scenario.map((name) => {
    const found = scenario(name)
    if (found === undefined) {
      usage(`no scenario ${name} (--list shows them)`)
    }
    const inProfile = profile.find(p => p.scenario === found)
    return { scenario: found, members: inProfile?.members ?? found.members, seconds: inProfile?.seconds ?? found.seconds }
  })
} else {
  const profile = PROFILES[args.profile]
  if (profile === undefined) {
    usage(`no profile ${args.profile} (short or long)`)
  }
  plan = profile.filter(p => members === undefined || p.members === members)
}

const reason = await unsupportedReason()
if (reason !== undefined) {
  process.stdout.write(`chaos suite skipped: it ${reason}\nverdict: SKIPPED\n`)
  process.exit(3)
}
const stale = await removeStale()
if (stale.length > 0) {
  process.stdout.write(`removed ${stale.length} namespace(s) left by earlier runs: ${stale.join(' ')}\n`)
}

const results: RunResult[] = []
for (const run of plan) {
  const result = await runScenario(run.scenario, {
    members: members ?? run.members,
    seconds: seconds ?? run.seconds,
    seed,
    print: args.quiet ? undefined : (line) => { process.stdout.write(`  ${line}\n`) }
  })
  results.push(result)
  process.stdout.write(`${formatRun(result)}\n`)
  if (!passed(result)) {
    process.stdout.write(`${formatDetails(result)}\n`)
  }
}
process.stdout.write(`\n${formatTable(results)}\n\n${verdict(results)}\n`)
process.exit(results.length > 0 && results.every(passed) ? 0 : 1)
