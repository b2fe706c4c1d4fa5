/**
 * `POST <intent_path>`: one intent submission, end to end.
 *
 *   read body (limit) → JSON → version (body's, else the default; must be accepted) → validate → key
 *   (Idempotency-Key, else `<owner>:<nonce>`) → translate to the active upstream's version → admit (one atomic
 *   store step: replay / in progress / refused / registered) → forward over the active color's pool → bind on
 *   2xx, release keeping the answer below 500, release and forget at 500+ or on transport failure → translate
 *   the answer back to the client's version.
 *
 * Nothing is registered before every check that can refuse without the store has passed, and nothing is
 * forwarded that the store did not register (a store that cannot answer means 503: fail closed). Once admitted,
 * the exchange runs to its end even if the client goes away, so the record is always bound or released.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  BadRequestError, DrainingError, DuplicateInProgressError, IntentGateError, NoTranslationPathError,
  StoreUnavailableError, UpstreamError, VersionUnsupportedError
} from '../errors.js'
import { channels, type RefusalMessage } from '../observability/channels.js'
import type { AdmitResult, StoredResponse } from '../store/types.js'
import { TERMINAL_STATUSES, type IntentIdentity } from '../versions/types.js'
import { ClientClosedError, readBody } from './body.js'
import { versionHeaders, type ProxyContext } from './context.js'
import { requestIdOf, upstreamRequestHeaders } from './headers.js'
import { sendProblem } from './problem.js'
import { retryAfterSecs } from './retry-after.js'
import { callUpstream, type UpstreamAnswer } from './upstream-call.js'
import type { Upstream } from './upstreams.js'
import type { VersionsPolicy } from './versions-policy.js'

const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/

interface Forwarded {
  upstream: Upstream
  version: string
  /** The body as sent upstream: the client's own bytes when no translation (and no default version) applies. */
  payload: Buffer | string
  intent: Record<string, unknown>
}

export async function handleSubmit (ctx: ProxyContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const requestId = requestIdOf(req)
  const started = performance.now()
  const policy = ctx.policy()
  let clientVersion: string | null = null
  try {
    const raw = await readBody(req, ctx.proxy.max_body_bytes)
    const body = parseJson(raw)
    const version = versionOf(body, policy.default)
    if (!policy.isAccepted(version)) throw new VersionUnsupportedError(version, policy.accepted)
    clientVersion = version
    const checked = ctx.versions.validateIntent(version, body)
    if (!checked.ok) {
      throw new BadRequestError(`the intent is not valid for version ${version}: ${checked.errors.map((e) => `${e.field === '' ? '(body)' : e.field} ${e.message}`).join('; ')}`, checked.errors)
    }
    const key = idempotencyKeyOf(req, checked.identity)
    const derivedKey = req.headers['idempotency-key'] === undefined
    let forwarded = prepareForward(ctx, raw, body as Record<string, unknown>, checked.intent, version)
    // Held while a coordinated upgrade runs (./hold.ts); admitted after it, to the active upstream of that moment.
    const admitted = await ctx.hold.admitOrHold(res, async (again) => {
      if (again) forwarded = prepareForward(ctx, raw, body as Record<string, unknown>, checked.intent, version)
      return await admit(ctx, key, version, checked.identity, forwarded)
    })
    if (admitted.kind === 'replay') {
      replay(res, policy, admitted.response, requestId)
      publishRequest(admitted.response.status, version, started)
      return
    }
    if (admitted.kind !== 'admitted') throw refusalError(ctx, admitted)
    const status = await exchange(ctx, req, res, key, derivedKey, version, forwarded, requestId)
    publishRequest(status, version, started)
  } catch (err) {
    if (err instanceof ClientClosedError) {
      res.destroy()
      return
    }
    publishRefusal(err)
    const headers = clientVersion === null ? undefined : versionHeaders(policy, clientVersion, {}) as Record<string, string>
    // A client that is still sending a body we refused: close the connection rather than read the rest.
    if (!req.complete) res.shouldKeepAlive = false
    sendProblem(res, err, requestId, headers)
    publishRequest(res.statusCode, clientVersion, started)
    if (!(err instanceof IntentGateError)) ctx.logger.error({ err, request_id: requestId }, 'submission failed')
  }
}

function parseJson (raw: Buffer): unknown {
  try {
    return JSON.parse(raw.toString('utf8'))
  } catch (err) {
    throw new BadRequestError(`the body is not valid JSON: ${(err as Error).message}`, [{ field: '', message: 'is not valid JSON' }])
  }
}

function versionOf (body: unknown, fallback: string): string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequestError('the body must be a JSON object', [{ field: '', message: 'must be a JSON object' }])
  }
  const v = (body as { version?: unknown }).version
  if (v === undefined) return fallback
  if (typeof v !== 'string') throw new BadRequestError('`version` must be a string such as "1.0"', [{ field: '/version', message: 'must be a string' }])
  return v
}

