/**
 * The chaos suite's short profile, inside `npm test`: real member processes
 * in network namespaces under SIGKILL, partitions, packet loss and
 * duplication, membership churn and the added-voter address scenario. One
 * test per scenario: the history is linearizable, no acknowledged write is
 * lost, no member crashed, and the cluster commits again after the last
 * heal. Skipped, with the reason printed, where it cannot run (not Linux,
 * not root, no `ip` or `iptables`). `npm run chaos` runs it standalone, and
 * the long profile.
 */

import { expect } from 'aegir/chai'
import { removeStale, unsupportedReason } from './netns.ts'
import { formatDetails, formatRun, verdict } from './report.ts'
import { runScenario } from './run-scenario.ts'
import { SHORT_PROFILE } from './scenarios.ts'
import type { RunResult } from './run-scenario.ts'

describe('chaos: short profile (member processes in network namespaces)', function () {
  // each run: ~20 s of faults, start-up, up to 30 s of recovery, catch-up and checks
  this.timeout(180_000)
  const results: RunResult[] = []

  before(async function () {
    const reason = await unsupportedReason()
    if (reason !== undefined) {
      // eslint-disable-next-line no-console
      console.log(`      chaos suite skipped: it ${reason}`)
      this.skip()
    }
    await removeStale()
  })

  after(function () {
    if (results.length > 0) {
      // eslint-disable-next-line no-console
      console.log(`      ${verdict(results)}`)
    }
  })

  for (const planned of SHORT_PROFILE) {
    it(`${planned.scenario.name}: ${planned.scenario.summary}`, async function () {
      const result = await runScenario(planned.scenario, { members: planned.members, seconds: planned.seconds })
      results.push(result)
      // eslint-disable-next-line no-console
      console.log(`      ${formatRun(result)}`)
      if (result.problems.length > 0) {
        // eslint-disable-next-line no-console
        console.log(formatDetails(result).split('\n').map(line => `      ${line}`).join('\n'))
      }
      expect(result.crashes, 'member processes that exited on their own').to.deep.equal([])
      expect(result.linearizable, result.counterexample ?? 'linearizability').to.equal('yes')
      expect(result.lost, `acknowledged writes lost: ${result.lostKeys.join(' ')}`).to.equal(0)
      expect(result.recoveryMs, 'time from the last heal to a successful commit').to.not.equal(undefined)
      expect(result.problems).to.deep.equal([])
    })
  }
})
