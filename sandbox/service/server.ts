/**
 * The sample intent service over plain node:http (it is the backend of the proxy benchmark, so nothing on the
 * request path but parsing, validation and the signature check). Routes:
 *   POST /intents, GET /intents/<id>    docs/specification.md section 8, for the versions it serves natively
 *   GET /healthz                        200, or 503 after `POST /sandbox/health {"healthy": false}`
 *   GET /sandbox/stats[?keys=0]         {accepted, duplicates, refused, by_key} for exactly-once assertions
 *   POST /sandbox/health                {"healthy": bool, "refuse_intents"?: bool}
 *   POST /sandbox/delay                 {"ms": N}: intents are still taken at once, their answers sent N ms later
 *   POST /sandbox/intents/<id>          {"status": "<2.0 status>"} forces an intent's status (refund, failure...)
 *   ANY  /sandbox/echo...               the request as received (for pass-through tests)
 * Its own errors are problem+json with type `urn:intent-service:problem:<name>`, so a test can tell them from
 * the gateway's.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { canonicalJson, sha256, signedForms } from '../../src/versions/canonical.js'
import { NotRepresentableError } from '../../src/errors.js'
import type { Catalog } from '../../src/versions/catalog.js'
import type { JsonObject } from '../../src/versions/spec.js'
import { STATUSES_V2, type StatusV2 } from '../../src/versions/schemas/v2_0.js'
import { Ledger, type LedgerEntry, type Refusal } from './ledger.js'
import type { Progress, Settler } from './settler.js'
import { parseStrictJson, StrictJsonError } from '../../src/versions/strict-json.js'
import { verifyIntent } from '../../src/versions/verify.js'

const MAX_BODY_BYTES = 1024 * 1024
const WORKING_STATUSES = new Set<string>(['accepted', 'matched', 'escrowed', 'ibc_in_flight'])

export interface IntentServiceOptions {
  catalog: Catalog
  /** Served natively, oldest first; a body without `version` is read as the oldest. */
  versions: readonly string[]
  settler: Settler
  verify: boolean
  /** Answer `/sandbox/*` to requests that came through a proxy too (`--sandbox-routes-through-proxy`). */
  controlThroughProxy?: boolean
  now?: () => number
}

interface Problem { status: number, type: string, title: string, detail: string, [extra: string]: unknown }

export class IntentService {
  readonly server: Server
  private readonly ledger = new Ledger()
  private healthy = true
  private refuseIntents = false
  /** A slow backend on purpose: the intent is in the ledger at once, only the answer waits (`POST /sandbox/delay`). */
  private answerDelayMs = 0
  private readonly now: () => number

  constructor (private readonly options: IntentServiceOptions) {
    this.now = options.now ?? Date.now
    this.server = createServer((req, res) => { this.guarded(res, () => this.route(req, res)) })
    this.server.keepAliveTimeout = 65_000
  }

  private route (req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/'
    const path = url.split('?', 1)[0] as string
    if (path === '/intents' && req.method === 'POST') return this.withBody(req, res, (body) => this.submit(body, req, res))
    if (path.startsWith('/intents/') && req.method === 'GET') return this.status(decodeURIComponent(path.slice('/intents/'.length)), res)
    if (path === '/healthz' && req.method === 'GET') {
      return send(res, this.healthy ? 200 : 503, { status: this.healthy ? 'ok' : 'unhealthy', versions: this.options.versions })
    }
    // The control routes let anyone cancel any intent or switch the service unhealthy: they answer callers that
    // reach the service directly (tests, the demo), not requests the gateway passed through (it always sets
    // X-Forwarded-For), unless --sandbox-routes-through-proxy says otherwise.
    if (path.startsWith('/sandbox/') && req.headers['x-forwarded-for'] !== undefined && this.options.controlThroughProxy !== true) {
      return problem(res, { status: 404, type: 'not-found', title: 'Not found', detail: 'the /sandbox/* control routes answer direct callers only (start the service with --sandbox-routes-through-proxy to allow them through a proxy)' })
    }
    if (path === '/sandbox/stats' && req.method === 'GET') return send(res, 200, this.ledger.stats(!url.includes('keys=0')))
    if (path === '/sandbox/health' && req.method === 'POST') return this.withBody(req, res, (body) => this.setHealth(body, res))
    if (path === '/sandbox/delay' && req.method === 'POST') return this.withBody(req, res, (body) => this.setDelay(body, res))
    if (path.startsWith('/sandbox/intents/') && req.method === 'POST') {
      return this.withBody(req, res, (body) => this.force(decodeURIComponent(path.slice('/sandbox/intents/'.length)), body, res))
    }
    if (path.startsWith('/sandbox/echo')) return this.withBody(req, res, (body) => send(res, 200, { method: req.method, url, headers: req.headers, body }))
    const allowed = routeMethods(path)
    if (allowed !== null) {
      res.setHeader('allow', allowed)
      return problem(res, { status: 405, type: 'method-not-allowed', title: 'Method not allowed', detail: `${req.method ?? ''} ${path}: use ${allowed}` })
    }
    problem(res, { status: 404, type: 'not-found', title: 'Not found', detail: `no route ${req.method ?? ''} ${path}` })
  }

