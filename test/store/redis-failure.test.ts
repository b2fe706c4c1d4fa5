/**
 * Failure of the store: while Redis is down or hung every call fails at once with StoreUnavailableError (the
 * gateway fails closed) and health() says so; when Redis returns the store recovers by itself, and the writes
 * that record what already happened (bind, release) or undo an admission whose answer was lost are replayed.
 */
import t from 'tap'
import { StoreUnavailableError } from '../../src/errors.js'
import { startRedis } from '../helpers/redis.js'
import { boundAs, record } from './conformance.js'
import { freshNamespace, nextReady, redisConfig, redisStore } from './redis-fixture.js'
import { inflightHandle, keyPrefix, storeKeys } from '../../src/store/keys.js'
import { scriptSources } from '../../src/store/redis/scripts.js'

const releaseScript = scriptSources().get('release') as string

const TTL = 3600
const ok = { status: 202, headers: {}, body: '{}' }

t.test('Redis killed: admit fails fast and health is unavailable; restarted: it recovers by itself', async (t) => {
  const redis = await startRedis(t, { persistence: true })
  const store = await redisStore(t, redisConfig(redis.url, freshNamespace()))
  t.same(await store.admit({ record: record(), idempotencyTtlSecs: TTL }), { kind: 'admitted' })
  t.equal(store.health(), 'ready')

  await redis.kill()
  const started = Date.now()
  await t.rejects(store.admit({ record: record(), idempotencyTtlSecs: TTL }), StoreUnavailableError)
  await t.rejects(store.control(), StoreUnavailableError)
  await t.rejects(store.inflightCount(), { code: 'IG_ERR_STORE_UNAVAILABLE' })
  t.ok(Date.now() - started < 500, `failed within ${Date.now() - started} ms`)
  t.equal(store.health(), 'unavailable')

  const back = nextReady(store)
  await redis.restart()
  await back
  t.equal(store.health(), 'ready')
  t.same(await store.admit({ record: record(), idempotencyTtlSecs: TTL }), { kind: 'admitted' })
  t.equal(await store.inflightCount(), 2, 'the records from before the crash are still counted')
})

t.test('after Redis restarts, a control write reaches the other instance by pub/sub again, not by the poll', async (t) => {
  const redis = await startRedis(t, { persistence: true })
  const namespace = freshNamespace()
  // A minute between polls: only the control channel can bring the change within the test.
  const slowPoll = redisConfig(redis.url, namespace, { poll_interval_ms: 60_000 })
  const writer = await redisStore(t, slowPoll)
  const reader = await redisStore(t, slowPoll)
  const back = Promise.all([nextReady(writer), nextReady(reader)])
  await redis.kill()
  await redis.restart()
  await back
  // Both subscribers are back (they reconnect on their own schedule): Redis itself says so.
  const channel = `${keyPrefix(namespace)}control`
  while (Number((await redis.cli('PUBSUB', 'NUMSUB', channel)).split('\n')[1]) < 2) await new Promise((resolve) => setTimeout(resolve, 20))
  const seen = new Promise<void>((resolve) => {
    const stop = reader.watchControl((state) => {
      if (state.drain?.reason === 'after the restart') {
        stop()
        resolve()
      }
    })
  })
  await writer.setDrain({ reason: 'after the restart' })
  await seen
  t.pass('the reader saw the drain without waiting for its poll')
})

t.test('a bind and a release that failed while Redis was down are applied when it returns', async (t) => {
  const redis = await startRedis(t, { persistence: true })
  const store = await redisStore(t, redisConfig(redis.url, freshNamespace()))
  const accepted = record()
  const refused = record()
  await store.admit({ record: accepted, idempotencyTtlSecs: TTL })
  await store.admit({ record: refused, idempotencyTtlSecs: TTL })

  await redis.kill()
  await t.rejects(store.bind(accepted.key, 'late-id', ok, TTL), StoreUnavailableError)
  await t.rejects(store.release(refused.key, null, TTL), StoreUnavailableError)
  t.equal(store.pendingRepairs(), 2)

  const back = nextReady(store)
  await redis.restart()
  await back
  await store.flushRepairs()
  t.equal(store.pendingRepairs(), 0)
  t.match(await store.inflightById('late-id'), { key: accepted.key, id: 'late-id' })
  t.equal(await store.inflightCount(), 1)
  t.same(await store.admit({ record: refused, idempotencyTtlSecs: TTL }), { kind: 'admitted' }, 'the released key can be retried')
})

t.test('a hung Redis fails fast too, and an admission whose answer was lost is undone', async (t) => {
  const redis = await startRedis(t)
  const store = await redisStore(t, redisConfig(redis.url, freshNamespace(), { command_timeout_ms: 200 }))
  const rec = record()
  await redis.cli('CLIENT', 'PAUSE', '700', 'ALL')
  const started = Date.now()
  await t.rejects(store.admit({ record: rec, idempotencyTtlSecs: TTL }), StoreUnavailableError)
  t.ok(Date.now() - started < 600, `timed out after ${Date.now() - started} ms, before Redis woke up`)
  t.equal(store.health(), 'unavailable')

  // Redis runs the admission once it wakes up; the store then undoes it, so the client's retry goes through.
  await redis.cli('PING') // answered once the pause is over
  await store.flushRepairs()
  t.equal(store.pendingRepairs(), 0)
  t.equal(await store.inflightCount(), 0)
  t.equal(store.health(), 'ready')
  t.same(await store.admit({ record: rec, idempotencyTtlSecs: TTL }), { kind: 'admitted' })
})

