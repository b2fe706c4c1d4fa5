/**
 * `POST <intent_path>`: one intent submission, end to end.
 *
 *   read body (limit) → JSON → version (body's, else the default; must be accepted) → validate → deadline
 *   within bounds → owner and signature verified (`verify_signatures`) → scope (per owner: the client's
 *   Idempotency-Key, else its nonce) and fingerprint (SHA-256 of the canonical intent) → translate to the active
 *   upstream's version → admit (one atomic store step: mismatch / replay / in progress / unknown / refused /
 *   registered; during an upgrade, held until it ends) → forward and settle (./outcome.ts: bind, release, or
 *   outcome unknown) → translate the answer back to the client's version.
 *
 * Nothing is registered before every check that can refuse without the store has passed, and nothing is
 * forwarded that the store did not register (a store that cannot answer means 503: fail closed). A retry of a
 * key whose outcome is unknown goes to the upstream that may hold it, never to the active one. Once admitted,
 * the exchange runs to its end even if the client goes away, so the record is always bound, released or
 * marked unknown.
 */
import { hash } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  AmbiguousJsonError, BadRequestError, OwnerKeyLimitError, DrainingError, DuplicateInProgressError, IdempotencyKeyReusedError,
  IntentGateError, NoTranslationPathError,
  SignatureInvalidError, StoreUnavailableError, UpstreamError, UpstreamOutcomeUnknownError, VersionUnsupportedError
} from '../errors.js'
import { channels, type RefusalMessage } from '../observability/channels.js'
import { admissionScope } from '../store/records.js'
import type { AdmitResult, InflightRecord, StoredResponse } from '../store/types.js'
import { canonicalJson } from '../versions/canonical.js'
import { parseStrictJson, StrictJsonError } from '../versions/strict-json.js'
import type { IntentIdentity } from '../versions/types.js'
import { ClientClosedError, readBody } from './body.js'
import { versionHeaders, type ProxyContext } from './context.js'
import { requestIdOf, upstreamRequestHeaders } from './headers.js'
import { forwardAndSettle, payloadHeaders, type Forward, type OutcomeDeps } from './outcome.js'
import { sendProblem } from '../http/problem.js'
import { retryAfterSecs } from './retry-after.js'
import type { Upstream } from './upstreams.js'
import type { VersionsPolicy } from './versions-policy.js'

const IDEMPOTENCY_KEY_PATTERN = /^[\x21-\x7e]{1,255}$/

/** What goes to the owner: the upstream, the body in its version, the version. */
interface Target {
  upstream: Upstream
  version: string
  /** The body as sent upstream: the compact form of what was verified (translated when the owner needs it). */
  payload: string
  intent: Record<string, unknown>
}

/** One submission's facts once it passed every check that needs no store. */
interface Checked {
  version: string
  intent: Record<string, unknown>
  identity: IntentIdentity
  scope: string
  clientKey: string | null
  /** The intent's canonical JSON: what was verified, what is forwarded and stored, what the fingerprint hashes. */
  canonical: string
  fingerprint: string
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
    const checked = check(ctx, req, version, body, raw.length)
    let target = targetOf(ctx, checked)
    // Held while a coordinated upgrade runs (./hold.ts); admitted after it, to the active upstream of that moment.
    // What waits in the hold is `checked` and `target`: the compact form, never the client's bytes (below).
    const admitted = await ctx.hold.admitOrHold(res, async (again) => {
      if (again) target = targetOf(ctx, checked)
      return await admit(ctx, checked, target)
    }, checked.canonical.length)
    if (admitted.kind === 'replay') {
      replay(res, policy, admitted.response, requestId)
      publishRequest(admitted.response.status, version, started)
      return
    }
    let forward: Forward
    if (admitted.kind === 'admitted') forward = firstForward(ctx, req, checked, target, requestId)
    else if (admitted.kind === 'unknown') forward = resendToOwner(ctx, req, admitted.record, requestId)
    else throw refusalError(ctx, admitted)
    const status = await forwardAndAnswer(ctx, res, forward, requestId)
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
    if (err instanceof StoreUnavailableError) ctx.storeRefusals.warn({ err, request_id: requestId })
    else if (!(err instanceof IntentGateError)) ctx.logger.error({ err, request_id: requestId }, 'submission failed')
  }
}

