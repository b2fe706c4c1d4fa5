/** The lease scripts, one typed method each (keys from the lease's name, arguments by field). */
import type { StoreKeys } from '../keys.js'
import type { Lease } from '../types.js'
import type { ScriptedRedis } from './scripts.js'

export class LeaseScripts {
  constructor (private readonly client: ScriptedRedis, private readonly keys: StoreKeys) {}

  /** The fencing token, or null while another holder has the lease. */
  async acquire (c: { name: string, holder: string, ttlMs: number }): Promise<number | null> {
    return await this.client.igLeaseAcquire(this.keys.lease(c.name), this.keys.leaseFence(c.name), c.holder, c.ttlMs)
  }

  /** 1: extended; 0: lost. */
  async renew (c: { name: string, lease: Lease, ttlMs: number }): Promise<number> {
    return await this.client.igLeaseRenew(this.keys.lease(c.name), leaseValue(c.lease), c.ttlMs)
  }

  async release (c: { name: string, lease: Lease }): Promise<number> {
    return await this.client.igLeaseRelease(this.keys.lease(c.name), leaseValue(c.lease))
  }
}

/** The lease key's value: `<token> <holder>`. */
function leaseValue (lease: Lease): string {
  return `${lease.token} ${lease.holder}`
}
