/**
 * Leader election over a store lease with a fencing token. `tick()` acquires or renews; leadership comes with an
 * AbortSignal that fires the moment the lease is found lost, so a coordinator that lost it stops acting at once.
 * `confirm()` renews right before a state change, so nothing is written on a lease that has already expired.
 * A renewal the store could not answer (a timeout) is not a loss while the lease is certainly still ours by the
 * clock (80% of the TTL since the last renewal started); an answer saying it is gone always is.
 */
import type { Lease, LeaseStore } from '../store/types.js'
import { LeadershipLostError } from './errors.js'

export class LeaderLease {
  private lease: Lease | null = null
  private controller: AbortController | null = null
  /** Until when the lease is ours for certain (ms), counted from the start of the last successful renewal. */
  private validUntil = 0

  constructor (
    private readonly store: LeaseStore,
    private readonly name: string,
    readonly holder: string,
    private readonly ttlMs: number
  ) {}

  get isLeader (): boolean { return this.lease !== null }
  get token (): number | null { return this.lease?.token ?? null }
  /** Aborted when this leadership ends; null while not leading. */
  get signal (): AbortSignal | null { return this.controller?.signal ?? null }

  /** Acquires when free, renews when held; returns whether this instance leads now. */
  async tick (): Promise<boolean> {
    if (this.lease === null) {
      const started = Date.now()
      const lease = await this.store.acquireLease(this.name, this.holder, this.ttlMs)
      if (lease !== null) {
        this.lease = lease
        this.validUntil = started + this.ttlMs * 0.8
        this.controller = new AbortController()
      }
      return this.lease !== null
    }
    return await this.renew().then(() => true, () => false)
  }

  /** Renews now; throws LeadershipLostError when the lease is gone. */
  async confirm (): Promise<number> {
    return await this.renew()
  }

  private async renew (): Promise<number> {
    const lease = this.lease
    if (lease === null) throw new LeadershipLostError(`not the leader of '${this.name}'`)
    const started = Date.now()
    let renewed: boolean
    try {
      renewed = await this.store.renewLease(this.name, lease, this.ttlMs)
    } catch (err) {
      if (Date.now() < this.validUntil && this.lease === lease) return lease.token
      this.lose(`lease '${this.name}' could not be renewed in time: ${(err as Error).message}`)
      throw new LeadershipLostError(`lease '${this.name}' could not be renewed in time`, { cause: err })
    }
    if (!renewed) {
      this.lose(`lease '${this.name}' (token ${lease.token}) was lost`)
      throw new LeadershipLostError(`lease '${this.name}' (token ${lease.token}) was lost`)
    }
    if (this.lease === lease) this.validUntil = Math.max(this.validUntil, started + this.ttlMs * 0.8)
    return lease.token
  }

  async release (): Promise<void> {
    const lease = this.lease
    this.lose('released')
    if (lease !== null) await this.store.releaseLease(this.name, lease).catch(() => {})
  }

  private lose (why: string): void {
    this.lease = null
    this.controller?.abort(new LeadershipLostError(why))
    this.controller = null
  }
}
