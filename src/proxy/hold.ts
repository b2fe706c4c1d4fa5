/**
 * The hold (docs/specification.md section 3, "Holding during an upgrade"): a submission that arrives while a coordinated upgrade
 * runs waits here, neither registered nor forwarded, for up to `[upgrade] hold_new_intents_secs`, and is admitted
 * again the moment the `upgrade` key disappears (the store's control watch: Redis pub/sub beside the poll, or the
 * embedded store's own writes). A held submission is not inflight, so the drain it waits for can finish.
 *
 * Bounded: at most `hold_max_intents` wait per instance, holding at most `hold_max_bytes` of compact bodies
 * (beyond either, the refusal stands at once); each costs its canonical body (not the client's bytes: the caller
 * holds only the compact form), one timer and one entry in a Set. A client that goes away while held is
 * dropped at once: its timer cleared, its entry removed. An operator's drain (`drain` key) is never held.
 */
import type { ServerResponse } from 'node:http'
import { channels } from '../observability/channels.js'
import type { AdmitResult, ControlState, ControlStore } from '../store/types.js'
import { ClientClosedError } from './body.js'

export interface HoldOptions {
  /** `[upgrade] hold_new_intents_secs`; 0 disables the hold. */
  holdSecs: number
  /** `[upgrade] hold_max_intents` per instance. */
  maxHeld: number
  /** `[upgrade] hold_max_bytes` per instance: the sum of the held submissions' compact bodies. */
  maxHeldBytes: number
  /** `redis.poll_interval_ms`: how soon to try again when this instance has not seen the upgrade's flag yet. */
  recheckMs: number
}

type Wake = 'changed' | 'timeout' | 'gone'

interface Waiter { wake: (why: Wake) => void }

/** Phases in which waiting makes no sense: a failed upgrade keeps the system drained until an operator acts. */
const NOT_HELD_PHASES = new Set(['failed'])

export class SubmissionHold {
  private readonly waiters = new Set<Waiter>()
  private heldBytes = 0
  private unwatch: (() => void) | null = null
  private upgrading = false
  private stopped = false

  constructor (private readonly store: Pick<ControlStore, 'watchControl'>, private readonly options: HoldOptions) {}

  /** Starts listening to the control state (one listener however many are held). */
  start (): void {
    if (this.unwatch !== null) return
    this.stopped = false
    this.unwatch = this.store.watchControl((state) => { this.onControl(state) })
  }

  /** Stops listening; every held submission tries once more now and gets its answer (the proxy is closing). */
  close (): void {
    this.stopped = true
    this.unwatch?.()
    this.unwatch = null
    this.wakeAll('changed')
  }

  /** How many submissions wait right now. */
  size (): number {
    return this.waiters.size
  }

  /** The bytes of compact bodies held right now. */
  bytes (): number {
    return this.heldBytes
  }

  enabled (): boolean {
    return this.options.holdSecs > 0
  }

  /**
   * Admits through `attempt`; a refusal because an upgrade runs (and no operator drain) is held and tried again on
   * every control change until admitted, refused otherwise, or the hold ends (then the last refusal stands).
   * `attempt(true)` means a retry after the hold: the caller picks the (possibly new) active upstream again.
   * Throws ClientClosedError when the client went away while held.
   */
  async admitOrHold (res: ServerResponse, attempt: (again: boolean) => Promise<AdmitResult>, bytes = 0): Promise<AdmitResult> {
    const result = await attempt(false)
    if (!this.holdable(result)) return result
    if (this.waiters.size >= this.options.maxHeld || this.heldBytes + bytes > this.options.maxHeldBytes) {
      publish('full', 0)
      return result
    }
    this.heldBytes += bytes
    try {
      return await this.hold(res, attempt, result)
    } finally {
      this.heldBytes -= bytes
      this.publishSize()
    }
  }

  private async hold (res: ServerResponse, attempt: (again: boolean) => Promise<AdmitResult>, first: AdmitResult): Promise<AdmitResult> {
    let result = first
    const started = performance.now()
    const deadline = started + this.options.holdSecs * 1000
    for (;;) {
      const why = await this.waitForChange(res, deadline - performance.now())
      if (why === 'gone') {
        publish('gone', performance.now() - started)
        throw new ClientClosedError('the client went away while its submission was held')
      }
      result = await attempt(true)
      if (!this.holdable(result)) {
        publish(result.kind === 'refused' ? 'refused' : 'released', performance.now() - started)
        return result
      }
      if (why === 'timeout' || performance.now() >= deadline) {
        publish('expired', performance.now() - started)
        return result
      }
    }
  }

  private holdable (result: AdmitResult): boolean {
    return !this.stopped && this.options.holdSecs > 0 && result.kind === 'refused' && result.reason === 'upgrading' && result.drain === null &&
      !NOT_HELD_PHASES.has(result.upgrade?.phase ?? '')
  }

  private async waitForChange (res: ServerResponse, ms: number): Promise<Wake> {
    if (res.destroyed || res.socket === null || res.socket.destroyed) return 'gone'
    return await new Promise<Wake>((resolve) => {
      // The store refused because of an upgrade this instance's watch has not seen yet (it polls): should the flag
      // go before the watch ever sees it, no change would be reported, so try again after one poll instead.
      const recheck = !this.upgrading && ms > this.options.recheckMs
      const timer = setTimeout(() => { waiter.wake(recheck ? 'changed' : 'timeout') }, Math.max(0, recheck ? this.options.recheckMs : ms))
      const onGone = (): void => { waiter.wake('gone') }
      const waiter: Waiter = {
        wake: (why) => {
          this.waiters.delete(waiter)
          clearTimeout(timer)
          // 'close' on the response, not the request: on Node >= 16 a request's 'close' fires as soon as its body
          // has been read, while the response's fires when the connection goes away before it was answered.
          res.off('close', onGone)
          resolve(why)
        }
      }
      res.once('close', onGone)
      this.waiters.add(waiter)
      this.publishSize()
    })
  }

  private onControl (state: ControlState): void {
    const upgrading = state.upgrade !== null
    this.upgrading = upgrading
    // Only the end of the upgrade (or an operator's drain, which refuses at once) is worth another admission.
    if (!upgrading || state.drain !== null) this.wakeAll('changed')
  }

  private publishSize (): void {
    if (channels.holdSize.hasSubscribers) channels.holdSize.publish({ held: this.waiters.size, bytes: this.heldBytes })
  }

  private wakeAll (why: Wake): void {
    for (const waiter of [...this.waiters]) waiter.wake(why)
  }
}

function publish (event: 'full' | 'gone' | 'released' | 'refused' | 'expired', waitedMs: number): void {
  if (channels.hold.hasSubscribers) channels.hold.publish({ event, waitedMs })
}
