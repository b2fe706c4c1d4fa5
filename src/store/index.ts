/**
 * Chooses the store for a configuration: Redis when `redis.url`, `redis.sentinels` or `redis.cluster_nodes` is set (several gateway
 * instances share it), the embedded single-instance store otherwise.
 */
import { withRedisDefaults, type RedisSettings } from '../config/schema.js'
import type { StoreOptions } from './options.js'
import type { Store } from './types.js'
import { EmbeddedStore } from './embedded/embedded-store.js'
import { RedisStore } from './redis/redis-store.js'
import { warnIfVolatile } from './redis/durability-check.js'
import { storeKeys } from './keys.js'

export type { StoreOptions, StoreLogger } from './options.js'
export { storeKeys, keyPrefix } from './keys.js'
export { RedisStore } from './redis/redis-store.js'
export { EmbeddedStore } from './embedded/embedded-store.js'

export function createStore (settings: RedisSettings, options: StoreOptions = {}): Store {
  const config = withRedisDefaults(settings)
  if (config.url !== undefined || config.sentinels !== undefined || config.cluster_nodes !== undefined) {
    const store = new RedisStore(config, options)
    // Once, at start: a Redis that forgets on restart is worth a warning (docs/specification.md section 4).
    store.ready().then(async () => await warnIfVolatile(store.redis, storeKeys(config.namespace).drain, options.logger), () => {})
    return store
  }
  return new EmbeddedStore(config, options)
}
