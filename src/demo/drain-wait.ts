/**
 * The slowest client's extra wait during the demo's operator drain: how much longer than without the drain the
 * client refused longest waited for its intent to be accepted, what it was told (Retry-After) and where that
 * wait fell against the drain. The drain refuses every new intent until its operator stops it, so the least a
 * client refused at `t` can wait is the time from `t` to `drain stop`; when it comes back after the stop is what
 * an imperfect Retry-After costs it, and its accepted try's answer time is what a busy gateway adds.
 */
import type { RefusedWait } from './load-figures.js'

export interface DrainWait {
  /** From its first refusal to its acceptance: how much longer than without the drain it waited. */
  extraMs: number
  /** When it was first refused, counted from `drain start`. */
  refusedIntoDrainMs: number
  /** When it came back with the try that was accepted, counted from `drain stop`. */
  cameBackAfterStopMs: number
  /** When it was accepted, counted from `drain stop` (later than it came back by that try's answer time). */
  acceptedAfterStopMs: number
  /** Every Retry-After it was told, in seconds. */
  toldSecs: number[]
  /** How long the drain refused new intents (`drain start` to `drain stop`). */
  drainRefusedMs: number
}

export function drainWait (slowest: RefusedWait, drainStartedAt: number, drainStoppedAt: number): DrainWait {
  return {
    extraMs: slowest.accepted_at_ms - slowest.first_refused_at_ms,
    refusedIntoDrainMs: slowest.first_refused_at_ms - drainStartedAt,
    cameBackAfterStopMs: slowest.last_try_at_ms - drainStoppedAt,
    acceptedAfterStopMs: slowest.accepted_at_ms - drainStoppedAt,
    toldSecs: slowest.retry_after_s,
    drainRefusedMs: drainStoppedAt - drainStartedAt
  }
}

const secs = (ms: number): string => (ms / 1000).toFixed(1)

/** The summary's row: `slowest client's extra wait   2.6 s   (refused 0.1 s into the drain, ...)`. */
export function drainWaitFigure (w: DrainWait): readonly [string, string] {
  const told = w.toldSecs.length === 0 ? 'no Retry-After' : `Retry-After ${w.toldSecs.join(' s, then ')} s`
  return ['slowest client\'s extra wait (drain)', `${secs(w.extraMs)} s   (refused ${secs(w.refusedIntoDrainMs)} s into the drain, told ${told}; ` +
    `came back ${secs(w.cameBackAfterStopMs)} s and was accepted ${secs(w.acceptedAfterStopMs)} s after drain stop; ` +
    `the drain refused new intents for ${secs(w.drainRefusedMs)} s)`]
}
