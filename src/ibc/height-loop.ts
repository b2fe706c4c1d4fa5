/**
 * The watcher's work loop: every height in order with `block_results`, from the last height it applied (kept
 * in the store) up to the newest height it has heard of, with reconciliations queued in between. A
 * reconciliation compares the pending set with the chain's PacketCommitments, read at a known height after
 * applying every height up to it: committed packets it lacks are added, entries without a commitment are
 * removed, and any difference is logged. One run at a time; a failed run is retried with backoff.
 */
import type { Logger } from '../log.js'
import type { DocumentStore } from '../store/types.js'
import { channels as diagnostics } from '../observability/channels.js'
import { ChainQueryError, MalformedPacketEventError, UnknownChannelError } from '../chain/errors.js'
import type { Backoff } from './backoff.js'
import type { BlockClock } from './block-clock.js'
import type { ChainReader } from './chain-reader.js'
import { packetEventsOfBlock } from './packet-events.js'
import { PendingSet, type PendingPacket, type PendingPacketView } from './pending-set.js'
import type { IbcWatcherState, ProcessedHeight } from './types.js'
import { errorSummary, type LastError } from './last-error.js'
import { saveChanges, saveHeight } from './watcher-store.js'

export interface HeightLoopOptions {
  store: DocumentStore
  reader: ChainReader
  clock: BlockClock
  port: string
  channels: ReadonlySet<string>
  staleSecs: number
  now: () => number
  log: Logger
  errors: LastError
  /** Between failed runs. */
  backoff: Backoff
}

export class HeightLoop {
  lastHeight: number | null = null
  /** The newest height the chain is known to have (NewBlock events, status answers). */
  chainHeight: number | null = null
  lastReconcile: IbcWatcherState['last_reconcile'] = null
  malformedEvents = 0
  readonly unknownChannels = new Set<string>()

  #pending = new PendingSet()
  #targetHeight = 0
  /** The stored state is loaded: nothing is applied before. */
  #ready = false
  #closed = false
  #working: Promise<void> | null = null
  #retryTimer: NodeJS.Timeout | null = null
  #reconcileWanted = false
  #reconcileWaiters: Array<{ resolve: () => void, reject: (err: unknown) => void }> = []
  readonly #ignoredChannels = new Set<string>()
  readonly #listeners = new Set<(event: ProcessedHeight) => void>()

  constructor (private readonly o: HeightLoopOptions) {}

  get size (): number {
    return this.#pending.size
  }

  view (): PendingPacketView[] {
    return this.#pending.view(this.o.now(), this.o.staleSecs)
  }

  /** Starts from the stored state, with a reconciliation first. */
  load (packets: PendingPacket[], lastHeight: number | null): void {
    this.#pending = new PendingSet(packets)
    this.lastHeight = lastHeight
    this.#reconcileWanted = true
    this.#ready = true
  }

  /** A NewBlock event: the chain has `height`. */
  heard (height: number): void {
    this.chainHeight = Math.max(this.chainHeight ?? 0, height)
    this.#targetHeight = Math.max(this.#targetHeight, height)
  }

  /** What a status answer teaches: where to start, how far to read, whether the chain went backwards. */
  followStatus (height: number): void {
    this.chainHeight = height
    if (this.lastHeight === null) {
      // Nothing stored: start at the chain's current height; the first reconciliation brings in what is pending.
      this.lastHeight = height
      this.#reconcileWanted = true
    } else if (height < this.lastHeight) {
      this.o.log.error({ chain_height: height, last_height: this.lastHeight }, 'the chain is below the height the watcher already applied (a reset chain?); starting over from its height and reconciling')
      this.lastHeight = height
      this.#targetHeight = height
      this.#reconcileWanted = true
    }
    this.#targetHeight = Math.max(this.#targetHeight, height)
  }

