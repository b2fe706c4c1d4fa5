/**
 * A retry delay: `minMs`, doubling on each retry up to `maxMs`, back to `minMs` once the retried thing works.
 * The watcher keeps one per thing it retries (the subscription, the work loop, loading its stored state).
 */
export class Backoff {
  #delayMs: number

  constructor (readonly minMs: number, readonly maxMs: number) {
    this.#delayMs = minMs
  }

  /** The delay the next retry waits. */
  get nextMs (): number {
    return this.#delayMs
  }

  /** The delay to wait now; the one after is twice as long. */
  take (): number {
    const delay = this.#delayMs
    this.#delayMs = Math.min(delay * 2, this.maxMs)
    return delay
  }

  reset (): void {
    this.#delayMs = this.minMs
  }
}
