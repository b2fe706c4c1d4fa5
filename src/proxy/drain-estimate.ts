/**
 * What an operator's drain has left, as this instance sees it: while the `drain` switch is on (and no upgrade
 * runs: the coordinator estimates those), the inflight count is read every SAMPLE_MS and its decay fitted
 * (src/drain/decay.ts). Retry-After is made from it (./retry-after.ts): one store read per second per instance,
 * whatever the number of refused requests.
 */
import type { ControlStore, IntentStore } from '../store/types.js'
import { InflightDecay } from '../drain/decay.js'

const SAMPLE_MS = 1000
/** Readings before the decay's rate is believed (see left()). */
const MIN_READINGS = 3

export interface DrainLeft {
  /** `drained`: nothing inflight (the drain waits for its operator); `falling`: ms left by the decay; `unknown`: no decrease seen yet. */
  kind: 'drained' | 'falling' | 'unknown'
  ms: number
}

export class DrainEstimate {
  private readonly decay = new InflightDecay()
  private timer: NodeJS.Timeout | null = null
  private off: (() => void) | null = null

  constructor (private readonly store: Pick<ControlStore, 'watchControl'> & Pick<IntentStore, 'inflightCount'>, private readonly now: () => number) {}

  start (): void {
    if (this.off !== null) return
    this.off = this.store.watchControl((state) => {
      const draining = state.drain !== null && state.upgrade === null
      if (draining && this.timer === null) {
        // A new drain starts a new fit: the decay of the last one says nothing about this one.
        this.decay.clear()
        this.read()
        this.timer = setInterval(() => { this.read() }, SAMPLE_MS)
        this.timer.unref()
      } else if (!draining && this.timer !== null) {
        this.stopSampling()
      }
    })
  }

  /** What is left of the current drain, as of the latest readings. */
  left (): DrainLeft {
    const last = this.decay.last()
    if (last !== undefined && last.inflight === 0) return { kind: 'drained', ms: 0 }
    // Two readings a second apart often see one settlement where the next second sees four: a rate from a single
    // interval told clients 11 s for a drain 3 s from done. It takes two intervals to be worth more than the fallback.
    const ms = this.decay.count < MIN_READINGS ? null : this.decay.linearLeftMs()
    return ms === null ? { kind: 'unknown', ms: 0 } : { kind: 'falling', ms: Math.max(0, ms - (this.now() - (last?.at ?? this.now()))) }
  }

  close (): void {
    this.off?.()
    this.off = null
    this.stopSampling()
  }

  private stopSampling (): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    this.decay.clear()
  }

  private read (): void {
    this.store.inflightCount().then((count) => {
      // A reading that comes back after the drain ended belongs to no drain.
      if (this.timer !== null) this.decay.sample(this.now(), count)
    }, () => {
      // The store's health reports it; no reading, no estimate change.
    })
  }
}
