/** Redis stores for tests: each on its own namespace of a shared test Redis, closed at teardown. */
import { randomUUID } from 'node:crypto'
import { withRedisDefaults, type RedisConfig, type RedisSettings } from '../../src/config/schema.js'
import { RedisStore } from '../../src/store/redis/redis-store.js'
import { keyPrefix } from '../../src/store/keys.js'
import type { Teardown } from '../helpers/redis.js'
import type { StoreOptions } from '../../src/store/options.js'
import type { StoredResponse } from '../../src/store/types.js'

/** The answer a bind keeps for replays in the layout tests. */
export function acceptedAnswer (id: string): StoredResponse {
  return { status: 202, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id, status: 'pending' }) }
}

export function redisConfig (url: string, namespace: string, overrides: RedisSettings = {}): RedisConfig {
  return withRedisDefaults({ url, namespace, poll_interval_ms: 100, command_timeout_ms: 500, ...overrides })
}

/** `layouts`: the key layouts the store writes and reads, as another release's would (default: this one's). */
export async function redisStore (t: Teardown, config: RedisSettings, options: StoreOptions = {}): Promise<RedisStore> {
  const store = new RedisStore(config, options)
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
