/**
 * The chaos run's figures, from the clients' outcomes and the sample services' ledgers (`by_key`: submissions
 * per `<owner>:<nonce>`), and how they are printed: a table, or one JSON line.
 *
 * A service creates one intent per owner and nonce and answers a repeated submission with it (docs/specification.md section
 * 8), so "accepted twice" can only mean two services holding one order. An order a service saw more than once was
 * resent to its owner (an outcome that was unknown, resolved by the client's retry or the reconciler): counted,
 * as the price of never guessing, not as a failure.
 */
import type { ClientTally, IntentOutcome } from './client.js'

export interface Ledger { accepted: number, duplicates: number, by_key: Record<string, number> }

export interface Figures {
  mode: 'sentinel' | 'cluster'
  duration_s: number
  rate_per_s: number
  sent: number
  accepted_exactly_once: number
  accepted_twice: { by_both_services: number }
  /** Orders their owner saw more than once (resent after an unknown outcome) and answered as resubmissions. */
  resubmitted_to_owner: number
  /** A 2xx to the client, and unknown to every service. */
  lost: number
  /** A final answer other than 2xx, by status. */
  non_retryable_errors: Record<string, number>
  /** Neither a 2xx nor a final error within the give-up time. */
  unfinished: number
  retries: ClientTally['retries']
  max_client_wait_ms: number
  faults: string[]
  ok: boolean
}

export function computeFigures (outcomes: IntentOutcome[], tally: ClientTally, blue: Ledger, green: Ledger,
  meta: { mode: Figures['mode'], durationS: number, ratePerS: number, faults: string[] }): Figures {
  let once = 0
  let both = 0
  let resubmitted = 0
  let lost = 0
  let unfinished = 0
  const errors: Record<string, number> = {}
  for (const o of outcomes) {
    const b = blue.by_key[o.ledgerKey] ?? 0
    const g = green.by_key[o.ledgerKey] ?? 0
    if (b > 0 && g > 0) both++
    else if (o.successes > 0 && (b > 0 || g > 0)) once++
    if (b > 1 || g > 1) resubmitted++
    if (o.successes > 0 && b + g === 0) lost++
    if (o.failedStatus !== null) errors[String(o.failedStatus)] = (errors[String(o.failedStatus)] ?? 0) + 1
    else if (o.successes === 0) unfinished++
  }
  const nonRetryable = Object.values(errors).reduce((a, n) => a + n, 0)
  return {
    mode: meta.mode,
    duration_s: meta.durationS,
    rate_per_s: meta.ratePerS,
    sent: outcomes.length,
    accepted_exactly_once: once,
    accepted_twice: { by_both_services: both },
    resubmitted_to_owner: resubmitted,
    lost,
    non_retryable_errors: errors,
    unfinished,
    retries: tally.retries,
    max_client_wait_ms: Math.round(Math.max(0, ...outcomes.map((o) => o.waitMs))),
    faults: meta.faults,
    ok: lost === 0 && both === 0 && nonRetryable === 0 && unfinished === 0
  }
}

export function figuresTable (f: Figures): string {
  const errors = Object.entries(f.non_retryable_errors).map(([s, n]) => `${s}: ${n}`).join(', ')
  const rows: Array<[string, string]> = [
    ['mode', `${f.mode}, ${f.duration_s} s at ${f.rate_per_s} intents/s`],
    ['sent', String(f.sent)],
    ['accepted exactly once', String(f.accepted_exactly_once)],
    ['accepted twice, by both services', String(f.accepted_twice.by_both_services)],
    ['resubmitted to their owner (answered as such)', String(f.resubmitted_to_owner)],
    ['lost (2xx, unknown to every service)', String(f.lost)],
    ['non-retryable errors', errors === '' ? '0' : errors],
    ['unfinished (gave up)', String(f.unfinished)],
    ['503 retries', String(f.retries[503])],
    ['409 retries', String(f.retries[409])],
    ['502/504 outcome-unknown retries', String(f.retries.outcome_unknown)],
    ['connection-error retries', String(f.retries.connection)],
    ['max client wait', `${f.max_client_wait_ms} ms`],
    ['result', f.ok ? 'OK: nothing lost, duplicated or refused' : 'FAILED']
  ]
  const width = Math.max(...rows.map(([k]) => k.length))
  return [...rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`), '', 'faults:', ...f.faults.map((e) => `  ${e}`)].join('\n')
}
