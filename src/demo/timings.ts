/** How long each stage of the demo lasts: the normal pace for a person watching, `--quick` for tests. */

export interface DemoTimings {
  /** Stage 2: steady traffic before anything happens. */
  trafficSecs: number
  /** Stage 3: the drain's deadline (what clients are told in Retry-After), and how long it is held at least. */
  drainSecs: number
  /** After the drain stops (and after the upgrade): traffic accepted again. */
  afterSecs: number
  /** The sample services settle each intent this long after accepting it. */
  settleMs: number
  /** How often live figures are printed. */
  sampleMs: number
}

export const NORMAL: DemoTimings = { trafficSecs: 5, drainSecs: 5, afterSecs: 4, settleMs: 1500, sampleMs: 1000 }
export const QUICK: DemoTimings = { trafficSecs: 2, drainSecs: 2, afterSecs: 2, settleMs: 600, sampleMs: 500 }

/** Longest wait for a drain to reach `drained` or an upgrade to end before the demo calls it a failure. */
export const STAGE_TIMEOUT_MS = 120_000