  /** Runs the loop unless it runs already or waits to retry. */
  kick (): void {
    if (this.#closed || !this.#ready || this.#working !== null || this.#retryTimer !== null) return
    this.#working = this.#run().finally(() => { this.#working = null })
  }

  /** Queues a reconciliation (the periodic one). */
  wantReconcile (): void {
    this.#reconcileWanted = true
    this.kick()
  }

  /** Queues a reconciliation now, past a pending retry, and resolves (or rejects) when it ran. */
  async reconcileNow (): Promise<void> {
    const done = new Promise<void>((resolve, reject) => this.#reconcileWaiters.push({ resolve, reject }))
    this.#reconcileWanted = true
    if (this.#retryTimer !== null) {
      clearTimeout(this.#retryTimer)
      this.#retryTimer = null
    }
    this.kick()
    await done
  }

  onProcessed (listener: (event: ProcessedHeight) => void): () => void {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }

  /** Stops the retries and waits for the run in progress; queued reconciliations are refused. */
  async close (): Promise<void> {
    this.#closed = true
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer)
    await this.#working
    for (const w of this.#reconcileWaiters) w.reject(new Error('the IBC watcher closed before the reconciliation ran'))
    this.#reconcileWaiters = []
  }

  async #run (): Promise<void> {
    try {
      for (;;) {
        if (this.#closed) break
        if (this.#reconcileWanted) {
          this.#reconcileWanted = false
          const waiters = this.#reconcileWaiters
          this.#reconcileWaiters = []
          try {
            await this.#reconcileAll()
            for (const w of waiters) w.resolve()
          } catch (err) {
            // The caller hears of the failure; the background retry reconciles later all the same.
            this.#reconcileWanted = true
            for (const w of waiters) w.reject(err)
            throw err
          }
          continue
        }
        if (this.lastHeight !== null && this.lastHeight < this.#targetHeight) {
          await this.#applyHeight(this.lastHeight + 1)
          continue
        }
        break
      }
      this.o.backoff.reset()
    } catch (err) {
      if (this.#closed) return
      this.o.errors.record(err, 'applying chain state')
      const delay = this.o.backoff.take()
      this.o.log.warn({ err: errorSummary(err), retry_ms: delay, last_height: this.lastHeight }, 'the watcher could not read the chain; retrying')
      this.#retryTimer = setTimeout(() => { this.#retryTimer = null; this.kick() }, delay)
      this.#retryTimer.unref()
    }
  }

  async #applyHeight (height: number): Promise<void> {
    const { reader, store, log, now } = this.o
    let results
    try {
      results = await reader.blockResults(height)
    } catch (err) {
      if (err instanceof ChainQueryError) {
        const status = await reader.status()
        if (height < status.earliestHeight) {
          // The node pruned what we missed: only the commitments can tell what is still pending.
          log.error({ height, earliest: status.earliestHeight }, 'heights the watcher missed are pruned on the node; reconciling with the packet commitments instead')
          this.lastHeight = status.earliestHeight - 1
          this.#targetHeight = Math.max(this.#targetHeight, status.height)
          this.#reconcileWanted = true
          await saveHeight(store, this.lastHeight, now())
          return
        }
      }
      throw err
    }
    const { events, malformed } = packetEventsOfBlock(results)
    for (const bad of malformed) {
      this.malformedEvents++
      const err = new MalformedPacketEventError(bad.type, height, bad.reason)
      this.o.errors.record(err, 'reading events')
      log.warn({ code: err.code, height, event: bad.type }, err.message)
    }
    const watched = events.filter((e) => {
      if (e.port === this.o.port && this.o.channels.has(e.channel)) return true
      const name = `${e.port}/${e.channel}`
      if (!this.#ignoredChannels.has(name)) {
        this.#ignoredChannels.add(name)
        log.info({ port: e.port, channel: e.channel, height }, 'packets on a channel that ibc.channels does not list are not watched')
      }
      return false
    })
    let timeMs = this.o.clock.timeOf(height)
    if (timeMs === undefined && watched.some((e) => e.kind === 'send')) timeMs = await reader.blockTimeMs(height)
    const changes = this.#pending.applyBlock(watched, height, timeMs ?? now())
    await saveChanges(store, changes)
    await saveHeight(store, height, now())
    this.lastHeight = height
    for (const e of watched) log.debug({ kind: e.kind, channel: e.channel, sequence: e.sequence, height }, 'packet event')
    const event: ProcessedHeight = {
      height,
      pending: this.#pending.size,
      sent: watched.filter((e) => e.kind === 'send').map((e) => `${e.channel}/${e.sequence}`),
      ended: watched.filter((e) => e.kind !== 'send').map((e) => `${e.channel}/${e.sequence}`)
    }
    for (const listener of this.#listeners) listener(event)
    this.#publish()
  }

  async #reconcileAll (): Promise<void> {
    const { reader, store, log, now, port } = this.o
    let added = 0
    let removed = 0
    // Commitments are applied on top of every height up to theirs: there must be a starting height first.
    if (this.lastHeight === null) this.followStatus((await reader.status()).height)
    let height = this.lastHeight ?? 0
    for (const channel of this.o.channels) {
      let commitments
      try {
        await reader.channel(port, channel)
        commitments = await reader.packetCommitments(port, channel)
      } catch (err) {
        if (err instanceof ChainQueryError) {
          const unknown = new UnknownChannelError(port, channel, err.message)
          this.o.errors.record(unknown, 'reconciling')
          if (!this.unknownChannels.has(channel)) log.error({ code: unknown.code, port, channel }, unknown.message)
          this.unknownChannels.add(channel)
          continue
        }
        throw err
      }
      if (this.unknownChannels.delete(channel)) log.info({ port, channel }, 'the chain knows the channel now')
      // Apply every height up to the one the commitments were read at, so both describe the same state.
      this.#targetHeight = Math.max(this.#targetHeight, commitments.height)
      for (;;) {
        if (this.#closed) return
        if (this.lastHeight === null || this.lastHeight >= commitments.height) break
        await this.#applyHeight(this.lastHeight + 1)
      }
      if (this.lastHeight !== null && this.lastHeight > commitments.height) {
        log.warn({ channel, read_at: commitments.height, last_height: this.lastHeight }, 'commitments were read at an older height than the watcher has applied; skipping this reconciliation')
        continue
      }
      const result = this.#pending.reconcile(port, channel, commitments.sequences, now())
      await saveChanges(store, result)
      height = commitments.height
      added += result.added.length
      removed += result.removed.length
      if (result.added.length > 0 || result.removed.length > 0) {
        log.warn({ channel, height, added: result.added, removed: result.removed }, 'reconciliation with the packet commitments changed the pending set (events were missed or mis-read)')
      }
    }
    this.lastReconcile = { height, at_ms: now(), added, removed }
    this.#publish()
  }

  #publish (): void {
    if (!diagnostics.ibcPending.hasSubscribers) return
    const view = this.view()
    diagnostics.ibcPending.publish({ pending: view.length, stale: view.filter((p) => p.stale).length, height: this.lastHeight })
  }
}
