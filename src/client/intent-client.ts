/**
 * `IntentClient`: submits intents through an intent-gate gateway the one safe way, so applications do not have
 * to get it right by hand:
 *   - one `Idempotency-Key` for every try of a submission, and the same bytes each time, so the gateway and the
 *     service behind it see one order however often it is sent;
 *   - 503 (draining, upgrading, store unreachable, instance leaving) and 409 `duplicate-in-progress`: wait what
 *     `Retry-After` says, with jitter, and try again;
 *   - 502/504 `upstream-outcome-unknown` (the service may hold the intent, its answer was lost): wait, and resend;
 *     the gateway sends the retry to the service that may hold it, which answers with that intent;
 *   - no answer at all (connection refused or cut: a gateway restarting or swapping) and the other 502/504:
 *     back off and resend, the key keeps it one intent;
 *   - all of that within `maxWaitMs` of waiting in total, then the last answer's typed error;
 *   - any other answer that is not 2xx: its typed error at once (./errors.ts).
 */
import { problemError, readProblem, NetworkError, ProblemError, type Problem } from './errors.js'
import { statusEvents, type EventsOptions } from './events.js'
import { backoffMs, retryAfterSecs, sleep, withJitter } from './retry.js'
import type { GatewayStatus, Intent, IntentStatusV1, IntentStatusV2 } from './types.js'

export interface IntentClientOptions {
  /** The gateway's base URL, e.g. `https://gateway.example`. */
  url: string
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch
  /** The gateway's intent path (`proxy.intent_path`, default `/intents`). */
  intentPath?: string
  /** The default total wait bound of a submission (default 60 000 ms). */
  maxWaitMs?: number
  /** For tests: the jitter's source of randomness (default Math.random). */
  random?: () => number
}

/** Why the client waits before trying again, as `onRetry` is told. */
export type RetryReason = 'unavailable' | 'in-progress' | 'outcome-unknown' | 'upstream' | 'network'

export interface RetryInfo {
  reason: RetryReason
  /** The try that was answered (1 for the first). */
  attempt: number
  /** The answer's HTTP status (0: no answer). */
  status: number
  /** The problem type of the answer, when it had one. */
  type: string | null
  /** What Retry-After said, in seconds, when the answer had one. */
  retryAfterSecs: number | null
  /** How long the client waits now. */
  waitMs: number
}

export interface SubmitOptions {
  /** Default: a random UUID, kept across every try of this submission. */
  idempotencyKey?: string
  /** The total time this submission may spend waiting between tries (default: the client's). */
  maxWaitMs?: number
  signal?: AbortSignal
  /** Told before each wait (for progress displays and counters). */
  onRetry?: (info: RetryInfo) => void
}

export interface SubmitResult {
  /** `intent_id` (2.0) or `id` (1.0) of the answer. */
  intentId: string
  /** The intent's status as the answer gives it (`accepted` in 2.0, `pending` in 1.0, or where it stands now). */
  status: string
  /** The answer's HTTP status: 202, or 200 for an intent the service already had. */
  httpStatus: number
  /** The answer's body as the gateway sent it. */
  body: Record<string, unknown>
  /** True when the gateway answered from its record of an earlier try (`Idempotent-Replayed: true`). */
  replayed: boolean
  /** The version the answer is in (`Intent-Version`), or null when the gateway did not say. */
  version: string | null
  idempotencyKey: string
  /** How many times the intent was sent. */
  attempts: number
}

const DEFAULT_MAX_WAIT_MS = 60_000
/** Where the gateway's answer gave no Retry-After (a 503 from the service behind it, say). */
const DEFAULT_RETRY_SECS = 1

export class IntentClient {
  private readonly base: string
  private readonly fetchImpl: typeof fetch
  private readonly intentPath: string
  private readonly maxWaitMs: number
  private readonly random: () => number

  constructor (options: IntentClientOptions) {
    let url: URL
    try {
      url = new URL(options.url)
    } catch {
      throw new TypeError(`IntentClient: url must be an absolute URL, got ${JSON.stringify(options.url)}`)
    }
    this.base = url.href.replace(/\/+$/, '')
    this.fetchImpl = options.fetch ?? globalThis.fetch.bind(globalThis)
    this.intentPath = options.intentPath ?? '/intents'
    this.maxWaitMs = options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS
    this.random = options.random ?? Math.random
  }

