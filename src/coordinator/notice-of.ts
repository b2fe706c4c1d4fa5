/** The UpgradeNotice every instance reads (src/notice/notice.ts), from the run as journaled. */
import type { UpgradeNotice } from '../notice/notice.js'
import { isFinal, type UpgradeRun } from './run.js'

export function noticeOf (run: UpgradeRun): UpgradeNotice | null {
  if (isFinal(run) && run.state !== 'failed') return null
  const resumed = run.state === 'verifying'
  return {
    id: run.id,
    state: run.state,
    target_version: run.request.target_version,
    scheduled_at_ms: run.scheduled_at_ms ?? null,
    resume_estimate_ms: resumed ? null : run.resume_estimate_ms,
    verifying: resumed && run.verifying !== undefined
      ? { color: run.verifying.color, from_ms: run.verifying.from_ms, until_ms: run.verifying.until_ms }
      : null
  }
}
