/**
 * The operator keys (`drain`, `upgrade`, `active`): read by one poll per instance (scripts/control.lua), written
 * in transactions that also PUBLISH on the namespace's control channel, so every instance re-reads at once
 * (./control-channel.ts) and the poll catches an operator's own `redis-cli SET`.
 */
import type { Color, RedisConfig } from '../../config/schema.js'
import { readControl, drainValue, CONTROL_WRITE_DOC, drainWrite, activeWrite } from '../control.js'
import { ControlWatcher } from '../control-watcher.js'
import type { StoreKeys } from '../keys.js'
import type { StoreLogger } from '../options.js'
import type { ControlState, ControlStore, DrainSwitch, UpgradeFlag } from '../types.js'
import { ControlChannel } from './control-channel.js'
import { pollControl } from './control-script.js'
import { unwrapMulti, type RedisCalls } from './redis-calls.js'

/** What a poll tells the watch for a Redis that lost its data (./data-loss.ts). */
export interface EpochWatch {
  /** True while the epoch read shows a loss, not yet handled or being handled (a new one is handled from now). */
  polled (epoch: string | null): boolean
}

export interface ControlKeysOptions {
  config: RedisConfig
  /** Names the pub/sub connection (`<name>:sub`). */
  connectionName: string
  env: Record<string, string | undefined> | undefined
  log: StoreLogger | undefined
  epochs: EpochWatch
}

export class RedisControl implements ControlStore {
  private readonly watcher: ControlWatcher
  /** Pub/sub beside the poll: control writes reach every instance within a round trip (./control-channel.ts). */
  private readonly channel: ControlChannel
  private readonly log: StoreLogger | undefined
  private readonly epochs: EpochWatch
  /** The last `active` that made sense: kept through a bad value, and set again after a Redis lost its data. */
  lastGoodActive: Color | null = null
  private lastInvalidLogged = '[]'

  constructor (private readonly calls: RedisCalls, private readonly keys: StoreKeys, o: ControlKeysOptions) {
    this.log = o.log
    this.epochs = o.epochs
    this.watcher = new ControlWatcher(async () => await this.control(), o.config.poll_interval_ms,
      (err) => this.log?.error({ err }, 'store: a control-state listener threw'))
    this.channel = new ControlChannel(o.config, o.connectionName, o.env, `${keys.prefix}control`, () => { this.watcher.check() }, this.log)
  }

  async control (): Promise<ControlState> {
    const { drain, drainStarted, upgrade, active, epoch } = await this.calls.call('control',
      async () => await pollControl(this.calls.client, this.keys, { nowMs: Date.now() }))
    // Every poll sees a flushed namespace, not only a reconnection.
    const lossSeen = this.epochs.polled(epoch)
    // A Redis that lost its data has no `active` until this instance's recovery sets the last good one again:
    // meanwhile the key's absence means the loss, not `proxy.initial_active` (which made the active color flap
    // green -> blue -> green for the few hundred ms the recovery took).
    const lost = this.lastGoodActive !== null && lossSeen
    const state = readControl({ drain, drainStarted, upgrade, active: active ?? (lost ? this.lastGoodActive : null) }, this.lastGoodActive)
    if (state.active !== null) this.lastGoodActive = state.active
    this.reportInvalid(state)
    return state
  }

  watchControl (onChange: (state: ControlState) => void): () => void {
    return this.watcher.watch(onChange)
  }

  async setDrain (value: DrainSwitch | null): Promise<void> {
    const k = this.keys
    await this.calls.call('setDrain', async () => {
      const tx = this.calls.client.multi()
      if (value === null) tx.del(k.drain, k.drainStarted)
      else tx.set(k.drain, drainValue(value)).set(k.drainStarted, Date.now(), 'NX')
      tx.set(k.doc(CONTROL_WRITE_DOC), drainWrite(value))
      unwrapMulti(await this.channel.publishIn(tx).exec())
    })
    this.watcher.check()
  }

  async setUpgrade (value: UpgradeFlag | null): Promise<void> {
    const k = this.keys
    await this.calls.call('setUpgrade', async () => {
      const client = this.calls.client
      const tx = value === null ? client.multi().del(k.upgrade) : client.multi().set(k.upgrade, JSON.stringify(value))
      unwrapMulti(await this.channel.publishIn(tx).exec())
    })
    this.watcher.check()
  }

  async setActive (color: Color): Promise<void> {
    await this.calls.call('setActive', async () => {
      const tx = this.calls.client.multi().set(this.keys.active, color).set(this.keys.doc(CONTROL_WRITE_DOC), activeWrite(color))
      unwrapMulti(await this.channel.publishIn(tx).exec())
    })
    this.watcher.check()
  }

  /** Reads the keys now and tells the listeners if they changed (a reconnection, a message on the channel). */
  check (): void {
    this.watcher.check()
  }

  async close (): Promise<void> {
    this.watcher.close()
    await this.channel.close()
  }

  private reportInvalid (state: ControlState): void {
    const invalid = JSON.stringify(state.invalid)
    if (invalid === this.lastInvalidLogged) return
    this.lastInvalidLogged = invalid
    if (state.invalid.length > 0) this.log?.warn({ invalid: state.invalid }, 'store: ignoring control values that make no sense')
  }
}
