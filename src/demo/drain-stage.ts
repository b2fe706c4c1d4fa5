/**
 * Stage 3: a drain through the admin API while the traffic runs. Shows the clients' 503s (with the Retry-After
 * they were given), the gateway's inflight count falling to 0 and the mode reaching `drained`; then stops the
 * drain and shows the refused intents accepted on their retry.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { DrainStatus } from '../drain/status.js'
import { PROBLEM_PREFIX } from '../http/problem.js'
import { drainWait, type DrainWait } from './drain-wait.js'
import { refusals, watchTraffic, type StageContext } from './stage-context.js'
import { STAGE_TIMEOUT_MS } from './timings.js'

const POLL_MS = 100
/** A refused client comes back at most its last Retry-After (at most the drain's deadline) and jitter later. */
const REFUSED_ANSWERED_WAIT_MS = 60_000
const DRAINING_PROBLEM = `${PROBLEM_PREFIX}draining`

export async function drainStage (c: StageContext): Promise<void> {
  const { admin, traffic, say, timings, signal } = c
  const before = traffic.figures()
  const body = { deadline_secs: timings.drainSecs, reason: 'intent-gate demo' }
  say.say(`POST /admin/drain/start ${JSON.stringify(body)}  (the same as: intent-gate drain start --deadline-secs ${timings.drainSecs})`)
  const startedAt = Date.now()
  let status = await admin.post<DrainStatus>('/admin/drain/start', body)
  const initialInflight = status.inflight_settlements
  say.sample(`mode ${status.mode}, ${initialInflight} intents inflight: new intents are refused from now on`)

  let drainedAfterMs: number | null = status.mode === 'drained' ? 0 : null
  let lastSample = 0
  // Held until drained and until its deadline, so the clients' Retry-After was an honest estimate.
  while (drainedAfterMs === null || Date.now() - startedAt < timings.drainSecs * 1000) {
    if (Date.now() - startedAt > STAGE_TIMEOUT_MS) {
      c.problems.push(`the drain did not reach drained within ${STAGE_TIMEOUT_MS / 1000} s (inflight ${status.inflight_settlements})`)
      break
    }
    await sleep(POLL_MS, undefined, { signal })
    status = await admin.get<DrainStatus>('/admin/drain/status')
    const justDrained = drainedAfterMs === null && status.mode === 'drained'
    if (justDrained) drainedAfterMs = Date.now() - startedAt
    if (justDrained || Date.now() - lastSample >= timings.sampleMs / 2) {
      lastSample = Date.now()
      const f = traffic.figures()
      say.sample(`mode ${status.mode.padEnd(8)} inflight ${String(status.inflight_settlements).padStart(3)}   ` +
        `clients refused with 503: ${refusals(f.refused_503 - before.refused_503, f.last_retry_after_s)}   ` +
        `accepted since the drain began: ${f.accepted - before.accepted}`)
    }
  }
  const during = traffic.figures()
  const refused = during.refused_503 - before.refused_503
  say.figures([
    ['inflight when the drain began', String(initialInflight)],
    ['drained after', drainedAfterMs === null ? 'never' : `${(drainedAfterMs / 1000).toFixed(1)} s (inflight 0, nothing pending)`],
    ['503 answers with Retry-After', `${refused} (to ${during.intents_refused_503 - before.intents_refused_503} intents), problem type ${during.last_503_type ?? '-'}`]
  ])
  if (refused === 0) c.problems.push('no client was refused with 503 while draining')
  else if (during.last_503_type !== DRAINING_PROBLEM) c.problems.push(`the 503s while draining had problem type ${during.last_503_type ?? 'none'}, not ${DRAINING_PROBLEM}`)

  say.say('POST /admin/drain/stop  (the same as: intent-gate drain stop)')
  // Asked now: no refused client can be accepted before this moment.
  const stoppedAt = Date.now()
  status = await admin.post<DrainStatus>('/admin/drain/stop')
  const stoppedFigures = traffic.figures()
  say.sample(`mode ${status.mode}: intents are accepted again; the refused ones come back with the same Idempotency-Key`)
  if (status.mode !== 'active') c.problems.push(`after drain stop the mode was ${status.mode}, not active`)
  await watchTraffic(c, timings.afterSecs)
  const after = traffic.figures()
  if (after.accepted <= stoppedFigures.accepted) c.problems.push('no intent was accepted after the drain stopped')
  c.drainWait = await slowestClient(c, startedAt, stoppedAt)
}

/**
 * Once every client refused by the drain has its final answer (nothing else refuses before the upgrade stage),
 * the slowest of them: measured here, shown in the summary.
 */
async function slowestClient (c: StageContext, startedAt: number, stoppedAt: number): Promise<DrainWait | null> {
  const until = Date.now() + REFUSED_ANSWERED_WAIT_MS
  let f = c.traffic.figures()
  while (f.waiting_refused > 0 && Date.now() < until) {
    await sleep(POLL_MS, undefined, { signal: c.signal })
    f = c.traffic.figures()
  }
  if (f.waiting_refused > 0) c.problems.push(`${f.waiting_refused} clients refused during the drain had no answer ${REFUSED_ANSWERED_WAIT_MS / 1000} s after it stopped`)
  if (f.slowest_refused === null) {
    if (f.refused_503 > 0) c.problems.push('no client refused during the drain was accepted afterwards')
    return null
  }
  if (f.slowest_refused.first_refused_at_ms < startedAt) c.problems.push('a client was refused before the drain began')
  return drainWait(f.slowest_refused, startedAt, stoppedAt)
}
