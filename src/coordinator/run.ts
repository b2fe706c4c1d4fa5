/**
 * One upgrade's durable record: what was asked, which state it is in, its phases and steps. The journal writes it
 * (SQLite, then the store) before every change takes effect; a coordinator that restarts or takes over reads it
 * back and carries on from exactly there.
 */
import type { Color } from '../config/schema.js'
import type { StuckSettlementAction, UpgradeRequest } from './upgrade-request.js'

export const UPGRADE_STATES = [
  'idle', 'scheduled', 'pre_checks', 'draining', 'checkpointing', 'migrating', 'post_checks', 'resuming', 'verifying',
  'completed', 'rolling_back', 'rolled_back', 'failed'
] as const
export type UpgradeState = typeof UPGRADE_STATES[number]

/** States an upgrade ends in. `failed` ends the run but keeps the system drained. */
export const FINAL_STATES: ReadonlySet<UpgradeState> = new Set(['completed', 'rolled_back', 'failed'])

/** The forward phases, in order (the progress bar's segments). */
export const FORWARD_PHASES: readonly UpgradeState[] = ['pre_checks', 'draining', 'checkpointing', 'migrating', 'post_checks', 'resuming']

/** What the drain wait saw last (status, the progress bar and the resume estimate read it). */
export interface DrainProgress { inflight: number, pending_ibc: number, at_ms: number }

export interface PhaseRecord {
  phase: UpgradeState
  started_at_ms: number
  ended_at_ms: number | null
  /** `inconclusive`: a verifying phase with fewer than `[analysis] min_requests` answers (the upgrade completes). */
  outcome: 'ok' | 'failed' | 'aborted' | 'interrupted' | 'inconclusive' | null
  detail?: string
}

export type StepStatus = 'applying' | 'applied' | 'reverting' | 'reverted'

export interface StepRecord {
  name: string
  status: StepStatus
  updated_at_ms: number
  /** What the step needs to revert itself (e.g. the contract's old code id), written before it applies. */
  detail?: Record<string, unknown>
}

export interface UpgradeRun {
  id: string
  /** Bumped on every write: the newer of two copies (SQLite, store) wins. */
  seq: number
  /** The leader lease's fencing token of the coordinator that wrote it last. */
  fencing_token: number
  request: UpgradeRequest
  from_version: string
  from_active: Color
  to_active: Color
  state: UpgradeState
  started_at_ms: number
  ended_at_ms: number | null
  phases: PhaseRecord[]
  steps: StepRecord[]
  checkpoint_id: string | null
  /** Why it rolled back or failed. */
  error: string | null
  rollback_attempts: number
  drain: {
    started_at_ms: number | null
    deadline_ms: number | null
    initial_inflight: number | null
    forced: boolean
    extended: number
    stuck_action: StuckSettlementAction | null
  }
  /** Estimate of when admission resumes (ms), for Retry-After. */
  resume_estimate_ms: number
  settlements_migrated: number
  /** A scheduled upgrade's start (`at`, ms): state `scheduled` until then (./schedule.ts). */
  scheduled_at_ms?: number
  /** The verifying phase's window and, once decided, what it counted (./verify.ts). */
  verifying?: { color: Color, from_ms: number, until_ms: number, answers?: number, failed?: number }
}

export function isFinal (run: UpgradeRun): boolean {
  return FINAL_STATES.has(run.state)
}