function idempotencyKeyOf (req: IncomingMessage, identity: IntentIdentity): string {
  const given = req.headers['idempotency-key']
  if (given === undefined) return `${identity.owner}:${identity.nonce}`
  if (typeof given !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(given)) {
    throw new BadRequestError('the Idempotency-Key header must be 1 to 255 visible ASCII characters', [{ field: 'header:Idempotency-Key', message: 'must be 1 to 255 visible ASCII characters' }])
  }
  return given
}

/** Picks the owner (the active color) and the body it gets: translated when it does not take the client's version. */
function prepareForward (ctx: ProxyContext, raw: Buffer, body: Record<string, unknown>, intent: Record<string, unknown>, version: string): Forwarded {
  const upstream = ctx.control.upstream()
  const target = ctx.versions.targetVersion(version, upstream.config.versions)
  if (target === null) throw new NoTranslationPathError(version, upstream.config.versions.join('|'))
  if (target !== version) {
    const translated = ctx.versions.translateIntent(intent, version, target)
    if (channels.translation.hasSubscribers) channels.translation.publish({ from: version, to: target, kind: 'intent' })
    return { upstream, version: target, payload: JSON.stringify(translated), intent: translated }
  }
  if (body.version === undefined) {
    // The default version applied: say so explicitly, the upstream's own default may differ.
    const explicit = { version, ...intent }
    return { upstream, version, payload: JSON.stringify(explicit), intent: explicit }
  }
  return { upstream, version, payload: raw, intent }
}

async function admit (ctx: ProxyContext, key: string, version: string, identity: IntentIdentity, fwd: Forwarded): Promise<AdmitResult> {
  try {
    return await ctx.store.admit({
      record: {
        key,
        upstream: fwd.upstream.color,
        version,
        upstream_version: fwd.version,
        created_at_ms: ctx.now(),
        deadline: identity.deadline,
        intent: fwd.intent
      },
      idempotencyTtlSecs: ctx.proxy.idempotency_ttl_secs
    })
  } catch (err) {
    if (err instanceof StoreUnavailableError) throw err
    throw new StoreUnavailableError(`the store could not admit the intent: ${(err as Error).message}`, { cause: err })
  }
}

function refusalError (ctx: ProxyContext, result: Exclude<AdmitResult, { kind: 'admitted' | 'replay' }>): Error {
  if (result.kind === 'in_progress') return new DuplicateInProgressError('a submission with the same idempotency key is still in progress; retry shortly')
  const secs = retryAfterSecs(result, ctx.now(), ctx.proxy.drain_retry_after_secs)
  if (channels.refusal.hasSubscribers) channels.refusal.publish({ reason: result.reason })
  const why = result.reason === 'upgrading'
    ? `an upgrade is running${result.upgrade !== null ? ` (${result.upgrade.id}, phase ${result.upgrade.phase})` : ''}`
    : `the gateway is draining${result.drain?.reason !== undefined ? `: ${result.drain.reason}` : ''}`
  return new DrainingError(`${why}; new intents are not accepted, retry in ${secs} s`, secs)
}

function replay (res: ServerResponse, policy: VersionsPolicy, stored: StoredResponse, requestId: string): void {
  const headers: Record<string, string | number> = { ...stored.headers }
  const version = stored.headers['intent-version']
  if (version !== undefined) versionHeaders(policy, version, headers)
  headers['idempotent-replayed'] = 'true'
  headers['x-request-id'] = requestId
  headers['content-length'] = Buffer.byteLength(stored.body)
  res.writeHead(stored.status, headers)
  res.end(stored.body)
}

