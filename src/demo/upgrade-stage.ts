/**
 * Stage 4: a coordinated upgrade under live traffic: 1.0 on blue → 2.0 on green, the settlement contract
 * migrated from its 1.0 code to its 2.0 code. Shows each phase as it begins (with the inflight count and the
 * clients' 503s), the phase table at the end, and then the 1.0 clients served by green through translation.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { UpgradeStatusBody } from '../admin/routes/upgrade.js'
import { FINAL_STATES } from '../coordinator/run.js'
import type { ChainInfo } from './gateway-config.js'
import { checkRolledBack } from './rollback-check.js'
import { refusals, watchTraffic, type StageContext } from './stage-context.js'
import { STAGE_TIMEOUT_MS } from './timings.js'
import type { SampleService } from './world.js'
import type { TrafficFigures } from './traffic.js'

const POLL_MS = 100

/**
 * What the hold did during the stage: the gateway's own counts (`intent_gate_holds_total`, the mean of
 * `intent_gate_hold_wait_seconds`) and the clients' slowest first answers (the load generator's `slow_answers_ms`).
 */
function held (before: TrafficFigures, after: TrafficFigures, metricsBefore: string, metricsAfter: string): string {
  const delta = (name: string): number => (sample(metricsAfter, name) ?? 0) - (sample(metricsBefore, name) ?? 0)
  const released = delta('intent_gate_holds_total{outcome="released"}')
  const waitMean = released === 0 ? 0 : delta('intent_gate_hold_wait_seconds_sum') / Math.max(1, delta('intent_gate_hold_wait_seconds_count'))
  const n = Math.min(after.slow_answers - before.slow_answers, after.slow_answers_ms.length)
  const slowest = n <= 0 ? 0 : Math.max(...after.slow_answers_ms.slice(-n))
  return `${released} submissions held, then admitted (mean wait ${waitMean.toFixed(2)} s; slowest client answer ${(slowest / 1000).toFixed(2)} s); ` +
    `refused with 503 meanwhile: ${after.refused_503 - before.refused_503}`
}

/** A sample's value in a Prometheus text exposition (`name{labels} value`), or undefined. */
function sample (text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

async function breakGreen (green: SampleService): Promise<void> {
  await fetch(`${green.url}/sandbox/health`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ healthy: true, refuse_intents: true }) })
}

async function fixGreen (green: SampleService): Promise<void> {
  await fetch(`${green.url}/sandbox/health`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ healthy: true, refuse_intents: false }) })
}
/** Short, so the coordinator's resume estimate (the clients' Retry-After) is not a long default's. */
const DRAIN_TIMEOUT_SECS = 10
/**
 * On the real network the drain also waits for every packet of the settlements completed so far to be relayed
 * and acknowledged: at 20 intents a second 140 were still pending 10 s in (one run, load 9), relayed within 30 s.
 */
const REAL_DRAIN_TIMEOUT_SECS = 90

export interface UpgradeWorld {
  chain: ChainInfo
  blue: SampleService
  green: SampleService
  /** `--broken-green`: green fails every intent once it serves; the verifying phase must roll it back. */
  broken?: boolean
  /** `--chain wasmd`: the drain waits for real packets to be relayed (a longer drain timeout). */
  real?: boolean
}

