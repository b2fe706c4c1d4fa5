/**
 * The start-up warning about a Redis that can lose its data on a restart (docs/specification.md section 4), on real
 * redis-servers: none persisting and without replicas (warned), AOF, RDB snapshots, a replica (not warned), and
 * CONFIG disabled as on managed Redis (read from INFO; warned, saying RDB could not be checked).
 */
import t from 'tap'
import { createStore } from '../../src/store/index.js'
import { warnIfVolatile } from '../../src/store/redis/durability-check.js'
import { RedisStore } from '../../src/store/redis/redis-store.js'
import { startRedis } from '../helpers/redis.js'
import { freshNamespace, redisConfig, redisStore } from './redis-fixture.js'

function logger (): {
  lines: string[]
  info: (o: object, m: string) => void
  warn: (o: object, m: string) => void
  error: (o: object, m: string) => void
} {
  const lines: string[] = []
  const push = (level: string) => (o: object, m: string): void => { lines.push(`${level} ${m} ${JSON.stringify(o)}`) }
  return { lines, info: push('info'), warn: push('warn'), error: push('error') }
}

async function check (store: RedisStore): Promise<{ warned: string[], durability: unknown }> {
  const log = logger()
  const durability = await warnIfVolatile(store.redis, 'intent-gate:{x}:drain', log)
  return { warned: log.lines.filter((l) => l.startsWith('warn')), durability }
}

t.test('no AOF, no RDB, no replica: warned', async (t) => {
  const redis = await startRedis(t)
  const { warned, durability } = await check(await redisStore(t, redisConfig(redis.url, freshNamespace())))
  t.same(durability, { aof: false, rdb: false, replicas: 0 })
  t.equal(warned.length, 1)
  t.match(warned[0], /can lose its data on a restart: no AOF, no RDB snapshots and no replica/)
})

t.test('AOF on: not warned', async (t) => {
  const redis = await startRedis(t, { persistence: true })
  const { warned, durability } = await check(await redisStore(t, redisConfig(redis.url, freshNamespace())))
  t.match(durability, { aof: true })
  t.same(warned, [])
})

t.test('RDB snapshots configured: not warned', async (t) => {
  const redis = await startRedis(t, { args: ['--save', '3600 1'] })
  const { warned, durability } = await check(await redisStore(t, redisConfig(redis.url, freshNamespace())))
  t.match(durability, { aof: false, rdb: true })
  t.same(warned, [])
})

t.test('a replica attached: not warned', async (t) => {
  const primary = await startRedis(t)
  await startRedis(t, { args: ['--replicaof', '127.0.0.1', String(primary.port)] })
  t.equal(await primary.replicated('sync', 1, 10_000), 1)
  const { warned, durability } = await check(await redisStore(t, redisConfig(primary.url, freshNamespace())))
  t.match(durability, { replicas: 1 })
  t.same(warned, [])
})

t.test('CONFIG disabled (managed Redis): AOF read from INFO, warned that RDB could not be checked', async (t) => {
  const redis = await startRedis(t, { args: ['--rename-command', 'CONFIG', ''] })
  const { warned, durability } = await check(await redisStore(t, redisConfig(redis.url, freshNamespace())))
  t.same(durability, { aof: false, rdb: null, replicas: 0 })
  t.match(warned[0], /RDB snapshots could not be checked/)
})

t.test('createStore warns once the store is ready', async (t) => {
  const redis = await startRedis(t)
  const log = logger()
  const store = createStore(redisConfig(redis.url, freshNamespace()), { logger: log })
  t.teardown(async () => await store.close())
  await store.ready()
  // The check is one pipeline after ready; the warning follows within its round trip.
  for (let i = 0; i < 100 && !log.lines.some((l) => l.startsWith('warn')); i++) await new Promise((resolve) => setTimeout(resolve, 20))
  t.match(log.lines.filter((l) => l.startsWith('warn')), [/can lose its data on a restart/])
})