/** Forwards an admitted intent and settles its record; answers the client. Resolves to the status sent. */
async function exchange (ctx: ProxyContext, req: IncomingMessage, res: ServerResponse, key: string, derivedKey: boolean, clientVersion: string, fwd: Forwarded, requestId: string): Promise<number> {
  const { upstream } = fwd
  const ttl = ctx.proxy.idempotency_ttl_secs
  const timeout = ctx.proxy.upstream_timeout_ms
  const started = performance.now()
  let answer: UpstreamAnswer
  try {
    answer = await callUpstream(upstream, {
      method: 'POST',
      path: req.url ?? ctx.proxy.intent_path,
      headers: upstreamRequestHeaders(req, upstream.host, requestId, [
        'content-type', 'application/json',
        'content-length', String(Buffer.byteLength(fwd.payload)),
        'idempotency-key', key,
        // The gateway reads the answer (intent id, translation, replay): it must not arrive compressed.
        'accept-encoding', 'identity'
      ]).headers,
      body: fwd.payload
    }, timeout)
  } catch (err) {
    publishUpstream(upstream, null, started)
    await settle(ctx, () => ctx.store.release(key, null, ttl), key, 'release')
    throw err
  }
  const { status, contentType, body: text } = answer
  publishUpstream(upstream, status, started)

  if (status >= 500) {
    await settle(ctx, () => ctx.store.release(key, null, ttl), key, 'release')
    return send(res, status, { 'content-type': contentType }, text, requestId)
  }
  const headers: Record<string, string> = { 'content-type': contentType, 'intent-version': clientVersion }
  if (status < 200 || status > 299) {
    // Problem bodies from the intent service pass through unchanged, and are replayed to retries. Except one: a
    // 401/403 under a key derived from owner:nonce says the body was NOT the owner's signed order (a forged or
    // tampered copy), so keeping it would let anyone who saw an order block the genuine one for the retention.
    const forget = derivedKey && (status === 401 || status === 403)
    await settle(ctx, () => ctx.store.release(key, forget ? null : { status, headers, body: text }, ttl), key, 'release')
    return send(res, status, versionHeaders(ctx.policy(), clientVersion, { 'content-type': contentType }), text, requestId)
  }

  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  const id = json === undefined ? null : ctx.versions.intentIdOf(json, fwd.version)
  if (id === null) {
    ctx.logger.error({ upstream: upstream.color, status, key, request_id: requestId }, 'upstream accepted a submission without an intent id; released')
    await settle(ctx, () => ctx.store.release(key, null, ttl), key, 'release')
    throw new UpstreamError(`upstream ${upstream.color} answered ${status} without an intent id`)
  }
  let clientBody = text
  if (fwd.version !== clientVersion) {
    try {
      clientBody = JSON.stringify(ctx.versions.translateSubmitResponse(json, fwd.version, clientVersion))
      if (channels.translation.hasSubscribers) channels.translation.publish({ from: fwd.version, to: clientVersion, kind: 'submit_response' })
    } catch (err) {
      ctx.logger.error({ err, id, key }, 'cannot translate the submission response back; sending it untranslated')
    }
  }
  const seen = ctx.versions.statusOf(json, fwd.version)
  await settle(ctx, () => ctx.store.bind(key, id, { status, headers, body: clientBody }, ttl, seen ?? undefined), key, 'bind')
  if (seen !== null && TERMINAL_STATUSES.has(seen)) await endIntent(ctx, id, seen)
  return send(res, status, versionHeaders(ctx.policy(), clientVersion, { 'content-type': contentType }), clientBody, requestId)
}

/** Ends an inflight intent seen terminal in a response; reported on the intentEnded channel. */
export async function endIntent (ctx: ProxyContext, id: string, status: string): Promise<void> {
  try {
    if (await ctx.store.complete(id, status, 'response') && channels.intentEnded.hasSubscribers) {
      channels.intentEnded.publish({ id, status, via: 'response' })
    }
  } catch (err) {
    ctx.logger.warn({ err, id, status }, 'cannot end the inflight record now; the reconciler will')
  }
}

/**
 * Runs a bind or release. A store that fails here leaves the record in place: the client still gets the
 * upstream's answer (it is the truth), and the reconciler ends the record later (see docs/proxy.md).
 */
async function settle (ctx: ProxyContext, op: () => Promise<void>, key: string, what: string): Promise<void> {
  try {
    await op()
  } catch (err) {
    ctx.logger.error({ err, key }, `cannot ${what} the inflight record; the reconciler will clean it up`)
  }
}

function send (res: ServerResponse, status: number, headers: Record<string, string | number>, body: string, requestId: string): number {
  headers['content-length'] = Buffer.byteLength(body)
  headers['x-request-id'] = requestId
  if (!res.destroyed) {
    res.writeHead(status, headers)
    res.end(body)
  }
  return status
}

function publishUpstream (upstream: Upstream, status: number | null, started: number): void {
  if (channels.upstream.hasSubscribers) {
    channels.upstream.publish({ upstream: upstream.color, route: 'submit', status, durationMs: performance.now() - started })
  }
}

function publishRequest (status: number, version: string | null, started: number): void {
  if (channels.request.hasSubscribers) {
    channels.request.publish({ route: 'submit', status, version, durationMs: performance.now() - started })
  }
}

const REFUSAL_REASONS = new Map<string, RefusalMessage['reason']>([
  ['IG_ERR_STORE_UNAVAILABLE', 'store_unavailable'],
  ['IG_ERR_DUPLICATE_IN_PROGRESS', 'duplicate_in_progress'],
  ['IG_ERR_BAD_REQUEST', 'invalid'],
  ['IG_ERR_VERSION_UNSUPPORTED', 'version_unsupported'],
  ['IG_ERR_PAYLOAD_TOO_LARGE', 'too_large'],
  ['IG_ERR_NOT_REPRESENTABLE', 'invalid'],
  ['IG_ERR_NO_TRANSLATION_PATH', 'invalid']
])

function publishRefusal (err: unknown): void {
  if (!channels.refusal.hasSubscribers) return
  const reason = REFUSAL_REASONS.get((err as { code?: string }).code ?? '')
  if (reason !== undefined) channels.refusal.publish({ reason })
}
