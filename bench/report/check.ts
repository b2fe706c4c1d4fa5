/**
 * The regression guard of `npm run bench -- --check` (issue 13): the submission/pass-through CPU ratio
 * (pass-through µs per request / submit µs per request, the steadiest figure on a shared machine) of this run
 * against the one recorded in docs/benchmarks.md on a line of its own:
 *
 *   bench-check: submission/pass-through CPU ratio = 0.38
 *
 * The check fails when this run's ratio is more than 20% below the recorded one. It is for whoever changes the
 * hot path, run by hand, never by `npm test` (speed is measured, not tested).
 */

export const CHECK_LINE = /^bench-check: submission\/pass-through CPU ratio = ([0-9]+(?:\.[0-9]+)?)\b/m

/** How far below the recorded ratio a run may fall before the check fails. */
export const CHECK_TOLERANCE = 0.2

/** The recorded ratio from the docs' text, or null when no such line is there. */
export function recordedRatio (markdown: string): number | null {
  const m = CHECK_LINE.exec(markdown)
  const value = m === null ? Number.NaN : Number(m[1])
  return Number.isFinite(value) && value > 0 ? value : null
}

export interface CheckOutcome {
  ok: boolean
  measured: number | null
  recorded: number
  /** The lowest ratio that passes. */
  floor: number
  message: string
}

/** A run whose rows did not both measure (`measured` null) fails: nothing was shown to be as fast. */
export function checkRatio (measured: number | null, recorded: number, tolerance = CHECK_TOLERANCE): CheckOutcome {
  const floor = recorded * (1 - tolerance)
  if (measured === null || !Number.isFinite(measured)) {
    return { ok: false, measured: null, recorded, floor, message: 'check FAILED: the pass-through and submit rows did not both measure, so there is no ratio to compare' }
  }
  const ok = measured >= floor
  const change = `${((measured / recorded - 1) * 100).toFixed(1)}%`
  return {
    ok,
    measured,
    recorded,
    floor,
    message: `check ${ok ? 'passed' : 'FAILED'}: submission/pass-through CPU ratio ${measured.toFixed(2)} against ${recorded.toFixed(2)} recorded in docs/benchmarks.md (${change}; fails below ${floor.toFixed(2)})`
  }
}
