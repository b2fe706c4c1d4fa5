/**
 * Tells listeners when the control state changes. The Redis store polls (every instance sees an operator's
 * `redis-cli SET` within one interval) and calls `check()` on every pub/sub message (the gateway's own writes);
 * the embedded store calls `check()` after each of its own writes.
 * One timer per store however many listeners; a failed read is skipped (the store's health reports it) and the
 * next tick tries again.
 */
import type { ControlState } from './types.js'
import { sameControl } from './control.js'

export type ControlListener = (state: ControlState) => void

export class ControlWatcher {
  private readonly listeners = new Set<ControlListener>()
  private last: ControlState | null = null
  private timer: NodeJS.Timeout | null = null
  private checking: Promise<void> | null = null
  private again = false
  private closed = false

  constructor (
    private readonly read: () => Promise<ControlState>,
    /** Poll interval; null: no timer, changes are pushed with `check()`. */
    private readonly intervalMs: number | null,
    private readonly onListenerError: (err: unknown) => void
  ) {}

  /** Adds a listener; it hears the current state as soon as it is known, then every change. */
  watch (listener: ControlListener): () => void {
    this.listeners.add(listener)
    if (this.last !== null) {
      const current = this.last
      queueMicrotask(() => { if (this.listeners.has(listener)) this.deliver(listener, current) })
    }
    this.start()
    this.check()
    return () => {
      this.listeners.delete(listener)
      if (this.listeners.size === 0) {
        this.stop()
        this.last = null
      }
    }
  }

  /**
   * Reads and notifies on a change. A call while a read is under way reads once more after it (that read may have
   * started before the change the caller knows of: a pushed change must not wait for the next tick).
   */
  async check (): Promise<void> {
    if (this.closed || this.listeners.size === 0) return
    if (this.checking !== null) {
      this.again = true
      return await this.checking
    }
    this.checking = (async () => {
      try {
        do {
          this.again = false
          await this.readOnce()
        } while (this.again && !this.closed)
      } finally {
        // Cleared in the same step as the loop's last `again` test: a `.finally()` on the loop's promise ran a few
        // microtasks later, and a check() in between set `again` on a loop already over, so that change was never
        // read (the embedded store, which has no poll, then missed a rolled-back upgrade's end until the next write).
        this.checking = null
      }
    })()
    return await this.checking
  }

  private async readOnce (): Promise<void> {
    await this.read().then((state) => {
      if (this.last !== null && sameControl(this.last, state)) return
      this.last = state
      for (const listener of this.listeners) this.deliver(listener, state)
    }, () => {
      // The store marks itself unavailable; admission fails closed on its own, the next tick retries.
    })
  }

  close (): void {
    this.closed = true
    this.listeners.clear()
    this.stop()
  }

  private deliver (listener: ControlListener, state: ControlState): void {
    try {
      listener(state)
    } catch (err) {
      this.onListenerError(err)
    }
  }

  private start (): void {
    if (this.timer !== null || this.intervalMs === null || this.closed) return
    this.timer = setInterval(() => { this.check() }, this.intervalMs)
    this.timer.unref()
  }

  private stop (): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }
}
