/**
 * The ioredis client the Redis store runs on, set up to fail fast and heal by itself:
 * - no offline queue and no per-request retries: a command while Redis is unreachable fails at once (the
 *   gateway answers 503) instead of waiting for a reconnect, and nothing is resent after one;
 * - a command timeout, so a Redis that hangs (rather than closes) fails the same way;
 * - reconnect forever with a capped backoff;
 * - Sentinel: the primary is asked of the sentinels on every (re)connect and a `+switch-master` triggers one,
 *   so a failover is followed without a restart; a `READONLY` answer (a demoted primary) forces a reconnect.
 */
import { Redis, type RedisOptions } from 'ioredis'
import type { Config } from '../../config/schema.js'

/** 50 ms, 100 ms, 200 ms ... at most 1 s between attempts, forever. */
export function reconnectDelay (attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt, 10), 1000)
}

function parseHostPort (entry: string): { host: string, port: number } {
  const at = entry.lastIndexOf(':')
  return { host: entry.slice(0, at), port: Number(entry.slice(at + 1)) }
}

export function redisOptions (config: Config['redis'], connectionName: string): RedisOptions {
  const base: RedisOptions = {
    connectionName,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: config.command_timeout_ms,
    connectTimeout: Math.max(config.command_timeout_ms, 1000),
    retryStrategy: reconnectDelay,
    reconnectOnError: (err) => err.message.startsWith('READONLY') ? 1 : false,
    lazyConnect: true,
    enableAutoPipelining: true
  }
  if (config.sentinels !== undefined) {
    return {
      ...base,
      sentinels: config.sentinels.map(parseHostPort),
      name: config.sentinel_name,
      role: 'master',
      sentinelRetryStrategy: reconnectDelay,
      sentinelCommandTimeout: config.command_timeout_ms,
      failoverDetector: true
    }
  }
  return base
}

export function createRedisClient (config: Config['redis'], connectionName: string): Redis {
  const options = redisOptions(config, connectionName)
  if (config.sentinels !== undefined) return new Redis(options)
  if (config.url === undefined) throw new Error('store: redis.url or redis.sentinels is required for the Redis store')
  return new Redis(config.url, options)
}
