/**
 * The honest Retry-After of a refused submission (INTERFACE section 3: an integer of at least 1):
 * an upgrade with a resume estimate → seconds until that estimate; a drain with a deadline → seconds until
 * `started_at + deadline_secs`; otherwise (or once the deadline has passed) `proxy.drain_retry_after_secs`. An upgrade
 * past its estimate is about to resume: 1. The estimate is the coordinator's live one (src/coordinator/estimate.ts).
 */
import type { AdmitResult } from '../store/types.js'

type Refusal = Extract<AdmitResult, { kind: 'refused' }>

export function retryAfterSecs (refusal: Refusal, nowMs: number, fallbackSecs: number): number {
  let until: number | undefined
  if (refusal.reason === 'upgrading') {
    until = refusal.upgrade?.resume_estimate_ms
  } else {
    const drain = refusal.drain
    if (drain?.deadline_secs !== undefined && drain.started_at_ms !== undefined) until = drain.started_at_ms + drain.deadline_secs * 1000
  }
  // An upgrade past its estimate is about to resume (the coordinator refreshes the estimate while it runs).
  if (refusal.reason === 'upgrading' && until !== undefined && until <= nowMs) return 1
  if (until === undefined || until <= nowMs) return Math.max(1, fallbackSecs)
  return Math.max(1, Math.ceil((until - nowMs) / 1000))
}
