/**
 * The regression guard of `npm run bench -- --check` (issues 13 and 30): CPU ratios between rows of the same run
 * (pass-through µs per request / a submission row's µs per request, the steadiest figures on a shared machine),
 * each against the one recorded in docs/benchmarks.md on a line of its own:
 *
 *   bench-check: submission/pass-through CPU ratio = 0.38
 *   bench-check: verified submission/pass-through CPU ratio = 0.25
 *
 * The first guards the plain submission path, the second the path users run (signatures verified). A ratio of
 * the same run, never an absolute time: other people's load moves both rows of a ratio alike. A check fails when
 * this run's ratio is more than 20% below the recorded one. It is for whoever changes the hot path, run by hand,
 * never by `npm test` (speed is measured, not tested).
 */
import type { CaseId } from '../options.js'

/** One guarded ratio: `base` µs per request over `row` µs per request. */
export interface GuardedRatio {
  /** The words on the docs' line, before ` CPU ratio = `. */
  name: string
  base: CaseId
  row: CaseId
}

export const GUARDED: readonly GuardedRatio[] = [
  { name: 'submission/pass-through', base: 'pass-through', row: 'submit' },
  { name: 'verified submission/pass-through', base: 'pass-through', row: 'submit-verified' }
]

/** How far below the recorded ratio a run may fall before the check fails. */
export const CHECK_TOLERANCE = 0.2

function lineOf (name: string): RegExp {
  return new RegExp(`^bench-check: ${name.replaceAll('/', '\\/')} CPU ratio = ([0-9]+(?:\\.[0-9]+)?)\\b`, 'm')
}

/** The recorded ratio named `name` from the docs' text, or null when no such line is there. */
export function recordedRatio (markdown: string, name = GUARDED[0]?.name ?? ''): number | null {
  const m = lineOf(name).exec(markdown)
  const value = m === null ? Number.NaN : Number(m[1])
  return Number.isFinite(value) && value > 0 ? value : null
}

export interface CheckOutcome {
  name: string
  ok: boolean
  measured: number | null
  recorded: number
  /** The lowest ratio that passes. */
  floor: number
  message: string
}

/** A run whose rows did not both measure (`measured` null) fails: nothing was shown to be as fast. */
export function checkRatio (measured: number | null, recorded: number, tolerance = CHECK_TOLERANCE, name = GUARDED[0]?.name ?? ''): CheckOutcome {
  const floor = recorded * (1 - tolerance)
  if (measured === null || !Number.isFinite(measured)) {
    return { name, ok: false, measured: null, recorded, floor, message: `check FAILED: the rows of the ${name} ratio did not both measure, so there is no ratio to compare` }
  }
  const ok = measured >= floor
  const change = `${((measured / recorded - 1) * 100).toFixed(1)}%`
  return {
    name,
    ok,
    measured,
    recorded,
    floor,
    message: `check ${ok ? 'passed' : 'FAILED'}: ${name} CPU ratio ${measured.toFixed(2)} against ${recorded.toFixed(2)} recorded in docs/benchmarks.md (${change}; fails below ${floor.toFixed(2)})`
  }
}
