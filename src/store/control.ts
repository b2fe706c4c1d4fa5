/**
 * Reading the operator keys (`drain`, `upgrade`, `active`) from their raw string values, the same way in both
 * stores. A value that makes no sense is reported in `ControlState.invalid`; what it means then is chosen to fail
 * safe: a `drain` or `upgrade` key that exists always stops admission (an operator who set it meant to stop),
 * while a bad `active` is ignored and the last good value is kept.
 */
import { isColor, type Color } from '../config/schema.js'
import type { ControlState, DrainSwitch, UpgradeFlag } from './types.js'

export interface RawControl {
  drain: string | null
  /** `drain:started` (ms), kept by the store next to `drain`. */
  drainStarted: string | null
  upgrade: string | null
  active: string | null
}

type Invalid = ControlState['invalid'][number]

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function tryJson (raw: string): unknown {
  try {
    return JSON.parse(raw)
  } catch {
    return undefined
  }
}

/** `1` reads as `{}`; JSON `{"deadline_secs":N,"reason":"..."}` as itself; anything else as `{}`, reported. */
export function parseDrain (raw: string, startedRaw: string | null): { value: DrainSwitch, valid: boolean } {
  const value: DrainSwitch = {}
  const started = startedRaw === null ? NaN : Number(startedRaw)
  if (Number.isFinite(started)) value.started_at_ms = started
  if (raw.trim() === '1') return { value, valid: true }
  const parsed = tryJson(raw)
  if (!isRecord(parsed)) return { value, valid: false }
  let valid = true
  const deadline = parsed.deadline_secs
  if (deadline !== undefined) {
    if (typeof deadline === 'number' && Number.isFinite(deadline) && deadline >= 0) value.deadline_secs = deadline
    else valid = false
  }
  const reason = parsed.reason
  if (reason !== undefined) {
    if (typeof reason === 'string') value.reason = reason
    else valid = false
  }
  return { value, valid }
}

/** The coordinator's JSON; an unreadable flag still means "an upgrade runs" (id and phase `unknown`). */
export function parseUpgrade (raw: string): { value: UpgradeFlag, valid: boolean } {
  const parsed = tryJson(raw)
  if (!isRecord(parsed) || typeof parsed.id !== 'string' || typeof parsed.phase !== 'string') {
    return { value: { id: 'unknown', phase: 'unknown' }, valid: false }
  }
  const value: UpgradeFlag = { id: parsed.id, phase: parsed.phase }
  const estimate = parsed.resume_estimate_ms
  if (typeof estimate === 'number' && Number.isFinite(estimate)) value.resume_estimate_ms = estimate
  else if (estimate !== undefined) return { value, valid: false }
  return { value, valid: true }
}

export function parseActive (raw: string): Color | null {
  return isColor(raw) ? raw : null
}

/** Builds the control state; `lastGoodActive` is what this instance saw last time `active` made sense. */
export function readControl (raw: RawControl, lastGoodActive: Color | null): ControlState {
  const invalid: Invalid[] = []
  let drain: DrainSwitch | null = null
  if (raw.drain !== null) {
    const parsed = parseDrain(raw.drain, raw.drainStarted)
    drain = parsed.value
    if (!parsed.valid) invalid.push({ key: 'drain', raw: raw.drain })
  }
  let upgrade: UpgradeFlag | null = null
  if (raw.upgrade !== null) {
    const parsed = parseUpgrade(raw.upgrade)
    upgrade = parsed.value
    if (!parsed.valid) invalid.push({ key: 'upgrade', raw: raw.upgrade })
  }
  let active: Color | null = null
  if (raw.active !== null) {
    active = parseActive(raw.active)
    if (active === null) {
      invalid.push({ key: 'active', raw: raw.active })
      active = lastGoodActive
    }
  }
  return { drain, upgrade, active, invalid }
}

/** What `setDrain` writes: the operator's JSON form without the gateway's own `started_at_ms`. */
export function drainValue (value: DrainSwitch): string {
  const out: { deadline_secs?: number, reason?: string } = {}
  if (value.deadline_secs !== undefined) out.deadline_secs = value.deadline_secs
  if (value.reason !== undefined) out.reason = value.reason
  return JSON.stringify(out)
}

/**
 * The document every gateway write of `drain` or `active` leaves beside the key, in the same transaction: a
 * change whose new value matches it was a gateway's own (audited by the instance that made it); any other was
 * made by hand in Redis. Two releases side by side: the older writes none, so its changes read as by hand.
 */
export const CONTROL_WRITE_DOC = 'control:last-write'
export interface ControlWrite { key: 'drain' | 'active', value: string | null }

/** The write `setDrain(value)` records. */
export function drainWrite (value: DrainSwitch | null): string {
  return JSON.stringify({ key: 'drain', value: value === null ? null : drainValue(value) } satisfies ControlWrite)
}

/** The write `setActive(color)` records. */
export function activeWrite (color: Color): string {
  return JSON.stringify({ key: 'active', value: color } satisfies ControlWrite)
}

/** Same state as far as a listener is concerned. */
export function sameControl (a: ControlState, b: ControlState): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}
