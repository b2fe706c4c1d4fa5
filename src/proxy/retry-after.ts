/**
 * The honest Retry-After of a refused submission (an integer of at least 1):
 *
 * - an upgrade: seconds until the coordinator's live resume estimate (src/coordinator/estimate.ts); past it, 1
 *   (it is about to resume).
 * - an operator's drain: it ends when its operator stops it, so no value is a promise. While intents are still
 *   settling, the time the inflight count's decay says the drain needs (./drain-estimate.ts); once drained, or
 *   before anything has settled, `proxy.drain_retry_after_secs`. Always at most
 *   `proxy.drain_retry_after_max_secs` and at most the time left to the drain's deadline (an operator who set a
 *   deadline means to be done by then). Past the deadline the drain has been left on: `drain_retry_after_secs`.
 *   A client that must not wait a second longer than needed follows /.well-known/intent-gate/events instead,
 *   which says the drain ended the moment this instance sees it.
 */
import type { AdmitResult } from '../store/types.js'
import type { DrainLeft } from './drain-estimate.js'

type Refusal = Extract<AdmitResult, { kind: 'refused' }>

export interface RetryAfterOptions {
  /** `proxy.drain_retry_after_secs`. */
  fallbackSecs: number
  /** `proxy.drain_retry_after_max_secs`. */
  maxSecs: number
  /** What this instance sees of the operator's drain. */
  drainLeft: DrainLeft
}

export function retryAfterSecs (refusal: Refusal, nowMs: number, o: RetryAfterOptions): number {
  if (refusal.reason === 'upgrading') {
    const until = refusal.upgrade?.resume_estimate_ms
    if (until === undefined) return Math.max(1, o.fallbackSecs)
    // An upgrade past its estimate is about to resume (the coordinator refreshes the estimate while it runs).
    return until <= nowMs ? 1 : Math.max(1, Math.ceil((until - nowMs) / 1000))
  }
  const drain = refusal.drain
  const deadlineMs = drain?.deadline_secs !== undefined && drain.started_at_ms !== undefined
    ? drain.started_at_ms + drain.deadline_secs * 1000
    : null
  const bound = (secs: number): number => Math.max(1, Math.min(secs, o.maxSecs))
  if (deadlineMs !== null && deadlineMs <= nowMs) return bound(o.fallbackSecs)
  const estimate = o.drainLeft.kind === 'falling' ? Math.ceil(o.drainLeft.ms / 1000) : o.fallbackSecs
  const toDeadline = deadlineMs === null ? Infinity : Math.ceil((deadlineMs - nowMs) / 1000)
  return bound(Math.min(estimate, toDeadline))
}