/** Validation, deadline bounds and verification: every refusal that needs no store, in the contract's order. */
function check (ctx: ProxyContext, req: IncomingMessage, version: string, body: unknown, rawLength: number): Checked {
  const checked = ctx.versions.validateIntent(version, body)
  if (!checked.ok) {
    throw new BadRequestError(`the intent is not valid for version ${version}: ${checked.errors.map((e) => `${e.field === '' ? '(body)' : e.field} ${e.message}`).join('; ')}`, checked.errors)
  }
  const { identity, intent } = checked
  checkDeadline(ctx, version, identity.deadline)
  let canonical: string
  if (ctx.proxy.verify_signatures) {
    // The canonical text and the one the signature covers, in one pass (each member written once).
    const forms = ctx.versions.canonicalForms(version, intent)
    const versionSent = (body as Record<string, unknown>)['version'] !== undefined
    const verdict = ctx.versions.verifySignature(version, intent, versionSent, forms.unsigned ?? undefined)
    if (!verdict.ok) throw new SignatureInvalidError(`the intent does not verify (${verdict.check}): ${verdict.reason}`, verdict.check)
    canonical = forms.canonical
  } else {
    canonical = canonicalJson(intent)
  }
  const clientKey = clientKeyOf(req)
  let compact = intent
  if (rawLength > canonical.length * 1.25) {
    // Padded: the parsed strings are slices of the whole decoded body, which they would keep alive while the
    // submission is held or forwarded. Read back from the canonical form, they keep only that (a few µs, and only
    // for padded bodies; this also flattens the canonical rope).
    compact = JSON.parse(canonical) as Record<string, unknown>
    canonical = JSON.stringify(compact)
  }
  return {
    version,
    intent: compact,
    identity,
    scope: admissionScope(identity.owner, clientKey, identity.nonce),
    clientKey,
    canonical,
    fingerprint: hash('sha256', canonical, 'hex')
  }
}

/** A deadline that passed cannot settle; one too far ahead would hold every later drain (docs/specification.md section 3). */
function checkDeadline (ctx: ProxyContext, version: string, deadline: number): void {
  const field = ctx.versions.deadlineField(version)
  const nowSecs = Math.floor(ctx.now() / 1000)
  if (deadline <= nowSecs) {
    throw new BadRequestError(`${field} ${deadline} has already passed (now ${nowSecs})`, [{ field, message: 'has already passed' }])
  }
  const latest = nowSecs + ctx.proxy.max_intent_lifetime_secs
  if (deadline > latest) {
    throw new BadRequestError(`${field} ${deadline} is more than proxy.max_intent_lifetime_secs (${ctx.proxy.max_intent_lifetime_secs} s) ahead`,
      [{ field, message: `must be at most ${ctx.proxy.max_intent_lifetime_secs} s ahead` }])
  }
}

