/**
 * What only a shared Redis gives: several gateway instances (store objects) on one Redis keep one exact
 * inflight count under concurrent admissions, see each other's idempotency records, and records survive both a
 * gateway restart (a new store object) and a Redis restart with persistence.
 */
import t from 'tap'
import type { AdmitResult } from '../../src/store/types.js'
import { storeKeys } from '../../src/store/keys.js'
import { startRedis } from '../helpers/redis.js'
import { record } from './conformance.js'
import { freshNamespace, idempotencyTtlSecs, operatorKey, redisConfig, redisStore } from './redis-fixture.js'

const TTL = 3600
const ok = { status: 202, headers: {}, body: '{}' }

t.test('the inflight count stays exact across three instances under concurrent admissions', async (t) => {
  const redis = await startRedis(t)
  const config = redisConfig(redis.url, freshNamespace())
  const stores = await Promise.all([0, 1, 2].map(async () => await redisStore(t, config)))
  const keys = Array.from({ length: 300 }, () => record({ upstream: Math.random() < 0.5 ? 'blue' : 'green' }))

  // Every key is submitted by one to three instances at once: each must be admitted exactly once.
  const attempts = keys.flatMap((rec, i) => stores.slice(0, 1 + (i % 3)).map(async (store) =>
    ({ key: rec.key, result: await store.admit({ record: rec, idempotencyTtlSecs: TTL }) })))
  const results = await Promise.all(attempts)
  const admittedPerKey = new Map<string, number>()
  for (const { key, result } of results) {
    if (result.kind === 'admitted') admittedPerKey.set(key, (admittedPerKey.get(key) ?? 0) + 1)
    else t.equal(result.kind, 'in_progress')
  }
  t.equal(admittedPerKey.size, keys.length, 'every key admitted')
  t.ok([...admittedPerKey.values()].every((n) => n === 1), 'and only once')
  for (const store of stores) t.equal(await store.inflightCount(), 300)
  const byUpstream = await stores[0]!.inflightByUpstream()
  t.equal(byUpstream.blue, keys.filter((k) => k.upstream === 'blue').length)
  t.equal(byUpstream.green, keys.filter((k) => k.upstream === 'green').length)

  // Bound by whichever instance, completed by any other: the count follows exactly.
  await Promise.all(keys.map(async (rec, i) => await stores[i % 3]!.bind(rec.key, `id-${i}`, ok, TTL)))
  const completions = await Promise.all(keys.map(async (_rec, i) =>
    i % 2 === 0 ? await stores[(i + 1) % 3]!.complete(`id-${i}`, 'settled', 'reconciler') : null))
  t.equal(completions.filter((c) => c === true).length, 150)
  for (const store of stores) t.equal(await store.inflightCount(), 150)
  t.equal((await stores[2]!.ended(1000)).length, 150)
})

t.test('a retry that lands on another instance is a replay', async (t) => {
  const redis = await startRedis(t)
  const config = redisConfig(redis.url, freshNamespace())
  const [a, b] = await Promise.all([redisStore(t, config), redisStore(t, config)])
  const rec = record()
  await a.admit({ record: rec, idempotencyTtlSecs: TTL })
  t.same(await b.admit({ record: rec, idempotencyTtlSecs: TTL }), { kind: 'in_progress' })
  await a.bind(rec.key, 'id-1', ok, TTL)
  t.same(await b.admit({ record: rec, idempotencyTtlSecs: TTL }), { kind: 'replay', response: ok })
  t.ok(await idempotencyTtlSecs(redis.cli, config.namespace, storeKeys(config.namespace).idem(rec.key)) > TTL - 5, 'kept for the idempotency TTL')
})

t.test('no admission after a redis-cli SET drain returned, on any instance', async (t) => {
  const redis = await startRedis(t)
  const config = redisConfig(redis.url, freshNamespace())
  const stores = await Promise.all([0, 1].map(async () => await redisStore(t, config)))
  const before = await Promise.all(Array.from({ length: 50 }, async (_, i) =>
    await stores[i % 2]!.admit({ record: record(), idempotencyTtlSecs: TTL })))
  t.ok(before.every((r) => r.kind === 'admitted'))
  await redis.cli('SET', operatorKey(config.namespace, 'drain'), '1')
  const after: AdmitResult[] = await Promise.all(Array.from({ length: 50 }, async (_, i) =>
    await stores[i % 2]!.admit({ record: record(), idempotencyTtlSecs: TTL })))
  t.ok(after.every((r) => r.kind === 'refused' && r.reason === 'draining'), 'every later admission refused')
  t.equal(await stores[0]!.inflightCount(), 50)
})

t.test('inflight records survive a gateway restart and a Redis restart', async (t) => {
  const redis = await startRedis(t, { persistence: true })
  const config = redisConfig(redis.url, freshNamespace())
  const first = await redisStore(t, config)
  const bound = record()
  const unbound = record({ upstream: 'green' })
  await first.admit({ record: bound, idempotencyTtlSecs: TTL })
  await first.admit({ record: unbound, idempotencyTtlSecs: TTL })
  await first.bind(bound.key, 'kept', ok, TTL, 'matched')
  await first.close()

  const second = await redisStore(t, config)
  t.equal(await second.inflightCount(), 2)
  t.match(await second.inflightById('kept'), { key: bound.key, phase: 'matched', upstream: 'blue' })

  await redis.kill()
  await redis.restart()
  const third = await redisStore(t, config)
  t.equal(await third.inflightCount(), 2)
  t.same((await third.inflight()).map((r) => r.key).sort(), [bound.key, unbound.key].sort())
  t.same(await third.admit({ record: bound, idempotencyTtlSecs: TTL }), { kind: 'replay', response: ok })
  t.equal(await third.complete('kept', 'settled', 'chain'), true)
})
