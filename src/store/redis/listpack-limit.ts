/**
 * The longest field or value Redis keeps in a small hash's listpack (`hash-max-listpack-value`, 64 by default).
 * Layout 9 keeps an answered record in a shard only when its value fits (scripts/replay_shards.lua): one longer
 * value would turn its whole shard into a hashtable. An operator whose intent ids are long (a UUID makes the value
 * 79 bytes) raises the setting, and the store reads it at every connection; a Redis that refuses `CONFIG`
 * (managed services often do) is taken to have the default.
 */
import type { RedisClient } from './connection.js'

export const DEFAULT_LISTPACK_VALUE = 64

export async function readListpackValueLimit (client: RedisClient): Promise<number> {
  try {
    const reply = await client.config('GET', 'hash-max-listpack-value') as unknown
    const value = Array.isArray(reply) ? Number(reply[1]) : NaN
    return Number.isInteger(value) && value > 0 ? value : DEFAULT_LISTPACK_VALUE
  } catch {
    return DEFAULT_LISTPACK_VALUE
  }
}
