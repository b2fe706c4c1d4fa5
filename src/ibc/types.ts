/**
 * The IBC watcher's public shapes: its options, its state summary (what the coordinator's `ibc_relayer` check and
 * `GET /admin/ibc/status` show), and the watcher interface itself.
 */
import type { Config } from '../config/schema.js'
import type { Logger } from '../log.js'
import type { DocumentStore } from '../store/types.js'
import type { PendingPacketView } from './pending-set.js'

export interface IbcWatcherOptions {
  config: Pick<Config, 'chain' | 'ibc'>
  store: DocumentStore
  logger: Logger
  /** Clock (ms); tests may pass their own. */
  now?: () => number
  /** Deadline of each RPC request. Default 10 s. */
  requestTimeoutMs?: number
  /** The block time assumed until the watcher has measured the chain's own. Default 6 s. */
  expectedBlockMs?: number
  /** A subscription that brings no block for this many block times (at least 1 s) is checked and rebuilt. Default 5. */
  quietBlocks?: number
  /** Backoff between retries while the chain or the store fails. Default 250 ms doubling up to 10 s. */
  retryMinMs?: number
  retryMaxMs?: number
}

export interface IbcWatcherState {
  /** The NewBlock subscription is up and brought a block within the expected time. */
  connected: boolean
  /** Connected, no stale packet, every watched channel known, not lagging; `reason` says what is wrong otherwise. */
  healthy: boolean
  reason: string | null
  last_height: number | null
  chain_height: number | null
  last_block_at_ms: number | null
  pending: number
  stale: number
  unknown_channels: string[]
  malformed_events: number
  subscriptions_rebuilt: number
  last_error: { code: string, message: string, at_ms: number } | null
  last_reconcile: { height: number, at_ms: number, added: number, removed: number } | null
}

export interface ProcessedHeight {
  height: number
  /** Pending packets once this height is applied. */
  pending: number
  /** Sequences (watched channels, `channel/sequence`) this height sent, and those it acknowledged or timed out. */
  sent: string[]
  ended: string[]
}

export interface IbcWatcher {
  /** Loads the stored state and starts watching; resolves once started (the chain may still be unreachable). */
  start (): Promise<void>
  /** Pending packets with age and stale flag. */
  pending (): PendingPacketView[]
  pendingCount (): number
  /**
   * The pending count when the watcher can vouch for it, else null: it receives no blocks (the chain cannot be
   * read), has not reconciled with the chain's commitments yet, or lags behind the chain. Unknown is not zero:
   * the drain status shows null and mode `unknown` (docs/specification.md section 5), never `drained`.
   */
  knownPendingCount (): number | null
  state (): IbcWatcherState
  /** Runs a reconciliation now (after the heights already known) and resolves when it is done. */
  reconcile (): Promise<void>
  /** Calls `listener` after each height is applied, with the pending count as of that height. */
  onProcessed (listener: (event: ProcessedHeight) => void): () => void
  /** Stops timers, the subscription and the work loop; idempotent. */
  close (): Promise<void>
}
