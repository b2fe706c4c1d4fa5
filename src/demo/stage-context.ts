/** What every stage works with, and the live traffic figures the stages print between their events. */
import { setTimeout as sleep } from 'node:timers/promises'
import type { AdminClient } from '../admin/client.js'
import type { DrainStatus } from '../drain/status.js'
import type { DrainWait } from './drain-wait.js'
import type { Narrator } from './narrator.js'
import type { DemoTimings } from './timings.js'
import type { Traffic } from './traffic.js'

export interface StageContext {
  admin: AdminClient
  traffic: Traffic
  say: Narrator
  timings: DemoTimings
  signal: AbortSignal
  /** What did not behave; the demo exits 1 when this is not empty. */
  problems: string[]
  /** The slowest client's extra wait during the drain stage (for the summary); null when nobody was refused. */
  drainWait?: DrainWait | null
}

/** Live figures every `sampleMs` for `secs` seconds. */
export async function watchTraffic (c: Pick<StageContext, 'admin' | 'traffic' | 'say' | 'timings' | 'signal'>, secs: number): Promise<void> {
  const until = Date.now() + secs * 1000
  while (Date.now() < until) {
    await sleep(Math.min(c.timings.sampleMs, Math.max(0, until - Date.now())), undefined, { signal: c.signal })
    const [f, status] = [c.traffic.figures(), await c.admin.get<DrainStatus>('/admin/drain/status')]
    c.say.sample(`sent ${String(f.sent).padStart(4)}   accepted ${String(f.accepted).padStart(4)}   settled ${String(f.settled).padStart(4)}   ` +
      `waiting to be accepted ${String(f.waiting).padStart(3)}   gateway inflight ${String(status.inflight_settlements).padStart(3)} (${status.mode})`)
  }
}

/** `12 (Retry-After 2 s)`, or `0` while nobody was refused. */
export function refusals (count: number, lastRetryAfterSecs: number | null): string {
  return count === 0 || lastRetryAfterSecs === null ? String(count) : `${count} (Retry-After ${lastRetryAfterSecs} s)`
}
