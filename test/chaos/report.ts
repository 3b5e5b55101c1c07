/**
 * How chaos runs are reported: one line per run (scenario, members, seconds,
 * ops ok/failed/unknown, linearizable, lost acknowledged writes, recovery
 * time, peak RSS per member, PASS/FAIL), the details of a failed run, a
 * table for a whole profile, and the final verdict line.
 */

import type { RunResult } from './run-scenario.ts'

function mb (bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(0)
}

export function recovery (result: RunResult): string {
  return result.recoveryMs === undefined ? 'none' : `${Math.round(result.recoveryMs)} ms`
}

export function peakRss (result: RunResult): string {
  return Object.entries(result.peakRss).map(([name, bytes]) => `${name} ${mb(bytes)}`).join(', ')
}

export function passed (result: RunResult): boolean {
  return result.problems.length === 0
}

/** One line per run. */
export function formatRun (result: RunResult): string {
  return [
    `${result.scenario}`,
    `members=${result.members}`,
    `seconds=${result.seconds}`,
    `ops ok=${result.ok} failed=${result.failed} unknown=${result.unknown}`,
    `linearizable=${result.linearizable}`,
    `lost=${result.lost}`,
    `recovery=${recovery(result)}`,
    `peak RSS MB: ${peakRss(result)}`,
    `(${(result.durationMs / 1000).toFixed(0)} s, seed ${result.seed})`,
    passed(result) ? 'PASS' : `FAIL: ${result.problems.join('; ')}`
  ].join('  ')
}

/** What to look at when a run failed: its problems, counterexample, crashes, errors and event log. */
export function formatDetails (result: RunResult): string {
  const lines = [`--- ${result.scenario} (${result.members} members, seed ${result.seed}) ---`]
  for (const problem of result.problems) {
    lines.push(`problem: ${problem}`)
  }
  if (result.counterexample !== undefined) {
    lines.push(result.counterexample)
  }
  if (result.lostKeys.length > 0) {
    lines.push(`lost keys (first ${result.lostKeys.length}): ${result.lostKeys.join(' ')}`)
  }
  lines.push(...result.crashes)
  lines.push(`client errors: ${JSON.stringify(result.errors)}`)
  lines.push('events:', ...result.events.map(e => `  ${e}`))
  return lines.join('\n')
}

/** A markdown table of runs. */
export function formatTable (results: RunResult[]): string {
  const rows = [
    ['scenario', 'members', 'seconds', 'ok/failed/unknown', 'linearizable', 'lost', 'recovery', 'peak RSS MB', 'result'],
    ...results.map(r => [r.scenario, String(r.members), String(r.seconds), `${r.ok}/${r.failed}/${r.unknown}`, r.linearizable, String(r.lost), recovery(r), peakRss(r), passed(r) ? 'PASS' : 'FAIL'])
  ]
  const widths = rows[0].map((_, i) => Math.max(...rows.map(row => row[i].length)))
  const line = (row: string[]): string => `| ${row.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`
  return [line(rows[0]), `| ${widths.map(w => '-'.repeat(w)).join(' | ')} |`, ...rows.slice(1).map(line)].join('\n')
}

/** `verdict: PASS`, or `verdict: FAIL (<which runs failed and why>)`. */
export function verdict (results: RunResult[]): string {
  const failures = results.filter(r => !passed(r))
  if (results.length > 0 && failures.length === 0) {
    return 'verdict: PASS'
  }
  if (results.length === 0) {
    return 'verdict: FAIL (nothing ran)'
  }
  return `verdict: FAIL (${failures.map(r => `${r.scenario}/${r.members}: ${r.problems.join('; ')}`).join(' | ')})`
}
