/**
 * This instance's view of what clients are told: the store's control state (drain, upgrade flag) and the
 * coordinator's UpgradeNotice (scheduled, verifying; src/notice/notice.ts). The notice is read every
 * `redis.poll_interval_ms` and at once on every control change. A control change is published together with the
 * notice read after it: the coordinator writes the notice before the flag, so the notice read after a flag change
 * is at least as new as the flag, while the notice held from before (`resuming` once the flag is cleared) would
 * pair an old notice with a new flag. Listeners hear every change of either.
 */
import type { ControlState, ControlStore, DocumentStore } from '../store/types.js'
import { NOTICE_DOC, type UpgradeNotice } from '../notice/notice.js'

export interface NoticeState {
  /** null until the store answered once. */
  control: ControlState | null
  notice: UpgradeNotice | null
}

export type NoticeListener = (state: NoticeState) => void

export class NoticeWatcher {
  private readonly listeners = new Set<NoticeListener>()
  private state: NoticeState = { control: null, notice: null }
  private unwatch: (() => void) | null = null
  private timer: NodeJS.Timeout | null = null
  private reading: Promise<void> | null = null
  private again = false
  /** A control change waiting for the notice read that starts after it. */
  private nextControl: ControlState | null = null
  private lastNotice = 'null'

  constructor (private readonly store: Pick<ControlStore, 'watchControl'> & Pick<DocumentStore, 'getDoc'>, private readonly pollMs: number, private readonly onError: (err: unknown) => void) {}

  /**
   * `initial`: the control state the caller has read already (the proxy reads it before it listens), known at once
   * so that a client's first status is not `unknown` while the first notice read is under way; the notice read
   * that follows is after it, as after any change. Without it the control state is unknown until that read ends.
   */
  start (initial: ControlState | null = null): void {
    if (this.unwatch !== null) return
    if (initial !== null) this.state = { ...this.state, control: initial }
    this.unwatch = this.store.watchControl((control) => {
      this.nextControl = control
      this.readNotice()
    })
    this.timer = setInterval(() => { this.readNotice() }, this.pollMs)
    this.timer.unref()
    this.readNotice()
  }

  close (): void {
    this.unwatch?.()
    this.unwatch = null
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    this.listeners.clear()
  }

  current (): NoticeState {
    return this.state
  }

  /** Hears every change from now on. */
  subscribe (listener: NoticeListener): () => void {
    this.listeners.add(listener)
    return () => { this.listeners.delete(listener) }
  }

  /** One read at a time; a read asked for during one runs again after it (it may have started too early). */
  private readNotice (): void {
    if (this.reading !== null) {
      this.again = true
      return
    }
    this.reading = (async () => {
      try {
        do {
          this.again = false
          const control = this.nextControl
          this.nextControl = null
          let changed = control !== null
          try {
            const notice = await this.store.getDoc<UpgradeNotice>(NOTICE_DOC)
            const raw = JSON.stringify(notice)
            if (raw !== this.lastNotice) {
              this.lastNotice = raw
              this.state = { ...this.state, notice }
              changed = true
            }
          } catch {
            // The store reports its own health; the next poll tries again. A control change still goes out.
          }
          if (control !== null) this.state = { ...this.state, control }
          if (changed) this.emit()
        } while (this.again && this.unwatch !== null)
      } finally {
        // Cleared in the same step as the loop's last `again` test (a `.finally()` ran microtasks later, and a
        // control change in between set `again` on a loop already over: it waited for the next poll).
        this.reading = null
      }
    })()
  }

  private emit (): void {
    for (const listener of this.listeners) {
      try {
        listener(this.state)
      } catch (err) {
        this.onError(err)
      }
    }
  }
}
