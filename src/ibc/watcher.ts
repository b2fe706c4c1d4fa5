/**
 * The IBC packet watcher: knows which packets sent on the watched channels still await an acknowledgement or a
 * timeout, so an upgrade can wait until none does. It is three parts, wired here:
 * - ./height-loop.ts reads EVERY height in order with `block_results` (HTTP), from the last height it applied
 *   (kept in the store) up to the newest height heard of, and on start and every `ibc.reconcile_interval_secs`
 *   compares its set with the chain's own truth (PacketCommitments, read at a known height after applying every
 *   height up to it).
 * - ./block-feed.ts keeps the WebSocket NewBlock subscription alive (rebuilt when it fails, ends or goes quiet
 *   while the chain moves on; backoff while the chain cannot be reached); it only says which heights exist.
 * - ./watcher-health.ts turns both into `state()`.
 * Bad input (a malformed event, an unknown channel, an unreachable RPC) is logged and reported in `state()`;
 * the watcher keeps running.
 */
import { Backoff } from './backoff.js'
import { BlockClock } from './block-clock.js'
import { BlockFeed } from './block-feed.js'
import { createChainReader } from './chain-reader.js'
import { HeightLoop } from './height-loop.js'
import type { IbcWatcher, IbcWatcherOptions } from './types.js'
import { LastError, errorSummary } from './last-error.js'
import { knownPending, watcherState } from './watcher-health.js'
import { loadWatcherState } from './watcher-store.js'

export type { IbcWatcher, IbcWatcherOptions, IbcWatcherState, ProcessedHeight } from './types.js'

export function createIbcWatcher (options: IbcWatcherOptions): IbcWatcher {
  const { config, store } = options
  const log = options.logger.child({ component: 'ibc-watcher' })
  const now = options.now ?? Date.now
  const port = config.ibc.port
  const watchedChannels = new Set(config.ibc.channels)
  const staleSecs = config.ibc.stale_packet_secs
  const retryMinMs = options.retryMinMs ?? 250
  const retryMaxMs = options.retryMaxMs ?? 10_000
  const reader = createChainReader(config.chain.rpc_url, options.requestTimeoutMs ?? 10_000)
  const clock = new BlockClock(options.expectedBlockMs ?? 6000)
  const errors = new LastError(now)
  const loop = new HeightLoop({
    store, reader, clock, port, channels: watchedChannels, staleSecs, now, log, errors, backoff: new Backoff(retryMinMs, retryMaxMs)
  })
  const feed = new BlockFeed({
    rpcUrl: config.chain.rpc_url,
    reader,
    clock,
    sink: loop,
    quietBlocks: options.quietBlocks ?? 5,
    now,
    log,
    errors,
    backoff: new Backoff(retryMinMs, retryMaxMs)
  })
  const loadBackoff = new Backoff(retryMinMs, retryMaxMs)
  let loadTimer: NodeJS.Timeout | null = null
  let reconcileTimer: NodeJS.Timeout | null = null
  let started = false
  let closed = false

  /** Loads the stored state (retrying while the store cannot answer), then starts the timers and the subscription. */
  const initialize = async (): Promise<void> => {
    if (closed) return
    let loaded
    try {
      loaded = await loadWatcherState(store, (p, c) => p === port && watchedChannels.has(c))
    } catch (err) {
      errors.record(err, 'loading the watcher state')
      const delay = loadBackoff.take()
      log.warn({ err: errorSummary(err), retry_ms: delay }, 'cannot load the watcher state from the store; retrying')
      // Failures are handled inside initialize().
      loadTimer = setTimeout(() => { loadTimer = null; initialize().catch(() => {}) }, delay)
      loadTimer.unref()
      return
    }
    if (loaded.dropped.length > 0) log.info({ dropped: loaded.dropped }, 'dropped stored pending packets of channels no longer watched')
    loop.load(loaded.packets, loaded.lastHeight)
    log.info({ rpc: config.chain.rpc_url, port, channels: [...watchedChannels], last_height: loop.lastHeight, pending: loop.size }, 'IBC watcher starting')
    reconcileTimer = setInterval(() => { loop.wantReconcile() }, config.ibc.reconcile_interval_secs * 1000)
    reconcileTimer.unref()
    await feed.connect()
  }

  return {
    start: async () => {
      if (started) return
      started = true
      await initialize()
    },
    pending: () => loop.view(),
    pendingCount: () => loop.size,
    knownPendingCount: () => knownPending(loop, feed),
    state: () => watcherState(loop, feed, errors, staleSecs),
    reconcile: async () => {
      if (closed) throw new Error('the IBC watcher is closed')
      await loop.reconcileNow()
    },
    onProcessed: (listener) => loop.onProcessed(listener),
    close: async () => {
      if (closed) return
      closed = true
      if (loadTimer !== null) clearTimeout(loadTimer)
      if (reconcileTimer !== null) clearInterval(reconcileTimer)
      feed.close()
      await loop.close()
      reader.close()
      log.info({ last_height: loop.lastHeight, pending: loop.size }, 'IBC watcher stopped')
    }
  }
}
