/**
 * Redis memory per intent, the way an operator measures it: `INFO memory` used_memory and `DBSIZE` before and
 * after 10,000 submissions, while they are inflight (the gateway's reconciler does not poll during the case, so
 * nothing settles: what a drain waiting on a slow service looks like), then again after they ended (a second
 * gateway on the same namespace, whose reconciler runs every second, polls the backend, which answers
 * "settled", and ends them all). What
 * stays then is what the idempotency retention holds. A Redis of its own, so nothing another row left behind
 * expires or grows meanwhile.
 */
import { startGateway, type Gateway } from '../lib/gateway.js'
import { fillTemplate } from '../lib/intents.js'
import { sample, startRedis, type RedisSample } from '../lib/redis.js'
import { sendCount } from '../load/count.js'
import { INTENT_PATH, type BenchContext } from './context.js'

export interface MemoryPhase { usedMemory: number, keys: number, bytesPerIntent: number, keysPerIntent: number }

export interface RedisMemoryResult {
  id: 'redis-memory'
  title: string
  intents?: number
  baseline?: RedisSample
  inflight?: MemoryPhase
  ended?: MemoryPhase
  /** Submissions that were not accepted (status -> count): the figures assume every one was. */
  refused?: Record<string, number>
  /** Seconds the reconciler took to end them all. */
  endSeconds?: number
  skipped?: string
  error?: string
}

const INTENTS = 10_000

export function phase (baseline: RedisSample, now: RedisSample, intents: number): MemoryPhase {
  return {
    usedMemory: now.usedMemory,
    keys: now.keys,
    bytesPerIntent: (now.usedMemory - baseline.usedMemory) / intents,
    keysPerIntent: (now.keys - baseline.keys) / intents
  }
}

async function inflightCount (gateway: Gateway): Promise<number> {
  const res = await fetch(`${gateway.adminUrl}/admin/drain/status`, { headers: { authorization: `Bearer ${gateway.adminToken}` } })
  if (!res.ok) throw new Error(`GET /admin/drain/status answered ${res.status}`)
  return (await res.json() as { inflight_settlements: number }).inflight_settlements
}

export async function redisMemoryCase (ctx: BenchContext, backendUrl: string): Promise<RedisMemoryResult> {
  const base = { id: 'redis-memory' as const, title: `Redis memory per intent (${INTENTS.toLocaleString('en-US')} intents)` }
  const scope = ctx.resources.scope()
  try {
    const redis = await startRedis(scope)
    const spec = { redisUrl: redis.url, namespace: 'bench-memory', blue: { url: backendUrl, versions: ['1.0'] }, connections: ctx.options.connections }
    const gateway = await startGateway(scope, { ...spec, name: 'intent-gate (redis-memory)' })
    const nonceBase = ctx.nonces.take()
    // A few submissions first: the scripts are loaded and the namespace's own keys exist before the baseline.
    await sendCount(gateway.url, INTENT_PATH, 100, 8, (i) => fillTemplate(ctx.intentV1, nonceBase + i))
    const baseline = await sample(redis)
    const intentAt = (i: number): string => fillTemplate(ctx.intentV1, nonceBase + 1000 + i)
    const sent = await sendCount(gateway.url, INTENT_PATH, INTENTS, ctx.options.connections, intentAt)
    const refused = Object.fromEntries(Object.entries(sent.byStatus).filter(([status]) => status !== '202'))
    const inflight = phase(baseline, await sample(redis), INTENTS)
    // A gateway whose reconciler runs every second ends every intent (the backend answers "settled").
    const started = performance.now()
    const reconciling = await startGateway(scope, { ...spec, name: 'intent-gate (redis-memory, reconciling)', reconcileIntervalMs: 1000 })
    const deadline = Date.now() + 180_000
    while (await inflightCount(reconciling) > 0) {
      if (Date.now() > deadline) throw new Error('the reconciler did not end the intents within 180 s')
      // Polling is how an operator watches a drain; half a second is fine-grained enough for seconds of work.
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
    const endSeconds = (performance.now() - started) / 1000
    // Its connections would count in used_memory: the baseline had only the first gateway's.
    await reconciling.child.stop()
    const ended = phase(baseline, await sample(redis), INTENTS)
    return { ...base, intents: INTENTS, baseline, inflight, ended, refused, endSeconds }
  } catch (err) {
    return { ...base, error: (err as Error).stack ?? String(err) }
  } finally {
    await scope.close()
  }
}
