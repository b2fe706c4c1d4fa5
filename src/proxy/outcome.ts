/**
 * One forward of an admitted intent to its owner, and what its answer does to the record. The submission path
 * and the reconciler both go through here, so a client's answer and a reconciler's resend can never disagree on
 * what an upstream's answer means (docs/specification.md section 3):
 *
 *   2xx with an intent id   bind (the answer is kept for replays); a terminal status also ends the intent
 *   5xx, 401/403/408/409/429 release and forget the key (a retry goes through)
 *   any other status        release, keeping the answer for replays
 *   no answer, but the request may have arrived (timeout, connection broken after bytes were written)
 *                           the outcome is unknown: the record stays inflight with this owner (`markUnknown`)
 *   nothing could be sent   a first forward is released and forgotten (502); a resend keeps the record unknown
 *
 * A resend (a retry of an unknown outcome, or the reconciler's) treats a 5xx as "no answer yet": the owner may
 * hold the intent while it cannot say so, and only its own answer may release it.
 */
import type { Logger } from 'pino'
import { UpstreamError } from '../errors.js'
import { channels } from '../observability/channels.js'
import type { IntentStore, StoredResponse } from '../store/types.js'
import { TERMINAL_STATUSES, type VersionCatalog } from '../versions/types.js'
import { callUpstream } from './upstream-call.js'
import type { Upstream } from './upstreams.js'

/** Statuses that say nothing lasting about this intent: never replayed, the key is forgotten. */
const FORGOTTEN_REFUSALS = new Set([401, 403, 408, 409, 429])

export interface OutcomeDeps {
  store: IntentStore
  versions: VersionCatalog
  logger: Logger
  idempotencyTtlSecs: number
  upstreamTimeoutMs: number
}

export interface Forward {
  /** The admission scope (the record's key). */
  key: string
  upstream: Upstream
  /** The client's version (answers are translated back to it) and the owner's (the payload's). */
  clientVersion: string
  upstreamVersion: string
  path: string
  payload: string | Buffer
  /** Request headers for the upstream, flat, `payloadHeaders(payload)` among them. */
  headers: string[]
  /** A retry of an unknown outcome or the reconciler's resend: see the header. */
  resend: boolean
  /** Who asked, for the upstream latency metric. */
  route: 'submit' | 'reconcile'
}

export type Settled =
  /** The upstream answered; `body` is in the client's version. `bound` is the intent id when it was accepted. */
  | { kind: 'answered', status: number, contentType: string, body: string, bound: string | null }
  /** The upstream may hold the intent but did not say: it stays inflight with this owner. */
  | { kind: 'unknown', cause: UpstreamError }
  /** The upstream was not reached and the record was released (first forwards only). */
  | { kind: 'unreachable', cause: UpstreamError }
  /** A 2xx without an intent id: released; the client gets a 502. */
  | { kind: 'no_id', status: number }

