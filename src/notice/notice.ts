/**
 * What the coordinator tells every instance about the upgrade beyond the `upgrade` flag (which exists only while
 * admission is stopped): a scheduled upgrade before its time, the verifying phase after the resume. One small
 * store document, written by the journal with every state change, read by each instance's proxy (the client
 * status and its event stream, and the count of the new upstream's answers during the verifying phase).
 */
import type { Color } from '../config/schema.js'

/** The store document (`getDoc`/`setDoc`): an UpgradeNotice, or null when no upgrade is scheduled or running. */
export const NOTICE_DOC = 'coordinator:notice'

/** The store hash where each instance reports its count of the new upstream's answers during `verifying`. */
export function answersHash (upgradeId: string): string {
  return `analysis:${upgradeId}`
}

/** The verifying phase's window: answers of `color` from `from_ms` to `until_ms` count. */
export interface VerifyWindow { color: Color, from_ms: number, until_ms: number }

export interface UpgradeNotice {
  id: string
  /** The run's state (`scheduled`, `draining`, ..., `verifying`). */
  state: string
  target_version: string
  /** When a scheduled upgrade starts (ms); null when it was not scheduled. */
  scheduled_at_ms: number | null
  /** The coordinator's estimate of when admission resumes (ms); null once it has. */
  resume_estimate_ms: number | null
  verifying: VerifyWindow | null
}

/** One instance's count for one verifying window (a field of `answersHash(id)`, keyed by instance). */
export interface AnswerReport { answers: number, failed: number, at_ms: number }
