/**
 * How long a drain has left, from how the inflight count has been falling: an exponential fit between the first
 * sample of the last DECAY_WINDOW_MS and the latest gives the time for the count to fall below one intent.
 * Intents settle independently, so the count decays roughly exponentially; a straight line would promise too
 * early when a few slow intents are left. The coordinator's resume estimate (an upgrade's drain) uses it.
 * The proxy's Retry-After (an operator's drain) uses the straight line instead: a client told too little comes
 * back once more and is told again, one told too much waits for nothing.
 */

export const DECAY_WINDOW_MS = 10_000

export interface InflightSample { at: number, inflight: number }

export class InflightDecay {
  private samples: InflightSample[] = []

  /** Adds a reading of the inflight count (ms); a reading at the same time as the last is ignored. */
  sample (at: number, inflight: number): void {
    const last = this.samples.at(-1)
    if (last !== undefined && last.at === at) return
    this.samples.push({ at, inflight })
    const cutoff = at - DECAY_WINDOW_MS * 2
    while ((this.samples[0]?.at ?? Infinity) < cutoff) this.samples.shift()
  }

  /** How many readings are kept. */
  get count (): number {
    return this.samples.length
  }

  /** The latest reading, or undefined. */
  last (): InflightSample | undefined {
    return this.samples.at(-1)
  }

  clear (): void {
    this.samples = []
  }

  /** Time (ms) until the count falls below one, from its decay over the last window; null without a decrease. */
  leftMs (): number | null {
    const span = this.window()
    if (span === null) return null
    const [first, last] = span
    if (last.inflight === 0) return 0
    const tau = (last.at - first.at) / Math.log(first.inflight / last.inflight)
    return tau * Math.log(last.inflight / 0.5)
  }

  /** Time (ms) until the count reaches zero at the rate it fell over the last window; null without a decrease. */
  linearLeftMs (): number | null {
    const span = this.window()
    if (span === null) return null
    const [first, last] = span
    return last.inflight * (last.at - first.at) / (first.inflight - last.inflight)
  }

  /** The first reading of the last window and the latest, when the count fell between them. */
  private window (): [InflightSample, InflightSample] | null {
    const last = this.samples.at(-1)
    const first = this.samples.find((s) => last !== undefined && last.at - s.at <= DECAY_WINDOW_MS)
    if (last === undefined || first === undefined || last.at === first.at || last.inflight >= first.inflight) return null
    return [first, last]
  }
}
