// The DrainStatus computation: mode from the switches and the counts, the design's upgrade_state values, and the
// times an operator reads (start, deadline, oldest age) in Unix seconds.
import t from 'tap'
import { buildDrainStatus, drainModeOf, upgradeStateValue } from '../../src/drain/status.js'
import type { ControlState } from '../../src/store/types.js'

const control = (over: Partial<ControlState> = {}): ControlState => ({ drain: null, upgrade: null, active: null, invalid: [], ...over })
const upgrade = (phase: string): ControlState => control({ upgrade: { id: 'u1', phase } })

t.test('mode', async (t) => {
  t.equal(drainModeOf(control(), 5, 0), 'active')
  t.equal(drainModeOf(control({ drain: {} }), 5, 0), 'draining')
  t.equal(drainModeOf(control({ drain: {} }), 0, 2), 'draining', 'pending IBC packets keep it draining')
  t.equal(drainModeOf(control({ drain: {} }), 0, 0), 'drained')
  t.equal(drainModeOf(upgrade('pre_checks'), 1, 0), 'draining')
  t.equal(drainModeOf(upgrade('draining'), 0, 0), 'drained')
  for (const phase of ['checkpointing', 'migrating', 'post_checks', 'rolling_back', 'failed', 'unknown']) {
    t.equal(drainModeOf(upgrade(phase), 0, 0), 'upgrading', phase)
  }
  t.equal(drainModeOf(upgrade('resuming'), 0, 0), 'resuming')
  t.equal(drainModeOf(control({ drain: null, upgrade: { id: 'u', phase: 'migrating' } }), 3, 0), 'upgrading', 'the upgrade key wins')
})

t.test('upgrade_state keeps the design values and adds rollback and failure', async (t) => {
  const value = (c: ControlState, inflight = 0): number => upgradeStateValue(c, drainModeOf(c, inflight, 0))
  t.equal(value(control()), 0)
  t.equal(value(control({ drain: {} }), 3), 1)
  t.equal(value(control({ drain: {} })), 1, 'drained is still 1')
  t.equal(value(upgrade('draining'), 1), 1)
  t.equal(value(upgrade('migrating')), 2)
  t.equal(value(upgrade('resuming')), 2)
  t.equal(value(upgrade('rolling_back')), 3)
  t.equal(value(upgrade('failed')), 4)
})

t.test('times in seconds', async (t) => {
  const now = 1_800_000_100_500
  const s = buildDrainStatus(control({ drain: { deadline_secs: 600, reason: 'r', started_at_ms: 1_800_000_000_900 } }), 2, 1_800_000_040_000, 1, now)
  t.same(s, {
    mode: 'draining',
    inflight_settlements: 2,
    pending_ibc_packets: 1,
    oldest_inflight_age_secs: 60,
    started_at: 1_800_000_000,
    deadline: 1_800_000_600,
    reason: 'r',
    upgrade: null,
    invalid_keys: []
  })
  const none = buildDrainStatus(control({ invalid: [{ key: 'active', raw: 'purple' }] }), 0, null, 0, now)
  t.same([none.oldest_inflight_age_secs, none.started_at, none.deadline, none.reason], [null, null, null, null])
  t.same(none.invalid_keys, [{ key: 'active', raw: 'purple' }])
})
