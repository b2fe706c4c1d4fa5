/**
 * Writes that record what already happened upstream (bind, release, unknown, complete, and the clean-up of an
 * admission whose answer was lost) must reach Redis even when it was away at the time: the inflight accounting
 * converges only if none is skipped. This queue keeps them in order, bounded, and replays them when the
 * connection is back (or on a timer after a timeout on a connection that stayed up).
 */
import type { StoreLogger } from '../options.js'
import { isConnectivityError } from './redis-errors.js'

export interface RepairQueueOptions<T> {
  /** Applies one write; rejects when Redis cannot take it. */
  apply: (write: T) => Promise<unknown>
  /** Whether the connection is up now (a replay is only tried then). */
  connected: () => boolean
  /** Called after a replayed write succeeded: the connection works. */
  succeeded: () => void
  log: StoreLogger | undefined
  /** Beyond this many the oldest are dropped, and logged: memory stays bounded in a long outage. */
  max: number
  /** How soon a replay stopped by a timeout on a live connection is tried again (ms). */
  retryMs: number
}

export class RepairQueue<T> {
  private readonly writes: T[] = []
  private running: Promise<void> | null = null
  private timer: NodeJS.Timeout | null = null
  private closed = false

  constructor (private readonly options: RepairQueueOptions<T>) {}

  get pending (): number {
    return this.writes.length
  }

  /** Keeps a write that did not reach Redis; tries at once if the connection is already back. */
  add (write: T): void {
    this.writes.push(write)
    if (this.writes.length > this.options.max) {
      const dropped = this.writes.shift()
      this.options.log?.error({ dropped }, 'store: too many writes waiting for Redis; dropped the oldest')
    }
    if (this.options.connected()) this.run().catch(() => {})
  }

  /** Replays the waiting writes in order; stops at the first connectivity failure. Resolves when it stops. */
  async run (): Promise<void> {
    this.running ??= (async () => {
      while (this.writes.length > 0 && !this.closed) {
        const next = this.writes[0] as T
        try {
          await this.options.apply(next)
          this.options.succeeded()
        } catch (err) {
          if (isConnectivityError(err)) {
            // A reconnect runs the queue again; a timeout on a live connection does not reconnect: use a timer.
            this.retryLater()
            break
          }
          this.options.log?.error({ err, repair: next }, 'store: a replayed write failed; dropped')
        }
        this.writes.shift()
      }
    })().finally(() => { this.running = null })
    await this.running
  }

  close (): void {
    this.closed = true
    if (this.timer !== null) clearTimeout(this.timer)
    if (this.writes.length > 0) this.options.log?.warn({ pending: this.writes.length }, 'store: closing with writes that never reached Redis')
  }

  private retryLater (): void {
    if (this.timer !== null || this.closed) return
    this.timer = setTimeout(() => {
      this.timer = null
      if (this.options.connected()) this.run().catch(() => {})
    }, this.options.retryMs)
    this.timer.unref()
  }
}
