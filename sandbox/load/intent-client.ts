/**
 * One intent's life as a well-behaved client lives it: submit a signed intent with an `Idempotency-Key`; on 503
 * wait what `Retry-After` says and send the same bytes with the same key again; on 409 (the first attempt still
 * in progress) likewise; on a lost connection, a 502 or a 504 retry a few times; then read the intent's status
 * until it ends. Every outcome is counted in `LoadCounts`, the figures the load generator prints.
 */
import { randomUUID } from 'node:crypto'
import { SLOW_ANSWER_MS, SLOW_ANSWERS_KEPT, type LoadCounts, type LoadFailure as Failure } from '../../src/demo/load-figures.js'

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
    slow_answers_ms: []
  }
}

const TERMINAL = new Set(['settled', 'refunded', 'cancelled', 'expired', 'failed'])
/** A Retry-After longer than this is not waited out in full (the demo's drains are short). */
const MAX_RETRY_AFTER_SECS = 30
const MAX_TRANSPORT_RETRIES = 5
const TRANSPORT_RETRY_MS = 500

const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

/** Seconds from a Retry-After header (integer seconds or an HTTP date); 1 when absent or unreadable. */
export function retryAfterSecs (header: string | null, nowMs = Date.now()): number {
  if (header === null) return 1
  if (/^\d+$/.test(header.trim())) return Math.max(1, Number(header.trim()))
  const at = Date.parse(header)
  return Number.isNaN(at) ? 1 : Math.max(1, Math.ceil((at - nowMs) / 1000))
}

export interface IntentClientOptions {
  target: string
  pollMs: number
  counts: LoadCounts
  /** The first few failures, for the summary. */
  failures: Failure[]
}

/** Submits `body` until it has a final answer, then follows the accepted intent until it ends. */
export async function runIntent (body: string, o: IntentClientOptions): Promise<void> {
  const { counts } = o
  counts.sent++
  counts.waiting++
  const key = randomUUID()
  let saw503 = false
  let transportFailures = 0
  let id: string | null = null
  const first = performance.now()
  for (;;) {
    let res: Response
    let text: string
    try {
      res = await fetch(`${o.target}/intents`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body
      })
      text = await res.text()
    } catch (err) {
      if (++transportFailures > MAX_TRANSPORT_RETRIES) {
        fail(o, 0, `no answer after ${MAX_TRANSPORT_RETRIES} retries: ${(err as Error).message}`)
        return
      }
      counts.transport_retries++
      await sleep(TRANSPORT_RETRY_MS)
      continue
    }
    if (res.status === 503 || res.status === 409) {
      const secs = retryAfterSecs(res.headers.get('retry-after'))
      if (res.status === 503) {
        counts.refused_503++
        counts.last_retry_after_s = secs
        counts.last_503_type = problemType(text)
        if (!saw503) counts.intents_refused_503++
        saw503 = true
      } else {
        counts.conflicts_409++
      }
      await sleep(Math.min(secs, MAX_RETRY_AFTER_SECS) * 1000)
      continue
    }
    if (res.status === 502 || res.status === 504) {
      if (++transportFailures > MAX_TRANSPORT_RETRIES) {
        fail(o, res.status, text)
        return
      }
      counts.transport_retries++
      await sleep(TRANSPORT_RETRY_MS)
      continue
    }
    if (res.status < 200 || res.status >= 300) {
      fail(o, res.status, text)
      return
    }
    const waited = performance.now() - first
    if (!saw503 && transportFailures === 0 && waited > SLOW_ANSWER_MS) {
      counts.slow_answers++
      counts.slow_answers_ms.push(Math.round(waited))
      if (counts.slow_answers_ms.length > SLOW_ANSWERS_KEPT) counts.slow_answers_ms.shift()
    }
    counts.waiting--
    counts.accepted++
    counts.unsettled++
    if (res.headers.get('idempotent-replayed') === 'true') counts.replayed++
    const version = res.headers.get('intent-version') ?? 'none'
    counts.answered_versions[version] = (counts.answered_versions[version] ?? 0) + 1
    const answer = JSON.parse(text) as { id?: string, intent_id?: string }
    id = answer.id ?? answer.intent_id ?? null
    break
  }
  if (id === null) return
  await followUntilEnded(id, o)
}

async function followUntilEnded (id: string, o: IntentClientOptions): Promise<void> {
  for (;;) {
    await sleep(o.pollMs)
    try {
      const res = await fetch(`${o.target}/intents/${encodeURIComponent(id)}`)
      const text = await res.text()
      if (res.status !== 200) continue
      const status = (JSON.parse(text) as { status?: string }).status
      if (status === undefined || !TERMINAL.has(status)) continue
      o.counts.unsettled--
      if (status === 'settled') o.counts.settled++
      else o.counts.ended_other++
      return
    } catch {
      // A status read that fails is tried again at the next poll.
    }
  }
}

function fail (o: IntentClientOptions, status: number, body: string): void {
  o.counts.waiting--
  o.counts.failed++
  if (o.failures.length < 10) o.failures.push({ status, body: body.slice(0, 500) })
}

function problemType (body: string): string | null {
  try {
    const type = (JSON.parse(body) as { type?: unknown }).type
    return typeof type === 'string' ? type : null
  } catch {
    return null
  }
}
