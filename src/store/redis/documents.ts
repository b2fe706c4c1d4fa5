/** Small JSON documents and hashes owned by other parts (the IBC watcher's height and pending packets, ...). */
import type { StoreKeys } from '../keys.js'
import type { DocumentStore } from '../types.js'
import type { RedisCalls } from './redis-calls.js'

export class RedisDocuments implements DocumentStore {
  constructor (private readonly calls: RedisCalls, private readonly keys: StoreKeys) {}

  async getDoc<T> (name: string): Promise<T | null> {
    const raw = await this.calls.call('getDoc', async () => await this.calls.client.get(this.keys.doc(name)))
    return raw === null ? null : JSON.parse(raw) as T
  }

  async setDoc (name: string, value: unknown): Promise<void> {
    await this.calls.call('setDoc', async () => await this.calls.client.set(this.keys.doc(name), JSON.stringify(value)))
  }

  async hashSet (name: string, fields: Record<string, unknown>): Promise<void> {
    const entries = Object.entries(fields)
    if (entries.length === 0) return
    const flat = entries.flatMap(([field, value]) => [field, JSON.stringify(value)])
    await this.calls.call('hashSet', async () => await this.calls.client.hset(this.keys.hash(name), ...flat))
  }

  async hashDelete (name: string, fields: string[]): Promise<void> {
    if (fields.length === 0) return
    await this.calls.call('hashDelete', async () => await this.calls.client.hdel(this.keys.hash(name), ...fields))
  }

  async hashGetAll<T> (name: string): Promise<Record<string, T>> {
    const raw = await this.calls.call('hashGetAll', async () => await this.calls.client.hgetall(this.keys.hash(name)))
    return Object.fromEntries(Object.entries(raw).map(([field, json]) => [field, JSON.parse(json) as T]))
  }
}
