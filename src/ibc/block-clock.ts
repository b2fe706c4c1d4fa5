/**
 * What the watcher knows of the chain's clock: the time of recent blocks (so a packet's age starts at its
 * block's time without another RPC call) and the chain's block interval, measured as the median of the last
 * intervals seen, so "no block for N block times" means the same on a 100 ms test chain and a 6 s mainnet.
 */

const TIMES_KEPT = 64
const INTERVALS_KEPT = 20
const MIN_BLOCK_MS = 50
const MAX_BLOCK_MS = 60_000

export class BlockClock {
  readonly #times = new Map<number, number>()
  readonly #intervals: number[] = []
  #blockMs: number

  /** `initialBlockMs`: the block time assumed until blocks have been seen. */
  constructor (initialBlockMs: number) {
    this.#blockMs = initialBlockMs
  }

  /** The measured (or assumed) block interval, ms. */
  get blockMs (): number {
    return this.#blockMs
  }

  /** Records a block's time (ms); two consecutive heights give one interval sample. */
  record (height: number, timeMs: number): void {
    const previous = this.#times.get(height - 1)
    this.#times.set(height, timeMs)
    if (this.#times.size > TIMES_KEPT) this.#times.delete(this.#times.keys().next().value as number)
    if (previous === undefined || timeMs <= previous) return
    this.#intervals.push(timeMs - previous)
    if (this.#intervals.length > INTERVALS_KEPT) this.#intervals.shift()
    const sorted = [...this.#intervals].sort((a, b) => a - b)
    this.#blockMs = Math.min(MAX_BLOCK_MS, Math.max(MIN_BLOCK_MS, sorted[Math.floor(sorted.length / 2)] as number))
  }

  /** The time of a recent block, if it was recorded. */
  timeOf (height: number): number | undefined {
    return this.#times.get(height)
  }

  /** How long without a block counts as quiet: `blocks` block times, at least 1 s. */
  quietLimitMs (blocks: number): number {
    return Math.max(1000, blocks * this.#blockMs)
  }
}
