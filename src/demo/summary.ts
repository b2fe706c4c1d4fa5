/**
 * Stage 5: the traffic stops, every intent gets its final answer and is followed until it ends, and the figures
 * are checked against what the sample services themselves recorded: every accepted intent reached exactly one
 * service exactly once, none failed, none is left inflight in the gateway.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { DrainStatus } from '../drain/status.js'
import { drainWaitFigure } from './drain-wait.js'
import type { ChainInfo } from './gateway-config.js'
import { realNetworkFigures, type RealNetworkFigures } from './real-network.js'
import type { StageContext } from './stage-context.js'
import type { TrafficSummary } from './traffic.js'
import type { SampleService } from './world.js'

const FINISH_TIMEOUT_SECS = 60
const INFLIGHT_ZERO_WAIT_MS = 10_000
/** The relayer flushes what it missed every 10 s; two flushes and a busy machine's blocks. */
const ACKNOWLEDGED_WAIT_MS = 60_000

/** `--chain wasmd`: the real network, and the contract version it must run at the end. */
export interface RealChainCheck { chain: ChainInfo, contractVersion: string }

export async function summaryStage (c: StageContext, services: SampleService[], real: RealChainCheck | null = null): Promise<void> {
  const { say } = c
  say.say('Stopping the traffic; every intent gets its final answer and is followed until it settles...')
  const stopping = c.traffic.stop(FINISH_TIMEOUT_SECS)
  const s = await sampleUntil(c, stopping)
  const stats = await Promise.all(services.map(async (svc) => await svc.stats()))
  const atServices = stats.reduce((sum, x) => sum + x.accepted, 0)
  const duplicates = stats.reduce((sum, x) => sum + x.duplicates, 0)
  const inflight = await gatewayInflightSettles(c)

  say.blank()
  say.figures([
    ['intents sent', String(s.sent)],
    ['accepted, each exactly once', `${s.accepted}   (the services recorded ${stats.map((x) => x.accepted).join(' + ')} = ${atServices}, ${duplicates} twice)`],
    ['refused with 503, then retried', `${s.intents_refused_503} intents   (${s.refused_503} refusals, each retried after its Retry-After with the same Idempotency-Key)`],
    ...(c.drainWait == null ? [] : [drainWaitFigure(c.drainWait)]),
    ['settled', String(s.settled) + (s.ended_other > 0 ? `   (${s.ended_other} ended otherwise)` : '')],
    ['left inflight in the gateway', String(inflight)],
    ['failed', String(s.failed)]
  ])
  for (const f of s.failures) say.say(`failure: ${f.status} ${f.body}`)
  if (real !== null) await realNetworkSummary(c, real)

  if (s.failed > 0) c.problems.push(`${s.failed} intents failed`)
  if (!s.finished) c.problems.push(`${s.waiting} intents had no final answer and ${s.unsettled} did not end within ${FINISH_TIMEOUT_SECS} s`)
  if (atServices !== s.accepted || duplicates > 0) c.problems.push(`the clients saw ${s.accepted} accepted, the services recorded ${atServices} (${duplicates} twice)`)
  if (s.settled !== s.accepted) c.problems.push(`${s.accepted - s.settled} accepted intents did not settle`)
  if (inflight !== 0) c.problems.push(`${inflight} intents are still inflight in the gateway`)
}

/** What the chains say once every packet had its chance to be acknowledged (their own state, not the gateway's). */
async function realNetworkSummary (c: StageContext, real: RealChainCheck): Promise<void> {
  const until = Date.now() + ACKNOWLEDGED_WAIT_MS
  let f: RealNetworkFigures
  for (;;) {
    f = await realNetworkFigures(real.chain)
    if (f.unacknowledged === 0 || Date.now() > until) break
    await sleep(500, undefined, { signal: c.signal })
  }
  const channel = `transfer/${real.chain.ibc_channels[0] ?? '?'}`
  c.say.figures([
    ['IBC packets relayed (real)', `${f.received}   (received and acknowledged on ${real.chain.counterparty?.chain_id ?? 'chain B'}, ${channel}; ${f.unacknowledged} awaiting their acknowledgement on ${real.chain.chain_id})`],
    ['settlement contract (real)', `code ${f.codeId}, cw2 ${f.cw2 === null ? 'none' : `${f.cw2.contract} ${f.cw2.version}`}`]
  ])
  if (f.received === 0) c.problems.push('chain B received no IBC packet')
  if (f.unacknowledged > 0) c.problems.push(`${f.unacknowledged} IBC packets were not acknowledged within ${ACKNOWLEDGED_WAIT_MS / 1000} s`)
  if (f.cw2?.version !== real.contractVersion) c.problems.push(`the settlement contract runs ${f.cw2?.version ?? 'no cw2 version'}, not ${real.contractVersion}`)
}

/** The gateway's inflight count once the last status reads have passed through (0 unless something leaked). */
async function gatewayInflightSettles (c: StageContext): Promise<number | null> {
  const until = Date.now() + INFLIGHT_ZERO_WAIT_MS
  for (;;) {
    const status = await c.admin.get<DrainStatus>('/admin/drain/status')
    if (status.inflight_settlements === 0 || Date.now() > until) return status.inflight_settlements
    await sleep(100, undefined, { signal: c.signal })
  }
}

/** While the last intents finish: who is still waiting (a client told to come back later waits its Retry-After). */
async function sampleUntil (c: StageContext, stopping: Promise<TrafficSummary>): Promise<TrafficSummary> {
  let done = false
  let last = ''
  const summary = stopping.finally(() => { done = true })
  for (;;) {
    const tick = sleep(c.timings.sampleMs, undefined, { signal: c.signal })
    // When the summary wins the race, an abort of this tick later must not go unhandled.
    tick.catch(() => {})
    await Promise.race([summary, tick])
    if (done) return await summary
    const f = c.traffic.figures()
    const line = `${f.waiting} intents waiting out a Retry-After before their retry, ${f.unsettled} accepted intents not settled yet`
    if (line !== last) c.say.sample(line)
    last = line
  }
}
