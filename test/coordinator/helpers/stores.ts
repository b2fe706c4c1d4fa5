/**
 * The real stores the coordinator's tests run over: the embedded store, and the Redis store on a real
 * redis-server (one per test file, each test on its own namespace).
 */
import tap from 'tap'
import { randomUUID } from 'node:crypto'
import { EmbeddedStore } from '../../../src/store/embedded/embedded-store.js'
import { RedisStore } from '../../../src/store/redis/redis-store.js'
import { keyPrefix } from '../../../src/store/keys.js'
import type { Store } from '../../../src/store/types.js'
import { startRedis, type RedisServer } from '../../helpers/redis.js'
import type { Teardown } from './harness.js'

export interface StoreKind {
  name: string
  make: (t: Teardown) => Promise<Store>
  /** A second store on the same shared state (another gateway instance); null where there is none. */
  sibling: ((t: Teardown, of: Store) => Promise<Store>) | null
}

let shared: Promise<RedisServer> | null = null
const namespaces = new WeakMap<Store, string>()

async function redisStore (t: Teardown, namespace: string): Promise<Store> {
  shared ??= startRedis(tap)
  const redis = await shared
  const store = new RedisStore({ url: redis.url, namespace, poll_interval_ms: 20, command_timeout_ms: 1000 })
  t.teardown(async () => await store.close())
  await store.ready()
  namespaces.set(store, namespace)
  return store
}

export const STORE_KINDS: StoreKind[] = [
  {
    name: 'embedded',
    make: async (t) => {
      const store = new EmbeddedStore()
      t.teardown(async () => await store.close())
      await store.ready()
      return store
    },
    sibling: null
  },
  {
    name: 'redis',
    make: async (t) => await redisStore(t, `coord-${randomUUID().slice(0, 8)}`),
    sibling: async (t, of) => await redisStore(t, namespaces.get(of) as string)
  }
]

/** Only the kinds that several instances can share. */
export const SHARED_STORE_KINDS = STORE_KINDS.filter((k) => k.sibling !== null)

/** Deletes a lease in Redis, as if it expired while its holder was stuck (a stalled or dead leader). */
export async function dropRedisLease (store: Store, name: string): Promise<void> {
  const namespace = namespaces.get(store)
  if (namespace === undefined || shared === null) throw new Error('dropRedisLease needs a Redis store from STORE_KINDS')
  await (await shared).cli('DEL', `${keyPrefix(namespace)}lease:${name}`)
}
