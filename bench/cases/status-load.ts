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

export interface PollStats { polls: number, errors: number, p50Ms: number, maxMs: number }

export interface StatusRun { name: string, inflightBefore: number, result: LoadResult, cpu: CpuUse, poll?: PollStats }

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

async function inflight (gateway: Gateway): Promise<number> {
  const res = await admin(gateway, '/admin/drain/status')
  return res.ok ? (await res.json() as { inflight_settlements: number }).inflight_settlements : Number.NaN
}

/** Polls `path` back to back until `stop.done`: one client, each request sent once the last was answered. */
async function poll (gateway: Gateway, path: string, stop: { done: boolean }): Promise<PollStats> {
  const latencies: number[] = []
  let errors = 0
  while (!stop.done) {
    const started = performance.now()
    try {
      const res = await admin(gateway, path)
      await res.arrayBuffer()
      if (!res.ok) errors++
    } catch {
      errors++
    }
    latencies.push(performance.now() - started)
  }
  return { polls: latencies.length, errors, p50Ms: percentile(latencies, 50), maxMs: Math.max(...latencies) }
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
    let held = await inflight(gateway)
    while (held < count) {
      const r = await run(ctx, await loadSpec(ctx, gateway.url, request, 5), request)
      byStatus['answered 2xx'] = (byStatus['answered 2xx'] ?? 0) + r.requests - r.badStatus
      if (r.badStatus > 0) byStatus['bad status'] = (byStatus['bad status'] ?? 0) + r.badStatus
      if (r.errors > 0) byStatus['errors'] = (byStatus['errors'] ?? 0) + r.errors
      held = await inflight(gateway)
      if (r.requests === 0 || !Number.isFinite(held)) throw new Error(`loading stalled at ${held} inflight intents`)
    }
    const loaded = { seconds: (performance.now() - loadStarted) / 1000, byStatus }
    const runs: StatusRun[] = []
    for (const polling of [false, true]) {
      const inflightBefore = await inflight(gateway)
      const spec = await loadSpec(ctx, gateway.url, request, ctx.options.durationSec)
      const stop = { done: false }
      const before = snapshot(ctx.resources.pids(), [pid])
      const poller = polling ? poll(gateway, '/admin/upgrade/status', stop) : undefined
      const result = await run(ctx, spec, request).finally(() => { stop.done = true })
      const cpu = since(before)
      runs.push({ name: polling ? 'one client polling upgrade status' : 'nobody polling', inflightBefore, result, cpu, poll: await poller })
      ctx.log(`  ${runs.at(-1)?.name ?? ''}: ${Math.round(result.rps)} req/s, p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms`)
    }
    return { ...base, inflight: count, load: loaded, runs }
  } catch (err) {
    return { ...base, error: (err as Error).stack ?? String(err) }
  } finally {
    await scope.close()
  }
}
