/**
 * Leader election over a store lease with a fencing token. `tick()` acquires or renews; leadership comes with an
 * AbortSignal that fires the moment the lease is found lost, so a coordinator that lost it stops acting at once.
 * `confirm()` renews right before a state change, so nothing is written on a lease that has already expired.
 */
import type { Lease, Store } from '../store/types.js'
import { LeadershipLostError } from './errors.js'

export class LeaderLease {
  private lease: Lease | null = null
  private controller: AbortController | null = null

  constructor (
    private readonly store: Store,
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
      const lease = await this.store.acquireLease(this.name, this.holder, this.ttlMs)
      if (lease !== null) {
        this.lease = lease
        this.controller = new AbortController()
      }
      return this.lease !== null
    }
    let renewed = false
    try {
      renewed = await this.store.renewLease(this.name, this.lease, this.ttlMs)
    } catch {
      renewed = false
    }
    if (!renewed) this.lose(`lease '${this.name}' (token ${this.lease.token}) could not be renewed`)
    return renewed
  }

  /** Renews now; throws LeadershipLostError when the lease is gone. */
  async confirm (): Promise<number> {
    const lease = this.lease
    if (lease === null) throw new LeadershipLostError(`not the leader of '${this.name}'`)
    let renewed = false
    try {
      renewed = await this.store.renewLease(this.name, lease, this.ttlMs)
    } catch (err) {
      this.lose(`lease '${this.name}' could not be renewed: ${(err as Error).message}`)
      throw new LeadershipLostError(`lease '${this.name}' could not be renewed`, { cause: err })
    }
    if (!renewed) {
      this.lose(`lease '${this.name}' (token ${lease.token}) was lost`)
      throw new LeadershipLostError(`lease '${this.name}' (token ${lease.token}) was lost`)
    }
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
