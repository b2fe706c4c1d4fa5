/** Redis stores for tests: each on its own namespace of a shared test Redis, closed at teardown. */
import { randomUUID } from 'node:crypto'
import { withRedisDefaults, type RedisConfig, type RedisSettings } from '../../src/config/schema.js'
import { RedisStore } from '../../src/store/redis/redis-store.js'
import { keyPrefix } from '../../src/store/keys.js'
import type { Teardown } from '../helpers/redis.js'

export function redisConfig (url: string, namespace: string, overrides: RedisSettings = {}): RedisConfig {
  return withRedisDefaults({ url, namespace, poll_interval_ms: 100, command_timeout_ms: 500, ...overrides })
}

export async function redisStore (t: Teardown, config: RedisSettings): Promise<RedisStore> {
  const store = new RedisStore(config)
  t.teardown(async () => await store.close())
  await store.ready()
  return store
}

export function freshNamespace (): string {
  return `test-${randomUUID().slice(0, 8)}`
}

export function operatorKey (namespace: string, key: 'drain' | 'active' | 'upgrade'): string {
  return `${keyPrefix(namespace)}${key}`
}

/** Resolves on the store's next (re)connection. (events.once would reject on the reconnect errors on the way.) */
export async function nextReady (store: RedisStore): Promise<void> {
  await new Promise((resolve) => store.redis.once('ready', resolve))
}
