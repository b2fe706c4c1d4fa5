/**
 * The IBC packet watcher: knows which packets sent on the watched channels still await an acknowledgement or a
 * timeout, so an upgrade can wait until none does.
 *
 * How it stays right while sockets die and chains restart:
 * - It reads EVERY height in order with `block_results` (HTTP), from the last height it applied (kept in the
 *   store) up to the newest height it has heard of. The WebSocket NewBlock subscription only says which heights
 *   exist; nothing is lost while it is down, because the next height it hears of (or the next status poll)
 *   makes the watcher read every height in between.
 * - A subscription that fails, ends, or goes quiet for several block times while the chain moves on is thrown
 *   away and rebuilt (cosmjs does not resubscribe after its own reconnect, cosmos/cosmjs#1217); while the
 *   chain cannot be reached it retries with backoff.
 * - On start and every `ibc.reconcile_interval_secs` it compares its set with the chain's own truth
 *   (PacketCommitments, read at a known height after applying every height up to it): committed packets it
 *   lacks are added, entries without a commitment are removed, and any difference is logged.
 * Bad input (a malformed event, an unknown channel, an unreachable RPC) is logged and reported in `state()`;
 * the watcher keeps running.
 */
import { channels as diagnostics } from '../observability/channels.js'
import { IntentGateError } from '../errors.js'
import { ChainQueryError, ChainUnreachableError, MalformedPacketEventError, UnknownChannelError } from '../chain/errors.js'
import { BlockClock } from './block-clock.js'
import { subscribeNewBlocks, type BlockSubscription } from './block-subscription.js'
import { createChainReader, type ChainReader } from './chain-reader.js'
import { packetEventsOfBlock } from './packet-events.js'
import { PendingSet, type Changes } from './pending-set.js'
import type { IbcWatcher, IbcWatcherOptions, IbcWatcherState, ProcessedHeight } from './types.js'
import { loadWatcherState, saveChanges, saveHeight } from './watcher-store.js'

export type { IbcWatcher, IbcWatcherOptions, IbcWatcherState, ProcessedHeight } from './types.js'

const LAG_TOLERATED_BLOCKS = 5

