/**
 * Scheduled upgrades (`at` in POST /admin/upgrade/start, `--at` in the CLI): the run is recorded at once in state
 * `scheduled` (SQLite and the store, like any run, so a leader restarted or replaced meanwhile still starts it),
 * the `upgrade` key is not set, and the leader moves it to `pre_checks` at its time. An abort before then cancels
 * it: it ends `rolled_back` (nothing was changed) with its `scheduled` phase `aborted`.
 */
import { LeadershipLostError, UpgradeRequestError } from './errors.js'
import type { ResumeEstimator } from './estimate.js'
import type { UpgradeJournal } from './journal.js'
import type { LeaderLease } from './leader.js'
import type { UpgradeRun } from './run.js'

/** A time this far in the past is refused rather than taken as "now" (a typo of the date, not clock skew). */
const PAST_TOLERANCE_MS = 60_000

/** Takes `at` out of an upgrade request body; `atMs` null when absent. Refuses a time that is not RFC 3339. */
export function parseSchedule<T extends { at?: string | null }> (input: T, now: number): { atMs: number | null, rest: Omit<T, 'at'> } {
  const { at, ...rest } = input
  if (at === null || at === undefined) return { atMs: null, rest }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(at) || Number.isNaN(Date.parse(at))) {
    throw new UpgradeRequestError('at: must be an RFC 3339 time with a zone, e.g. "2026-12-01T03:00:00Z"')
  }
  const atMs = Date.parse(at)
  if (atMs < now - PAST_TOLERANCE_MS) throw new UpgradeRequestError(`at: ${at} is in the past`)
  return { atMs: atMs <= now ? null : atMs, rest }
}

/** Turns a new run into a scheduled one (before it is first saved), with its estimated resume after `at`. */
export function scheduleRun (run: UpgradeRun, atMs: number, estimator: ResumeEstimator): void {
  run.state = 'scheduled'
  run.scheduled_at_ms = atMs
  run.phases = [{ phase: 'scheduled', started_at_ms: run.started_at_ms, ended_at_ms: null, outcome: null }]
  run.resume_estimate_ms = estimator.estimate(run, null, Date.now())
}

export interface ScheduleDeps {
  journal: UpgradeJournal
  leader: LeaderLease
  abortRequested: (id: string) => Promise<boolean>
  onCancelled: (run: UpgradeRun) => Promise<void>
  /** How often an abort is looked for while waiting. */
  pollMs: number
}

/**
 * On the leader: waits for the run's time (or an abort), then records it `pre_checks` (or cancelled). Returns
 * quietly when leadership is lost or the coordinator closes: the next leader waits in its place.
 */
export async function awaitSchedule (run: UpgradeRun, deps: ScheduleDeps, signal: AbortSignal): Promise<void> {
  const at = run.scheduled_at_ms ?? Date.now()
  try {
    for (;;) {
      if (await deps.abortRequested(run.id)) {
        close(run, 'aborted', 'cancelled by an operator before its time')
        run.error = `scheduled upgrade cancelled by an operator before ${new Date(at).toISOString()}`
        run.state = 'rolled_back'
        run.ended_at_ms = Date.now()
        run.phases.push({ phase: 'rolled_back', started_at_ms: run.ended_at_ms, ended_at_ms: run.ended_at_ms, outcome: 'ok', detail: run.error })
        await save(run, deps)
        await deps.onCancelled(run)
        return
      }
      const left = at - Date.now()
      if (left <= 0) break
      await sleep(Math.min(left, deps.pollMs), signal)
    }
    close(run, 'ok')
    run.state = 'pre_checks'
    run.started_at_ms = Date.now()
    run.phases.push({ phase: 'pre_checks', started_at_ms: run.started_at_ms, ended_at_ms: null, outcome: null })
    await save(run, deps)
  } catch (err) {
    if (err instanceof LeadershipLostError || signal.aborted) return
    throw err
  }
}

function close (run: UpgradeRun, outcome: 'ok' | 'aborted', detail?: string): void {
  const open = run.phases.at(-1)
  if (open === undefined || open.ended_at_ms !== null) return
  open.ended_at_ms = Date.now()
  open.outcome = outcome
  if (detail !== undefined) open.detail = detail
}

async function save (run: UpgradeRun, deps: ScheduleDeps): Promise<void> {
  run.fencing_token = await deps.leader.confirm()
  run.resume_estimate_ms = Date.now()
  await deps.journal.save(run)
}

async function sleep (ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) throw new LeadershipLostError('the coordinator stopped acting')
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => { clearTimeout(timer); reject(new LeadershipLostError('the coordinator stopped acting')) }
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve() }, ms)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}
