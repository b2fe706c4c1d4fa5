/** Percentiles over raw latency samples (the swap windows; wrk and autocannon compute their own). */

/** The `p`th percentile (0-100) of `values`, nearest-rank; NaN for no values. */
export function percentile (values: number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)))
  return sorted[rank - 1] as number
}
