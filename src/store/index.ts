/**
 * Chooses the store for a configuration: Redis when `redis.url`, `redis.sentinels` or `redis.cluster_nodes` is set (several gateway
 * instances share it), the embedded single-instance store otherwise.
 */
import type { Config } from '../config/schema.js'
import type { StoreOptions } from './options.js'
import type { Store } from './types.js'
import { EmbeddedStore } from './embedded/embedded-store.js'
import { RedisStore } from './redis/redis-store.js'

export type { StoreOptions, StoreLogger } from './options.js'
export { storeKeys, keyPrefix } from './keys.js'
export { RedisStore } from './redis/redis-store.js'
export { EmbeddedStore } from './embedded/embedded-store.js'

export function createStore (config: Config['redis'], options: StoreOptions = {}): Store {
  if (config.url !== undefined || config.sentinels !== undefined || config.cluster_nodes !== undefined) return new RedisStore(config, options)
  return new EmbeddedStore(config, options)
}