  /** Submits a signed intent (an object, or its JSON text sent as is) until it has a final answer. */
  async submit (intent: Intent | Record<string, unknown> | string, options: SubmitOptions = {}): Promise<SubmitResult> {
    const body = typeof intent === 'string' ? intent : JSON.stringify(intent)
    const key = options.idempotencyKey ?? globalThis.crypto.randomUUID()
    const bound = options.maxWaitMs ?? this.maxWaitMs
    const { signal } = options
    let waited = 0
    let failures = 0
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted()
      let res: Response
      let text: string
      try {
        res = await this.fetchImpl(this.base + this.intentPath, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': key },
          body,
          signal
        })
        text = await res.text()
      } catch (err) {
        if (signal?.aborted === true) throw signal.reason
        const waitMs = withJitter(backoffMs(++failures), this.random)
        if (waited + waitMs > bound) throw new NetworkError(`no answer from ${this.base} after ${attempt} tries: ${(err as Error).message}`, attempt, { cause: err })
        options.onRetry?.({ reason: 'network', attempt, status: 0, type: null, retryAfterSecs: null, waitMs })
        await sleep(waitMs, signal)
        waited += waitMs
        continue
      }
      if (res.ok) return this.accepted(res, text, key, attempt)
      const problem = readProblem(res.status, res.statusText, text)
      const retryAfter = retryAfterSecs(res.headers.get('retry-after'))
      const reason = retryReason(problem, retryAfter)
      if (reason === null) throw problemError(problem, attempt)
      const baseMs = reason === 'upstream' ? backoffMs(++failures) : (retryAfter ?? DEFAULT_RETRY_SECS) * 1000
      const waitMs = withJitter(baseMs, this.random)
      if (waited + waitMs > bound) throw problemError(problem, attempt)
      options.onRetry?.({ reason, attempt, status: res.status, type: problem.type === 'about:blank' ? null : problem.type, retryAfterSecs: retryAfter, waitMs })
      await sleep(waitMs, signal)
      waited += waitMs
    }
  }

  /** `GET <intent_path>/<id>`: the intent's status as the service (through the gateway) has it. */
  async status (id: string, options: { signal?: AbortSignal } = {}): Promise<IntentStatusV2 | IntentStatusV1> {
    const res = await this.fetchImpl(`${this.base}${this.intentPath}/${encodeURIComponent(id)}`, { headers: { accept: 'application/json' }, signal: options.signal })
    const text = await res.text()
    if (!res.ok) throw problemError(readProblem(res.status, res.statusText, text))
    return JSON.parse(text) as IntentStatusV2 | IntentStatusV1
  }

  /** The gateway's status now (`GET /.well-known/intent-gate/status`). */
  async gatewayStatus (options: { signal?: AbortSignal } = {}): Promise<GatewayStatus> {
    const res = await this.fetchImpl(`${this.base}/.well-known/intent-gate/status`, { headers: { accept: 'application/json' }, signal: options.signal })
    const text = await res.text()
    if (!res.ok) throw problemError(readProblem(res.status, res.statusText, text))
    return JSON.parse(text) as GatewayStatus
  }

  /**
   * The gateway's status on connect and on every change (scheduled, draining, held, refusing, resumed), across
   * reconnects, until the loop is left or `signal` aborts.
   */
  events (options: EventsOptions = {}): AsyncGenerator<GatewayStatus, void, undefined> {
    return statusEvents(`${this.base}/.well-known/intent-gate/events`, this.fetchImpl, options)
  }

  private accepted (res: Response, text: string, key: string, attempts: number): SubmitResult {
    let body: Record<string, unknown>
    try {
      body = JSON.parse(text) as Record<string, unknown>
    } catch {
      throw new ProblemError({ type: 'about:blank', status: res.status, title: 'Unreadable answer', detail: `a ${res.status} whose body is not JSON: ${text.slice(0, 200)}` }, attempts)
    }
    const id = body['intent_id'] ?? body['id']
    return {
      intentId: typeof id === 'string' ? id : '',
      status: typeof body['status'] === 'string' ? body['status'] : '',
      httpStatus: res.status,
      body,
      replayed: res.headers.get('idempotent-replayed') === 'true',
      version: res.headers.get('intent-version'),
      idempotencyKey: key,
      attempts
    }
  }
}

/** Why an answer is worth another try with the same key and bytes; null when it is final. */
function retryReason (problem: Problem, retryAfter: number | null): RetryReason | null {
  const name = problem.type.slice(problem.type.lastIndexOf(':') + 1)
  if (problem.status === 503) return 'unavailable'
  // A 409 without Retry-After (a service's "nonce already used for another intent") will not change by waiting.
  if (problem.status === 409) return retryAfter === null ? null : 'in-progress'
  if (problem.status === 502 || problem.status === 504) return name === 'upstream-outcome-unknown' ? 'outcome-unknown' : 'upstream'
  return null
}
