/** The store contract against the Redis store, every test on its own namespace of one real redis-server. */
import t from 'tap'
import type { Store } from '../../src/store/types.js'
import { startRedis } from '../helpers/redis.js'
import { storeConformance } from './conformance.js'
import { freshNamespace, operatorKey, redisConfig, redisStore } from './redis-fixture.js'

const redis = await startRedis(t)
const namespaces = new WeakMap<Store, string>()

storeConformance(t, {
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
