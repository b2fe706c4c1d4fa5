/**
 * The sweep of expired answered records kept in shards (key layout 9, scripts/replay_shards.lua). A shard's
 * records have no expiry of their own in Redis (a field has none before Redis 7.4), so every instance that reads
 * layout 9 calls replay_sweep.lua once a SWEEP_EVERY_MS: the script sweeps the shards due since the last sweep
 * by any instance (every shard once a 24th of the idempotency TTL), so the fleet shares the work whatever its
 * size. A namespace without shards costs one HMGET a call.
 */
import type { StoreLogger } from '../options.js'
import type { StoreKeys } from '../keys.js'
import type { ScriptedRedis } from './scripts.js'

/** How often an instance asks for a sweep. */
const SWEEP_EVERY_MS = 1_000
/** The most shards one call sweeps (about 20 µs of Redis each: one call holds Redis about 2 ms at most). */
const SWEEP_MAX_SHARDS = 100
/** A shard is swept once this share of the idempotency TTL. */
const PERIOD_SHARE = 1 / 24

export interface ReplaySweeperOptions {
  idempotencyTtlSecs: number
  /** Whether the namespace may be swept now (its layout checked and shared, the store not closing). */
  ready: () => boolean
  log?: StoreLogger
}

export class ReplaySweeper {
  private timer: NodeJS.Timeout | null = null
  private failedAt = 0

  constructor (private readonly client: ScriptedRedis, private readonly keys: StoreKeys, private readonly o: ReplaySweeperOptions) {}

  start (): void {
    this.timer ??= setInterval(() => { this.sweepOnce().catch(() => {}) }, SWEEP_EVERY_MS)
    this.timer.unref()
  }

  stop (): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }

  /** One call of the script; resolves to what it did (null: skipped, the store not ready). */
  async sweepOnce (nowMs = Date.now()): Promise<{ dropped: number, swept: number, shards: number } | null> {
    if (!this.o.ready()) return null
    const periodMs = Math.max(1, Math.floor(this.o.idempotencyTtlSecs * 1000 * PERIOD_SHARE))
    try {
      const [dropped, swept, shards] = await this.client.igReplaySweep(this.keys.replays, nowMs, periodMs, SWEEP_MAX_SHARDS)
      return { dropped, swept, shards }
    } catch (err) {
      // A sweep missed is made up by the next one (it sweeps what is due since the last); said once a minute at most.
      if (Date.now() - this.failedAt > 60_000) this.o.log?.warn({ err }, 'store: the sweep of expired answered records failed; tried again in a second')
      this.failedAt = Date.now()
      return null
    }
  }
}
