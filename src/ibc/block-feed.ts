/**
 * How the watcher hears of new heights: the WebSocket NewBlock subscription, kept alive. The subscription only
 * says which heights exist; nothing is lost while it is down, because the next height it hears of (or the next
 * status poll) makes the height loop read every height in between.
 * - A subscription that fails, ends, or goes quiet for `quietBlocks` block times while the chain moves on is
 *   thrown away and rebuilt (cosmjs does not resubscribe after its own reconnect, cosmos/cosmjs#1217).
 * - While the chain cannot be reached it retries with backoff.
 */
import type { Logger } from '../log.js'
import { ChainUnreachableError } from '../chain/errors.js'
import type { Backoff } from './backoff.js'
import type { BlockClock } from './block-clock.js'
import { subscribeNewBlocks, type BlockSubscription } from './block-subscription.js'
import type { ChainReader } from './chain-reader.js'
import { errorSummary, type LastError } from './last-error.js'

/** What the feed tells the height loop. */
export interface HeightSink {
  /** A status answer: the chain is at `height`. */
  followStatus (height: number): void
  /** A NewBlock event for `height`. */
  heard (height: number): void
  /** There may be heights to read. */
  kick (): void
}

export interface BlockFeedOptions {
  rpcUrl: string
  reader: ChainReader
  clock: BlockClock
  sink: HeightSink
  quietBlocks: number
  now: () => number
  log: Logger
  errors: LastError
  /** Between attempts to reach the chain and subscribe. */
  backoff: Backoff
}

export class BlockFeed {
  lastBlockAtMs: number | null = null
  /** Subscriptions thrown away and built again. */
  rebuilt = 0

  #subscription: BlockSubscription | null = null
  #healthy = false
  #everSubscribed = false
  #connecting = false
  #lastNotifiedHeight = 0
  #livenessTimer: NodeJS.Timeout | null = null
  #reconnectTimer: NodeJS.Timeout | null = null
  #closed = false

  constructor (private readonly o: BlockFeedOptions) {}

  /** Up, and brought a block within the quiet limit. */
  connected (): boolean {
    return this.#subscription !== null && this.#healthy && this.lastBlockAtMs !== null &&
      this.o.now() - this.lastBlockAtMs <= this.#quietLimitMs()
  }

  /** Asks the chain's height, then subscribes; on failure retries with backoff. */
  async connect (): Promise<void> {
    if (this.#closed || this.#connecting) return
    this.#connecting = true
    this.#drop()
    try {
      const status = await this.o.reader.status()
      if (this.#closed) return
      this.o.sink.followStatus(status.height)
      if (this.#everSubscribed) this.rebuilt++
      this.#everSubscribed = true
      this.#subscription = subscribeNewBlocks(this.o.rpcUrl, {
        onBlock: (height, timeMs) => { this.#onBlock(height, timeMs) },
        onFailure: (err) => { this.#onFailure(err) }
      })
      this.#armLiveness()
      this.o.sink.kick()
    } catch (err) {
      if (this.#closed) return
      this.o.errors.record(err, 'connecting')
      this.o.log.warn({ err: errorSummary(err), retry_ms: this.o.backoff.nextMs }, 'cannot reach the chain; retrying')
      this.#scheduleReconnect()
    } finally {
      this.#connecting = false
    }
  }

  close (): void {
    this.#closed = true
    for (const timer of [this.#livenessTimer, this.#reconnectTimer]) if (timer !== null) clearTimeout(timer)
    this.#drop()
  }

  #quietLimitMs (): number {
    return this.o.clock.quietLimitMs(this.o.quietBlocks)
  }

  #onBlock (height: number, timeMs: number): void {
    if (this.#closed) return
    this.#healthy = true
    this.lastBlockAtMs = this.o.now()
    this.#lastNotifiedHeight = Math.max(this.#lastNotifiedHeight, height)
    this.o.backoff.reset()
    this.o.clock.record(height, timeMs)
    this.o.sink.heard(height)
    this.#armLiveness()
    this.o.sink.kick()
  }

  #onFailure (err: Error): void {
    if (this.#closed) return
    const typed = new ChainUnreachableError(this.o.rpcUrl, `WebSocket subscription failed: ${err.message}`, { cause: err })
    this.o.errors.record(typed, 'subscription')
    this.o.log.warn({ err: err.message }, 'the NewBlock subscription failed; rebuilding it')
    this.#drop()
    this.#scheduleReconnect()
  }

  #drop (): void {
    this.#healthy = false
    this.#subscription?.close()
    this.#subscription = null
  }

  #scheduleReconnect (): void {
    if (this.#closed || this.#reconnectTimer !== null) return
    // Failures are handled inside connect().
    this.#reconnectTimer = setTimeout(() => { this.#reconnectTimer = null; this.connect().catch(() => {}) }, this.o.backoff.take())
    this.#reconnectTimer.unref()
  }

  #armLiveness (): void {
    if (this.#livenessTimer !== null) clearTimeout(this.#livenessTimer)
    if (this.#closed) return
    // Failures are handled inside checkLiveness().
    this.#livenessTimer = setTimeout(() => { this.#livenessTimer = null; this.#checkLiveness().catch(() => {}) }, this.#quietLimitMs())
    this.#livenessTimer.unref()
  }

  /** No block for the quiet limit: has the chain moved on (the subscription is dead) or stopped? */
  async #checkLiveness (): Promise<void> {
    if (this.#closed) return
    try {
      const status = await this.o.reader.status()
      if (this.#closed) return
      this.o.sink.followStatus(status.height)
      this.o.sink.kick()
      if (status.height > this.#lastNotifiedHeight && this.#subscription !== null) {
        // The chain moved on and the subscription said nothing: it is dead without knowing it.
        this.o.log.warn({ chain_height: status.height, last_notified: this.#lastNotifiedHeight, quiet_ms: this.#quietLimitMs() }, 'no NewBlock event while the chain advanced; rebuilding the subscription')
        this.#drop()
        await this.connect()
        return
      }
      if (this.#subscription === null) {
        this.#scheduleReconnect()
        return
      }
      this.o.log.debug({ height: status.height }, 'no new block; the chain is not producing blocks')
      this.#armLiveness()
    } catch (err) {
      if (this.#closed) return
      this.o.errors.record(err, 'liveness check')
      this.o.log.warn({ err: errorSummary(err) }, 'the chain does not answer; rebuilding the subscription once it does')
      this.#drop()
      this.#scheduleReconnect()
    }
  }
}