export async function forwardAndSettle (deps: OutcomeDeps, fwd: Forward): Promise<Settled> {
  const started = performance.now()
  let answer
  try {
    answer = await callUpstream(fwd.upstream, {
      method: 'POST',
      path: fwd.path,
      headers: fwd.headers,
      body: fwd.payload
    }, deps.upstreamTimeoutMs)
  } catch (err) {
    publishUpstream(fwd, null, started)
    const cause = err instanceof UpstreamError ? err : new UpstreamError(`upstream ${fwd.upstream.color} failed: ${(err as Error).message}`, { cause: err })
    if (cause.maybeDelivered || fwd.resend) {
      await recordOutcome(deps, fwd.key, 'markUnknown', async () => { await deps.store.markUnknown(fwd.key, deps.idempotencyTtlSecs) })
      return { kind: 'unknown', cause }
    }
    await recordOutcome(deps, fwd.key, 'release', async () => await deps.store.release(fwd.key, null, deps.idempotencyTtlSecs))
    return { kind: 'unreachable', cause }
  }
  const { status, contentType, body } = answer
  publishUpstream(fwd, status, started)
  const ttl = deps.idempotencyTtlSecs

  if (status >= 500 && fwd.resend) {
    await recordOutcome(deps, fwd.key, 'markUnknown', async () => { await deps.store.markUnknown(fwd.key, ttl) })
    return { kind: 'unknown', cause: new UpstreamError(`upstream ${fwd.upstream.color} answered ${status} to a resubmission`) }
  }
  if (status < 200 || status > 299) {
    // Problem bodies from the intent service pass through unchanged. A refusal that says nothing lasting about
    // this intent (an auth failure, a conflict, a rate limit, a 5xx) is not kept: a later retry must go through.
    const keep = status < 500 && !FORGOTTEN_REFUSALS.has(status)
    const replay: StoredResponse | null = keep ? { status, headers: { 'content-type': contentType, 'intent-version': fwd.clientVersion }, body } : null
    await recordOutcome(deps, fwd.key, 'release', async () => await deps.store.release(fwd.key, replay, ttl))
    return { kind: 'answered', status, contentType, body, bound: null }
  }

  let json: unknown
  try {
    json = JSON.parse(body)
  } catch {
    json = undefined
  }
  const id = json === undefined ? null : deps.versions.intentIdOf(json, fwd.upstreamVersion)
  if (id === null) {
    deps.logger.error({ upstream: fwd.upstream.color, status, key: fwd.key }, 'upstream accepted a submission without an intent id; released')
    await recordOutcome(deps, fwd.key, 'release', async () => await deps.store.release(fwd.key, null, ttl))
    return { kind: 'no_id', status }
  }
  let clientBody = body
  if (fwd.upstreamVersion !== fwd.clientVersion) {
    try {
      clientBody = JSON.stringify(deps.versions.translateSubmitResponse(json, fwd.upstreamVersion, fwd.clientVersion))
      if (channels.translation.hasSubscribers) channels.translation.publish({ from: fwd.upstreamVersion, to: fwd.clientVersion, kind: 'submit_response' })
    } catch (err) {
      deps.logger.error({ err, id, key: fwd.key }, 'cannot translate the submission response back; sending it untranslated')
    }
  }
  const seen = deps.versions.statusOf(json, fwd.upstreamVersion)
  const replay = { status, headers: { 'content-type': contentType, 'intent-version': fwd.clientVersion }, body: clientBody }
  await recordOutcome(deps, fwd.key, 'bind', async () => await deps.store.bind(fwd.key, id, replay, ttl, seen ?? undefined))
  if (seen !== null && TERMINAL_STATUSES.has(seen)) await endIntent(deps, id, seen)
  return { kind: 'answered', status, contentType, body: clientBody, bound: id }
}

/**
 * The headers every forward of an intent carries: its JSON type and length, and no compression of the answer
 * (the gateway reads it: intent id, translation, replay).
 */
export function payloadHeaders (payload: string | Buffer): string[] {
  return ['content-type', 'application/json', 'content-length', String(Buffer.byteLength(payload)), 'accept-encoding', 'identity']
}

/** Ends an inflight intent seen terminal in a response; reported on the intentEnded channel. */
export async function endIntent (deps: Pick<OutcomeDeps, 'store' | 'logger'>, id: string, status: string): Promise<void> {
  try {
    if (await deps.store.complete(id, status, 'response') && channels.intentEnded.hasSubscribers) {
      channels.intentEnded.publish({ id, status, via: 'response' })
    }
  } catch (err) {
    deps.logger.warn({ err, id, status }, 'cannot end the inflight record now; the reconciler will')
  }
}

/**
 * Writes what the upstream's answer means to the record. A store that fails here keeps the write and replays it
 * when it returns (the Redis store's repair queue); the client still gets the upstream's answer, which is the
 * truth, and the reconciler resolves whatever the store never heard of.
 */
async function recordOutcome (deps: OutcomeDeps, key: string, what: string, write: () => Promise<void>): Promise<void> {
  try {
    await write()
  } catch (err) {
    deps.logger.error({ err, key }, `cannot ${what} the inflight record now; it is replayed when the store returns`)
  }
}

function publishUpstream (fwd: Forward, status: number | null, started: number): void {
  if (channels.upstream.hasSubscribers) {
    channels.upstream.publish({ upstream: fwd.upstream.color, route: fwd.route, status, durationMs: performance.now() - started })
  }
}
