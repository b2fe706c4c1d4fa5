/**
 * Status reads under load (issue 13): a gateway holding 100,000 inflight intents (loaded through the gateway
 * itself, none settling: the reconciler is idle), then two measured submission runs: one with nobody reading
 * status, one while a client polls `GET /admin/upgrade/status` as fast as it answers (what `upgrade status
 * --watch` and the status page do). A status read that decodes every inflight record shows as the second run's
 * p99. A Redis of its own, so the 100,000 records are gone after the case.
 */
import { since, snapshot, type CpuUse } from '../lib/cpu.js'
import { startGateway, type Gateway } from '../lib/gateway.js'
import { startRedis } from '../lib/redis.js'
import { percentile } from '../lib/stats.js'
import type { LoadResult } from '../load/types.js'
import { INTENT_PATH, loadSpec, run, type BenchContext } from './context.js'

export interface PollStats { polls: number, errors: number, p50Ms: number, maxMs: number, firstError?: string }

export interface StatusRun {
  name: string
  /** Submissions accepted (answered 2xx) before the run: none has settled, so at least this many are inflight. */
  inflightBefore: number
  result: LoadResult
  cpu: CpuUse
  poll?: PollStats
}

export interface StatusLoadResult {
  id: 'status-under-load'
  title: string
  inflight?: number
  /** How long loading the inflight intents took, and what the gateway answered them. */
  load?: { seconds: number, byStatus: Record<string, number> }
  runs?: StatusRun[]
  skipped?: string
  error?: string
}

async function admin (gateway: Gateway, path: string): Promise<Response> {
  return await fetch(`${gateway.adminUrl}${path}`, { headers: { authorization: `Bearer ${gateway.adminToken}` } })
}

/** Polls `path` back to back until `stop.done`: one client, each request sent once the last was answered. */
async function poll (gateway: Gateway, path: string, stop: { done: boolean }): Promise<PollStats> {
  const latencies: number[] = []
  let errors = 0
  let firstError: string | undefined
  while (!stop.done) {
    const started = performance.now()
    try {
      const res = await admin(gateway, path)
      const body = await res.text()
      if (!res.ok) {
        errors++
        firstError ??= `${res.status}: ${body.slice(0, 200)}`
      }
    } catch (err) {
      errors++
      firstError ??= (err as Error).message
    }
    latencies.push(performance.now() - started)
  }
  return {
    polls: latencies.length,
    errors,
    p50Ms: percentile(latencies, 50),
    maxMs: Math.max(...latencies),
    ...(firstError === undefined ? {} : { firstError })
  }
}

export async function statusLoadCase (ctx: BenchContext, backendUrl: string): Promise<StatusLoadResult> {
  const count = ctx.options.quick ? 20_000 : 100_000
  const base = { id: 'status-under-load' as const, title: `submissions with ${count.toLocaleString('en-US')} intents inflight, with and without a client polling GET /admin/upgrade/status` }
  const scope = ctx.resources.scope()
  try {
    const redis = await startRedis(scope)
    const gateway = await startGateway(scope, {
      name: 'intent-gate (status-under-load)', redisUrl: redis.url, namespace: 'bench-status', blue: { url: backendUrl, versions: ['1.0'] }, connections: ctx.options.connections
    })
    const pid = gateway.child.proc.pid ?? 0
    const request = { method: 'POST' as const, path: INTENT_PATH, intent: ctx.intentV1 }
    ctx.log(`  loading ${count.toLocaleString('en-US')} inflight intents through the gateway (wrk) ...`)
    // Loaded by the load generator in runs of a few seconds until the count is reached: a C client leaves the
    // machine's cores to the gateway. It is the warm-up too (far more calls than --warmup-requests).
    const loadStarted = performance.now()
    const byStatus: Record<string, number> = {}
    // Counted from the answers, not read from the gateway: its status reads are what this case measures (and
    // with tens of thousands inflight they can take longer than the store's command timeout: a 503).
    let accepted = 0
    while (accepted < count) {
      const r = await run(ctx, await loadSpec(ctx, gateway.url, request, 5), request)
      accepted += r.requests - r.badStatus
      byStatus['answered 2xx'] = accepted
      if (r.badStatus > 0) byStatus['bad status'] = (byStatus['bad status'] ?? 0) + r.badStatus
      if (r.errors > 0) byStatus['errors'] = (byStatus['errors'] ?? 0) + r.errors
      if (r.requests === r.badStatus) throw new Error(`loading stalled at ${accepted} accepted intents`)
    }
    const loaded = { seconds: (performance.now() - loadStarted) / 1000, byStatus }
    const runs: StatusRun[] = []
    for (const polling of [false, true]) {
      const inflightBefore = accepted
      const spec = await loadSpec(ctx, gateway.url, request, ctx.options.durationSec)
      const stop = { done: false }
      const before = snapshot(ctx.resources.pids(), [pid])
      const poller = polling ? poll(gateway, '/admin/upgrade/status', stop) : undefined
      const result = await run(ctx, spec, request).finally(() => { stop.done = true })
      const cpu = since(before)
      runs.push({ name: polling ? 'one client polling upgrade status' : 'nobody polling', inflightBefore, result, cpu, poll: await poller })
      accepted += result.requests - result.badStatus
      ctx.log(`  ${runs.at(-1)?.name ?? ''}: ${Math.round(result.rps)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms`)
    }
    return { ...base, inflight: count, load: loaded, runs }
  } catch (err) {
    return { ...base, error: (err as Error).stack ?? String(err) }
  } finally {
    await scope.close()
  }
}
