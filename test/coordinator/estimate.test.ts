// The coordinator's resume estimate (the clients' Retry-After while upgrading): from the drain's observed decay and
// the measured durations of earlier upgrades' phases, never the drain timeout plus a margin.
import t from 'tap'
import { ResumeEstimator } from '../../src/coordinator/estimate.js'
import type { PhaseRecord, UpgradeRun, UpgradeState } from '../../src/coordinator/run.js'

const T0 = 1_800_000_000_000
const config = {
  upgrade: {
    drain_timeout_secs: 1800,
    force_after_timeout: false,
    extend_timeout_secs: 3600,
    min_upgrade_interval_secs: 0,
    hold_new_intents_secs: 10,
    hold_max_intents: 10_000,
    hold_max_bytes: 64 * 1024 * 1024
  }
}

function run (
  id: string,
  state: UpgradeState,
  phases: Array<[UpgradeState, number, number | null]>,
  drainDeadline: number | null = null
): UpgradeRun {
  return {
    id,
    seq: 1,
    fencing_token: 1,
    request: { target_version: '2.0' },
    from_version: '1.0',
    from_active: 'blue',
    to_active: 'green',
    state,
    started_at_ms: T0,
    ended_at_ms: null,
    phases: phases.map(([phase, start, end]): PhaseRecord => ({ phase, started_at_ms: start, ended_at_ms: end, outcome: end === null ? null : 'ok' })),
    steps: [],
    checkpoint_id: null,
    error: null,
    rollback_attempts: 0,
    drain: { started_at_ms: T0, deadline_ms: drainDeadline, initial_inflight: 100, forced: false, extended: 0, stuck_action: null },
    resume_estimate_ms: T0,
    settlements_migrated: 0
  }
}

t.test('a first upgrade: the drain from the inflight count\'s decay, the rest from small defaults; never the drain timeout', async (t) => {
  const e = new ResumeEstimator(config, () => [])
  const r = run('u1', 'draining', [['pre_checks', T0 - 500, T0], ['draining', T0, null]], T0 + 1_800_000)
  const first = e.estimate(r, { inflight: 100, pending_ibc: 0, at_ms: T0 }, T0)
  t.ok(first - T0 < 30_000, `before anything settled: ${first - T0} ms, far below the 30 min drain timeout`)
  e.estimate(r, { inflight: 50, pending_ibc: 0, at_ms: T0 + 1000 }, T0 + 1000)
  const later = e.estimate(r, { inflight: 25, pending_ibc: 0, at_ms: T0 + 2000 }, T0 + 2000)
  // Halving every second from 25: about log2(50) = 5.6 s more, plus checkpoint, migration, post-checks, resume.
  const left = later - (T0 + 2000)
  t.ok(left > 5000 && left < 9000, `halving each second from 25 left: ${left} ms`)
  const drained = e.estimate(r, { inflight: 0, pending_ibc: 0, at_ms: T0 + 3000 }, T0 + 3000)
  t.ok(drained - (T0 + 3000) < 3000, 'drained: only the later phases are left')
})

t.test('earlier upgrades\' measured phases are used, and the drain deadline caps the estimate', async (t) => {
  const earlier = run('old', 'completed', [['pre_checks', 0, 100], ['draining', 100, 4100], ['checkpointing', 4100, 6100], ['migrating', 6100, 16100], ['post_checks', 16100, 17100], ['resuming', 17100, 17200]])
  const e = new ResumeEstimator(config, () => [earlier])
  const r = run('u2', 'migrating', [['migrating', T0, null]])
  t.equal(e.estimate(r, null, T0 + 4000), T0 + 4000 + 6000 + 1000 + 100, 'what is left of migrating (10 s measured) plus post-checks and resuming as measured')
  const d = run('u3', 'draining', [['draining', T0, null]], T0 + 2000)
  const capped = new ResumeEstimator(config, () => [earlier]).estimate(d, { inflight: 10, pending_ibc: 0, at_ms: T0 }, T0)
  t.equal(capped, T0 + 2000 + 2000 + 10_000 + 1000 + 100, 'the drain part stops at its deadline (2 s), not at the 4 s measured before')
  const scheduled = run('u4', 'scheduled', [['scheduled', T0, null]])
  scheduled.scheduled_at_ms = T0 + 60_000
  t.equal(new ResumeEstimator(config, () => [earlier]).estimate(scheduled, null, T0), T0 + 60_000 + 17_200, 'a scheduled upgrade: its time plus every phase as measured')
})
