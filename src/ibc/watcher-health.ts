/**
 * The watcher's health, as `state()` reports it to the coordinator's `ibc_relayer` check and to
 * `GET /admin/ibc/status`: its parts' figures, the last error any part met, and the reasons it is not healthy.
 */
import type { BlockFeed } from './block-feed.js'
import type { HeightLoop } from './height-loop.js'
import type { LastError } from './last-error.js'
import type { IbcWatcherState } from './types.js'

/** More heights than this between the chain and the last applied one is lagging. */
const LAG_TOLERATED_BLOCKS = 5

/**
 * The pending count, or null when the watcher cannot know it now: not receiving blocks, not yet reconciled with
 * the chain's packet commitments, or more than LAG_TOLERATED_BLOCKS behind (packets sent in the heights it has
 * not applied are not counted yet).
 */
export function knownPending (loop: HeightLoop, feed: BlockFeed): number | null {
  if (!feed.connected() || loop.lastReconcile === null) return null
  if (loop.chainHeight !== null && loop.lastHeight !== null && loop.chainHeight - loop.lastHeight > LAG_TOLERATED_BLOCKS) return null
  return loop.size
}

export function watcherState (loop: HeightLoop, feed: BlockFeed, errors: LastError, staleSecs: number): IbcWatcherState {
  const view = loop.view()
  const stale = view.filter((p) => p.stale).length
  const connected = feed.connected()
  const lag = loop.chainHeight !== null && loop.lastHeight !== null ? loop.chainHeight - loop.lastHeight : 0
  const reasons: string[] = []
  if (!connected) reasons.push('not receiving blocks from the chain')
  // Until the first reconciliation, a fresh watcher cannot know what was pending before it started.
  if (loop.lastReconcile === null) reasons.push('not yet reconciled with the chain\'s packet commitments')
  if (stale > 0) reasons.push(`${stale} packet(s) pending longer than ${staleSecs} s (is the relayer running?)`)
  if (loop.unknownChannels.size > 0) reasons.push(`unknown channel(s): ${[...loop.unknownChannels].join(', ')}`)
  if (lag > LAG_TOLERATED_BLOCKS) reasons.push(`${lag} heights behind the chain`)
  return {
    connected,
    healthy: reasons.length === 0,
    reason: reasons.length === 0 ? null : reasons.join('; '),
    last_height: loop.lastHeight,
    chain_height: loop.chainHeight,
    last_block_at_ms: feed.lastBlockAtMs,
    pending: view.length,
    stale,
    unknown_channels: [...loop.unknownChannels].sort(),
    malformed_events: loop.malformedEvents,
    subscriptions_rebuilt: feed.rebuilt,
    last_error: errors.value,
    last_reconcile: loop.lastReconcile
  }
}
