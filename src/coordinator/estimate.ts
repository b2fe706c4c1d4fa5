/**
 * The coordinator's live estimate of when admission resumes (the `upgrade` flag's `resume_estimate_ms`, hence every
 * instance's `Retry-After` and the client status's `estimated_resume_at`). Never the drain timeout plus a margin:
 *
 *   resume = now + what is left of the current phase + the expected duration of each later phase up to the resume
 *
 * - the drain: from the inflight count's observed decay during this drain (an exponential fit between the first
 *   sample of the last DECAY_WINDOW_MS and the latest: time to fall below one intent). Until anything has
 *   settled: the median drain of earlier upgrades, else DEFAULT_MS.draining. Never past the drain deadline (a
 *   drain that times out aborts, and the rollback resumes the old version).
 * - every other phase: the median of its measured durations in earlier upgrades (SQLite history, phases that
 *   ended `ok`), else DEFAULT_MS; the current phase counts what is left of it (at least MIN_LEFT_MS).
 */
import type { Config } from '../config/schema.js'
import type { DrainProgress, UpgradeRun, UpgradeState } from './run.js'
import { InflightDecay } from '../drain/decay.js'

/** What each phase takes when no earlier upgrade measured it (a local system without a chain is faster). */
const DEFAULT_MS: Partial<Record<UpgradeState, number>> = {
  pre_checks: 500,
  draining: 5_000,
  checkpointing: 300,
  migrating: 1_500,
  post_checks: 500,
  resuming: 100,
  rolling_back: 2_000
}
/** The phases until admission resumes, in order. */
const UNTIL_RESUME: readonly UpgradeState[] = ['pre_checks', 'draining', 'checkpointing', 'migrating', 'post_checks', 'resuming']
const MIN_LEFT_MS = 200
/** How many earlier upgrades are read for the medians. */
const HISTORY = 20
/** A failed upgrade stays drained until an operator acts: no better estimate exists. */
const FAILED_RETRY_MS = 60_000

export class ResumeEstimator {
  private runId: string | null = null
  private readonly decay = new InflightDecay()
  private medians: Map<UpgradeState, number> | null = null

  constructor (
    private readonly config: Pick<Config, 'upgrade'>,
    /** Earlier upgrades, newest first (the journal's SQLite history). */
    private readonly history: (limit: number) => UpgradeRun[]
  ) {}

  estimate (run: UpgradeRun, progress: DrainProgress | null, now: number): number {
    if (run.id !== this.runId) {
      this.runId = run.id
      this.decay.clear()
      this.medians = null
    }
    if (run.state === 'failed') return now + FAILED_RETRY_MS
    if (progress !== null && run.state === 'draining') this.decay.sample(progress.at_ms, progress.inflight)
    const current = run.phases.at(-1)
    const elapsed = current === undefined || current.ended_at_ms !== null ? 0 : Math.max(0, now - current.started_at_ms)
    if (run.state === 'rolling_back') return now + Math.max(MIN_LEFT_MS, this.expected('rolling_back') - elapsed)
    if (run.state === 'scheduled') {
      const at = run.scheduled_at_ms ?? now
      return Math.max(at, now) + UNTIL_RESUME.reduce((sum, phase) => sum + this.expected(phase), 0)
    }
    const index = UNTIL_RESUME.indexOf(run.state)
    if (index < 0) return now
    let left = run.state === 'draining' ? this.drainLeft(run, elapsed, now) : Math.max(MIN_LEFT_MS, this.expected(run.state) - elapsed)
    if (run.state === 'pre_checks') left += this.drainLeft(run, 0, now)
    for (const phase of UNTIL_RESUME.slice(index + 1)) if (phase !== 'draining') left += this.expected(phase)
    return now + left
  }

  private drainLeft (run: UpgradeRun, elapsed: number, now: number): number {
    const deadline = run.drain.deadline_ms ?? now + (run.request.drain_timeout_secs ?? this.config.upgrade.drain_timeout_secs) * 1000
    const last = this.decay.last()
    let left: number
    if (last !== undefined && last.inflight === 0) {
      left = 0
    } else {
      const decay = this.decay.leftMs()
      left = decay ?? Math.max(MIN_LEFT_MS, this.expected('draining') - elapsed)
    }
    return Math.max(0, Math.min(left, deadline - now))
  }

  private expected (phase: UpgradeState): number {
    this.medians ??= this.measure()
    return this.medians.get(phase) ?? DEFAULT_MS[phase] ?? 0
  }

  /** Median duration of each phase over earlier upgrades' phases that ended `ok`. */
  private measure (): Map<UpgradeState, number> {
    const durations = new Map<UpgradeState, number[]>()
    let runs: UpgradeRun[] = []
    try {
      runs = this.history(HISTORY + 1).filter((r) => r.id !== this.runId).slice(0, HISTORY)
    } catch {
      // No history readable: the defaults apply.
    }
    for (const run of runs) {
      for (const p of run.phases) {
        if (p.ended_at_ms === null || p.outcome !== 'ok') continue
        const list = durations.get(p.phase) ?? []
        list.push(p.ended_at_ms - p.started_at_ms)
        durations.set(p.phase, list)
      }
    }
    const medians = new Map<UpgradeState, number>()
    for (const [phase, list] of durations) {
      list.sort((a, b) => a - b)
      medians.set(phase, list[Math.floor(list.length / 2)] as number)
    }
    return medians
  }
}
