/**
 * Redis's own time per submission with Redis on a core of its own: the store's admission and bind (the two
 * scripts every submission runs, the owner cap's count included) driven straight through RedisStore, 64 at a
 * time, with no gateway, backend or load generator competing for the two cores. The submit row's figure is taken
 * while all of those run on the same two cores, and a descheduled Redis counts the wait as command time; this is
 * what a Redis on a machine of its own spends. Same records as the gateway writes (a signed 1.0 intent's bytes, a
 * fingerprint, an answer).
 */
import { createHash } from 'node:crypto'
import { RedisStore } from '../../src/store/redis/redis-store.js'
import { admissionScope } from '../../src/store/records.js'
import { redisTimePerRequest, scriptCommandNames, ceilingPerCore, type RedisTime } from '../lib/info.js'
import { commandStats, resetCommandStats, startRedis, storeScriptSources } from '../lib/redis.js'
import { fillTemplate } from '../lib/intents.js'
import type { BenchContext } from './context.js'
import type { RedisSettings } from '../../src/config/schema.js'

export interface RedisScriptsResult {
  id: 'redis-scripts'
  title: string
  submissions?: number
  time?: RedisTime
  ceilingPerCore?: number
  error?: string
}

const CONCURRENCY = 64
const TTL_SECS = 86_400
/**
 * The owner cap is on by default (`proxy.max_keys_per_owner`), so every admission also reads and counts the owner's
 * keys; the case's intents share one owner, so its cap is set past what a run admits (the count is read alike).
 */
const OWNER_KEYS = 1_000_000_000

export async function redisScriptsCase (ctx: BenchContext): Promise<RedisScriptsResult> {
  const submissions = ctx.options.quick ? 10_000 : 30_000
  const base = { id: 'redis-scripts' as const, title: 'Redis time per submission, admission and bind alone' }
  const scope = ctx.resources.scope()
  let store: RedisStore | null = null
  try {
    const redis = await startRedis(scope)
    const config: RedisSettings = { url: redis.url, namespace: 'bench-scripts', poll_interval_ms: 1000, command_timeout_ms: 5000 }
    store = new RedisStore(config)
    await store.ready()
    const nonceBase = ctx.nonces.take()
    const submit = async (i: number): Promise<void> => {
      const payload = fillTemplate(ctx.intentV1, nonceBase + i)
      const intent = JSON.parse(payload) as { user: string, nonce: number | string }
      const key = admissionScope(intent.user, `bench-${nonceBase + i}`, String(intent.nonce))
      const record = {
        key,
        upstream: 'blue' as const,
        version: '1.0',
        upstream_version: '1.0',
        created_at_ms: Date.now(),
        deadline: Math.floor(Date.now() / 1000) + 600,
        intent,
        payload,
        client_key: null,
        fingerprint: createHash('sha256').update(payload).digest('hex')
      }
      const ownerKeys = { owner: intent.user, max: OWNER_KEYS }
      const admitted = await (store as RedisStore).admit({ record, idempotencyTtlSecs: TTL_SECS, ownerKeys })
      if (admitted.kind !== 'admitted') throw new Error(`submission ${i}: ${admitted.kind}`)
      const id = `i-${nonceBase + i}`
      await (store as RedisStore).bind(key, id, { status: 202, headers: { 'content-type': 'application/json', 'intent-version': '1.0' }, body: JSON.stringify({ id, status: 'pending', version: '1.0' }) }, TTL_SECS)
    }
    // A warm-up the counters do not see: scripts loaded, hashes past their small encodings.
    await drive(submit, 0, 2_000)
    await resetCommandStats(redis)
    await drive(submit, 2_000, submissions)
    const time = redisTimePerRequest(await commandStats(redis), scriptCommandNames(storeScriptSources()), submissions)
    return { ...base, submissions, time, ceilingPerCore: ceilingPerCore(time.totalUsecPerRequest) }
  } catch (err) {
    return { ...base, error: (err as Error).stack ?? String(err) }
  } finally {
    await store?.close()
    await scope.close()
  }
}

async function drive (submit: (i: number) => Promise<void>, from: number, count: number): Promise<void> {
  let next = from
  const end = from + count
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < end) await submit(next++)
  }))
}

export function formatRedisScripts (r: RedisScriptsResult): string {
  if (r.error !== undefined) return `  failed: ${r.error.split('\n')[0] ?? ''}`
  const t = r.time as RedisTime
  return `  ${(r.submissions ?? 0).toLocaleString('en-US')} submissions (admit + bind through RedisStore, ${CONCURRENCY} at a time, nothing else on the cores): ` +
    `${t.totalUsecPerRequest.toFixed(1)} us of Redis command time each (${t.scriptCallsPerRequest.toFixed(2)} script calls) -> ceiling ${Math.round(r.ceilingPerCore ?? 0).toLocaleString('en-US')} intents/s per Redis core`
}
