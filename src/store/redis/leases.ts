/** Leases with fencing tokens (scripts/lease_*.lua through ./lease-scripts.ts). */
import type { StoreKeys } from '../keys.js'
import type { Lease, LeaseStore } from '../types.js'
import { LeaseScripts } from './lease-scripts.js'
import type { RedisCalls } from './redis-calls.js'

export class RedisLeases implements LeaseStore {
  private readonly scripts: LeaseScripts

  constructor (private readonly calls: RedisCalls, keys: StoreKeys) {
    this.scripts = new LeaseScripts(calls.client, keys)
  }

  async acquireLease (name: string, holder: string, ttlMs: number): Promise<Lease | null> {
    const token = await this.calls.call('acquireLease', async () => await this.scripts.acquire({ name, holder, ttlMs }))
    return token === null ? null : { holder, token: Number(token) }
  }

  async renewLease (name: string, lease: Lease, ttlMs: number): Promise<boolean> {
    return await this.calls.call('renewLease', async () => await this.scripts.renew({ name, lease, ttlMs })) === 1
  }

  async releaseLease (name: string, lease: Lease): Promise<void> {
    await this.calls.call('releaseLease', async () => await this.scripts.release({ name, lease }))
  }
}
