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

type Cli = (...args: string[]) => Promise<string>

/** Reads a hash field where it may be kept: in `base` itself, else in one of its shards (layout 9, linear_shards.lua). */
async function shardedField (cli: Cli, base: string, meta: string, field: string): Promise<{ key: string, value: string } | null> {
  const direct = await cli('HGET', base, field)
  if (direct !== '') return { key: base, value: direct }
  const shards = Number(await cli('HGET', meta, 'n'))
  for (let i = 0; i < shards; i++) {
    const value = await cli('HGET', `${base}:${i}`, field)
    if (value !== '') return { key: `${base}:${i}`, value }
  }
  return null
}

/**
 * An ended intent's route in a bucket (`endedIds(bucket)`), in either form: a field of the bucket (up to layout 8)
 * or of one of its shards (layout 9); the key holding it too, for its expiry.
 */
export async function endedRouteIn (cli: Cli, bucket: string, id: string): Promise<{ key: string, value: string } | null> {
  return await shardedField(cli, bucket, `${bucket}:n`, id)
}

/**
 * How long (s) an idempotency record is still kept: its key's TTL, or, for an answered record a layout-9 bind kept
 * in a shard (`replays:<index>`), the expiry at the head of its value (seconds since 2025 in 6 base-36 digits).
 * -2 when there is none.
 */
export async function idempotencyTtlSecs (cli: Cli, namespace: string, idemKey: string): Promise<number> {
  const ttl = Number(await cli('TTL', idemKey))
  if (ttl !== -2) return ttl
  const replays = `${keyPrefix(namespace)}replays`
  // `replays` holds the shard count and the sweep's place, never a record: its own field reads empty.
  const found = await shardedField(cli, replays, replays, idemKey.slice(-22))
  if (found === null) return -2
  return 1735689600 + parseInt(found.value.slice(0, 6), 36) - Math.floor(Date.now() / 1000)
}