/** One reading or none (../versions/strict-json.ts): what is verified is what every parser behind reads. */
function parseJson (raw: Buffer): unknown {
  try {
    return parseStrictJson(raw)
  } catch (err) {
    if (!(err instanceof StrictJsonError)) throw err
    if (err.reason === 'syntax' || err.reason === 'too_deep') {
      throw new BadRequestError(`the body is not valid JSON: ${err.message}`, [{ field: err.pointer, message: 'is not valid JSON' }])
    }
    throw new AmbiguousJsonError(err.reason, `the body could be read more than one way (${err.reason}): ${err.message}`, [{ field: err.pointer, message: err.message }])
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

/** The client's Idempotency-Key, or null when it sent none (the owner and nonce are then the key). */
function clientKeyOf (req: IncomingMessage): string | null {
  const given = req.headers['idempotency-key']
  if (given === undefined) return null
  if (typeof given !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(given)) {
    throw new BadRequestError('the Idempotency-Key header must be 1 to 255 visible ASCII characters', [{ field: 'header:Idempotency-Key', message: 'must be 1 to 255 visible ASCII characters' }])
  }
  return given
}

/**
 * Picks the owner (the active color) and the body it gets: the canonical form of the verified intent (its version
 * explicit: the upstream's own default may differ), translated when the owner does not take the client's version.
 * Never the client's bytes: padding is not stored, and no other spelling of the same intent reaches the service.
 */
function targetOf (ctx: ProxyContext, checked: Checked): Target {
  const { version, intent } = checked
  const upstream = ctx.control.upstream()
  const target = ctx.versions.targetVersion(version, upstream.config.versions)
  if (target === null) throw new NoTranslationPathError(version, upstream.config.versions.join('|'))
  if (target !== version) {
    const translated = ctx.versions.translateIntent(intent, version, target)
    if (channels.translation.hasSubscribers) channels.translation.publish({ from: version, to: target, kind: 'intent' })
    return { upstream, version: target, payload: canonicalJson(translated), intent: translated }
  }
  return { upstream, version, payload: checked.canonical, intent }
}

async function admit (ctx: ProxyContext, checked: Checked, target: Target): Promise<AdmitResult> {
  ctx.gate.check()
  const payload = target.payload
  try {
    return await ctx.store.admit({
      record: {
        key: checked.scope,
        upstream: target.upstream.color,
        version: checked.version,
        upstream_version: target.version,
        created_at_ms: ctx.now(),
        deadline: checked.identity.deadline,
        client_key: checked.clientKey,
        fingerprint: checked.fingerprint,
        payload,
        intent: target.intent
      },
      idempotencyTtlSecs: ctx.proxy.idempotency_ttl_secs,
      ownerKeys: { owner: checked.identity.owner, max: ctx.proxy.max_keys_per_owner }
    })
  } catch (err) {
    if (err instanceof StoreUnavailableError) throw err
    throw new StoreUnavailableError(`the store could not admit the intent: ${(err as Error).message}`, { cause: err })
  }
}

function refusalError (ctx: ProxyContext, result: Exclude<AdmitResult, { kind: 'admitted' | 'replay' | 'unknown' }>): Error {
  if (result.kind === 'in_progress') return new DuplicateInProgressError('a submission with the same idempotency key is still in progress; retry shortly')
  if (result.kind === 'mismatch') {
    return new IdempotencyKeyReusedError('this owner already used the same idempotency key (or nonce) for another intent; nothing was forwarded')
  }
  if (result.kind === 'owner_limit') {
    return new OwnerKeyLimitError(`this owner holds ${ctx.proxy.max_keys_per_owner} idempotency keys already (proxy.max_keys_per_owner), each kept ` +
      `${ctx.proxy.idempotency_ttl_secs} s; nothing was registered or forwarded: retry a key already used, or a new one in ${result.retryAfterSecs} s`, result.retryAfterSecs)
  }
  const secs = retryAfterSecs(result, ctx.now(), {
    fallbackSecs: ctx.proxy.drain_retry_after_secs,
    maxSecs: ctx.proxy.drain_retry_after_max_secs,
    drainLeft: ctx.drainEstimate.left()
  })
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

/** The first forward of a newly admitted intent, to the active color of its admission. */
function firstForward (ctx: ProxyContext, req: IncomingMessage, checked: Checked, target: Target, requestId: string): Forward {
  return {
    key: checked.scope,
    upstream: target.upstream,
    clientVersion: checked.version,
    upstreamVersion: target.version,
    path: ctx.proxy.intent_path,
    payload: target.payload,
    headers: forwardHeaders(req, target.upstream, requestId, checked.clientKey, target.payload),
    resend: false,
    route: 'submit'
  }
}

/** A retry of a key whose outcome is unknown: the same bytes to the upstream that may hold it (section 3). */
function resendToOwner (ctx: ProxyContext, req: IncomingMessage, record: InflightRecord, requestId: string): Forward {
  const upstream = ctx.upstreams.get(record.upstream)
  if (upstream === undefined) throw new UpstreamError(`upstream ${record.upstream}, which may hold this intent, is not configured`)
  const payload = record.payload ?? JSON.stringify(record.intent)
  return {
    key: record.key,
    upstream,
    clientVersion: record.version,
    upstreamVersion: record.upstream_version,
    path: ctx.proxy.intent_path,
    payload,
    headers: forwardHeaders(req, upstream, requestId, record.client_key ?? null, payload),
    resend: true,
    route: 'submit'
  }
}

function forwardHeaders (
  req: IncomingMessage,
  upstream: Upstream,
  requestId: string,
  clientKey: string | null,
  payload: string | Buffer
): string[] {
  // The client's key travels as it was sent; an order sent without one is known upstream by its owner and nonce
  // (section 8), so no derived key is made up for it.
  return upstreamRequestHeaders(req, upstream.host, requestId, [
    ...payloadHeaders(payload),
    ...(clientKey === null ? [] : ['idempotency-key', clientKey])
  ]).headers
}

/** Forwards, settles the record, and answers the client. Resolves to the status sent. */
async function forwardAndAnswer (ctx: ProxyContext, res: ServerResponse, forward: Forward, requestId: string): Promise<number> {
  const deps: OutcomeDeps = {
    store: ctx.store,
    versions: ctx.versions,
    logger: ctx.logger,
    idempotencyTtlSecs: ctx.proxy.idempotency_ttl_secs,
    upstreamTimeoutMs: ctx.proxy.upstream_timeout_ms
  }
  const settled = await forwardAndSettle(deps, forward)
  switch (settled.kind) {
    case 'answered':
      if (settled.status >= 500) return send(res, settled.status, { 'content-type': settled.contentType }, settled.body, requestId)
      return send(res, settled.status, versionHeaders(ctx.policy(), forward.clientVersion, { 'content-type': settled.contentType }), settled.body, requestId)
    case 'unknown': {
      const timedOut = settled.cause.problem.status === 504
      throw new UpstreamOutcomeUnknownError(
        `upstream ${forward.upstream.color} ${timedOut ? `did not answer within ${ctx.proxy.upstream_timeout_ms} ms` : 'broke the connection before answering'}; ` +
        `it may hold the intent, which stays with it: retry with the same key (it goes to ${forward.upstream.color})`,
        timedOut, unknownRetryAfterSecs(ctx), { cause: settled.cause })
    }
    case 'unreachable':
      throw settled.cause
    case 'no_id':
      throw new UpstreamError(`upstream ${forward.upstream.color} answered ${settled.status} without an intent id`)
  }
}

/** How soon to retry an unknown outcome: a slow owner gets about half its timeout to finish, within 1..10 s. */
function unknownRetryAfterSecs (ctx: ProxyContext): number {
  return Math.min(10, Math.max(1, Math.ceil(ctx.proxy.upstream_timeout_ms / 2000)))
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

function publishRequest (status: number, version: string | null, started: number): void {
  if (channels.request.hasSubscribers) {
    channels.request.publish({ route: 'submit', status, version, durationMs: performance.now() - started })
  }
}

const REFUSAL_REASONS = new Map<string, RefusalMessage['reason']>([
  ['IG_ERR_STORE_UNAVAILABLE', 'store_unavailable'],
  ['IG_ERR_INSTANCE_LEAVING', 'instance_leaving'],
  ['IG_ERR_DUPLICATE_IN_PROGRESS', 'duplicate_in_progress'],
  ['IG_ERR_BAD_REQUEST', 'invalid'],
  ['IG_ERR_AMBIGUOUS_JSON', 'ambiguous_json'],
  ['IG_ERR_VERSION_UNSUPPORTED', 'version_unsupported'],
  ['IG_ERR_PAYLOAD_TOO_LARGE', 'too_large'],
  ['IG_ERR_NOT_REPRESENTABLE', 'invalid'],
  ['IG_ERR_NO_TRANSLATION_PATH', 'invalid'],
  ['IG_ERR_SIGNATURE_INVALID', 'signature_invalid'],
  ['IG_ERR_IDEMPOTENCY_KEY_REUSED', 'idempotency_key_reused'],
  ['IG_ERR_OWNER_KEY_LIMIT', 'owner_key_limit']
])

function publishRefusal (err: unknown): void {
  if (err instanceof SignatureInvalidError && channels.signatureRefused.hasSubscribers) {
    channels.signatureRefused.publish({ check: err.check })
  }
  if (!channels.refusal.hasSubscribers) return
  const reason = REFUSAL_REASONS.get((err as { code?: string }).code ?? '')
  if (reason !== undefined) channels.refusal.publish({ reason })
}
