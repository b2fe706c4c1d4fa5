/** The store contract against the Redis store, every test on its own namespace of one real redis-server. */
import { decodeEndedRoute } from '../../src/store/records.js'
import t from 'tap'
import type { Store } from '../../src/store/types.js'
import { startRedis } from '../helpers/redis.js'
import { RedisStore } from '../../src/store/redis/redis-store.js'
import { endedBucketSecs, keyPrefix, storeKeys } from '../../src/store/keys.js'
import { record, REDIS_DROPS_BOUND_BODIES, storeConformance } from './conformance.js'
import { endedRouteIn, freshNamespace, operatorKey, redisConfig, redisStore } from './redis-fixture.js'

const redis = await startRedis(t)
const namespaces = new WeakMap<Store, string>()

storeConformance(t, {
  dropsBoundBodies: REDIS_DROPS_BOUND_BODIES,
  create: async (t) => {
    const namespace = freshNamespace()
    const store = await redisStore(t, redisConfig(redis.url, namespace))
    namespaces.set(store, namespace)
    return store
  },
  setRaw: async (store, key, value) => {
    const name = operatorKey(namespaces.get(store) as string, key)
    if (value === null) await redis.cli('DEL', name)
    else await redis.cli('SET', name, value)
  }
})

t.test('an ended intent is kept under the namespace for the configured retention, then expires', async (t) => {
  const namespace = freshNamespace()
  const store = new RedisStore(redisConfig(redis.url, namespace), { endedRetentionSecs: 1 })
  t.teardown(async () => await store.close())
  await store.ready()
  const rec = record({ upstream: 'green', version: '1.0', upstream_version: '2.0' })
  await store.admit({ record: rec, idempotencyTtlSecs: 60 })
  await store.bind(rec.key, 'retained', { status: 202, headers: {}, body: '{}' }, 60)
  await store.complete('retained', 'failed', 'reconciler')
  // One entry in the current time bucket (a hash per bucket, not a key per intent: it stays for the retention).
  const name = storeKeys(namespace).endedIds(Math.floor(Date.now() / 1000 / endedBucketSecs(1)))
  t.ok(name.startsWith(keyPrefix(namespace)), 'under the namespace prefix')
  const route = await endedRouteIn(redis.cli, name, 'retained')
  t.same(decodeEndedRoute(route?.value ?? ''), { upstream: 'green', version: '1.0', upstream_version: '2.0', status: 'failed' })
  t.same(await store.endedById('retained'), { upstream: 'green', version: '1.0', upstream_version: '2.0', status: 'failed' })
  t.ok(Number(await redis.cli('PTTL', route?.key ?? name)) > 0, 'written with an expiry')
  // The retention has to run out: there is no event for it. The entry keeps its end in whole seconds, so it can
  // stay up to one second past the retention: 1 s retention + 1 s rounding + 100 ms.
  await new Promise((resolve) => setTimeout(resolve, 2100))
  t.equal(await store.endedById('retained'), null)
})
