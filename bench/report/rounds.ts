/**
 * Several rounds of a row (`--rounds N`, each its own process): which one stands for the row, and which count.
 */
import type { CaseResult } from '../cases/context.js'
import { cpuPerRequestUs } from './print.js'

/** A measured run whose every answer was good: the only kind a figure is taken from. */
export function countable (r: CaseResult): boolean {
  return r.result !== undefined && r.result.badStatus === 0 && r.result.errors === 0
}

/**
 * The round with the median req/s stands for the row (its p50 and p99 come from the same run); all are kept. A
 * round with a bad status or an error does not count (refusals are cheap: its CPU per request would flatter the
 * row): its CPU is left out of the median, it is logged, and it stands for the row only when no round is clean.
 */
export function medianRound (results: CaseResult[], log: (line: string) => void = () => {}): CaseResult {
  const measured = results.filter((r) => r.result !== undefined).sort((a, b) => (a.result?.rps ?? 0) - (b.result?.rps ?? 0))
  const clean = measured.filter(countable)
  const pool = clean.length > 0 ? clean : measured
  const median = pool[Math.floor((pool.length - 1) / 2)] ?? results[0] as CaseResult
  if (results.length === 1) return median
  results.forEach((r, i) => {
    if (r.result !== undefined && !countable(r)) {
      log(`  ${r.title}, round ${i + 1}: ${r.result.badStatus} bad statuses and ${r.result.errors} errors in ${r.result.requests} requests; not counted`)
    }
  })
  return {
    ...median,
    rounds: results.map((r) => {
      const us = countable(r) ? cpuPerRequestUs(r) : Number.NaN
      return { result: r.result ?? null, cpu: r.cpu ?? null, cpuUsPerRequest: Number.isFinite(us) ? us : null }
    })
  }
}