export async function upgradeStage (c: StageContext, w: UpgradeWorld): Promise<void> {
  const { admin, traffic, say, signal } = c
  const codeId = w.chain.code_ids['2.0'] as number
  const checksum = w.chain.checksums['2.0'] as string
  const drainTimeoutSecs = w.real === true ? REAL_DRAIN_TIMEOUT_SECS : DRAIN_TIMEOUT_SECS
  const body = { target_version: '2.0', swap_to: 'green', contract: { code_id: codeId, checksum }, drain_timeout_secs: drainTimeoutSecs }
  say.say('POST /admin/upgrade/start  (the same as: intent-gate upgrade start --target-version 2.0 --swap-to green ' +
    `--code-id ${codeId} --code-checksum ${checksum.slice(0, 12)}… --drain-timeout-secs ${drainTimeoutSecs})`)
  if (w.real === true) say.say('The drain waits for the settlements inflight and for every IBC packet they sent to be relayed and acknowledged (the relayer runs).')
  say.say('While admission is stopped, new submissions wait at the gateway (the hold) and are admitted to green the moment it resumes.')
  if (w.broken === true) say.say('--broken-green: once green serves, it will answer 503 to every intent; the verifying phase watches its answers.')
  const before = traffic.figures()
  const greenBefore = (await w.green.stats()).accepted
  const metricsBefore = await admin.get<string>('/metrics')
  const started = await admin.post<{ id: string }>('/admin/upgrade/start', body)
  say.sample(`upgrade ${started.id} started`)

  const startedAt = Date.now()
  let status: UpgradeStatusBody
  let lastLine = ''
  let broke = false
  for (;;) {
    status = await admin.get<UpgradeStatusBody>('/admin/upgrade/status')
    const f = traffic.figures()
    const line = `${status.state.padEnd(13)} inflight ${String(status.inflight_count).padStart(3)}   ` +
      `clients waiting ${String(f.waiting).padStart(3)}   refused with 503: ${refusals(f.refused_503 - before.refused_503, f.last_retry_after_s)}`
    // A line per phase change, and per change of the inflight count while draining: not one per poll.
    const key = `${status.state}/${status.state === 'draining' ? status.inflight_count : ''}`
    if (key !== lastLine) {
      lastLine = key
      say.sample(line)
    }
    if (w.broken === true && status.state === 'verifying' && !broke) {
      broke = true
      await breakGreen(w.green)
      say.sample('green now answers 503 to every intent')
    }
    if (FINAL_STATES.has(status.state)) break
    if (Date.now() - startedAt > STAGE_TIMEOUT_MS) {
      c.problems.push(`the upgrade did not end within ${STAGE_TIMEOUT_MS / 1000} s (state ${status.state}); aborting it`)
      await admin.post('/admin/upgrade/abort')
      return
    }
    await sleep(POLL_MS, undefined, { signal })
  }

  say.figures(status.phases.map((p) => [
    p.phase,
    `${p.ended_at === null ? 'running' : `${(p.ended_at - p.started_at).toFixed(2)} s`}  ${p.outcome ?? ''}${p.detail === undefined ? '' : `  ${p.detail}`}`
  ] as const))
  // What the upgrade asked for; after a rollback none of it stands.
  const undone = status.state === 'rolled_back' ? ', rolled back' : ''
  say.figures([
    ['result', status.state + (status.error === null ? '' : `: ${status.error}`)],
    ['protocol version', `${status.from_version ?? '?'} -> ${status.target_version ?? '?'}${undone}`],
    ['active upstream', status.swap === null ? '-' : `${status.swap.from} -> ${status.swap.to}${undone}`],
    ['settlement contract', status.contract === null ? '-' : `code ${w.chain.code_ids['1.0'] ?? '?'} -> ${status.contract.code_id}${undone}`],
    ['checkpoint', status.checkpoint_id ?? '-'],
    ['clients held', held(before, traffic.figures(), metricsBefore, await admin.get<string>('/metrics'))]
  ])
  if (w.broken === true) {
    // Fixed first, so that green getting nothing new afterwards is the gateway's doing, not green's refusals.
    await fixGreen(w.green)
    await checkRolledBack(c, status, { blue: w.blue, green: w.green })
    return
  }
  if (status.state !== 'completed') {
    c.problems.push(`the upgrade ended ${status.state}${status.error === null ? '' : `: ${status.error}`}`)
    return
  }

  say.say('The 1.0 clients carry on; green speaks only 2.0, so the gateway translates each intent and each answer:')
  await watchTraffic(c, c.timings.afterSecs)
  const after = traffic.figures()
  const greenAccepted = (await w.green.stats()).accepted - greenBefore
  const versions = Object.entries(after.answered_versions).map(([v, n]) => `${n} answered as ${v}`).join(', ')
  say.figures([
    ['accepted by green (2.0)', `${greenAccepted} intents, all sent as 1.0`],
    ['answers the clients read', `${versions} (Intent-Version header)`]
  ])
  if (greenAccepted === 0) c.problems.push('green accepted no intent after the upgrade')
  if (Object.keys(after.answered_versions).some((v) => v !== '1.0')) c.problems.push(`1.0 clients got answers in another version: ${versions}`)
}