t.test('the clean-up of a lost admission never undoes another instance\'s admission of the same key', async (t) => {
  // The lost admission may never have reached Redis (the connection died first) while another instance admitted
  // the same key since: the clean-up carries the lost admission's marker and must leave that one alone.
  const redis = await startRedis(t)
  const config = redisConfig(redis.url, freshNamespace())
  const [mine, other] = await Promise.all([redisStore(t, config), redisStore(t, config)])
  const rec = record()
  t.same(await other.admit({ record: rec, idempotencyTtlSecs: TTL }), { kind: 'admitted' })
  const k = storeKeys(config.namespace)
  const cleanup = await mine.redis.call('EVAL', releaseScript, 6, k.idem(rec.key), k.inflight, k.inflightOwner, k.inflightPhase,
    k.inflightBound, k.inflightIds, rec.key, '', 0, 'in_progress:lost.1')
  t.equal(cleanup, -1, 'the marker did not match')
  t.equal(await other.inflightCount(), 1)
  t.same(await mine.admit({ record: rec, idempotencyTtlSecs: TTL }), { kind: 'in_progress' })
})

t.test('a store started while Redis is down becomes ready when Redis comes up', async (t) => {
  const redis = await startRedis(t)
  await redis.stop()
  const { RedisStore } = await import('../../src/store/redis/redis-store.js')
  const store = new RedisStore(redisConfig(redis.url, freshNamespace()))
  t.teardown(async () => await store.close())
  t.equal(store.health(), 'unavailable')
  await t.rejects(store.admit({ record: record(), idempotencyTtlSecs: TTL }), StoreUnavailableError)
  await redis.restart()
  await store.ready()
  t.equal(store.health(), 'ready')
})

t.test('ready() rejects when the store is closed before Redis ever answered', async (t) => {
  const redis = await startRedis(t)
  await redis.stop()
  const { RedisStore } = await import('../../src/store/redis/redis-store.js')
  const store = new RedisStore(redisConfig(redis.url, freshNamespace()))
  const ready = store.ready()
  await store.close()
  await t.rejects(ready, StoreUnavailableError)
})

t.test('a record lost before bind (a failover that lost the write, or an abandon) is registered again at bind', async (t) => {
  const redis = await startRedis(t)
  const config = redisConfig(redis.url, freshNamespace())
  const store = await redisStore(t, config)
  const rec = record({ upstream: 'green' })
  await store.admit({ record: rec, idempotencyTtlSecs: TTL })
  // What a promoted replica that never received the admission looks like.
  const k = storeKeys(config.namespace)
  // The record's field: its scope up to layout 3, the scope's handle from layout 4.
  const field = await redis.cli('HEXISTS', k.inflight, rec.key) === '1' ? rec.key : inflightHandle(rec.key)
  await redis.cli('HDEL', k.inflight, field)
  await redis.cli('HDEL', k.inflightOwner, field)
  await redis.cli('ZREM', k.inflightSince, field)
  await redis.cli('HINCRBY', k.inflightCount, rec.upstream, '-1')
  await redis.cli('DEL', k.idem(rec.key))
  t.equal(await store.inflightCount(), 0)

  await store.bind(rec.key, 'found-again', ok, TTL)
  t.same(await store.inflightById('found-again'), boundAs({ ...rec, id: 'found-again', phase: 'accepted' }))
  t.same(await store.inflightByUpstream(), { blue: 0, green: 1 })
  t.same(await store.admit({ record: rec, idempotencyTtlSecs: TTL }), { kind: 'replay', response: ok })
})

t.test('a bind for a key this instance never admitted does not invent a record', async (t) => {
  const redis = await startRedis(t)
  const store = await redisStore(t, redisConfig(redis.url, freshNamespace()))
  await store.bind('never-admitted', 'ghost', ok, TTL)
  t.equal(await store.inflightCount(), 0)
  t.equal(await store.inflightById('ghost'), null)
})

t.test('a client ioredis ended without the store closing it connects again, and the store recovers', async (t) => {
  // ioredis ends a Sentinel client for good when a failover notice lands during a reconnection (see
  // keepConnecting in src/store/redis/connection.ts). The race itself cannot be timed from outside: this ends the
  // client the way it leaves it (status `end`, the store not closed) and checks the store comes back.
  const redis = await startRedis(t)
  const store = await redisStore(t, redisConfig(redis.url, freshNamespace()))
  const client = store.redis
  const back = nextReady(store)
  client.disconnect()
  await t.rejects(store.admit({ record: record(), idempotencyTtlSecs: TTL }), StoreUnavailableError, 'fails closed meanwhile')
  t.equal(store.health(), 'unavailable')
  await back
  t.equal(client.status, 'ready')
  t.same(await store.admit({ record: record(), idempotencyTtlSecs: TTL }), { kind: 'admitted' })
  t.equal(store.health(), 'ready')
})