  /** A bug in a handler answers 500 instead of taking the process (and every test using it) down. */
  private guarded (res: ServerResponse, handle: () => void): void {
    try {
      handle()
    } catch (err) {
      process.stderr.write(`intent service: ${(err as Error).stack ?? String(err)}\n`)
      if (!res.headersSent) problem(res, { status: 500, type: 'internal', title: 'Internal error', detail: (err as Error).message })
      else res.destroy()
    }
  }

  private submit (body: unknown, req: IncomingMessage, res: ServerResponse): void {
    if (this.refuseIntents) return this.refuse(res, 'unavailable', { status: 503, type: 'unavailable', title: 'Service unavailable', detail: 'the service was switched unhealthy' })
    const { catalog, versions } = this.options
    const claimed = isObject(body) ? body['version'] : undefined
    const version = claimed === undefined ? versions[0] as string : claimed
    if (typeof version !== 'string' || !versions.includes(version)) {
      return this.refuse(res, 'unsupported_version', {
        status: 400,
        type: 'version-unsupported',
        title: 'Unsupported version',
        detail: `this service serves intent versions ${versions.join(', ')}; got ${JSON.stringify(version)}`,
        accepted: versions
      })
    }
    const validation = catalog.validateIntent(version, body)
    if (!validation.ok) {
      return this.refuse(res, 'invalid_intent', { status: 400, type: 'invalid-intent', title: 'Invalid intent', detail: validation.errors.map((e) => `${e.field} ${e.message}`).join('; '), errors: validation.errors })
    }
    if (this.options.verify) {
      const verdict = verifyIntent(catalog, version, validation.intent)
      if (!verdict.ok) return this.refuse(res, 'bad_signature', { status: 401, type: 'bad-signature', title: 'Bad signature', detail: verdict.reason })
    }
    const { owner, nonce, deadline } = validation.identity
    const admission = this.ledger.admit({
      owner,
      nonce,
      deadline,
      version,
      acceptedAtMs: this.now(),
      outputAmounts: outputAmounts(validation.intent),
      intent: validation.intent
    }, clientKeyOf(req), (known) => orderDigest(catalog, known.version, known.intent) === orderDigest(catalog, version, validation.intent))
    if (admission.kind === 'conflict') {
      return this.refuse(res, 'nonce_reused', {
        status: 409,
        type: 'nonce-reused',
        title: 'Nonce reused',
        detail: `owner ${owner} already used nonce ${nonce} for a different intent (${admission.entry.id})`,
        intent_id: admission.entry.id
      })
    }
    if (admission.kind === 'key_reused') {
      return this.refuse(res, 'key_reused', {
        status: 422,
        type: 'idempotency-key-reused',
        title: 'Idempotency key reused',
        detail: `owner ${owner} already used this Idempotency-Key for a different intent (${admission.entry.id})`,
        intent_id: admission.entry.id
      })
    }
    if (admission.kind === 'new') {
      this.options.settler.start(admission.entry)
      return this.answerLater(res, 202, submissionBody(admission.entry.id, version, 'accepted'))
    }
    // The same intent again, in the version it was sent in this time: where it stands now.
    this.answerLater(res, 200, submissionBody(admission.entry.id, version, this.progressOf(admission.entry).status))
  }

  private answerLater (res: ServerResponse, status: number, body: unknown): void {
    if (this.answerDelayMs === 0) return send(res, status, body)
    setTimeout(() => { if (!res.destroyed) send(res, status, body) }, this.answerDelayMs)
  }

