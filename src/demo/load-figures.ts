/**
 * What `intent-gate-sandbox load` counts and prints (one JSON line per progress tick, a summary last), and what
 * the demo reads back from those lines. Declared once, here: src/ never imports sandbox/, the sandbox may import
 * src/.
 */

export interface LoadCounts {
  /** Intents created (each signed once, whatever its retries). */
  sent: number
  /** Intents whose final answer was a 2xx. */
  accepted: number
  /** Of those, answers replayed by the gateway (`Idempotent-Replayed: true`). */
  replayed: number
  /** 503 answers received (each one followed by a retry after Retry-After). */
  refused_503: number
  /** Intents that saw at least one 503 before their final answer. */
  intents_refused_503: number
  /** 409 answers received (a duplicate while the first was in progress), each retried. */
  conflicts_409: number
  /** Lost connections, 502s and 504s, each retried. */
  transport_retries: number
  /** Intents whose final answer was not a 2xx (or that ran out of retries). Must be 0. */
  failed: number
  /** Accepted intents read as `settled`. */
  settled: number
  /** Accepted intents read in another terminal status (refunded, cancelled, expired, failed). */
  ended_other: number
  /** Intents still waiting for their final answer. */
  waiting: number
  /** Accepted intents not yet seen in a terminal status. */
  unsettled: number
  /** The last Retry-After received, in seconds. */
  last_retry_after_s: number | null
  /** The problem type of the last 503 (`urn:intent-gate:problem:draining` from the gateway). */
  last_503_type: string | null
  /** Accepted answers by their `Intent-Version` header (a 1.0 client served by a 2.0 service still reads 1.0). */
  answered_versions: Record<string, number>
  /** Intents accepted on their first attempt (no 503) only after more than SLOW_ANSWER_MS: held during an upgrade. */
  slow_answers: number
  /** The waits (ms) of the last SLOW_ANSWERS_KEPT of those, oldest first. */
  slow_answers_ms: number[]
  /** Intents refused with 503 at least once that have no final answer yet (waiting out a Retry-After). */
  waiting_refused: number
  /** Of the intents refused with 503 and then accepted, the one that waited longest: the slowest client. */
  slowest_refused: RefusedWait | null
}

/**
 * An intent refused with 503 and accepted on a later try. Without the refusals its first try would have been
 * accepted, so `accepted_at_ms - first_refused_at_ms` is how much longer its client waited: the Retry-Afters it
 * was told (plus the client's jitter) and its refused tries. Wall-clock times, so the demo can set them against
 * when it started and stopped a drain.
 */
export interface RefusedWait {
  first_refused_at_ms: number
  /** When the try that was accepted began: the client came back (its last wait ended). */
  last_try_at_ms: number
  accepted_at_ms: number
  /** Every Retry-After it was told, in seconds, in order. */
  retry_after_s: number[]
}

/** A first attempt answered later than this was held (a submission's answer takes a few ms otherwise). */
export const SLOW_ANSWER_MS = 500
export const SLOW_ANSWERS_KEPT = 1000

/** An intent whose final answer was not a 2xx. */
export interface LoadFailure { status: number, body: string }
