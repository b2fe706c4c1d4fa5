/**
 * The fleet's registry as the store's RegistryStore (the hash and the marks: ./registry.ts). Also remembers the
 * fleet as this instance last read it in the namespace epoch it knows: after a Redis loss, those are the
 * instances it waits for.
 */
import type { StoreKeys } from '../keys.js'
import type { StoreLogger } from '../options.js'
import type { ForgetResult, InstanceRecord, RegistryStore } from '../types.js'
import type { LayoutGate } from './layout.js'
import { unwrapMulti, type RedisCalls } from './redis-calls.js'
import { awaitedIn, encodeInstance, fleetOf, markDone, readFleet } from './registry.js'

export interface FleetOptions {
  layout: LayoutGate
  log: StoreLogger | undefined
  /** How many admissions this instance holds in its journal (its record says so). */
  journaled: () => number
  /** The namespace epoch this instance knows (./data-loss.ts), null before its first check. */
  knownEpoch: () => string | null
}

export class RedisFleet implements RegistryStore {
  /** The fleet as this instance's last refresh in the epoch it knows read it. */
  fleet: InstanceRecord[] = []

  constructor (private readonly calls: RedisCalls, private readonly keys: StoreKeys, private readonly o: FleetOptions) {}

  async refreshInstance (record: Omit<InstanceRecord, 'last_seen_at_ms' | 'journaled' | 'state'> & { state: 'serving' | 'leaving' }): Promise<InstanceRecord[]> {
    const now = Date.now()
    // A namespace this instance cannot share (or has not checked yet) is left untouched, registry included.
    this.o.layout.require('refreshInstance')
    const full: InstanceRecord = { ...record, last_seen_at_ms: now, journaled: this.o.journaled() }
    const k = this.keys
    const client = this.calls.client
    const [, raw, epoch, marks] = await this.calls.call('refreshInstance', async () => unwrapMulti(await client.multi()
      .hset(k.instances, record.id, encodeInstance(full)).hgetall(k.instances).get(k.epoch).hgetall(k.recovering).exec()
    ) as [number, Record<string, string>, string | null, Record<string, string>])
    const { fleet, drop } = fleetOf(raw, now)
    if (drop.length > 0) await this.calls.call('refreshInstance', async () => await client.hdel(k.instances, ...drop))
    // A registry of another epoch than the one this instance knows is what a loss left, not yet noticed (a
    // refresh queued while Redis was down, or sent before the reconnection's epoch check): the fleet read before
    // the loss is kept, since it names the instances to wait for once the loss is noticed. The instances still
    // awaited after an earlier loss (no record again yet) stay in it: a second loss awaits them too.
    const known = this.o.knownEpoch()
    if (known === null || epoch === known) this.fleet = withAwaited(fleet, marks, epoch)
    return fleet
  }

  async deregisterInstance (id: string): Promise<void> {
    this.o.layout.require('deregisterInstance')
    await this.calls.call('deregisterInstance', async () => await this.calls.client.hdel(this.keys.instances, id))
    this.fleet = this.fleet.filter((r) => r.id !== id)
  }

  /** The registry, and the instances still awaited after a Redis loss that have no record again yet. */
  async instances (): Promise<InstanceRecord[]> {
    const k = this.keys
    const client = this.calls.client
    const [fleet, marks, epoch] = await this.calls.call('instances',
      async () => await Promise.all([readFleet(client, k), client.hgetall(k.recovering), client.get(k.epoch)]))
    return withAwaited(fleet, marks, epoch)
  }

  async forgetInstance (id: string): Promise<ForgetResult> {
    const k = this.keys
    const client = this.calls.client
    const [fleet, epoch] = await this.calls.call('forgetInstance', async () => await Promise.all([readFleet(client, k), client.get(k.epoch)]))
    // Its record after the loss, if it registered again since; only a gone (or never back) instance is forgotten.
    const record = fleet.find((r) => r.id === id)
    if (record !== undefined && record.state !== 'gone') return { kind: 'serving', record }
    const cleared = epoch === null ? null : await this.calls.call('forgetInstance', async () => await markDone(client, k, { epoch, id }))
    if (record === undefined && cleared === null) return { kind: 'unknown' }
    await this.calls.call('forgetInstance', async () => await client.hdel(k.instances, id))
    const uncounted = cleared?.journaled ?? 0
    this.o.log?.warn({ instance: id, uncounted }, 'store: an operator forgot an instance; what it admitted and did not register again is no longer counted')
    return { kind: 'forgotten', uncounted }
  }
}

/** The registry, and the instances still awaited after the loss that made `epoch` that have no record again yet. */
function withAwaited (fleet: InstanceRecord[], marks: Record<string, string>, epoch: string | null): InstanceRecord[] {
  const awaited = epoch === null ? [] : awaitedIn(marks, epoch).filter((a) => !fleet.some((r) => r.id === a.id))
  return [...fleet, ...awaited]
}
