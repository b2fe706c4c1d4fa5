/**
 * Durable admissions (`redis.wait_replicas`) on a real primary with one replica: an admission returns only once
 * the replica holds it; with the replica gone it is undone and refused (StoreUnavailableError: the gateway
 * answers 503 with Retry-After), and the same key is admitted once the replica is back.
 */
import t from 'tap'
import { StoreUnavailableError } from '../../src/errors.js'
import { keyPrefix } from '../../src/store/keys.js'
import { startRedis } from '../helpers/redis.js'
import { record } from './conformance.js'
import { freshNamespace, redisConfig, redisStore } from './redis-fixture.js'

const TTL = 3600

t.test('wait_replicas = 1: admitted only once the replica holds it; refused and undone while it is down', async (t) => {
  const primary = await startRedis(t)
  const replica = await startRedis(t, { args: ['--replicaof', '127.0.0.1', String(primary.port)] })
  t.equal(await primary.replicated('sync', 1, 10_000), 1, 'the replica is attached')
  const namespace = freshNamespace()
  const store = await redisStore(t, redisConfig(primary.url, namespace, { wait_replicas: 1, wait_timeout_ms: 300 }))
  const inflight = `${keyPrefix(namespace)}inflight`

  const results = await Promise.all(Array.from({ length: 50 }, async () => {
    return await store.admit({ record: record(), idempotencyTtlSecs: TTL })
  }))
  t.same(new Set(results.map((r) => r.kind)), new Set(['admitted']))
  // No wait here: the replica acknowledged every admission before admit() returned.
  t.equal(await replica.cli('HLEN', inflight), '50', 'every admission is on the replica when admit returns')

  await replica.kill()
  const lonely = record()
  await t.rejects(store.admit({ record: lonely, idempotencyTtlSecs: TTL }), StoreUnavailableError, 'no replica: refused')
  await store.flushRepairs()
  t.equal(await primary.cli('HLEN', inflight), '50', 'the refused admission was undone')
  t.equal(await primary.cli('EXISTS', `${keyPrefix(namespace)}idem:${lonely.key}`), '0', 'and its key forgotten, so a retry goes through')
  t.equal(store.health(), 'ready', 'a missing replica is not a missing Redis')

  await replica.restart()
  t.equal(await primary.replicated('sync', 1, 10_000), 1, 'the replica is back')
  t.same(await store.admit({ record: lonely, idempotencyTtlSecs: TTL }), { kind: 'admitted' }, 'the retry of the same key is admitted')
})

t.test('wait_replicas = 0 (the default) does not wait: a primary without replicas admits', async (t) => {
  const primary = await startRedis(t)
  const store = await redisStore(t, redisConfig(primary.url, freshNamespace()))
  t.same(await store.admit({ record: record(), idempotencyTtlSecs: TTL }), { kind: 'admitted' })
})

t.test('replica down under a stream of admissions: refusals do not hold the connection, reads still answer', async (t) => {
  const primary = await startRedis(t)
  const replica = await startRedis(t, { args: ['--replicaof', '127.0.0.1', String(primary.port)] })
  t.equal(await primary.replicated('sync', 1, 10_000), 1)
  const config = redisConfig(primary.url, freshNamespace(), { wait_replicas: 1, wait_timeout_ms: 300, command_timeout_ms: 500 })
  const store = await redisStore(t, config)
  await replica.kill()
  const state = { running: true }
  let refused = 0
  const streams = Array.from({ length: 20 }, async () => {
    while (state.running) {
      await store.admit({ record: record(), idempotencyTtlSecs: TTL }).catch(() => { refused++ })
    }
  })
  // Reads between the refusals: none may time out (each would be StoreUnavailableError after 500 ms). They see
  // at most the 20 admissions waiting for their WAIT at that moment.
  const counts: number[] = []
  for (let i = 0; i < 20; i++) {
    counts.push(await store.inflightCount())
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  t.ok(counts.every((n) => n <= 20), `only the admissions waiting for their WAIT are seen (${counts.join(',')})`)
  state.running = false
  await Promise.all(streams)
  t.ok(refused > 20, `admissions kept being refused (${refused})`)
  await store.flushRepairs()
  t.equal(await store.inflightCount(), 0, 'every refused admission was undone')
})