  private setDelay (body: unknown, res: ServerResponse): void {
    const ms = isObject(body) ? body['ms'] : undefined
    if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 0) {
      return problem(res, { status: 400, type: 'invalid-request', title: 'Invalid request', detail: 'expected {"ms": a whole number of milliseconds, 0 or more}' })
    }
    this.answerDelayMs = ms
    send(res, 200, { ms })
  }

  private status (id: string, res: ServerResponse): void {
    const entry = this.ledger.get(id)
    if (entry === undefined) return problem(res, { status: 404, type: 'intent-not-found', title: 'Intent not found', detail: `no intent ${id}` })
    const progress = this.progressOf(entry)
    send(res, 200, entry.version === '1.0' ? statusBodyV1(entry, progress) : { intent_id: entry.id, ...progress })
  }

  private progressOf (entry: LedgerEntry): Progress {
    if (entry.forced !== null) {
      return { status: entry.forced.status as StatusV2, fills: [], updated_at: Math.floor(entry.forced.atMs / 1000) }
    }
    return this.options.settler.progress(entry, this.now())
  }

  private setHealth (body: unknown, res: ServerResponse): void {
    if (!isObject(body) || typeof body['healthy'] !== 'boolean') {
      return problem(res, { status: 400, type: 'invalid-request', title: 'Invalid request', detail: 'expected {"healthy": true|false, "refuse_intents"?: true|false}' })
    }
    this.healthy = body['healthy']
    this.refuseIntents = body['refuse_intents'] === true
    send(res, 200, { healthy: this.healthy, refuse_intents: this.refuseIntents })
  }

  private force (id: string, body: unknown, res: ServerResponse): void {
    const entry = this.ledger.get(id)
    if (entry === undefined) return problem(res, { status: 404, type: 'intent-not-found', title: 'Intent not found', detail: `no intent ${id}` })
    const status = isObject(body) ? body['status'] : undefined
    if (typeof status !== 'string' || !(STATUSES_V2 as readonly string[]).includes(status)) {
      return problem(res, { status: 400, type: 'invalid-request', title: 'Invalid request', detail: `expected {"status": one of ${STATUSES_V2.join(', ')}}` })
    }
    entry.forced = { status, atMs: this.now() }
    this.status(id, res)
  }

  private refuse (res: ServerResponse, reason: Refusal, p: Problem): void {
    this.ledger.refuse(reason)
    problem(res, p)
  }

  private withBody (req: IncomingMessage, res: ServerResponse, handle: (body: unknown) => void): void {
    const chunks: Buffer[] = []
    let size = 0
    let done = false
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES && !done) {
        done = true
        this.ledger.refuse('too_large')
        res.setHeader('connection', 'close')
        problem(res, { status: 413, type: 'payload-too-large', title: 'Payload too large', detail: `bodies are limited to ${MAX_BODY_BYTES} bytes` })
        req.destroy()
      }
      if (!done) chunks.push(chunk)
    })
    req.on('end', () => {
      if (done) return
      done = true
      const raw = Buffer.concat(chunks)
      if (raw.length === 0) return this.guarded(res, () => handle(undefined))
      let body: unknown
      try {
        // The gateway's own reader: a body two parsers could read differently is refused here as there.
        body = parseStrictJson(raw)
      } catch (err) {
        if (err instanceof StrictJsonError && err.reason !== 'syntax' && err.reason !== 'too_deep') {
          return this.refuse(res, 'invalid_json', { status: 400, type: 'ambiguous-json', title: 'Ambiguous JSON', detail: err.message, reason: err.reason, field: err.pointer })
        }
        return this.refuse(res, 'invalid_json', { status: 400, type: 'invalid-json', title: 'Body is not JSON', detail: (err as Error).message })
      }
      this.guarded(res, () => handle(body))
    })
    req.on('error', () => { done = true })
  }
}

/**
 * One signed order is one intent: a 1.0 intent and its 2.0 translation share their signed form, so they share
 * this digest. (Unverified intents whose signed form cannot be rebuilt fall back to their own bytes.)
 */
function orderDigest (catalog: Catalog, version: string, intent: JsonObject): string {
  let signed = intent
  try {
    signed = signedForms(catalog, version, intent).forms[0] as JsonObject
  } catch (err) {
    if (!(err instanceof NotRepresentableError)) throw err
  }
  return Buffer.from(sha256(Buffer.from(canonicalJson(signed)))).toString('hex')
}

function submissionBody (id: string, version: string, status: StatusV2): JsonObject {
  return version === '1.0'
    ? { id, status: WORKING_STATUSES.has(status) ? 'pending' : status, version }
    : { intent_id: id, status, version }
}

/** 1.0 keeps the fills' sum and the last hash; written here on its own so the service does not borrow the translation it tests. */
function statusBodyV1 (entry: LedgerEntry, progress: Progress): JsonObject {
  let filled = 0n
  for (const fill of progress.fills) filled += BigInt(fill.amount)
  return {
    id: entry.id,
    status: WORKING_STATUSES.has(progress.status) ? 'pending' : progress.status,
    filled_amount: filled.toString(),
    tx_hash: progress.fills.at(-1)?.tx_hash ?? null
  }
}

function outputAmounts (intent: JsonObject): string[] {
  const outputs = (intent['outputs'] ?? [intent['output']]) as Array<{ min_amount: string }>
  return outputs.map((o) => o.min_amount)
}

/** The request's Idempotency-Key (the first, if repeated), or null. */
function clientKeyOf (req: IncomingMessage): string | null {
  const given = req.headers['idempotency-key']
  const key = Array.isArray(given) ? given[0] : given
  return key === undefined || key === '' ? null : key
}

function routeMethods (path: string): string | null {
  if (path === '/intents') return 'POST'
  if (path.startsWith('/intents/') || path === '/healthz' || path === '/sandbox/stats') return 'GET'
  if (path === '/sandbox/health' || path === '/sandbox/delay' || path.startsWith('/sandbox/intents/')) return 'POST'
  return null
}

function isObject (value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function send (res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

function problem (res: ServerResponse, p: Problem): void {
  const text = JSON.stringify({ ...p, type: `urn:intent-service:problem:${p.type}` })
  res.writeHead(p.status, { 'content-type': 'application/problem+json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}
