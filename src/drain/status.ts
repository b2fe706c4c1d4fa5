/**
 * The DrainStatus of docs/design.md, computed from the shared control state and the exact counts: one function, used by
 * the admin route and (through `upgradeStateValue`) by the `upgrade_state` metric, so both always agree. It
 * depends on nothing but the control state's type, so the admin API, the composition root, the CLI and the demo
 * all take it from here.
 *
 *   active     no drain switch, no upgrade
 *   draining   the drain switch is set (or an upgrade is in pre-checks/drain) and work is still inflight
 *   drained    the same, with no inflight intent and no pending IBC packet: safe to upgrade or stop
 *   upgrading  an upgrade is past its drain (checkpoint, migration, post-checks, rollback)
 *   resuming   an upgrade is resuming admission on the new (or old) version
 *   unknown    draining, but a count cannot be known now (the store re-registers records after Redis lost its
 *              data; the chain cannot be read or is not caught up): never `drained` on a guess
 */
import type { ControlState } from '../store/types.js'

export type DrainMode = 'active' | 'draining' | 'drained' | 'upgrading' | 'resuming' | 'unknown'

export interface DrainStatus {
  mode: DrainMode
  /** null while the store cannot vouch for its count (records being registered again after a data loss). */
  inflight_settlements: number | null
  /** null while the IBC watcher cannot read the chain or has not caught up. */
  pending_ibc_packets: number | null
  oldest_inflight_age_secs: number | null
  /** Unix seconds when the drain switch was first seen set; null when not draining by switch. */
  started_at: number | null
  /** Unix seconds by which the operator wants the drain done (`started_at + deadline_secs`), or null. */
  deadline: number | null
  reason: string | null
  /** The running upgrade (the Redis `upgrade` key), or null. */
  upgrade: { id: string, phase: string } | null
  /** Shared keys holding values that make no sense (ignored; the last good value is in force). */
  invalid_keys: Array<{ key: string, raw: string }>
}

const DRAIN_PHASES = new Set(['pre_checks', 'draining'])

export function drainModeOf (control: ControlState, inflight: number | null, pendingPackets: number | null): DrainMode {
  const known = inflight !== null && pendingPackets !== null
  const idle = inflight === 0 && pendingPackets === 0
  const drainingMode = (): DrainMode => idle ? 'drained' : !known && (inflight ?? 0) === 0 && (pendingPackets ?? 0) === 0 ? 'unknown' : 'draining'
  if (control.upgrade !== null) {
    if (control.upgrade.phase === 'resuming') return 'resuming'
    if (DRAIN_PHASES.has(control.upgrade.phase)) return drainingMode()
    return 'upgrading'
  }
  if (control.drain !== null) return drainingMode()
  return 'active'
}

/**
 * `upgrade_state`: the design's 0 none, 1 draining (drained included), 2 upgrading (resuming included); and, as
 * the coordinator defines them, 3 rolling back and 4 failed (a rollback that could not finish: still drained).
 */
export function upgradeStateValue (control: ControlState, mode: DrainMode): 0 | 1 | 2 | 3 | 4 {
  if (control.upgrade?.phase === 'rolling_back') return 3
  if (control.upgrade?.phase === 'failed') return 4
  if (mode === 'active') return 0
  return mode === 'draining' || mode === 'drained' || mode === 'unknown' ? 1 : 2
}

export function buildDrainStatus (
  control: ControlState, inflight: number | null, oldestCreatedAtMs: number | null, pendingPackets: number | null, nowMs: number
): DrainStatus {
  const oldest = inflight === 0 ? null : oldestCreatedAtMs
  const startedMs = control.drain?.started_at_ms ?? null
  const deadlineSecs = control.drain?.deadline_secs
  return {
    mode: drainModeOf(control, inflight, pendingPackets),
    inflight_settlements: inflight,
    pending_ibc_packets: pendingPackets,
    oldest_inflight_age_secs: oldest === null ? null : Math.max(0, Math.floor((nowMs - oldest) / 1000)),
    started_at: startedMs === null ? null : Math.floor(startedMs / 1000),
    deadline: startedMs !== null && deadlineSecs !== undefined ? Math.floor(startedMs / 1000) + deadlineSecs : null,
    reason: control.drain?.reason ?? null,
    upgrade: control.upgrade === null ? null : { id: control.upgrade.id, phase: control.upgrade.phase },
    invalid_keys: control.invalid.map((i) => ({ key: i.key, raw: i.raw }))
  }
}
