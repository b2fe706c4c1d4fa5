/**
 * One intent's life as the client library (intent-gate/client) lives it: submitted with one Idempotency-Key
 * and the same bytes on every try, Retry-After waited out on 503 and 409, resent after an unknown outcome or a
 * lost connection; then its status read until it ends. The library does the protocol; this file only counts
 * what happened in `LoadCounts`, the figures the load generator prints.
 */
import { IntentClient, NetworkError, ProblemError, TERMINAL_STATUSES, type RetryInfo } from '../../src/client/index.js'
import { SLOW_ANSWER_MS, SLOW_ANSWERS_KEPT, type LoadCounts, type LoadFailure as Failure, type RefusedWait } from '../../src/demo/load-figures.js'

// The figures are declared where the demo reading them can import them from (src/ never imports sandbox/).
export type { LoadCounts, LoadFailure as Failure } from '../../src/demo/load-figures.js'

export function emptyCounts (): LoadCounts {
  return {
    sent: 0,
    accepted: 0,
    replayed: 0,
    refused_503: 0,
    intents_refused_503: 0,
    conflicts_409: 0,
    transport_retries: 0,
    failed: 0,
    settled: 0,
    ended_other: 0,
    waiting: 0,
    unsettled: 0,
    last_retry_after_s: null,
    last_503_type: null,
    answered_versions: {},
    slow_answers: 0,
    slow_answers_ms: [],
    waiting_refused: 0,
    slowest_refused: null
  }
}

const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

export interface IntentClientOptions {
  client: IntentClient
  pollMs: number
  /** The total wait bound of one submission (the library's maxWaitMs). */
  maxWaitMs: number
  counts: LoadCounts
  /** The first few failures, for the summary. */
  failures: Failure[]
}

/** Submits `body` until it has a final answer, then follows the accepted intent until it ends. */
export async function runIntent (body: string, o: IntentClientOptions): Promise<void> {
  const { counts } = o
  counts.sent++
  counts.waiting++
  let saw503 = false
  let retried = false
  let firstRefusedAt = 0
  let lastTryAt = 0
  const toldSecs: number[] = []
  const onRetry = (r: RetryInfo): void => {
    // Called as the client starts waiting: the next try begins when the wait ends.
    lastTryAt = Date.now() + r.waitMs
    if (r.reason === 'unavailable') {
      counts.refused_503++
      counts.last_retry_after_s = r.retryAfterSecs
      counts.last_503_type = r.type
      if (r.retryAfterSecs !== null) toldSecs.push(r.retryAfterSecs)
      if (!saw503) {
        counts.intents_refused_503++
        counts.waiting_refused++
        firstRefusedAt = Date.now()
      }
      saw503 = true
    } else if (r.reason === 'in-progress') {
      counts.conflicts_409++
    } else {
      counts.transport_retries++
      retried = true
    }
  }
  const first = performance.now()
  let id: string
  try {
    const answer = await o.client.submit(body, { maxWaitMs: o.maxWaitMs, onRetry })
    const waited = performance.now() - first
    if (saw503) {
      counts.waiting_refused--
      const wait: RefusedWait = {
        first_refused_at_ms: firstRefusedAt,
        last_try_at_ms: lastTryAt,
        accepted_at_ms: Date.now(),
        retry_after_s: toldSecs
      }
      const slowest = counts.slowest_refused
      const waitedMs = wait.accepted_at_ms - wait.first_refused_at_ms
      if (slowest === null || waitedMs > slowest.accepted_at_ms - slowest.first_refused_at_ms) counts.slowest_refused = wait
    }
    if (!saw503 && !retried && waited > SLOW_ANSWER_MS) {
      counts.slow_answers++
      counts.slow_answers_ms.push(Math.round(waited))
      if (counts.slow_answers_ms.length > SLOW_ANSWERS_KEPT) counts.slow_answers_ms.shift()
    }
    counts.waiting--
    counts.accepted++
    counts.unsettled++
    if (answer.replayed) counts.replayed++
    const version = answer.version ?? 'none'
    counts.answered_versions[version] = (counts.answered_versions[version] ?? 0) + 1
    id = answer.intentId
  } catch (err) {
    counts.waiting--
    if (saw503) counts.waiting_refused--
    counts.failed++
    if (o.failures.length < 10) o.failures.push(failureOf(err))
    return
  }
  if (id !== '') await followUntilEnded(id, o)
}

async function followUntilEnded (id: string, o: IntentClientOptions): Promise<void> {
  for (;;) {
    await sleep(o.pollMs)
    try {
      const { status } = await o.client.status(id)
      if (!TERMINAL_STATUSES.has(status)) continue
      o.counts.unsettled--
      if (status === 'settled') o.counts.settled++
      else o.counts.ended_other++
      return
    } catch {
      // A status read that fails is tried again at the next poll.
    }
  }
}

function failureOf (err: unknown): Failure {
  if (err instanceof ProblemError) return { status: err.status, body: JSON.stringify(err.problem).slice(0, 500) }
  if (err instanceof NetworkError) return { status: 0, body: err.message.slice(0, 500) }
  return { status: 0, body: String(err).slice(0, 500) }
}
