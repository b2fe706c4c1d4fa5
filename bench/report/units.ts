/** How the report prints a figure by its unit (ratios, costs). */

export type Unit = 'x' | '%' | 'us' | 'bytes'

/** A ratio's value as printed: `x` with two decimals, `%` with `pctDigits`, µs with one, bytes whole. */
export function formatValue (n: number, unit: Unit, pctDigits = 1): string {
  if (unit === 'x') return `${n.toFixed(2)}x`
  if (unit === '%') return `${(n * 100).toFixed(pctDigits)}%`
  if (unit === 'us') return `${n.toFixed(1)} us`
  return `${Math.round(n).toLocaleString('en-US')} B`
}