export function createIbcWatcher (options: IbcWatcherOptions): IbcWatcher {
  const { config, store } = options
  const log = options.logger.child({ component: 'ibc-watcher' })
  const now = options.now ?? Date.now
  const port = config.ibc.port
  const watchedChannels = new Set(config.ibc.channels)
  const staleSecs = config.ibc.stale_packet_secs
  const quietBlocks = options.quietBlocks ?? 5
  const retryMinMs = options.retryMinMs ?? 250
  const retryMaxMs = options.retryMaxMs ?? 10_000
  const reader: ChainReader = createChainReader(config.chain.rpc_url, options.requestTimeoutMs ?? 10_000)
  const isWatched = (p: string, c: string): boolean => p === port && watchedChannels.has(c)

  let pendingSet = new PendingSet()
  let lastHeight: number | null = null
  let targetHeight = 0
  let chainHeight: number | null = null
  let lastBlockAtMs: number | null = null
  let lastSubscribedHeight = 0
  const clock = new BlockClock(options.expectedBlockMs ?? 6000)

  let subscription: BlockSubscription | null = null
  let subscriptionHealthy = false
  let everSubscribed = false
  let connecting = false
  let reconnectDelay = retryMinMs
  let workDelay = retryMinMs
  let livenessTimer: NodeJS.Timeout | null = null
  let reconnectTimer: NodeJS.Timeout | null = null
  let workRetryTimer: NodeJS.Timeout | null = null
  let reconcileTimer: NodeJS.Timeout | null = null
  let started = false
  /** The stored state is loaded: nothing is applied before. */
  let ready = false
  let loadTimer: NodeJS.Timeout | null = null
  let closed = false

  let working: Promise<void> | null = null
  let reconcileWanted = false
  let reconcileWaiters: Array<{ resolve: () => void, reject: (err: unknown) => void }> = []

  let lastError: IbcWatcherState['last_error'] = null
  let lastReconcile: IbcWatcherState['last_reconcile'] = null
  let malformedEvents = 0
  let rebuilt = 0
  const unknownChannels = new Set<string>()
  const ignoredChannels = new Set<string>()
  const listeners = new Set<(event: ProcessedHeight) => void>()

  const recordError = (err: unknown, context: string): void => {
    const typed = err instanceof IntentGateError ? err : null
    const message = err instanceof Error ? err.message : String(err)
    lastError = { code: typed?.code ?? 'IG_ERR', message: `${context}: ${message}`, at_ms: now() }
  }

  const publish = (): void => {
    if (!diagnostics.ibcPending.hasSubscribers) return
    const view = pendingSet.view(now(), staleSecs)
    diagnostics.ibcPending.publish({ pending: view.length, stale: view.filter((p) => p.stale).length, height: lastHeight })
  }

  const persist = async (changes: Changes): Promise<void> => {
    await saveChanges(store, changes)
  }

  // ---- the work loop: heights in order, reconciliations in between -------------------------------------------

  const kick = (): void => {
    if (closed || !ready || working !== null || workRetryTimer !== null) return
    working = runWork().finally(() => { working = null })
  }

  const runWork = async (): Promise<void> => {
    try {
      for (;;) {
        if (closed) break
        if (reconcileWanted) {
          reconcileWanted = false
          const waiters = reconcileWaiters
          reconcileWaiters = []
          try {
            await reconcileAll()
            for (const w of waiters) w.resolve()
          } catch (err) {
            // The caller hears of the failure; the background retry reconciles later all the same.
            reconcileWanted = true
            for (const w of waiters) w.reject(err)
            throw err
          }
          continue
        }
        if (lastHeight !== null && lastHeight < targetHeight) {
          await applyHeight(lastHeight + 1)
          continue
        }
        break
      }
      workDelay = retryMinMs
    } catch (err) {
      if (closed) return
      recordError(err, 'applying chain state')
      log.warn({ err: errorSummary(err), retry_ms: workDelay, last_height: lastHeight }, 'the watcher could not read the chain; retrying')
      workRetryTimer = setTimeout(() => { workRetryTimer = null; kick() }, workDelay)
      workRetryTimer.unref()
      workDelay = Math.min(workDelay * 2, retryMaxMs)
    }
  }

  const applyHeight = async (height: number): Promise<void> => {
    let results
    try {
      results = await reader.blockResults(height)
    } catch (err) {
      if (err instanceof ChainQueryError) {
        const status = await reader.status()
        if (height < status.earliestHeight) {
          // The node pruned what we missed: only the commitments can tell what is still pending.
          log.error({ height, earliest: status.earliestHeight }, 'heights the watcher missed are pruned on the node; reconciling with the packet commitments instead')
          lastHeight = status.earliestHeight - 1
          targetHeight = Math.max(targetHeight, status.height)
          reconcileWanted = true
          await saveHeight(store, lastHeight, now())
          return
        }
      }
      throw err
    }
    const { events, malformed } = packetEventsOfBlock(results)
    for (const bad of malformed) {
      malformedEvents++
      const err = new MalformedPacketEventError(bad.type, height, bad.reason)
      recordError(err, 'reading events')
      log.warn({ code: err.code, height, event: bad.type }, err.message)
    }
    const watched = events.filter((e) => {
      if (isWatched(e.port, e.channel)) return true
      const name = `${e.port}/${e.channel}`
      if (!ignoredChannels.has(name)) {
        ignoredChannels.add(name)
        log.info({ port: e.port, channel: e.channel, height }, 'packets on a channel that ibc.channels does not list are not watched')
      }
      return false
    })
    let timeMs = clock.timeOf(height)
    if (timeMs === undefined && watched.some((e) => e.kind === 'send')) timeMs = await reader.blockTimeMs(height)
    const changes = pendingSet.applyBlock(watched, height, timeMs ?? now())
    await persist(changes)
    await saveHeight(store, height, now())
    lastHeight = height
    for (const e of watched) log.debug({ kind: e.kind, channel: e.channel, sequence: e.sequence, height }, 'packet event')
    const event: ProcessedHeight = {
      height,
      pending: pendingSet.size,
      sent: watched.filter((e) => e.kind === 'send').map((e) => `${e.channel}/${e.sequence}`),
      ended: watched.filter((e) => e.kind !== 'send').map((e) => `${e.channel}/${e.sequence}`)
    }
    for (const listener of listeners) listener(event)
    publish()
  }

  const reconcileAll = async (): Promise<void> => {
    let added = 0
    let removed = 0
    // Commitments are applied on top of every height up to theirs: there must be a starting height first.
    if (lastHeight === null) followStatus((await reader.status()).height)
    let height = lastHeight ?? 0
    for (const channel of watchedChannels) {
      let commitments
      try {
        await reader.channel(port, channel)
        commitments = await reader.packetCommitments(port, channel)
      } catch (err) {
        if (err instanceof ChainQueryError) {
          const unknown = new UnknownChannelError(port, channel, err.message)
          recordError(unknown, 'reconciling')
          if (!unknownChannels.has(channel)) log.error({ code: unknown.code, port, channel }, unknown.message)
          unknownChannels.add(channel)
          continue
        }
        throw err
      }
      if (unknownChannels.delete(channel)) log.info({ port, channel }, 'the chain knows the channel now')
      // Apply every height up to the one the commitments were read at, so both describe the same state.
      targetHeight = Math.max(targetHeight, commitments.height)
      for (;;) {
        if (closed) return
        if (lastHeight === null || lastHeight >= commitments.height) break
        await applyHeight(lastHeight + 1)
      }
      if (lastHeight !== null && lastHeight > commitments.height) {
        log.warn({ channel, read_at: commitments.height, last_height: lastHeight }, 'commitments were read at an older height than the watcher has applied; skipping this reconciliation')
        continue
      }
      const result = pendingSet.reconcile(port, channel, commitments.sequences, now())
      await persist(result)
      height = commitments.height
      added += result.added.length
      removed += result.removed.length
      if (result.added.length > 0 || result.removed.length > 0) {
        log.warn({ channel, height, added: result.added, removed: result.removed }, 'reconciliation with the packet commitments changed the pending set (events were missed or mis-read)')
      }
    }
    lastReconcile = { height, at_ms: now(), added, removed }
    publish()
  }

  // ---- the subscription and its liveness -----------------------------------------------------------------------

  const quietLimitMs = (): number => clock.quietLimitMs(quietBlocks)

  const armLiveness = (): void => {
    if (livenessTimer !== null) clearTimeout(livenessTimer)
    if (closed) return
    livenessTimer = setTimeout(() => { livenessTimer = null; checkLiveness().catch(ignore) }, quietLimitMs())
    livenessTimer.unref()
  }

  const onBlock = (height: number, timeMs: number): void => {
    if (closed) return
    subscriptionHealthy = true
    lastBlockAtMs = now()
    lastSubscribedHeight = Math.max(lastSubscribedHeight, height)
    chainHeight = Math.max(chainHeight ?? 0, height)
    reconnectDelay = retryMinMs
    clock.record(height, timeMs)
    targetHeight = Math.max(targetHeight, height)
    armLiveness()
    kick()
  }

  const dropSubscription = (): void => {
    subscriptionHealthy = false
    subscription?.close()
    subscription = null
  }

  const onSubscriptionFailure = (err: Error): void => {
    if (closed) return
    const typed = new ChainUnreachableError(config.chain.rpc_url, `WebSocket subscription failed: ${err.message}`, { cause: err })
    recordError(typed, 'subscription')
    log.warn({ err: err.message }, 'the NewBlock subscription failed; rebuilding it')
    dropSubscription()
    scheduleReconnect()
  }

  const scheduleReconnect = (): void => {
    if (closed || reconnectTimer !== null) return
    reconnectTimer = setTimeout(() => { reconnectTimer = null; connect().catch(ignore) }, reconnectDelay)
    reconnectTimer.unref()
    reconnectDelay = Math.min(reconnectDelay * 2, retryMaxMs)
  }

  const connect = async (): Promise<void> => {
    if (closed || connecting) return
    connecting = true
    dropSubscription()
    try {
      const status = await reader.status()
      if (closed) return
      followStatus(status.height)
      if (everSubscribed) rebuilt++
      everSubscribed = true
      subscription = subscribeNewBlocks(config.chain.rpc_url, { onBlock, onFailure: onSubscriptionFailure })
      armLiveness()
      kick()
    } catch (err) {
      if (closed) return
      recordError(err, 'connecting')
      log.warn({ err: errorSummary(err), retry_ms: reconnectDelay }, 'cannot reach the chain; retrying')
      scheduleReconnect()
    } finally {
      connecting = false
    }
  }

  /** What a status answer teaches: where to start, how far to read, whether the chain went backwards. */
  const followStatus = (height: number): void => {
    chainHeight = height
    if (lastHeight === null) {
      // Nothing stored: start at the chain's current height; the first reconciliation brings in what is pending.
      lastHeight = height
      reconcileWanted = true
    } else if (height < lastHeight) {
      log.error({ chain_height: height, last_height: lastHeight }, 'the chain is below the height the watcher already applied (a reset chain?); starting over from its height and reconciling')
      lastHeight = height
      targetHeight = height
      reconcileWanted = true
    }
    targetHeight = Math.max(targetHeight, height)
  }

  const checkLiveness = async (): Promise<void> => {
    if (closed) return
    try {
      const status = await reader.status()
      if (closed) return
      followStatus(status.height)
      kick()
      if (status.height > lastSubscribedHeight && subscription !== null) {
        // The chain moved on and the subscription said nothing: it is dead without knowing it.
        log.warn({ chain_height: status.height, last_notified: lastSubscribedHeight, quiet_ms: quietLimitMs() }, 'no NewBlock event while the chain advanced; rebuilding the subscription')
        dropSubscription()
        await connect()
        return
      }
      if (subscription === null) {
        scheduleReconnect()
        return
      }
      log.debug({ height: status.height }, 'no new block; the chain is not producing blocks')
      armLiveness()
    } catch (err) {
      if (closed) return
      recordError(err, 'liveness check')
      log.warn({ err: errorSummary(err) }, 'the chain does not answer; rebuilding the subscription once it does')
      dropSubscription()
      scheduleReconnect()
    }
  }

  /** Loads the stored state (retrying while the store cannot answer), then starts the timers and the subscription. */
  const initialize = async (): Promise<void> => {
    if (closed) return
    let loaded
    try {
      loaded = await loadWatcherState(store, isWatched)
    } catch (err) {
      recordError(err, 'loading the watcher state')
      log.warn({ err: errorSummary(err), retry_ms: workDelay }, 'cannot load the watcher state from the store; retrying')
      loadTimer = setTimeout(() => { loadTimer = null; initialize().catch(ignore) }, workDelay)
      loadTimer.unref()
      workDelay = Math.min(workDelay * 2, retryMaxMs)
      return
    }
    workDelay = retryMinMs
    if (loaded.dropped.length > 0) log.info({ dropped: loaded.dropped }, 'dropped stored pending packets of channels no longer watched')
    pendingSet = new PendingSet(loaded.packets)
    lastHeight = loaded.lastHeight
    reconcileWanted = true
    ready = true
    log.info({ rpc: config.chain.rpc_url, port, channels: [...watchedChannels], last_height: lastHeight, pending: pendingSet.size }, 'IBC watcher starting')
    reconcileTimer = setInterval(() => { reconcileWanted = true; kick() }, config.ibc.reconcile_interval_secs * 1000)
    reconcileTimer.unref()
    await connect()
  }

  // ---- the public face ---------------------------------------------------------------------------------------

  const state = (): IbcWatcherState => {
    const view = pendingSet.view(now(), staleSecs)
    const stale = view.filter((p) => p.stale).length
    const connected = subscription !== null && subscriptionHealthy && lastBlockAtMs !== null && now() - lastBlockAtMs <= quietLimitMs()
    const lag = chainHeight !== null && lastHeight !== null ? chainHeight - lastHeight : 0
    const reasons: string[] = []
    if (!connected) reasons.push('not receiving blocks from the chain')
    // Until the first reconciliation, a fresh watcher cannot know what was pending before it started.
    if (lastReconcile === null) reasons.push('not yet reconciled with the chain\'s packet commitments')
    if (stale > 0) reasons.push(`${stale} packet(s) pending longer than ${staleSecs} s (is the relayer running?)`)
    if (unknownChannels.size > 0) reasons.push(`unknown channel(s): ${[...unknownChannels].join(', ')}`)
    if (lag > LAG_TOLERATED_BLOCKS) reasons.push(`${lag} heights behind the chain`)
    return {
      connected,
      healthy: reasons.length === 0,
      reason: reasons.length === 0 ? null : reasons.join('; '),
      last_height: lastHeight,
      chain_height: chainHeight,
      last_block_at_ms: lastBlockAtMs,
      pending: view.length,
      stale,
      unknown_channels: [...unknownChannels].sort(),
      malformed_events: malformedEvents,
      subscriptions_rebuilt: rebuilt,
      last_error: lastError,
      last_reconcile: lastReconcile
    }
  }

  return {
    start: async () => {
      if (started) return
      started = true
      await initialize()
    },
    pending: () => pendingSet.view(now(), staleSecs),
    pendingCount: () => pendingSet.size,
    state,
    reconcile: async () => {
      if (closed) throw new Error('the IBC watcher is closed')
      const done = new Promise<void>((resolve, reject) => reconcileWaiters.push({ resolve, reject }))
      reconcileWanted = true
      if (workRetryTimer !== null) {
        clearTimeout(workRetryTimer)
        workRetryTimer = null
      }
      kick()
      await done
    },
    onProcessed: (listener) => {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    },
    close: async () => {
      if (closed) return
      closed = true
      for (const timer of [livenessTimer, reconnectTimer, workRetryTimer, loadTimer]) if (timer !== null) clearTimeout(timer)
      if (reconcileTimer !== null) clearInterval(reconcileTimer)
      dropSubscription()
      await working
      for (const w of reconcileWaiters) w.reject(new Error('the IBC watcher closed before the reconciliation ran'))
      reconcileWaiters = []
      reader.close()
      log.info({ last_height: lastHeight, pending: pendingSet.size }, 'IBC watcher stopped')
    }
  }
}

/** For promises whose failures are already handled inside. */
function ignore (): void {}

function errorSummary (err: unknown): { code?: string, message: string } {
  if (err instanceof IntentGateError) return { code: err.code, message: err.message }
  return { message: err instanceof Error ? err.message : String(err) }
}
